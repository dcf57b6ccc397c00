// Cosine similarity of two feature vectors, summed in double: how tests and benchmarks compare
// the features of two paths (kernel tables, decoders) regardless of their scale.
#pragma once
#include <cmath>
#include <cstddef>

namespace tinception::testing {

inline double cosine(const float* a, const float* b, std::size_t n) {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

}  // namespace tinception::testing
