// The images of a folder of class folders, as the int8 accuracy tools read them: every image
// file below it sorted by path, preprocessed for the weights, and every `every`-th of them
// again as the calibration set. Plus the comma lists those tools take for layers.
#pragma once
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "image/preprocess.hpp"

namespace tinception::bench {

struct FolderImages {
    std::vector<std::string> paths;  // sorted
    std::size_t image_floats = 0;    // one preprocessed image, NHWC
    std::vector<float> input;        // [paths.size()][size][size][3]
    std::vector<float> calibration;  // images 0, every, 2 * every, ... of input
    int count() const { return int(paths.size()); }
    int calibration_count() const { return image_floats ? int(calibration.size() / image_floats) : 0; }
};

inline FolderImages load_folder_images(const std::string& dir, const Preprocessing& prep, int every) {
    FolderImages f;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file() && has_image_extension(e.path().string())) f.paths.push_back(e.path().string());
    std::sort(f.paths.begin(), f.paths.end());
    f.image_floats = std::size_t(prep.size) * std::size_t(prep.size) * 3;
    f.input.resize(f.paths.size() * f.image_floats);
    for (std::size_t i = 0; i < f.paths.size(); ++i) {
        float* image = f.input.data() + i * f.image_floats;
        preprocess(load_image(f.paths[i]), prep, image);
        if (i % std::size_t(every) == 0) f.calibration.insert(f.calibration.end(), image, image + f.image_floats);
    }
    return f;
}

inline std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
    return parts;
}

}  // namespace tinception::bench
