// The images int8 calibration runs on: the image files under a folder (class folders and all),
// sorted by path, at most `max_images` of them spread evenly over that order, so the same
// folder always gives the same set. Preprocessed as the network expects.
#pragma once
#include <string>
#include <vector>

#include "image/preprocess.hpp"
#include "quant/activation_ranges.hpp"

namespace tinception {

// What --precision int8 asks for: on which images, how many, by which rule.
struct CalibrationOptions {
    bool int8 = false;   // false: fp32 or bf16, the rest unused
    bool bf16 = false;   // --precision bf16: the bf16 convolution table, no calibration
    std::string folder;  // empty: train's own training images
    int max_images = 64;
    RangeRule rule{RangeRule::Kind::percentile, 99.999};
};

struct CalibrationSet {
    std::vector<std::string> paths;  // the images used, in order
    std::vector<float> input;        // NHWC [paths.size()][size][size][3]
};

// Throws Error naming the folder when it holds no image, or naming an image that fails to decode.
CalibrationSet load_calibration_set(const std::string& dir, const Preprocessing& preprocessing, int max_images);
// The same choice from a list of image paths (a training split): sorted, spread, preprocessed.
CalibrationSet load_calibration_images(std::vector<std::string> paths, const Preprocessing& preprocessing,
                                       int max_images);

}  // namespace tinception
