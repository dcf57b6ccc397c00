// Output size and padding of a convolution or pooling window along one axis, for
// TensorFlow's 'same' and 'valid' rules. The one place this arithmetic lives.
#pragma once

namespace tinception {

enum class Padding { same, valid };

// Cells of zero (or ignored) padding before and after the input, and the output length.
struct Padding1d {
    int before = 0, after = 0, out = 0;
};

// 'same': out = ceil(in / stride); the padding total is
// max((out - 1) * stride + k - in, 0), and the smaller half goes before.
Padding1d same_padding(int in, int k, int stride);

// 'valid': no padding; out = floor((in - k) / stride) + 1. Throws Error when k > in.
Padding1d valid_padding(int in, int k, int stride);

Padding1d padding_for(Padding padding, int in, int k, int stride);

}  // namespace tinception
