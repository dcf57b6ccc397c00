// From decoded RGB8 pixels to the network's float input: bilinear resize, then scaling.
#pragma once
#include "image/image.hpp"

namespace tinception {

struct Preprocessing {
    int size = 299;              // output is size x size
    bool align_corners = true;   // TensorFlow's resize_bilinear switch
    float scale = 1.0f / 255.0f; // value = pixel * scale + offset
    float offset = 0.0f;
};

// How images headed for the network are decoded. `scaled`: a JPEG is shrunk while decoding to
// no less than the input size (to 1/8 from its DC coefficients where that fits, else by
// libjpeg-turbo's DCT scaling), several times faster on photos; the features move a little
// (mixed5 cosine to the full decode's 0.98-0.999 on photo-like images; fine texture that a
// full-size resize aliases moves more: bench/README.md). `exact`: every image at its stored
// size, then resized: the reference behaviour.
enum class DecodeMode { scaled, exact };

// The ImageLimits that give `mode` for input p.size x p.size.
ImageLimits decode_limits(const Preprocessing& p, DecodeMode mode);

// Bilinear resize of an RGB8 image to out_w x out_h, as float RGB in 0..255.
// align_corners=true maps corner pixel centres onto each other (scale (in-1)/(out-1));
// false uses TensorFlow 1's legacy mapping (scale in/out, no half-pixel offset).
void resize_bilinear(const ImageRgb8& image, int out_w, int out_h, bool align_corners,
                     float* out_rgb);

// The image mirrored left-right (a test-time and training augmentation that keeps a picture
// what it is, unlike a random distortion the same every time).
ImageRgb8 mirrored_left_right(const ImageRgb8& image);

// Writes size*size*3 floats, NHWC for one image.
void preprocess(const ImageRgb8& image, const Preprocessing& p, float* out);

}  // namespace tinception
