// The int8 kernels' argument structs and function-pointer table: u8 activations (one scale
// per tensor, zero point 0), s8 weights (one scale per output channel), int32 sums. Included
// by ISA-flagged files, so: no STL containers here.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinception::kernels {

// Weights lie in [-weight_max, weight_max] of the table that runs them: 127 for the reference
// and avx2 tables; 63 for avx2_7bit, whose vpmaddubsw would saturate beyond (README's int8
// section measures both).
inline constexpr int kInt8WeightMax = 127;

// Layout as kernel_table.hpp: activations NHWC with a pixel stride (now in bytes, or floats for
// float output); weights OHWI s8: [out_c][kernel_h][kernel_w][in_c], the order an NHWC window
// is read in, so a 1x1 layer's weight row lines up with an input pixel.
//
//   acc[p][oc] = sum_{ky,kx,ic} in[p's window cell (ky,kx)][ic] * w[oc][ky][kx][ic]  (int32,
//                cells outside the input count as 0)
//   v          = fma(float(acc), scale[oc], bias[oc])                                 (fp32)
//   u8 output:   clamp(nearbyint(v), 0, 255), rounding half to even (the caller folds the
//                output tensor's scale into scale and bias, so ReLU is the clamp at 0)
//   float output: relu ? max(v, 0) : v
struct Conv2dInt8Args {
    const std::uint8_t* input = nullptr;  // [n][in_h][in_w][in_c], pixel stride in_pixel_stride bytes
    const std::int8_t* weights = nullptr; // OHWI
    const void* packed = nullptr;         // this table's packed weights (conv2d_pack), or nullptr
    const float* scale = nullptr;         // [out_c]
    const float* bias = nullptr;          // [out_c]
    void* workspace = nullptr;            // conv2d_workspace_size(args) bytes, 64-byte aligned
    void* output = nullptr;               // u8 or float, first channel of the slice
    bool float_output = false;
    bool relu = false;                    // float output only
    int n = 1, in_h = 0, in_w = 0, in_c = 0;
    int out_h = 0, out_w = 0, out_c = 0;
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0;
    int in_pixel_stride = 0;   // 0 means in_c
    int out_pixel_stride = 0;  // 0 means out_c (elements of the output type)
    // Output pixels [pixel_begin, pixel_end) of the n * out_h * out_w, in NHW order: a call
    // computes only these, so threads can share a layer. pixel_end 0 means all.
    long pixel_begin = 0, pixel_end = 0;
};

// u8 pooling. The window's cells outside the input are left out (max, and the average's
// count, as the fp32 path does). Then, with m the window's max or a = float(sum) / float(count)
// (correctly rounded division) its average:
//   out = clamp(nearbyint(float(m or a) * rescale), 0, 255), rounding half to even,
// where rescale = input scale / output scale (1 when they share a scale: max is then exact and
// the average is the integer mean rounded half to even).
struct Pool2dU8Args {
    const std::uint8_t* input = nullptr;
    std::uint8_t* output = nullptr;
    int n = 1, in_h = 0, in_w = 0, c = 0;
    int out_h = 0, out_w = 0;
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0;
    int in_pixel_stride = 0;   // 0 means c
    int out_pixel_stride = 0;  // 0 means c
    float rescale = 1.0f;
};

using Conv2dInt8Fn = void (*)(const Conv2dInt8Args&);
using Conv2dInt8PackedSizeFn = std::size_t (*)(const Conv2dInt8Args&);  // bytes; 0: reads OHWI
using Conv2dInt8PackFn = void (*)(const Conv2dInt8Args&, void* packed);
// Scratch for one call on any pixel range of this layer.
using Conv2dInt8WorkspaceSizeFn = std::size_t (*)(const Conv2dInt8Args&);
using Pool2dU8Fn = void (*)(const Pool2dU8Args&);
// Copies [pixels][c] u8 into channels [offset, offset + c) of [pixels][dst_pixel_stride], each
// value v becoming clamp(nearbyint(v * rescale), 0, 255) (a copy when rescale is 1).
using CopyChannelsU8Fn = void (*)(const std::uint8_t* src, int src_pixel_stride, int pixels, int c,
                                  std::uint8_t* dst, int dst_pixel_stride, int offset, float rescale);
// The network's float input to u8, `pixels` of c floats each (value = q * scale + offset):
//   out[p * out_stride + k] = clamp(nearbyint((in[p * c + k] - offset) / scale), 0, 255), k < c
//   out[p * out_stride + k] = 0,                                          c <= k < out_stride
// subtracting and dividing as the reference does, so every table gives the same bytes. The
// zero channels make an RGB pixel a whole quad for the convolutions.
using QuantizeU8Fn = void (*)(const float* in, long pixels, int c, float offset, float scale, std::uint8_t* out,
                              int out_stride);

// Calibration's histogram: adds each positive value among `pixels` pixels of `channels` floats,
// `pixel_stride` floats apart, to counts[log2_bin(v)] (int8/log2_bins.hpp), raises *largest to
// the largest of them and returns how many there were. Zero, negative and NaN are left out.
using Log2HistogramFn = std::uint64_t (*)(const float* values, long pixels, int channels, int pixel_stride,
                                          std::uint64_t* counts, float* largest);

// Multiply-adds per second of a register-only loop of the convolution's dot-product
// instruction on the calling thread, run for about `seconds`: the peak its int8 rate is
// measured against.
using DotPeakFn = double (*)(double seconds);

struct Int8KernelTable {
    const char* isa_name = "";  // "reference", "avx2", "avx2_7bit", "avx512_vnni"
    int weight_max = kInt8WeightMax;  // the largest |w| the convolution takes
    Conv2dInt8Fn conv2d = nullptr;
    Conv2dInt8PackedSizeFn conv2d_packed_size = nullptr;
    Conv2dInt8PackFn conv2d_pack = nullptr;
    Conv2dInt8WorkspaceSizeFn conv2d_workspace_size = nullptr;
    Pool2dU8Fn maxpool2d = nullptr;
    Pool2dU8Fn avgpool2d = nullptr;
    CopyChannelsU8Fn copy_channels = nullptr;
    QuantizeU8Fn quantize_u8 = nullptr;
    Log2HistogramFn log2_histogram = nullptr;
    DotPeakFn dot_peak = nullptr;  // optional; null for the reference and AVX2 tables
};

const Int8KernelTable& reference_int8_kernels();
// nullptr when the build leaves AVX2 out or the CPU lacks it.
const Int8KernelTable* avx2_int8_kernels();
const Int8KernelTable* avx2_7bit_int8_kernels();
// An AVX-512 VNNI (vpdpbusd) convolution and AVX-512 pooling; nullptr without VNNI.
const Int8KernelTable* avx512_vnni_int8_kernels();

// Shared by every table (no ISA code): the reference conv, pooling and copy.
void conv2d_int8_ref(const Conv2dInt8Args& a);
void maxpool2d_u8_ref(const Pool2dU8Args& a);
void avgpool2d_u8_ref(const Pool2dU8Args& a);
void copy_channels_u8_ref(const std::uint8_t* src, int src_pixel_stride, int pixels, int c, std::uint8_t* dst,
                          int dst_pixel_stride, int offset, float rescale);
void quantize_u8_ref(const float* in, long pixels, int c, float offset, float scale, std::uint8_t* out,
                     int out_stride);
std::uint64_t log2_histogram_ref(const float* values, long pixels, int channels, int pixel_stride,
                                 std::uint64_t* counts, float* largest);
// clamp(nearbyint(v), 0, 255), rounding half to even: every u8 result of the kernels above.
std::uint8_t requantize_u8_ref(float v);

}  // namespace tinception::kernels
