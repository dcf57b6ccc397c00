// Plain C++ shared by the packed-GEMM convolutions of every ISA: weight packing into panels
// of output channels, im2col of a block of pixels, and the pointwise test. Everything has
// internal linkage, so each ISA file compiles its own copy with its own flags and the
// linker can never hand baseline code a copy built for a wider ISA.
#pragma once
#include <cstdlib>
#include <cstring>

#include "kernel_table.hpp"
#include "row_tiles.hpp"

namespace tinception::kernels {
namespace {

// K, the reduction length: (ky, kx, ic) in that order, to follow NHWC.
inline long reduction_length(const Conv2dArgs& a) { return long(a.in_c) * a.kernel_h * a.kernel_w; }

template <int PanelWidth>
long panel_count(const Conv2dArgs& a) {
    return (a.out_c + PanelWidth - 1) / PanelWidth;
}

// Bytes `floats` floats take in a workspace: every piece starts on a 64-byte boundary.
inline std::size_t scratch_bytes(std::size_t floats) { return (floats * sizeof(float) + 63) / 64 * 64; }

// Hands out a caller's workspace (Conv2dArgs::workspace) piece by piece, in the order the
// kernel's workspace-size function added the pieces up; a piece may be smaller than sized.
class ScratchCursor {
public:
    explicit ScratchCursor(void* workspace) : next_(static_cast<unsigned char*>(workspace)) {}
    float* take(std::size_t floats) {
        float* piece = reinterpret_cast<float*>(next_);
        next_ += scratch_bytes(floats);
        return piece;
    }

private:
    unsigned char* next_;
};

template <int PanelWidth>
std::size_t packed_panels_size(const Conv2dArgs& a) {
    return std::size_t(panel_count<PanelWidth>(a)) * std::size_t(reduction_length(a)) * PanelWidth * sizeof(float);
}

// packed[p][k][j] = w[p*PanelWidth + j][ic][ky][kx] with k = (ky*kernel_w + kx)*in_c + ic;
// zero past out_c, so a tile may always load whole panel rows.
template <int PanelWidth>
void pack_panels(const Conv2dArgs& a, void* packed) {
    float* dst = static_cast<float*>(packed);
    const long k_len = reduction_length(a);
    for (long p = 0; p < panel_count<PanelWidth>(a); ++p)
        for (int ky = 0; ky < a.kernel_h; ++ky)
            for (int kx = 0; kx < a.kernel_w; ++kx)
                for (int ic = 0; ic < a.in_c; ++ic) {
                    const long k = (long(ky) * a.kernel_w + kx) * a.in_c + ic;
                    float* row = dst + (p * k_len + k) * PanelWidth;
                    for (int j = 0; j < PanelWidth; ++j) {
                        const long oc = p * PanelWidth + j;
                        row[j] = oc < a.out_c
                                     ? a.weights[((oc * a.in_c + ic) * a.kernel_h + ky) * a.kernel_w + kx]
                                     : 0.0f;
                    }
                }
}

// A 1x1 stride-1 unpadded layer whose pixels are evenly spaced reads its input in place
// as the A matrix, with no im2col.
inline bool reads_input_in_place(const Conv2dArgs& a) {
    return a.kernel_h == 1 && a.kernel_w == 1 && a.stride_h == 1 && a.stride_w == 1 && a.pad_top == 0 &&
           a.pad_left == 0 && a.out_w == a.in_w && (a.n == 1 || a.out_h == a.in_h);
}

// Pixels a multiple of 4 KiB apart (an input of 1024 or 2048 channels read in place) fall
// into the same few sets of the caches, and a block's rows evict each other while the panels
// pass over them: a 2048-to-448 8x8 layer at batch 8 took 1.3-1.6x its time whenever its
// input lay in physically contiguous pages. Such a layer copies each chunk of a block's rows
// into contiguous scratch once, for all the panels.
inline bool copies_aliased_rows(long in_stride) { return in_stride % long(4096 / sizeof(float)) == 0; }

// K is cut into chunks so one panel chunk (256 x panel floats) stays near the core while a
// block of pixels walks over it; the chunk boundaries depend on K alone, so the summation
// order of an output never depends on how the pixels were split into calls.
constexpr int kGemmChunkK = 256;

// Every window inside the input, pixels contiguous and K within one chunk: each kernel row of
// a pixel's window is one run of kernel_w * in_c floats of the input, read in place, and one
// panel of weights serves a whole output row (the RGB stem: K = 27).
inline bool reads_rows_in_place(const Conv2dArgs& a) {
    const long in_stride = a.in_pixel_stride ? a.in_pixel_stride : a.in_c;
    return !reads_input_in_place(a) && in_stride == a.in_c && reduction_length(a) <= kGemmChunkK &&
           a.pad_top <= 0 && a.pad_left <= 0 && long(a.out_h - 1) * a.stride_h + a.kernel_h - a.pad_top <= a.in_h &&
           long(a.out_w - 1) * a.stride_w + a.kernel_w - a.pad_left <= a.in_w;
}

constexpr int kShortCopy = 8;

// dst[0, count) = src[0, count) in vectors of S, the last one masked.
template <class S>
inline void copy_run(const float* src, int count, float* dst) {
    for (int i = 0; i < count; i += S::kLanes) {
        const typename S::Mask m = S::mask(count - i);
        S::store(dst + i, m, S::load(m, src + i));
    }
}

// Rows [first, first + rows) of the patch matrix, each K long in (ky, kx, ic) order; taps
// outside the input (including rows above a negative-or-positive pad_top) are zero. Where a
// kernel row lies inside an unstrided input, its kernel_w * in_c values are one run (9 floats
// for the RGB stem, copied in one masked vector where tap by tap they were 9 copies).
template <class S>
inline void im2col_rows(const Conv2dArgs& a, long in_stride, long first, int rows, float* patches) {
    const long k_len = reduction_length(a);
    const long image_pixels = long(a.out_h) * a.out_w;
    const int run = a.kernel_w * a.in_c;
    long b = first / image_pixels;
    int y = int((first % image_pixels) / a.out_w), x = int(first % a.out_w);
    for (int r = 0; r < rows; ++r) {
        float* dst = patches + r * k_len;
        const int ix0 = x * a.stride_w - a.pad_left;
        const bool row_in_one_run = in_stride == a.in_c && ix0 >= 0 && ix0 + a.kernel_w <= a.in_w;
        for (int ky = 0; ky < a.kernel_h; ++ky) {
            const int iy = y * a.stride_h + ky - a.pad_top;
            const bool row_outside = iy < 0 || iy >= a.in_h;
            if (row_in_one_run && !row_outside) {
                copy_run<S>(a.input + ((b * a.in_h + iy) * a.in_w + ix0) * in_stride, run, dst);
                dst += run;
                continue;
            }
            for (int kx = 0; kx < a.kernel_w; ++kx, dst += a.in_c) {
                const int ix = ix0 + kx;
                const bool outside = row_outside || ix < 0 || ix >= a.in_w;
                const float* src = outside ? nullptr : a.input + ((b * a.in_h + iy) * a.in_w + ix) * in_stride;
                if (a.in_c < kShortCopy) {
                    // A few channels (the RGB stem): a call to memcpy per tap would cost more than the copy.
                    for (int c = 0; c < a.in_c; ++c) dst[c] = outside ? 0.0f : src[c];
                } else if (outside) {
                    std::memset(dst, 0, sizeof(float) * std::size_t(a.in_c));
                } else {
                    std::memcpy(dst, src, sizeof(float) * std::size_t(a.in_c));
                }
            }
        }
        if (++x == a.out_w) {
            x = 0;
            if (++y == a.out_h) y = 0, ++b;
        }
    }
}

}  // namespace
}  // namespace tinception::kernels
