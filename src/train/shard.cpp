// Shard assignment and the --shard value; the hash itself is the dataset split's.
#include "train/shard.hpp"

#include <cstdlib>

#include "error.hpp"
#include "train/dataset.hpp"

namespace tinception {
namespace {

constexpr std::uint32_t kMaxShards = 1u << 20;

// A whole decimal number in [0, limit) without sign, spaces or trailing text; else Error.
std::uint32_t parse_count(const std::string& text, std::uint32_t limit, const std::string& what) {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
        throw Error(what + " '" + text + "' is not a whole number");
    const unsigned long value = std::strtoul(text.c_str(), nullptr, 10);
    if (value >= limit)
        throw Error(what + " " + text + " is out of range (must be below " + std::to_string(limit) + ")");
    return std::uint32_t(value);
}

}  // namespace

std::uint32_t shard_of(const std::string& relative_path, std::uint32_t count) {
    const std::uint64_t high = split_hash(relative_path) >> 32;
    return std::uint32_t((high * count) >> 32);
}

std::vector<std::string> paths_in_shard(const std::vector<std::string>& relative_paths, const Shard& shard) {
    std::vector<std::string> chosen;
    for (const std::string& path : relative_paths)
        if (shard_of(path, shard.count) == shard.index) chosen.push_back(path);
    return chosen;
}

Shard parse_shard(const std::string& text, const std::function<const char*(const char*)>& lookup) {
    const std::size_t slash = text.find('/');
    if (slash == std::string::npos)
        throw Error("--shard takes I/N or auto/N (for example 0/4), not '" + text + "'");
    Shard shard;
    const std::string count_text = text.substr(slash + 1);
    shard.count = parse_count(count_text, kMaxShards + 1, "shard count");
    if (shard.count == 0) throw Error("shard count must be at least 1, not 0");
    std::string index_text = text.substr(0, slash);
    std::string source = "shard index";
    if (index_text == "auto") {
        const char* names[] = {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"};
        const char* found = nullptr;
        for (const char* name : names)
            if (const char* value = lookup(name); value && *value) {
                index_text = value;
                source = name;
                found = name;
                break;
            }
        if (!found)
            throw Error("--shard auto/" + count_text +
                        " needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX in the environment; neither is set");
    }
    shard.index = parse_count(index_text, shard.count, source);
    return shard;
}

}  // namespace tinception
