// A deterministic preprocessed input for comparing features across machines: integer
// arithmetic only (no libm, no standard distributions), so every platform builds the same
// floats bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tinception::testing {

// The layer and seed the x86 reference file (tests/noise_features.cpp) and the cross build's
// comparison (tests/test_features_vs_x86.cpp) agree on: the whole trunk, every path.
constexpr const char* kNoiseLayer = "mixed10";
constexpr std::uint32_t kNoiseSeed = 20260101;

// NHWC [size][size][3] in [-1, 1): 16-pixel checks of +-0.5 plus xorshift32 noise in
// [-0.5, 0.5), so the trunk sees edges as well as texture. Every value is exact in float.
inline std::vector<float> noise_image(int size, std::uint32_t seed) {
    std::vector<float> pixels(std::size_t(size) * std::size_t(size) * 3);
    std::uint32_t s = seed ? seed : 1;
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
            for (int c = 0; c < 3; ++c) {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                const float noise = float(s >> 8) * (1.0f / 16777216.0f) - 0.5f;
                const float check = (x / 16 + y / 16 + c) % 2 ? 0.5f : -0.5f;
                pixels[(std::size_t(y) * std::size_t(size) + std::size_t(x)) * 3 + std::size_t(c)] = check + noise;
            }
    return pixels;
}

}  // namespace tinception::testing
