// One image's band of output rows of a windowed op (convolution or pooling), as an op of
// the same kind: its output starts y0 rows down, and its input starts where the band's
// first row reads.
#pragma once

namespace tinception {

// `in_stride` and `out_stride` are the op's pixel strides with their defaults resolved.
template <typename WindowArgs>
WindowArgs row_band(const WindowArgs& a, long in_stride, long out_stride, int b, int y0, int rows) {
    WindowArgs band = a;
    band.n = 1;
    band.out_h = rows;
    band.in_pixel_stride = int(in_stride);
    band.out_pixel_stride = int(out_stride);
    // An op with no output yet (its caller places each band's) keeps a null one.
    band.output = a.output ? a.output + ((long(b) * a.out_h + y0) * a.out_w) * out_stride : nullptr;
    const auto* image = a.input + long(b) * a.in_h * a.in_w * in_stride;  // float or u8
    // First input row the band's window reaches. When it lies inside the input, start the
    // input there and drop the top padding (so a 1x1 band stays a plain 1x1 op); above it,
    // keep the input and shift the padding instead, which may then be negative.
    const int first_row = y0 * a.stride_h - a.pad_top;
    if (first_row >= 0) {
        band.input = image + long(first_row) * a.in_w * in_stride;
        band.in_h = a.in_h - first_row;
        band.pad_top = 0;
    } else {
        band.input = image;
        band.pad_top = a.pad_top - y0 * a.stride_h;
    }
    return band;
}

}  // namespace tinception
