// What every kernel test shares: the tables under test, guarded buffers with sentinels around
// each output, the convolution and pooling fixtures over kernel_cases.hpp in each memory
// layout, weights packed as the network packs them, and the one convolution tolerance.
#pragma once
#include <doctest/doctest.h>

#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "check_close.hpp"
#include "kernel_cases.hpp"
#include "kernel_dispatch.hpp"

namespace tinception::testing {

// Every table this machine runs except the reference itself.
inline std::vector<const kernels::KernelTable*> tables_under_test() {
    std::vector<const kernels::KernelTable*> tables;
    for (const kernels::KernelTable* t : available_kernel_tables())
        if (t != &kernels::reference_kernels()) tables.push_back(t);
    return tables;
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
    bool operator==(const GuardedBuffer& o) const {
        return size_ == o.size_ && std::memcmp(data(), o.data(), size_ * sizeof(float)) == 0;
    }

private:
    std::size_t size_;
    std::vector<float> storage_;
    std::size_t begin_;
};

// Uniform values in [lo, hi], reproducible from the seed.
inline void fill_uniform(float* data, std::size_t count, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (std::size_t i = 0; i < count; ++i) data[i] = dist(rng);
}

// Random values in the channels a kernel may read, NaN in the ones it must not.
inline void fill_activations(GuardedBuffer& buffer, int pixel_stride, int width, std::uint32_t seed) {
    fill_uniform(buffer.data(), buffer.size(), seed);
    for (std::size_t i = 0; i < buffer.size(); ++i)
        if (int(i % std::size_t(pixel_stride)) >= width) buffer[i] = std::numeric_limits<float>::quiet_NaN();
}

// Channels [offset, offset + width) of each pixel belong to the kernel; everything else in
// the buffer, and the guards around it, must still hold the sentinel.
inline bool untouched_outside_slice(const GuardedBuffer& buffer, int pixel_stride, int offset, int width) {
    if (!buffer.guards_intact()) return false;
    for (std::size_t i = 0; i < buffer.size(); ++i) {
        const int ch = int(i % std::size_t(pixel_stride));
        if ((ch < offset || ch >= offset + width) && !GuardedBuffer::is_sentinel(buffer.data()[i])) return false;
    }
    return true;
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};
using PackedWeights = std::unique_ptr<void, FreeDeleter>;

// The table's packed weights for `a`, 64-byte aligned as the network keeps them; null when the
// table does not pack (its kernel reads OIHW).
inline PackedWeights pack_weights(const kernels::KernelTable& table, const kernels::Conv2dArgs& a) {
    if (!table.conv2d_pack || !table.conv2d_packed_size) return nullptr;
    const std::size_t bytes = (table.conv2d_packed_size(a) + 63) / 64 * 64;
    PackedWeights packed(std::aligned_alloc(64, bytes ? bytes : 64));
    REQUIRE(packed);
    table.conv2d_pack(a, packed.get());
    return packed;
}

// How far a table's convolution may drift from the reference on `a` (which accumulates in
// double). A float sum of K = in_c * kernel_h * kernel_w products of terms in [-1, 1] drifts by
// about K * FLT_EPSILON (sum_tolerance): the bound of the direct GEMM, im2col and Eigen. A
// Winograd path sums in_c products of transformed inputs and weights instead, and each
// transform scales and rounds every term, so its bound is the direct one times a growth of
// its own. The factors are about twice the largest error seen on this table's rows with the
// AVX2 table (in units of the direct bound, 2026-11-30), so they follow the transform's
// conditioning, not its luck on one seed.
inline double winograd_growth(const char* path) {
    const std::string p = path ? path : "";
    if (p == "winograd_f2x2_3x3") return 1.0;  // points 0, +-1: entries 0, +-1, 1/2; seen 0.08
    if (p == "winograd_f4_3") return 1.0;      // points 0, +-1, +-2, one direction: seen 0.5
    if (p == "winograd_f2x2_5x5") return 2.0;  // the same points in both directions: seen 0.7
    if (p == "winograd_f4x4_3x3") return 3.0;  // the same, 16 outputs per tile: seen 1.4
    if (p == "winograd_f4_7") return 4.0;      // also +-1/2 and +-2/3, ten per tile: seen 2.1
    return 1.0;
}

inline Tolerance conv_tolerance(const kernels::KernelTable& table, const kernels::Conv2dArgs& a) {
    Tolerance tol = sum_tolerance(long(a.in_c) * a.kernel_h * a.kernel_w, 1.0);
    tol.abs *= winograd_growth(table.conv2d_path ? table.conv2d_path(a) : nullptr);
    return tol;
}

// One convolution case in one memory layout: inputs in [-1, 1] (NaN in the channels around
// the slice it reads), weights and bias in [-1, 1], and guarded output buffers.
struct ConvFixture {
    ConvFixture(const ConvCase& cc, const MemoryLayout& layout, std::uint32_t seed)
        : cc(cc), layout(layout), py(padding_for(cc.pad, cc.h, cc.kernel_h, cc.stride)),
          px(padding_for(cc.pad, cc.w, cc.kernel_w, cc.stride)), in_stride(cc.in_c + layout.in_extra),
          out_stride(cc.out_c + layout.out_offset + layout.out_extra),
          input(std::size_t(cc.n) * cc.h * cc.w * std::size_t(in_stride), layout.misaligned),
          weights(std::size_t(cc.out_c) * cc.in_c * cc.kernel_h * cc.kernel_w), bias(std::size_t(cc.out_c)) {
        fill_activations(input, in_stride, cc.in_c, seed);
        fill_uniform(weights.data(), weights.size(), seed + 1);
        fill_uniform(bias.data(), bias.size(), seed + 2);
    }

    GuardedBuffer fresh_output() const {
        return GuardedBuffer(std::size_t(cc.n) * py.out * px.out * std::size_t(out_stride));
    }

    // The call writing into `out` (its slice at the layout's channel offset); with no `out`,
    // the shape alone.
    kernels::Conv2dArgs args(GuardedBuffer* out = nullptr, const void* packed = nullptr) const {
        kernels::Conv2dArgs a;
        a.input = input.data();
        a.weights = weights.data();
        a.bias = bias.data();
        a.packed = packed;
        a.output = out ? out->data() + layout.out_offset : nullptr;
        a.n = cc.n, a.in_h = cc.h, a.in_w = cc.w, a.in_c = cc.in_c;
        a.out_h = py.out, a.out_w = px.out, a.out_c = cc.out_c;
        a.kernel_h = cc.kernel_h, a.kernel_w = cc.kernel_w;
        a.stride_h = a.stride_w = cc.stride;
        a.pad_top = py.before, a.pad_left = px.before;
        a.in_pixel_stride = in_stride, a.out_pixel_stride = out_stride;
        a.relu = cc.relu;
        return a;
    }

    // Fails the test case, naming positions, where `actual` differs from `expected` beyond
    // the table's tolerance or holds anything but the sentinel outside its slice.
    void check(const kernels::KernelTable& table, const GuardedBuffer& expected, const GuardedBuffer& actual) const {
        CHECK_MESSAGE(untouched_outside_slice(actual, out_stride, layout.out_offset, cc.out_c),
                      "wrote outside its output slice");
        check_close(expected.data(), actual.data(), expected.size(), conv_tolerance(table, args()),
                    nhwc_index(py.out, px.out, out_stride), [&](std::size_t i) {
                        const int ch = int(i % std::size_t(out_stride));
                        return ch >= layout.out_offset && ch < layout.out_offset + cc.out_c;
                    });
    }

    const ConvCase& cc;
    const MemoryLayout& layout;
    Padding1d py, px;
    int in_stride, out_stride;
    GuardedBuffer input, weights, bias;
};

// One pooling case in one memory layout.
struct PoolFixture {
    PoolFixture(const PoolCase& pc, const MemoryLayout& layout, std::uint32_t seed)
        : pc(pc), layout(layout), py(padding_for(pc.pad, pc.h, pc.kernel_h, pc.stride)),
          px(padding_for(pc.pad, pc.w, pc.kernel_w, pc.stride)), in_stride(pc.c + layout.in_extra),
          out_stride(pc.c + layout.out_offset + layout.out_extra),
          input(std::size_t(pc.n) * pc.h * pc.w * std::size_t(in_stride), layout.misaligned) {
        fill_activations(input, in_stride, pc.c, seed);
    }

    GuardedBuffer fresh_output() const {
        return GuardedBuffer(std::size_t(pc.n) * py.out * px.out * std::size_t(out_stride));
    }

    kernels::Pool2dArgs args(GuardedBuffer* out, bool count_include_pad) const {
        kernels::Pool2dArgs a;
        a.input = input.data();
        a.output = out ? out->data() + layout.out_offset : nullptr;
        a.n = pc.n, a.in_h = pc.h, a.in_w = pc.w, a.c = pc.c;
        a.out_h = py.out, a.out_w = px.out;
        a.kernel_h = pc.kernel_h, a.kernel_w = pc.kernel_w;
        a.stride_h = a.stride_w = pc.stride;
        a.pad_top = py.before, a.pad_left = px.before;
        a.in_pixel_stride = in_stride, a.out_pixel_stride = out_stride;
        a.count_include_pad = count_include_pad;
        return a;
    }

    void check(const GuardedBuffer& expected, const GuardedBuffer& actual, Tolerance tol) const {
        CHECK_MESSAGE(untouched_outside_slice(actual, out_stride, layout.out_offset, pc.c),
                      "wrote outside its output slice");
        check_close(expected.data(), actual.data(), expected.size(), tol, nhwc_index(py.out, px.out, out_stride),
                    [&](std::size_t i) {
                        const int ch = int(i % std::size_t(out_stride));
                        return ch >= layout.out_offset && ch < layout.out_offset + pc.c;
                    });
    }

    const PoolCase& pc;
    const MemoryLayout& layout;
    Padding1d py, px;
    int in_stride, out_stride;
    GuardedBuffer input;
};

}  // namespace tinception::testing
