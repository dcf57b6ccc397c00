// Bilinear resize and scaling, following TensorFlow's resize_bilinear so our input
// matches what the pretrained weights saw.
#include "image/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tinception {

void resize_bilinear(const ImageRgb8& image, int out_w, int out_h, bool align_corners,
                     float* out_rgb) {
    const auto scale_for = [align_corners](int in, int out) {
        if (align_corners && out > 1) return float(in - 1) / float(out - 1);
        return float(in) / float(out);
    };
    const float scale_y = scale_for(image.height, out_h);
    const float scale_x = scale_for(image.width, out_w);

    // Source columns and weights are the same for every row: compute them once.
    std::vector<int> x0(out_w), x1(out_w);
    std::vector<float> fx(out_w);
    for (int x = 0; x < out_w; ++x) {
        const float sx = x * scale_x;
        x0[x] = std::min(int(std::floor(sx)), image.width - 1);
        x1[x] = std::min(x0[x] + 1, image.width - 1);
        fx[x] = sx - float(x0[x]);
    }
    const std::uint8_t* px = image.pixels.data();
    for (int y = 0; y < out_h; ++y) {
        const float sy = y * scale_y;
        const int y0 = std::min(int(std::floor(sy)), image.height - 1);
        const int y1 = std::min(y0 + 1, image.height - 1);
        const float fy = sy - float(y0);
        const std::uint8_t* row0 = px + std::size_t(y0) * image.width * 3;
        const std::uint8_t* row1 = px + std::size_t(y1) * image.width * 3;
        for (int x = 0; x < out_w; ++x)
            for (int ch = 0; ch < 3; ++ch) {
                const float top = row0[x0[x] * 3 + ch] + (row0[x1[x] * 3 + ch] - row0[x0[x] * 3 + ch]) * fx[x];
                const float bottom = row1[x0[x] * 3 + ch] + (row1[x1[x] * 3 + ch] - row1[x0[x] * 3 + ch]) * fx[x];
                out_rgb[(std::size_t(y) * out_w + x) * 3 + ch] = top + (bottom - top) * fy;
            }
    }
}

ImageLimits decode_limits(const Preprocessing& p, DecodeMode mode) {
    ImageLimits limits;
    limits.min_side = mode == DecodeMode::scaled ? p.size : 0;
    return limits;
}

void preprocess(const ImageRgb8& image, const Preprocessing& p, float* out) {
    resize_bilinear(image, p.size, p.size, p.align_corners, out);
    const std::size_t count = std::size_t(p.size) * p.size * 3;
    for (std::size_t i = 0; i < count; ++i) out[i] = out[i] * p.scale + p.offset;
}

ImageRgb8 mirrored_left_right(const ImageRgb8& image) {
    ImageRgb8 out = image;
    const std::size_t row_bytes = std::size_t(image.width) * 3;
    for (int y = 0; y < image.height; ++y) {
        const std::uint8_t* from = image.pixels.data() + std::size_t(y) * row_bytes;
        std::uint8_t* to = out.pixels.data() + std::size_t(y) * row_bytes;
        for (int x = 0; x < image.width; ++x)
            std::copy_n(from + std::size_t(image.width - 1 - x) * 3, 3, to + std::size_t(x) * 3);
    }
    return out;
}

}  // namespace tinception
