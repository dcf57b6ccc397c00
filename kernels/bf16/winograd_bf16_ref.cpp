// The bf16 Winograd convolutions' reference: what winograd_bf16_avx512.cpp computes, one tile
// and one output channel at a time, in its order (the fp32 transforms' adds and fused
// multiply-adds, the bf16 rounding of transformed inputs and weights, vdpbf16ps's pair sums
// over in_c), so the two agree bit for bit.
#include <cmath>
#include <vector>

#include "bf16/bf16.hpp"
#include "bf16/conv2d_bf16.hpp"
#include "bf16/winograd_bf16_path.hpp"
#include "winograd_1d_matrices.hpp"

namespace tinception::kernels {
namespace {

struct Layer {
    const Conv2dArgs& a;
    long in_stride, out_stride;
    explicit Layer(const Conv2dArgs& args)
        : a(args), in_stride(args.in_pixel_stride ? args.in_pixel_stride : args.in_c),
          out_stride(args.out_pixel_stride ? args.out_pixel_stride : args.out_c) {}
    float input(int b, int y, int x, int ic) const {
        if (y < 0 || y >= a.in_h || x < 0 || x >= a.in_w) return 0.0f;
        return a.input[((long(b) * a.in_h + y) * a.in_w + x) * in_stride + ic];
    }
    // The output transform's result, then bias and ReLU, stored when inside the output.
    void store(int b, int y, int x, int oc, float v) const {
        if (y >= a.out_h || x >= a.out_w) return;
        if (a.relu && !(v > 0.0f)) v = 0.0f;
        a.output[((long(b) * a.out_h + y) * a.out_w + x) * out_stride + oc] = v;
    }
    float bias(int oc) const { return a.bias ? a.bias[oc] : 0.0f; }
};

// sum over ic of v[ic] * u[ic] as vdpbf16ps pairs them: (even, odd) channels, from zero.
float pair_sum(const std::uint16_t* v, const std::uint16_t* u, int in_c) {
    float acc = 0.0f;
    for (int ic = 0; ic < in_c; ic += 2) acc = bf16::dot_pair(acc, v[ic], v[ic + 1], u[ic], u[ic + 1]);
    return acc;
}

// F(2x2, 3x3), with the AVX-512 kernel's adds (conv2d_winograd_f2x2_3x3.hpp).
void f2x2_3x3(const Layer& l) {
    const Conv2dArgs& a = l.a;
    const int c = a.in_c;
    std::vector<std::uint16_t> u(std::size_t(a.out_c) * 16 * c), v(std::size_t(16) * c);
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < c; ++ic) {
            const float* g = a.weights + (long(oc) * c + ic) * 9;
            float t[4][3];
            for (int k = 0; k < 3; ++k) {
                t[0][k] = g[k];
                t[1][k] = 0.5f * (g[k] + g[3 + k] + g[6 + k]);
                t[2][k] = 0.5f * (g[k] - g[3 + k] + g[6 + k]);
                t[3][k] = g[6 + k];
            }
            for (int r = 0; r < 4; ++r) {
                const float row[4] = {t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]),
                                      0.5f * (t[r][0] - t[r][1] + t[r][2]), t[r][2]};
                for (int k = 0; k < 4; ++k) u[(std::size_t(oc) * 16 + r * 4 + k) * c + ic] = bf16::from_float(row[k]);
            }
        }
    for (int b = 0; b < a.n; ++b)
        for (int y0 = 0; y0 < a.out_h; y0 += 2)
            for (int x0 = 0; x0 < a.out_w; x0 += 2) {
                for (int ic = 0; ic < c; ++ic) {
                    float d[4][4], r[4][4];
                    for (int i = 0; i < 4; ++i)
                        for (int j = 0; j < 4; ++j) d[i][j] = l.input(b, y0 + i - a.pad_top, x0 + j - a.pad_left, ic);
                    for (int j = 0; j < 4; ++j) {
                        r[0][j] = d[0][j] - d[2][j];
                        r[1][j] = d[1][j] + d[2][j];
                        r[2][j] = d[2][j] - d[1][j];
                        r[3][j] = d[1][j] - d[3][j];
                    }
                    for (int i = 0; i < 4; ++i) {
                        const float e[4] = {r[i][0] - r[i][2], r[i][1] + r[i][2], r[i][2] - r[i][1], r[i][1] - r[i][3]};
                        for (int k = 0; k < 4; ++k) v[std::size_t(i * 4 + k) * c + ic] = bf16::from_float(e[k]);
                    }
                }
                for (int oc = 0; oc < a.out_c; ++oc) {
                    float m[16];
                    for (int e = 0; e < 16; ++e) m[e] = pair_sum(&v[std::size_t(e) * c], &u[(std::size_t(oc) * 16 + e) * c], c);
                    float s0[4], s1[4];
                    for (int j = 0; j < 4; ++j) {
                        s0[j] = (m[j] + m[4 + j]) + m[8 + j];
                        s1[j] = (m[4 + j] - m[8 + j]) - m[12 + j];
                    }
                    const float y[2][2] = {{(s0[0] + s0[1]) + s0[2], (s0[1] - s0[2]) - s0[3]},
                                           {(s1[0] + s1[1]) + s1[2], (s1[1] - s1[2]) - s1[3]}};
                    for (int i = 0; i < 2; ++i)
                        for (int j = 0; j < 2; ++j) l.store(b, y0 + i, x0 + j, oc, y[i][j] + l.bias(oc));
                }
            }
}

// F(M, R) along a 1xR or Rx1 kernel, with the kernel's fused multiply-adds
// (conv2d_winograd_1d.hpp) and its transform matrices.
template <int M, int R>
void winograd_1d(const Layer& l) {
    const Conv2dArgs& a = l.a;
    constexpr int kAlpha = Winograd1d<M, R>::kAlpha;
    constexpr const Winograd1d<M, R>& w = kWinograd1d<M, R>;
    const int c = a.in_c;
    const bool vertical = a.kernel_w == 1;
    std::vector<std::uint16_t> u(std::size_t(a.out_c) * kAlpha * c), v(std::size_t(kAlpha) * c);
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < c; ++ic) {
            const float* g = a.weights + (long(oc) * c + ic) * R;
            for (int e = 0; e < kAlpha; ++e) {
                double sum = 0.0;
                for (int k = 0; k < R; ++k) sum += w.g[e][k] * double(g[k]);
                u[(std::size_t(oc) * kAlpha + e) * c + ic] = bf16::from_float(float(sum));
            }
        }
    const int dy = vertical ? 1 : 0, dx = vertical ? 0 : 1;
    for (int b = 0; b < a.n; ++b)
        for (int oy = 0; oy < a.out_h; oy += vertical ? M : 1)
            for (int ox = 0; ox < a.out_w; ox += vertical ? 1 : M) {
                for (int ic = 0; ic < c; ++ic) {
                    float d[kAlpha];
                    for (int e = 0; e < kAlpha; ++e) d[e] = l.input(b, oy - a.pad_top + e * dy, ox - a.pad_left + e * dx, ic);
                    for (int i = 0; i < kAlpha; ++i) {
                        float sum = 0.0f;
                        for (int e = 0; e < kAlpha; ++e)
                            if (w.bt[i][e] != 0.0f) sum = std::fma(w.bt[i][e], d[e], sum);
                        v[std::size_t(i) * c + ic] = bf16::from_float(sum);
                    }
                }
                for (int oc = 0; oc < a.out_c; ++oc) {
                    float prod[kAlpha];
                    for (int e = 0; e < kAlpha; ++e)
                        prod[e] = pair_sum(&v[std::size_t(e) * c], &u[(std::size_t(oc) * kAlpha + e) * c], c);
                    for (int i = 0; i < M; ++i) {
                        float r = l.bias(oc);
                        for (int e = 0; e < kAlpha; ++e)
                            if (w.at[i][e] != 0.0f) r = std::fma(w.at[i][e], prod[e], r);
                        l.store(b, oy + i * dy, ox + i * dx, oc, r);
                    }
                }
            }
}

// F(M x M, R x R), with the kernel's fused multiply-adds in its order
// (conv2d_winograd_2d.hpp): rows of d B, then B^T (d B); the output's m A, then A^T (m A)
// added to the bias.
template <int M, int R>
void winograd_2d(const Layer& l) {
    const Conv2dArgs& a = l.a;
    constexpr int n = M + R - 1, kElements = n * n;
    constexpr const Winograd1d<M, R>& w = kWinograd1d<M, R>;
    const int c = a.in_c;
    std::vector<std::uint16_t> u(std::size_t(a.out_c) * kElements * c), v(std::size_t(kElements) * c);
    for (int oc = 0; oc < a.out_c; ++oc)
        for (int ic = 0; ic < c; ++ic) {
            const float* g = a.weights + (long(oc) * c + ic) * R * R;
            double gg[n][R] = {};  // G g
            for (int i = 0; i < n; ++i)
                for (int b = 0; b < R; ++b)
                    for (int k = 0; k < R; ++k) gg[i][b] += w.g[i][k] * double(g[k * R + b]);
            for (int i = 0; i < n; ++i)
                for (int k = 0; k < n; ++k) {
                    double sum = 0.0;  // (G g G^T)[i][k]
                    for (int b = 0; b < R; ++b) sum += gg[i][b] * w.g[k][b];
                    u[(std::size_t(oc) * kElements + i * n + k) * c + ic] = bf16::from_float(float(sum));
                }
        }
    for (int b = 0; b < a.n; ++b)
        for (int y0 = 0; y0 < a.out_h; y0 += M)
            for (int x0 = 0; x0 < a.out_w; x0 += M) {
                for (int ic = 0; ic < c; ++ic) {
                    float rows[n][n];  // d B
                    for (int i = 0; i < n; ++i)
                        for (int k = 0; k < n; ++k) {
                            float sum = 0.0f;
                            for (int j = 0; j < n; ++j)
                                if (w.bt[k][j] != 0.0f)
                                    sum = std::fma(w.bt[k][j], l.input(b, y0 - a.pad_top + i, x0 - a.pad_left + j, ic), sum);
                            rows[i][k] = sum;
                        }
                    for (int i = 0; i < n; ++i)
                        for (int k = 0; k < n; ++k) {
                            float sum = 0.0f;
                            for (int j = 0; j < n; ++j)
                                if (w.bt[i][j] != 0.0f) sum = std::fma(w.bt[i][j], rows[j][k], sum);
                            v[std::size_t(i * n + k) * c + ic] = bf16::from_float(sum);
                        }
                }
                for (int oc = 0; oc < a.out_c; ++oc) {
                    float m[kElements];
                    for (int e = 0; e < kElements; ++e)
                        m[e] = pair_sum(&v[std::size_t(e) * c], &u[(std::size_t(oc) * kElements + e) * c], c);
                    float cols[n][M];  // m A
                    for (int i = 0; i < n; ++i)
                        for (int q = 0; q < M; ++q) {
                            float sum = 0.0f;
                            for (int k = 0; k < n; ++k)
                                if (w.at[q][k] != 0.0f) sum = std::fma(w.at[q][k], m[i * n + k], sum);
                            cols[i][q] = sum;
                        }
                    for (int py = 0; py < M; ++py)
                        for (int q = 0; q < M; ++q) {
                            float r = l.bias(oc);
                            for (int i = 0; i < n; ++i)
                                if (w.at[py][i] != 0.0f) r = std::fma(w.at[py][i], cols[i][q], r);
                            l.store(b, y0 + py, x0 + q, oc, r);
                        }
                }
            }
}

}  // namespace

bool conv2d_winograd_bf16_ref(const Conv2dArgs& a) {
    const Layer l(a);
    switch (bf16_winograd(a)) {
    case Bf16Winograd::f2x2_3x3: f2x2_3x3(l); return true;
    case Bf16Winograd::f2x2_5x5: winograd_2d<2, 5>(l); return true;
    case Bf16Winograd::f4_3: winograd_1d<4, 3>(l); return true;
    case Bf16Winograd::f2_7: winograd_1d<2, 7>(l); return true;
    case Bf16Winograd::none: break;
    }
    return false;
}

}  // namespace tinception::kernels
