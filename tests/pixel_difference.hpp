// How far two decodes of one picture are apart, in 8-bit levels: the largest and the mean
// absolute difference over every channel of every pixel (sizes must match).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

#include "image/image.hpp"

namespace tinception::testing {

struct PixelDifference {
    int largest = 0;
    double mean = 0;
};

inline PixelDifference difference(const ImageRgb8& a, const ImageRgb8& b) {
    REQUIRE(a.width == b.width);
    REQUIRE(a.height == b.height);
    PixelDifference d;
    double sum = 0;
    for (std::size_t i = 0; i < a.pixels.size(); ++i) {
        const int diff = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
        d.largest = std::max(d.largest, diff);
        sum += diff;
    }
    d.mean = sum / double(a.pixels.size());
    return d;
}

}  // namespace tinception::testing
