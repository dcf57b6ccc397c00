// Per-feature standardisation, (x - mean) / sd, with statistics taken from the training rows:
// it puts features of different layers on one scale before the head weighs them. Stored in
// the model so inference applies what training did.
#pragma once
#include <cstddef>
#include <vector>

namespace tinception {

struct FeatureStandardization {
    std::vector<float> mean;  // [feature size]; both empty: features are used as they are
    std::vector<float> sd;    // [feature size], each > 0

    bool empty() const { return mean.empty(); }
    // rows: [n][mean.size()], standardised in place.
    void apply(float* rows, std::size_t n) const;
};

// Mean and population standard deviation of each column of rows[n][feature_size], in double;
// a column that never varies gets sd 1, so it stays finite (and its value 0).
FeatureStandardization fit_standardization(const float* rows, std::size_t n, int feature_size);

}  // namespace tinception
