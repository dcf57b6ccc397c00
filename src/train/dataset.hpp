// Scanning an image folder (one sub-folder per category) and splitting it into training,
// validation and testing sets by a stable hash. Reads each file's first bytes to tell images
// by content, whatever their names; decodes nothing.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinception {

struct SplitOptions {
    double validation_percentage = 10.0;  // retrain.py --validation_percentage
    double testing_percentage = 10.0;     // retrain.py --testing_percentage
};

enum class Split { training, validation, testing };

struct CategoryImages {
    // Paths relative to the data folder, always "label/file" with '/', sorted.
    std::vector<std::string> training;
    std::vector<std::string> validation;
    std::vector<std::string> testing;
    std::size_t size() const { return training.size() + validation.size() + testing.size(); }
};

struct Dataset {
    std::string root;                        // the data folder as given
    std::vector<std::string> labels;         // category folder names, sorted bytewise
    std::vector<CategoryImages> categories;  // parallel to labels
    std::vector<std::string> warnings;       // skipped files and folders, moved images
    // root joined with a relative path from `categories`.
    std::string full_path(const std::string& relative_path) const;
};

// The split hash of a path relative to the data folder ("label/file"): FNV-1a 64 of the
// path with everything from "_nohash_" in the file name onwards removed, so that
// "cat/a_nohash_1.jpg" and "cat/a_nohash_2.jpg" always share a split.
std::uint64_t split_hash(const std::string& relative_path);

// split_hash mapped to [0, 100) in steps of 1e-4: (hash % 1'000'000) / 10'000.
double split_percentage(const std::string& relative_path);

// percentage < validation -> validation; < validation + testing -> testing; else training.
Split assign_split(const std::string& relative_path, const SplitOptions& options);

// The fewest images a category may have: one per split in use (training, and validation or
// testing when their percentage is above 0), and never under 2.
std::size_t minimum_images_per_category(const SplitOptions& options);

// The one message for a category with too few usable images, naming the folder, the label,
// the count and minimum_images_per_category.
std::string too_few_images_message(const std::string& folder, const std::string& label, std::size_t usable,
                                   const SplitOptions& options);

// Lists `data_dir`, one level per category (never deeper, so symlink loops cannot hang),
// and splits each category. Hidden entries, files whose first bytes are not an image, and nested folders are skipped
// with a warning, and so are byte-identical copies inside a category (drop_identical_images). A split that comes out empty for a category (training always counts,
// validation and testing when their percentage is above 0) gets the image with the highest
// split percentage from training (or, if training cannot spare one, from the other split),
// with a warning; so a category needs 3 images with both percentages above 0. Throws
// Error naming the folder when the data folder is missing, has fewer than 2 categories,
// or a category cannot be used.
Dataset scan_dataset(const std::string& data_dir, const SplitOptions& options = {});

}  // namespace tinception
