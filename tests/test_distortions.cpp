// Training-image distortions: each one alone does what retrain.py's flag says, and a
// seed repeats a run exactly.
#include <doctest/doctest.h>

#include <vector>

#include "image/preprocess.hpp"
#include "train/distortions.hpp"

using namespace tinception;

namespace {

ImageRgb8 gradient_image(int w, int h) {
    ImageRgb8 img;
    img.width = w;
    img.height = h;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) img.pixels.push_back(std::uint8_t((x * 7 + y * 3 + c * 50) % 256));
    return img;
}

Preprocessing small_input() {
    Preprocessing p;
    p.size = 9;
    return p;
}

std::vector<float> distorted(const ImageRgb8& img, const DistortionOptions& o, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> out(9 * 9 * 3);
    distort_and_preprocess(img, o, small_input(), rng, out.data());
    return out;
}

}  // namespace

TEST_CASE("no distortion set: the plain preprocessed image") {
    const ImageRgb8 img = gradient_image(20, 14);
    std::vector<float> plain(9 * 9 * 3);
    preprocess(img, small_input(), plain.data());
    CHECK(distorted(img, {}, 3) == plain);
}

TEST_CASE("flip-left-right mirrors some copies and leaves the others") {
    const ImageRgb8 img = gradient_image(20, 14);
    std::vector<float> plain(9 * 9 * 3);
    preprocess(img, small_input(), plain.data());
    DistortionOptions o;
    o.flip_left_right = true;
    int flipped = 0, unflipped = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        const std::vector<float> d = distorted(img, o, seed);
        if (d == plain) {
            ++unflipped;
            continue;
        }
        for (int y = 0; y < 9; ++y)
            for (int x = 0; x < 9; ++x)
                for (int c = 0; c < 3; ++c) CHECK(d[(y * 9 + x) * 3 + c] == plain[(y * 9 + 8 - x) * 3 + c]);
        ++flipped;
    }
    CHECK(flipped > 0);
    CHECK(unflipped > 0);
}

TEST_CASE("brightness scales every value by one factor within the bound") {
    const ImageRgb8 img = gradient_image(20, 14);
    std::vector<float> plain(9 * 9 * 3);
    preprocess(img, small_input(), plain.data());
    DistortionOptions o;
    o.random_brightness_percent = 20;
    const std::vector<float> d = distorted(img, o, 5);
    std::size_t probe = 0;
    while (plain[probe] == 0) ++probe;
    const double factor = d[probe] / plain[probe];
    CHECK(factor >= 0.8);
    CHECK(factor <= 1.2);
    for (std::size_t i = 0; i < d.size(); ++i) CHECK(d[i] == doctest::Approx(plain[i] * factor).epsilon(1e-5));
}

TEST_CASE("crop and scale: seeded, and different seeds pick different windows") {
    const ImageRgb8 img = gradient_image(40, 30);
    DistortionOptions o;
    o.random_crop_percent = 20;
    o.random_scale_percent = 30;
    CHECK(distorted(img, o, 11) == distorted(img, o, 11));
    CHECK(distorted(img, o, 11) != distorted(img, o, 12));
}
