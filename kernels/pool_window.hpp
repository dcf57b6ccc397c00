// One pooling window along one axis, clipped to the input: the window of output index `out`
// starts at input index `start` and its kernel taps [k0, k1) fall inside the input (none when
// k1 <= k0). Shared by the forward and backward SIMD pooling kernels.
#pragma once

namespace tinception::kernels {

struct ClippedWindow {
    int start, k0, k1;
};

inline ClippedWindow clip_window(int out, int stride, int pad_before, int in, int kernel) {
    const int start = out * stride - pad_before;
    return {start, start < 0 ? -start : 0, in - start < kernel ? in - start : kernel};
}

}  // namespace tinception::kernels
