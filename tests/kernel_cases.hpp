// The shared table of awkward shapes every kernel table is tested on, and the guarded,
// aligned buffers the fixtures use. Small on purpose; each line probes one edge.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "conv_geometry.hpp"

namespace tinception::testing {

struct ConvCase {
    int n, in_c, h, w, out_c, kernel_h, kernel_w, stride;
    Padding pad;
    bool relu;
};

inline const ConvCase kConvCases[] = {
    {1, 3, 17, 13, 5, 3, 3, 2, Padding::valid, false},  // stem-like, odd sizes, stride 2
    {1, 3, 17, 13, 5, 3, 3, 2, Padding::same, true},    // same, odd input, stride 2
    {1, 7, 9, 9, 9, 1, 7, 1, Padding::same, true},      // 1x7 factorised conv
    {1, 9, 9, 9, 7, 7, 1, 1, Padding::same, false},     // 7x1
    {1, 8, 7, 6, 16, 1, 3, 1, Padding::same, true},     // 1x3
    {1, 16, 6, 7, 8, 3, 1, 1, Padding::same, false},    // 3x1
    {1, 17, 8, 8, 33, 1, 1, 1, Padding::valid, true},   // 1x1, channels around 16 and 32
    {1, 33, 5, 7, 17, 1, 1, 2, Padding::same, false},   // 1x1 stride 2
    {1, 15, 5, 6, 8, 3, 3, 1, Padding::same, true},     // one under a vector width
    {1, 9, 11, 11, 15, 5, 5, 1, Padding::same, false},  // 5x5
    {1, 1, 12, 10, 3, 5, 5, 2, Padding::same, false},   // 5x5 stride 2, one input channel
    {1, 16, 3, 3, 16, 3, 3, 1, Padding::valid, true},   // input == kernel: 1x1 output
    {1, 7, 4, 4, 1, 3, 3, 2, Padding::valid, false},    // 1x1 output by stride, one output channel
    {3, 3, 7, 5, 9, 3, 3, 1, Padding::same, false},     // batch 3
    {3, 8, 6, 6, 7, 3, 3, 2, Padding::valid, true},     // batch 3, even input, stride 2
    {1, 1, 1, 1, 1, 1, 1, 1, Padding::valid, false},    // smallest
};

struct PoolCase {
    int n, c, h, w, kernel_h, kernel_w, stride;
    Padding pad;
};

inline const PoolCase kPoolCases[] = {
    {1, 3, 17, 13, 3, 3, 2, Padding::valid},  // Inception's reduction pool, odd sizes
    {1, 7, 17, 13, 3, 3, 2, Padding::same},
    {1, 8, 9, 9, 3, 3, 1, Padding::same},     // the avg pool inside mixed blocks
    {1, 9, 9, 8, 3, 3, 1, Padding::valid},
    {1, 15, 6, 7, 3, 3, 2, Padding::same},    // even size: padding only after
    {1, 16, 5, 5, 5, 5, 1, Padding::same},
    {1, 17, 8, 8, 8, 8, 1, Padding::valid},   // Inception's final 8x8 pool: 1x1 output
    {1, 33, 7, 9, 1, 3, 1, Padding::same},    // 1x3
    {1, 1, 9, 7, 3, 1, 2, Padding::same},     // 3x1, one channel
    {3, 3, 5, 5, 3, 3, 2, Padding::same},     // batch 3
    {1, 1, 1, 1, 1, 1, 1, Padding::valid},    // smallest
};

inline const int kChannelCounts[] = {1, 3, 7, 8, 9, 15, 16, 17, 33};

// How the activations sit in memory. The second layout is what a concat branch sees: the
// output written into a channel slice of a wider tensor, the input read from one too and
// starting one float past an aligned address.
struct MemoryLayout {
    int in_extra;      // in_pixel_stride = channels + in_extra
    int out_extra;     // out_pixel_stride = out channels + out_offset + out_extra
    int out_offset;    // first output channel within the pixel
    bool misaligned;   // input starts one float past a 64-byte boundary
    const char* name;
};

inline const MemoryLayout kLayouts[] = {
    {0, 0, 0, false, "dense"},
    {2, 5, 3, true, "concat slice, misaligned input"},
};

inline std::string describe(const ConvCase& c) {
    return "n" + std::to_string(c.n) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) +
           "x" + std::to_string(c.in_c) + " -> " + std::to_string(c.out_c) + ", kernel " +
           std::to_string(c.kernel_h) + "x" + std::to_string(c.kernel_w) + " stride " +
           std::to_string(c.stride) + (c.pad == Padding::same ? " same" : " valid") +
           (c.relu ? " relu" : "");
}

inline std::string describe(const PoolCase& c) {
    return "n" + std::to_string(c.n) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) +
           "x" + std::to_string(c.c) + ", window " + std::to_string(c.kernel_h) + "x" +
           std::to_string(c.kernel_w) + " stride " + std::to_string(c.stride) +
           (c.pad == Padding::same ? " same" : " valid");
}

// Floats on a 64-byte boundary (or one float past it), with sentinel-filled guard zones
// before and after, so a kernel writing outside its buffer is caught.
class GuardedBuffer {
public:
    static constexpr float kSentinel = -7777.25f;
    static constexpr std::size_t kGuard = 32;  // floats each side

    explicit GuardedBuffer(std::size_t size, bool misaligned = false)
        : size_(size), storage_(size + 2 * kGuard + 32, kSentinel) {
        const auto base = reinterpret_cast<std::uintptr_t>(storage_.data() + kGuard);
        const std::size_t skip = ((64 - base % 64) % 64) / sizeof(float);
        begin_ = kGuard + skip + (misaligned ? 1 : 0);
    }
    float* data() { return storage_.data() + begin_; }
    const float* data() const { return storage_.data() + begin_; }
    std::size_t size() const { return size_; }
    float& operator[](std::size_t i) { return data()[i]; }

    // True when every float outside [0, size) is still the sentinel, bit for bit.
    bool guards_intact() const {
        for (std::size_t i = 0; i < storage_.size(); ++i)
            if ((i < begin_ || i >= begin_ + size_) && !is_sentinel(storage_[i])) return false;
        return true;
    }
    static bool is_sentinel(float v) { return std::memcmp(&v, &kSentinel, sizeof v) == 0; }

private:
    std::size_t size_;
    std::vector<float> storage_;
    std::size_t begin_;
};

// Uniform values in [lo, hi], reproducible from the seed.
inline void fill_uniform(float* data, std::size_t count, std::uint32_t seed, float lo = -1.0f,
                         float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (std::size_t i = 0; i < count; ++i) data[i] = dist(rng);
}

}  // namespace tinception::testing
