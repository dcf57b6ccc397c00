// The convolution layers of Inception v3 at 299x299 input (batch 1), by their model names,
// plus a few awkward shapes. Shapes only: no weights, no graph wiring.
#pragma once

namespace tinception::bench {

struct ConvLayer {
    const char* name;
    int in_h, in_w, in_c, out_c, kernel_h, kernel_w, stride;
    bool same;  // TensorFlow 'same' padding, else 'valid'
};

// One line per distinct shape; repeated blocks (mixed_5c, mixed_6c...) appear once unless
// their channel counts differ.
inline const ConvLayer kInceptionV3Convs[] = {
    {"conv_1a_3x3", 299, 299, 3, 32, 3, 3, 2, false},
    {"conv_2a_3x3", 149, 149, 32, 32, 3, 3, 1, false},
    {"conv_2b_3x3", 147, 147, 32, 64, 3, 3, 1, true},
    {"conv_3b_1x1", 73, 73, 64, 80, 1, 1, 1, false},
    {"conv_4a_3x3", 73, 73, 80, 192, 3, 3, 1, false},
    {"mixed_5b_1x1", 35, 35, 192, 64, 1, 1, 1, true},
    {"mixed_5b_5x5", 35, 35, 48, 64, 5, 5, 1, true},
    {"mixed_5b_3x3dbl_1", 35, 35, 64, 96, 3, 3, 1, true},
    {"mixed_5b_3x3dbl_2", 35, 35, 96, 96, 3, 3, 1, true},
    {"mixed_5d_1x1", 35, 35, 288, 64, 1, 1, 1, true},
    {"mixed_6a_3x3", 35, 35, 288, 384, 3, 3, 2, false},
    {"mixed_6b_1x1", 17, 17, 768, 192, 1, 1, 1, true},
    {"mixed_6b_1x7", 17, 17, 128, 128, 1, 7, 1, true},
    {"mixed_6b_7x1", 17, 17, 128, 192, 7, 1, 1, true},
    {"mixed_6c_1x7", 17, 17, 160, 160, 1, 7, 1, true},
    {"mixed_6e_7x1", 17, 17, 192, 192, 7, 1, 1, true},
    {"mixed_7a_3x3", 17, 17, 192, 320, 3, 3, 2, false},
    {"mixed_7b_1x1", 8, 8, 1280, 320, 1, 1, 1, true},
    {"mixed_7b_1x3", 8, 8, 384, 384, 1, 3, 1, true},
    {"mixed_7b_3x3", 8, 8, 448, 384, 3, 3, 1, true},
    {"mixed_7c_1x1", 8, 8, 2048, 448, 1, 1, 1, true},
};

// Shapes that exercise the tails: channels off the vector width, odd sizes.
inline const ConvLayer kAwkwardConvs[] = {
    {"odd_3x3_17to33", 13, 11, 17, 33, 3, 3, 1, true},
    {"odd_5x5s2_7to9", 21, 19, 7, 9, 5, 5, 2, true},
};

}  // namespace tinception::bench
