// TensorFlow's 'same' / 'valid' padding arithmetic; see conv_geometry.hpp.
#include "conv_geometry.hpp"

#include <algorithm>
#include <string>

#include "error.hpp"

namespace tinception {
namespace {

void check_window(int in, int k, int stride) {
    if (in < 1 || k < 1 || stride < 1)
        throw Error("window geometry needs positive sizes, got input " + std::to_string(in) +
                    ", kernel " + std::to_string(k) + ", stride " + std::to_string(stride));
}

}  // namespace

Padding1d same_padding(int in, int k, int stride) {
    check_window(in, k, stride);
    Padding1d p;
    p.out = (in + stride - 1) / stride;
    const long total = std::max((long(p.out) - 1) * stride + k - in, 0L);
    p.before = int(total / 2);
    p.after = int(total - p.before);
    return p;
}

Padding1d valid_padding(int in, int k, int stride) {
    check_window(in, k, stride);
    if (k > in)
        throw Error("a " + std::to_string(k) + "-wide window does not fit in an input of " +
                    std::to_string(in) + " with 'valid' padding");
    Padding1d p;
    p.out = (in - k) / stride + 1;
    return p;
}

Padding1d padding_for(Padding padding, int in, int k, int stride) {
    return padding == Padding::same ? same_padding(in, k, stride) : valid_padding(in, k, stride);
}

}  // namespace tinception
