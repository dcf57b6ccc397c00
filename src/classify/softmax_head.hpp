// The retrained head as inference sees it: plain weights and bias, and the softmax that
// turns a feature vector into probabilities. How the head is trained lives in train/final_layer.hpp.
#pragma once
#include <cstddef>
#include <vector>

namespace tinception {

// logits = W x + b; probabilities = softmax(logits).
struct SoftmaxLayer {
    int n_classes = 0;
    int feature_size = 0;
    std::vector<float> weights;  // row-major [n_classes][feature_size]
    std::vector<float> bias;     // [n_classes]
};

// Writes n rows of n_classes probabilities; softmax subtracts the row maximum first.
void softmax_forward(const SoftmaxLayer& layer, const float* features, std::size_t n, float* probabilities);

// Row-major [rows][cols] logits to probabilities in place, in double; each row's
// log-sum-exp goes to log_sum_exp[row] when it is not null (the loss needs it).
void softmax_rows(double* logits, std::size_t rows, std::size_t cols, double* log_sum_exp);

}  // namespace tinception
