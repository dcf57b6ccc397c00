// Distortions on decoded pixels: crop window in source coordinates, bilinear resize of the
// window, then flip and brightness on the floats.
#include "train/distortions.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "train/sampling.hpp"

namespace tinception {
namespace {

ImageRgb8 crop(const ImageRgb8& image, int x0, int y0, int w, int h) {
    ImageRgb8 out;
    out.width = w;
    out.height = h;
    out.pixels.resize(std::size_t(w) * h * 3);
    for (int y = 0; y < h; ++y)
        std::copy_n(image.pixels.begin() + (std::size_t(y0 + y) * image.width + x0) * 3, std::size_t(w) * 3,
                    out.pixels.begin() + std::size_t(y) * w * 3);
    return out;
}

}  // namespace

void distort_and_preprocess(const ImageRgb8& image, const DistortionOptions& o, const Preprocessing& p,
                            std::mt19937_64& rng, float* out) {
    const double margin = 1.0 + o.random_crop_percent / 100.0;
    const double zoom = 1.0 + uniform_open01(rng) * o.random_scale_percent / 100.0;
    const double share = 1.0 / (margin * zoom);
    const int w = std::max(1, int(std::lround(image.width * share)));
    const int h = std::max(1, int(std::lround(image.height * share)));
    const int x0 = int(uniform_index(rng, std::uint64_t(image.width - w + 1)));
    const int y0 = int(uniform_index(rng, std::uint64_t(image.height - h + 1)));
    const bool flip = o.flip_left_right && uniform_index(rng, 2) == 1;
    const double brightness =
        1.0 + (2.0 * uniform_open01(rng) - 1.0) * o.random_brightness_percent / 100.0;

    preprocess(crop(image, x0, y0, w, h), p, out);
    const int n = p.size;
    if (flip)
        for (int y = 0; y < n; ++y)
            for (int x = 0; x < n / 2; ++x)
                for (int c = 0; c < 3; ++c)
                    std::swap(out[(std::size_t(y) * n + x) * 3 + c], out[(std::size_t(y) * n + (n - 1 - x)) * 3 + c]);
    // Brightness scales the pixel values, so it applies before the offset: (v - offset) * b + offset.
    for (std::size_t i = 0; i < std::size_t(n) * n * 3; ++i)
        out[i] = float((out[i] - p.offset) * brightness + p.offset);
}

}  // namespace tinception
