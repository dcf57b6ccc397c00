// The direct convolutions' windows (int8 VNNI, bf16): a group of output rows of one image
// reads its input rows once, copied or converted zero-padded, and each weight panel then
// serves the whole group. Over any args type with the conv geometry fields (Conv2dArgs,
// Conv2dInt8Args). Internal linkage: each ISA file compiles its own copy.
#pragma once

namespace tinception::kernels {
namespace {

// Columns of zero padding right of the input that the last output column reads.
template <class Args>
int pad_right(const Args& a) {
    const int right = (a.out_w - 1) * a.stride_w + a.kernel_w - a.in_w - a.pad_left;
    return right > 0 ? right : 0;
}

// Values in one padded input row of the window.
template <class Args>
long window_row_values(const Args& a) {
    return long(a.pad_left + a.in_w + pad_right(a)) * a.in_c;
}

// Output rows that share one window: enough for about 64 pixels, so each weight panel, read
// once per group, serves them all (row by row, an 8x8 layer had streamed every panel for 8
// pixels, and the stride-2 layer to 17x17 its 2 MB of bf16 weights for 17).
constexpr int kGroupPixels = 64;
template <class Args>
int group_rows(const Args& a) {
    const int rows = (kGroupPixels + a.out_w - 1) / a.out_w;
    return rows < 1 ? 1 : rows > a.out_h ? a.out_h : rows;
}

// Input rows the window of `rows` output rows covers.
template <class Args>
int window_rows(const Args& a, int rows) {
    return (rows - 1) * a.stride_h + a.kernel_h;
}

}  // namespace
}  // namespace tinception::kernels
