// Data folder scanning and the hash split. Paths are kept relative to the data folder so
// the split does not depend on how the folder was spelled on the command line.
#include "train/dataset.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "error.hpp"
#include "image/image.hpp"
#include "train/dataset_checks.hpp"
#include "train/hashing.hpp"

namespace fs = std::filesystem;

namespace tinception {
namespace {

bool is_hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

std::vector<std::string>& split_list(CategoryImages& c, Split s) {
    switch (s) {
        case Split::validation: return c.validation;
        case Split::testing: return c.testing;
        case Split::training: break;
    }
    return c.training;
}

const char* split_name(Split s) {
    switch (s) {
        case Split::validation: return "validation";
        case Split::testing: return "testing";
        case Split::training: break;
    }
    return "training";
}

// Names of entries in `dir`, sorted; throws Error naming the folder on failure.
std::vector<fs::directory_entry> sorted_entries(const fs::path& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) throw Error(dir.string() + ": cannot list folder: " + ec.message());
    std::vector<fs::directory_entry> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) throw Error(dir.string() + ": cannot list folder: " + ec.message());
        entries.push_back(*it);
    }
    if (ec) throw Error(dir.string() + ": cannot list folder: " + ec.message());
    std::sort(entries.begin(), entries.end(), [](const fs::directory_entry& a, const fs::directory_entry& b) {
        return a.path().filename().string() < b.path().filename().string();
    });
    return entries;
}

// Gives every split that should have images (training always, the others when their
// percentage is above 0) at least one, taking from a split that can spare one: training
// first, as retrain.py's folders usually leave the small splits empty, never the reverse.
// The scan has checked c.size() >= minimum_images_per_category(options).
void fill_empty_splits(const std::string& label, CategoryImages& c, const SplitOptions& options,
                       std::vector<std::string>& warnings) {
    const Split order[] = {Split::training, Split::validation, Split::testing};
    for (const Split target : order) {
        const double percentage = target == Split::validation ? options.validation_percentage
                                  : target == Split::testing  ? options.testing_percentage
                                                              : 100.0;
        auto& list = split_list(c, target);
        if (percentage <= 0.0 || !list.empty()) continue;
        // c.size() >= needed guarantees some other split holds at least 2.
        Split source = Split::training;
        for (const Split candidate : order)
            if (candidate != target && split_list(c, candidate).size() >= 2) {
                source = candidate;
                break;
            }
        auto& from = split_list(c, source);
        auto best = std::max_element(from.begin(), from.end(), [](const std::string& a, const std::string& b) {
            const double pa = split_percentage(a), pb = split_percentage(b);
            return pa != pb ? pa < pb : a < b;
        });
        warnings.push_back("category '" + label + "': the " + split_name(target) + " split was empty, moved '" +
                           *best + "' into it from " + split_name(source));
        list.push_back(*best);
        from.erase(best);
        std::sort(list.begin(), list.end());
    }
}

}  // namespace

std::size_t minimum_images_per_category(const SplitOptions& options) {
    const std::size_t splits = 1 + (options.validation_percentage > 0) + (options.testing_percentage > 0);
    return std::max<std::size_t>(2, splits);
}

std::string too_few_images_message(const std::string& folder, const std::string& label, std::size_t usable,
                                   const SplitOptions& options) {
    const std::size_t needed = minimum_images_per_category(options);
    return folder + ": category '" + label + "' has " + std::to_string(usable) +
           (usable == 1 ? " usable image" : " usable images") + "; each category needs at least " +
           std::to_string(needed) + (needed == 3 ? " (one each for training, validation and testing)" : "");
}

std::string Dataset::full_path(const std::string& relative_path) const {
    return (fs::path(root) / fs::path(relative_path)).string();
}

std::uint64_t split_hash(const std::string& relative_path) {
    const std::size_t slash = relative_path.rfind('/');
    const std::size_t name_start = slash == std::string::npos ? 0 : slash + 1;
    const std::size_t nohash = relative_path.find("_nohash_", name_start);
    return fnv1a_64(relative_path.substr(0, nohash));
}

double split_percentage(const std::string& relative_path) {
    return double(split_hash(relative_path) % 1'000'000u) / 10'000.0;
}

Split assign_split(const std::string& relative_path, const SplitOptions& options) {
    const double p = split_percentage(relative_path);
    if (p < options.validation_percentage) return Split::validation;
    if (p < options.validation_percentage + options.testing_percentage) return Split::testing;
    return Split::training;
}

Dataset scan_dataset(const std::string& data_dir, const SplitOptions& options) {
    if (options.validation_percentage < 0 || options.testing_percentage < 0 ||
        options.validation_percentage + options.testing_percentage >= 100.0)
        throw Error("validation and testing percentages must be non-negative and sum to less than 100 (got " +
                    std::to_string(options.validation_percentage) + " and " +
                    std::to_string(options.testing_percentage) + ")");
    std::error_code ec;
    const fs::file_status root_status = fs::status(data_dir, ec);
    if (!fs::exists(root_status)) throw Error(data_dir + ": data folder does not exist");
    if (!fs::is_directory(root_status)) throw Error(data_dir + ": data folder is not a folder");

    Dataset data;
    data.root = data_dir;
    std::vector<std::string> nested_folders;  // per category, for the hint when one holds no image
    for (const fs::directory_entry& entry : sorted_entries(data_dir)) {
        const std::string label = entry.path().filename().string();
        if (is_hidden(label)) {
            data.warnings.push_back(entry.path().string() + ": skipped, a hidden entry");
            continue;
        }
        if (!entry.is_directory(ec)) {
            data.warnings.push_back(entry.path().string() + ": skipped, not a category folder");
            continue;
        }
        CategoryImages images;
        std::string nested;  // sub-folder names
        for (const fs::directory_entry& file : sorted_entries(entry.path())) {
            const std::string name = file.path().filename().string();
            const std::string where = file.path().string();
            if (is_hidden(name)) {
                data.warnings.push_back(where + ": skipped, a hidden file");
            } else if (file.is_directory(ec)) {
                nested += (nested.empty() ? "" : ", ") + name;
                data.warnings.push_back(where + ": skipped, a nested folder (categories are one level deep)");
            } else if (!file.is_regular_file(ec)) {
                data.warnings.push_back(where + ": skipped, not a regular file");
            } else if (const std::string problem = image_file_problem(where); !problem.empty()) {
                data.warnings.push_back(where + ": skipped, " + problem);
            } else {
                const std::string relative = label + "/" + name;
                split_list(images, assign_split(relative, options)).push_back(relative);
            }
        }
        data.labels.push_back(label);
        data.categories.push_back(std::move(images));
        nested_folders.push_back(nested);
    }
    drop_identical_images(data);
    for (std::size_t i = 0; i < data.labels.size(); ++i) {
        const std::size_t usable = data.categories[i].size();
        if (usable >= minimum_images_per_category(options)) continue;
        const std::string folder = data.full_path(data.labels[i]);
        std::string message = too_few_images_message(folder, data.labels[i], usable, options);
        if (usable == 0 && !nested_folders[i].empty())
            message += "; it holds folders (" + nested_folders[i] + "): is " + data_dir + " one level too high? Try " +
                       folder;
        throw Error(message);
    }
    if (data.labels.size() < 2)
        throw Error(data_dir + ": found " + std::to_string(data.labels.size()) +
                    (data.labels.size() == 1 ? " category folder" : " category folders") +
                    ", need at least 2 (one sub-folder of images per category)");
    for (std::size_t i = 0; i < data.labels.size(); ++i)
        fill_empty_splits(data.labels[i], data.categories[i], options, data.warnings);
    return data;
}

}  // namespace tinception
