// Adam's update (Kingma and Ba), the rule train/final_layer.cpp applies to the head, for
// parameters trained outside it (the fine-tuned convolutions and their head). Plain loops in
// a fixed order, so the same gradients give the same bits everywhere.
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

namespace tinception {

struct AdamSettings {
    float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
};

// One parameter tensor's moments, zero until its first update.
struct AdamMoments {
    std::vector<float> m, v;
};

// p -= lr * m_hat / (sqrt(v_hat) + epsilon) for step `step` (1-based), after the moments
// have taken gradient g.
inline void adam_update(std::vector<float>& p, const std::vector<float>& g, AdamMoments& moments, float lr,
                        int step, const AdamSettings& s) {
    if (moments.m.size() != p.size()) moments.m.assign(p.size(), 0.0f), moments.v.assign(p.size(), 0.0f);
    const float c1 = float(1.0 / (1.0 - std::pow(double(s.beta1), double(step))));
    const float c2 = float(1.0 / (1.0 - std::pow(double(s.beta2), double(step))));
    for (std::size_t i = 0; i < p.size(); ++i) {
        moments.m[i] = s.beta1 * moments.m[i] + (1.0f - s.beta1) * g[i];
        moments.v[i] = s.beta2 * moments.v[i] + (1.0f - s.beta2) * g[i] * g[i];
        p[i] -= lr * (moments.m[i] * c1) / (std::sqrt(moments.v[i] * c2) + s.epsilon);
    }
}

}  // namespace tinception
