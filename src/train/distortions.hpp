// retrain.py's training-image distortions: a random crop and scale, a left-right flip and a
// brightness change, drawn from a seeded generator so a run can be repeated exactly.
#pragma once
#include <cstdint>
#include <random>

#include "image/image.hpp"
#include "image/preprocess.hpp"

namespace tinception {

struct DistortionOptions {
    bool flip_left_right = false;      // mirror half of the copies
    float random_crop_percent = 0;     // margin around the crop, as retrain.py's --random_crop
    float random_scale_percent = 0;    // extra zoom of up to this much, as --random_scale
    float random_brightness_percent = 0;  // multiply pixels by 1 +- up to this much
    int copies = 4;                    // distorted copies of each training image
    bool any() const {
        return flip_left_right || random_crop_percent > 0 || random_scale_percent > 0 ||
               random_brightness_percent > 0;
    }
};

// One distorted copy of `image` as the network's input (size x size x 3 floats). As in
// retrain.py, the image is scaled so that the input is a 1 / ((1 + crop) * (1 + scale))
// share of it, a window of that size is taken at a random place, then flipped and brightened.
void distort_and_preprocess(const ImageRgb8& image, const DistortionOptions& options, const Preprocessing& p,
                            std::mt19937_64& rng, float* out);

}  // namespace tinception
