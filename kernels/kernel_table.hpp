// The function-pointer table every ISA fills in, and the plain argument structs the
// kernels take. Included by ISA-flagged files, so: no Eigen, no STL containers here.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinception::kernels {

// Layout, stated once for every kernel:
//   activations are NHWC float32: element (n, y, x, c) of an [n][h][w] image batch lives at
//   ((n * h + y) * w + x) * pixel_stride + c, where pixel_stride >= c-count lets a branch
//   write its output straight into its channel slice of a concatenated tensor;
//   convolution weights are OIHW float32: [out_c][in_c][kernel_h][kernel_w].

struct Conv2dArgs {
    const float* input = nullptr;    // [n][in_h][in_w][in_c], pixel stride in_pixel_stride
    const float* weights = nullptr;  // OIHW
    const float* bias = nullptr;     // [out_c], or nullptr for none
    const void* packed = nullptr;    // this ISA's packed weights (from conv2d_pack), or nullptr
    void* workspace = nullptr;       // scratch of conv2d_workspace_size(args) bytes, 64-byte aligned
    float* output = nullptr;         // first channel of the slice; pixel stride out_pixel_stride
    int n = 1, in_h = 0, in_w = 0, in_c = 0;
    int out_h = 0, out_w = 0, out_c = 0;
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0;   // bottom/right padding follows from the output size
    int in_pixel_stride = 0;         // 0 means in_c
    int out_pixel_stride = 0;        // 0 means out_c
    bool relu = false;               // fused max(0, x) after the bias
};

struct Pool2dArgs {
    const float* input = nullptr;    // [n][in_h][in_w][c]
    float* output = nullptr;         // [n][out_h][out_w], pixel stride out_pixel_stride
    int n = 1, in_h = 0, in_w = 0, c = 0;
    int out_h = 0, out_w = 0;
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0;
    int in_pixel_stride = 0;         // 0 means c
    int out_pixel_stride = 0;        // 0 means c
    bool count_include_pad = false;  // average pooling: TensorFlow leaves padded cells out
    // Average pooling only: bias[ch] added to each mean, then max(0, .) with relu. For a 1x1
    // convolution computed before the pooling that feeds it (src/model/network.cpp).
    const float* bias = nullptr;     // [c], or nullptr for none
    bool relu = false;
};

// out[b][j] = bias[j] + sum_i in[b][i] * weights[j][i]
struct DenseArgs {
    const float* input = nullptr;    // [n][in_features]
    const float* weights = nullptr;  // [out_features][in_features]
    const float* bias = nullptr;     // [out_features] or nullptr
    float* output = nullptr;         // [n][out_features]
    int n = 1, in_features = 0, out_features = 0;
};

using Conv2dFn = void (*)(const Conv2dArgs&);
// Packed-weight support is optional: a table without it leaves both null and reads OIHW.
// Packing sees the layer's geometry for one image (no input, output or batch); a table may
// choose its layout by anything a row band or channel group keeps: kernel, stride, in_c, widths.
using Conv2dPackedSizeFn = std::size_t (*)(const Conv2dArgs&);  // bytes
using Conv2dPackFn = void (*)(const Conv2dArgs&, void* packed);  // fills conv2d_packed_size bytes
// Bytes of scratch conv2d needs in args.workspace: enough for this call and for any row band,
// channel group or subset of images cut from it, so one workspace per thread sized from a
// layer's whole call serves every cut. With args.packed null it includes room to pack. The
// kernels never allocate: a caller sizes the workspace once and checks that allocation.
using Conv2dWorkspaceSizeFn = std::size_t (*)(const Conv2dArgs&);
// Floats from the start of the packed weights to output channel first_channel's panel.
using Conv2dPackedOffsetFn = std::size_t (*)(const Conv2dArgs&, int first_channel);
// Output rows a row band of this layer must start on a multiple of, so that a cut call tiles
// its rows as the uncut call does (Winograd tiles span several rows).
using Conv2dRowAlignmentFn = int (*)(const Conv2dArgs&);
// The name of the code a call of this layer runs (conv2d_path.hpp lists them), for tests and
// profiles.
using Conv2dPathFn = const char* (*)(const Conv2dArgs&);
using Pool2dFn = void (*)(const Pool2dArgs&);
// out[b][c] = mean over the h*w pixels of in[b][.][.][c]
using GlobalAvgPoolFn = void (*)(const float* input, float* output, int n, int h, int w, int c);
// Row-wise, numerically stable: out[r][i] = exp(in[r][i] - max_r) / sum_j exp(in[r][j] - max_r)
using SoftmaxFn = void (*)(const float* input, float* output, int rows, int length);
using DenseFn = void (*)(const DenseArgs&);
// Copies an [pixels][c] block into channels [offset, offset + c) of [pixels][dst_pixel_stride]
using CopyChannelsFn = void (*)(const float* src, int pixels, int c, float* dst,
                                int dst_pixel_stride, int offset);
// Training the softmax head (src/train/final_layer.cpp), in double over float feature rows,
// with results that do not depend on the table:
//   head_dots: z[r * classes + c] = dot(x[r], w + c * n) for r < rows, c < classes, where
//              dot(x, v) is sum_j double(x[j]) * v[j] as eight running sums, sum k taking the
//              terms j = k (mod 8) below n - n % 8; then the last n % 8 terms added in order
//              to 0, and sums 0 to 7 added to that in order. w holds floats widened to double,
//              so every product is exact and a fused multiply-add gives the same bits.
//   head_outer: out[c * n + j] += g[r * classes + c] * double(x[r][j]) for r < rows, c < classes,
//              j < n, each product rounded before it is added, the rows added in order.
using HeadDotsFn = void (*)(const float* const* x, int rows, const double* w, int classes, int n, double* z);
using HeadOuterFn = void (*)(const float* const* x, const double* g, int rows, int classes, int n, double* out);
// Runs a register-only FMA loop on the calling thread for about `seconds` and returns the
// fp32 flop/s it reached: the machine's usable peak for this ISA, for benchmarks only.
using FmaPeakFn = double (*)(double seconds);

struct KernelTable {
    const char* isa_name = "";  // "reference", "eigen", "avx2", "avx512", "neon"
    Conv2dFn conv2d = nullptr;
    Conv2dPackedSizeFn conv2d_packed_size = nullptr;
    Conv2dPackFn conv2d_pack = nullptr;
    Conv2dWorkspaceSizeFn conv2d_workspace_size = nullptr;  // null: conv2d needs no workspace
    // Packed weights are panel-major when this is W > 0: output channels [p*W, (p+1)*W) take
    // K*W floats from float p*K*W on (K = in_c*kernel_h*kernel_w), so a call on a channel
    // range starting at a multiple of W can be handed packed + first_channel*K. 0: not so.
    int conv2d_panel_width = 0;
    // Set by a table whose panel length depends on the shape (a Winograd layout holds more
    // than K floats per channel): packed + conv2d_packed_offset(a, first_channel) replaces
    // packed + first_channel*K above. Null: first_channel*K.
    Conv2dPackedOffsetFn conv2d_packed_offset = nullptr;
    Conv2dRowAlignmentFn conv2d_row_alignment = nullptr;  // null: any row
    Conv2dPathFn conv2d_path = nullptr;                    // null: one path for every layer
    Pool2dFn maxpool2d = nullptr;
    Pool2dFn avgpool2d = nullptr;
    GlobalAvgPoolFn global_avgpool = nullptr;
    SoftmaxFn softmax = nullptr;
    DenseFn dense = nullptr;
    CopyChannelsFn copy_channels = nullptr;
    FmaPeakFn fma_peak = nullptr;  // optional; null for tables without a vector ISA
    HeadDotsFn head_dots = nullptr;
    HeadOuterFn head_outer = nullptr;
};

const KernelTable& reference_kernels();
// The hand-written SIMD tables: nullptr when this build leaves the ISA out or when the CPU
// (or the OS, for register state) lacks it, so they are safe to call on any CPU. NEON is
// built only for AArch64.
const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();
const KernelTable* neon_kernels();
// Whether this build holds the table at all, whatever the CPU: "built but not run" reports.
bool avx2_kernels_built();
bool avx512_kernels_built();
bool neon_kernels_built();

}  // namespace tinception::kernels
