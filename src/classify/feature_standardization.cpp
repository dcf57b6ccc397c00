// Fitting and applying FeatureStandardization; see feature_standardization.hpp.
#include "classify/feature_standardization.hpp"

#include <cmath>

namespace tinception {

void FeatureStandardization::apply(float* rows, std::size_t n) const {
    const std::size_t f = mean.size();
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < f; ++k) rows[i * f + k] = (rows[i * f + k] - mean[k]) / sd[k];
}

FeatureStandardization fit_standardization(const float* rows, std::size_t n, int feature_size) {
    const std::size_t f = std::size_t(feature_size);
    std::vector<double> sum(f, 0.0), squares(f, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < f; ++k) sum[k] += double(rows[i * f + k]);
    FeatureStandardization s;
    s.mean.resize(f);
    s.sd.resize(f);
    for (std::size_t k = 0; k < f; ++k) s.mean[k] = n ? float(sum[k] / double(n)) : 0.0f;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < f; ++k) {
            const double d = double(rows[i * f + k]) - double(s.mean[k]);
            squares[k] += d * d;
        }
    for (std::size_t k = 0; k < f; ++k) {
        const double sd = n ? std::sqrt(squares[k] / double(n)) : 0.0;
        s.sd[k] = sd > 1e-12 ? float(sd) : 1.0f;
    }
    return s;
}

}  // namespace tinception
