// Byte-identical images and balance checks; see dataset_checks.hpp.
#include "train/dataset_checks.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "error.hpp"
#include "file_io.hpp"
#include "train/hashing.hpp"

namespace tinception {
namespace {

namespace fs = std::filesystem;

struct ImageRef {
    std::size_t category;
    std::string relative;  // "label/file"
};

// The list of category `c` that holds `relative`.
std::vector<std::string>* list_holding(CategoryImages& c, const std::string& relative) {
    for (auto* list : {&c.training, &c.validation, &c.testing})
        if (std::binary_search(list->begin(), list->end(), relative)) return list;
    return nullptr;
}

}  // namespace

void drop_identical_images(Dataset& data) {
    // Sizes first: files of a size no other file has cannot have a twin and are not read.
    std::map<std::uintmax_t, std::vector<ImageRef>> by_size;
    for (std::size_t c = 0; c < data.categories.size(); ++c) {
        const CategoryImages& cat = data.categories[c];
        for (const auto* list : {&cat.training, &cat.validation, &cat.testing})
            for (const std::string& rel : *list) {
                std::error_code ec;
                const std::uintmax_t size = fs::file_size(data.full_path(rel), ec);
                if (!ec) by_size[size].push_back({c, rel});
            }
    }
    for (auto& [size, refs] : by_size) {
        if (refs.size() < 2) continue;
        std::map<std::uint64_t, std::vector<ImageRef>> by_content;
        for (const ImageRef& ref : refs) {
            std::vector<std::uint8_t> bytes;
            try {
                bytes = read_file_bytes(data.full_path(ref.relative));
            } catch (const Error&) {
                continue;  // unreadable: the feature pass reports it with its reason
            }
            by_content[fnv1a_64(bytes.data(), bytes.size())].push_back(ref);
        }
        for (auto& [hash, group] : by_content) {
            if (group.size() < 2) continue;
            std::sort(group.begin(), group.end(),
                      [](const ImageRef& a, const ImageRef& b) { return a.relative < b.relative; });
            std::vector<std::string> kept;  // the first of each category in the group
            std::vector<std::size_t> kept_categories;
            for (const ImageRef& ref : group) {
                const auto first = std::find(kept_categories.begin(), kept_categories.end(), ref.category);
                if (first == kept_categories.end()) {
                    kept_categories.push_back(ref.category);
                    kept.push_back(ref.relative);
                    continue;
                }
                const std::string& original = kept[std::size_t(first - kept_categories.begin())];
                if (std::vector<std::string>* list = list_holding(data.categories[ref.category], ref.relative))
                    list->erase(std::find(list->begin(), list->end(), ref.relative));
                data.warnings.push_back(data.full_path(ref.relative) + ": skipped, byte-identical to " + original +
                                        " (counted once)");
            }
            if (kept.size() > 1) {
                std::string names;
                for (const std::string& k : kept) names += (names.empty() ? "" : ", ") + k;
                data.warnings.push_back("byte-identical images in different categories: " + names +
                                        "; the label is ambiguous");
            }
        }
    }
}

std::vector<std::string> dataset_advice(const Dataset& data, bool class_weighting) {
    std::vector<std::string> advice;
    std::size_t smallest = 0, largest = 0;
    for (std::size_t c = 0; c < data.categories.size(); ++c) {
        const std::size_t n = data.categories[c].size();
        if (n < kFewImagesPerCategory)
            advice.push_back("category '" + data.labels[c] + "' has " + std::to_string(n) + " images; under " +
                             std::to_string(kFewImagesPerCategory) + " the model may be unreliable");
        if (n < data.categories[smallest].size()) smallest = c;
        if (n > data.categories[largest].size()) largest = c;
    }
    const double low = double(data.categories.empty() ? 0 : data.categories[smallest].size());
    const double high = double(data.categories.empty() ? 0 : data.categories[largest].size());
    if (!class_weighting && low > 0 && high / low >= kUnbalancedRatio) {
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, "%.1f", high / low);
        advice.push_back("categories are strongly unbalanced: '" + data.labels[largest] + "' has " +
                         std::to_string(std::size_t(high)) + " images, '" + data.labels[smallest] + "' " +
                         std::to_string(std::size_t(low)) + " (" + ratio +
                         " times fewer); --class-weights weights each category by its size");
    }
    return advice;
}

}  // namespace tinception
