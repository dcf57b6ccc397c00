// Listing, checking, merging and pruning bottleneck cache folders, one entry file at a time
// so memory stays flat however large the cache.
#include "train/cache_maintenance.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "error.hpp"
#include "file_io.hpp"

namespace fs = std::filesystem;

namespace tinception {
namespace {

bool is_hex(const std::string& text) { return text.find_first_not_of("0123456789abcdef") == std::string::npos; }

// "<16 hex digits>.bnc": written by this cache, never a temporary name.
bool is_entry_name(const std::string& name) {
    return name.size() == 20 && name.compare(16, 4, ".bnc") == 0 && is_hex(name.substr(0, 16));
}

bool is_fan_out_folder(const std::string& name) { return name.size() == 2 && is_hex(name); }

void list_folder(const fs::path& folder, const std::function<void(const fs::directory_entry&)>& visit) {
    std::error_code ec;
    fs::directory_iterator it(folder, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) visit(*it);
    if (ec) throw Error(folder.string() + ": cannot list cache folder: " + ec.message());
}

std::vector<std::uint8_t> read_if_exists(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return {};
    try {
        return read_file_bytes(path);
    } catch (const Error&) {
        return {};
    }
}

}  // namespace

std::vector<std::string> list_cache_entries(const std::string& directory) {
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) throw Error(directory + ": no such cache folder");
    std::vector<std::string> paths;
    list_folder(directory, [&](const fs::directory_entry& entry) {
        const std::string name = entry.path().filename().string();
        std::error_code type_ec;
        if (is_fan_out_folder(name) && entry.is_directory(type_ec)) {
            list_folder(entry.path(), [&](const fs::directory_entry& inner) {
                if (is_entry_name(inner.path().filename().string())) paths.push_back(inner.path().string());
            });
        } else if (is_entry_name(name)) {
            paths.push_back(entry.path().string());
        }
    });
    std::sort(paths.begin(), paths.end());
    return paths;
}

CacheEntryCheck check_cache_entry(const std::string& path) {
    CacheEntryCheck check;
    try {
        const std::vector<std::uint8_t> bytes = read_file_bytes(path);
        check.size_bytes = bytes.size();
        check.key = decode_bottleneck_entry(bytes, path).key;
    } catch (const Error& e) {
        check.problem = e.what();
        return check;
    }
    const fs::path p(path);
    const std::string expected = bottleneck_entry_name(check.key);
    const std::string folder = p.parent_path().filename().string();
    if (p.filename().string() != expected || (is_fan_out_folder(folder) && folder != expected.substr(0, 2))) {
        check.problem = path + ": holds the entry of another key (" + expected + ")";
        return check;
    }
    check.ok = true;
    return check;
}

CacheReport scan_cache(const std::string& directory, const std::function<void(std::size_t, std::size_t)>& progress) {
    const std::vector<std::string> paths = list_cache_entries(directory);
    CacheReport report;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const CacheEntryCheck check = check_cache_entry(paths[i]);
        if (!check.ok) {
            report.damaged.push_back(check.problem);
        } else {
            ++report.entries;
            report.bytes += check.size_bytes;
            if (fs::path(paths[i]).parent_path() == fs::path(directory) ||
                !is_fan_out_folder(fs::path(paths[i]).parent_path().filename().string()))
                ++report.flat_entries;
            CacheGroup& group = report.groups[{check.key.layer, check.key.weights_checksum, check.key.feature_size}];
            ++group.entries;
            group.bytes += check.size_bytes;
        }
        if (progress) progress(i + 1, paths.size());
    }
    return report;
}

MergeResult merge_caches(const std::vector<std::string>& sources, const std::string& destination,
                         const std::function<void(std::size_t, std::size_t)>& progress) {
    std::vector<std::string> paths;
    for (const std::string& source : sources) {
        const std::vector<std::string> listed = list_cache_entries(source);
        paths.insert(paths.end(), listed.begin(), listed.end());
    }
    const BottleneckCache dest(destination);
    MergeResult result;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (progress) progress(i, paths.size());
        std::vector<std::uint8_t> bytes;
        BottleneckKey key;
        try {
            bytes = read_file_bytes(paths[i]);
            key = decode_bottleneck_entry(bytes, paths[i]).key;
        } catch (const Error& e) {
            result.damaged.push_back(e.what());
            continue;
        }
        const std::string target = dest.entry_path(key);
        const std::vector<std::uint8_t> existing = read_if_exists(target);
        if (existing == bytes) {
            ++result.already_present;
            continue;
        }
        std::error_code exists_ec;
        if (!existing.empty() || fs::exists(target, exists_ec)) {
            if (check_cache_entry(target).ok) {
                ++result.kept_different;
                continue;
            }
            ++result.replaced_damaged;
        }
        std::error_code ec;
        fs::create_directories(fs::path(target).parent_path(), ec);
        if (ec) throw Error(fs::path(target).parent_path().string() + ": cannot create cache sub-folder: " + ec.message());
        // One sync of the whole destination at the end instead of an fsync per entry (which
        // held merges to ~200 entries/s, bench/README.md); a crash before it leaves entries
        // that fail their CRC and are recomputed, or a merge to run again.
        write_file_atomically(target, bytes.data(), bytes.size(), Durability::caller_syncs);
        if (read_file_bytes(target) != bytes)
            throw Error(target + ": the copy of " + paths[i] + " does not read back the same", ErrorKind::internal);
        ++result.copied;
    }
    if (result.copied > 0) sync_file_system(destination);
    if (progress) progress(paths.size(), paths.size());
    return result;
}

PruneResult prune_cache(const std::string& directory, const PruneOptions& options) {
    if (!options.weights_checksum && !options.older_than_days && !options.damaged)
        throw Error("cache prune needs a criterion: --weights-checksum, --older-than or --damaged");
    const auto now = fs::file_time_type::clock::now();
    PruneResult result;
    for (const std::string& path : list_cache_entries(directory)) {
        const CacheEntryCheck check = check_cache_entry(path);
        bool remove = !check.ok && options.damaged;
        if (check.ok && options.weights_checksum && check.key.weights_checksum == *options.weights_checksum)
            remove = true;
        if (options.older_than_days) {
            std::error_code ec;
            const auto written = fs::last_write_time(path, ec);
            const double age_days = std::chrono::duration<double>(now - written).count() / 86400.0;
            if (!ec && age_days > *options.older_than_days) remove = true;
        }
        if (!remove) {
            ++result.kept;
            continue;
        }
        std::error_code size_ec, remove_ec;
        const std::uint64_t size = fs::file_size(path, size_ec);
        if (!options.dry_run && !fs::remove(path, remove_ec))
            throw Error(path + ": cannot remove: " + (remove_ec ? remove_ec.message() : "already gone"));
        ++result.removed;
        result.removed_bytes += size_ec ? 0 : size;
    }
    return result;
}

}  // namespace tinception
