// Transform matrices of the one-dimensional Winograd (Toom-Cook) correlation F(m, r): m
// outputs of an r-tap filter from alpha = m + r - 1 inputs,
//   y = A^T [ (G g) .* (B^T d) ],
// built from alpha - 1 interpolation points plus the point at infinity. Plain C++ with
// internal linkage, so each ISA file compiles its own copy with its own flags.
//
// Construction: correlation is the transpose of polynomial multiplication. With V the alpha x
// alpha evaluation matrix (row j: powers of point j; last row: the leading coefficient),
// A^T[i][j] = p_j^i, G[j][k] = p_j^k and B^T = V^-T. Each row of B^T is then scaled to a
// largest entry of 1 and G's row by the same factor, so the inputs' transform stays small and
// the division lives in G, which is applied once, in double, when the weights are packed.
#pragma once

namespace tinception::kernels {
namespace {

// Points in the order they are taken: small magnitudes and simple fractions keep the
// transforms well conditioned (0, +-1 and +-2 alone would need +-3, +-4, ... past five).
constexpr double kWinogradPoints[] = {0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 2.0 / 3.0, -2.0 / 3.0};

constexpr double power(double x, int k) {
    double p = 1.0;
    for (int i = 0; i < k; ++i) p *= x;
    return p;
}

constexpr double magnitude(double x) { return x < 0 ? -x : x; }

// Built at compile time, so the kernels' transform loops unroll over constant coefficients
// and the zeros drop out.
template <int M, int R>
struct Winograd1d {
    static constexpr int kAlpha = M + R - 1;
    static_assert(kAlpha - 1 <= int(sizeof(kWinogradPoints) / sizeof(kWinogradPoints[0])), "too few points");
    float at[M][kAlpha] = {};        // output transform
    float bt[kAlpha][kAlpha] = {};   // input transform
    double g[kAlpha][R] = {};        // filter transform (weights are packed in double)

    constexpr Winograd1d() {
        constexpr int n = kAlpha;
        // V, then its inverse by Gauss-Jordan with partial pivoting.
        double v[n][2 * n] = {};
        for (int j = 0; j < n; ++j) {
            for (int k = 0; k < n; ++k)
                v[j][k] = j < n - 1 ? power(kWinogradPoints[j], k) : (k == n - 1 ? 1.0 : 0.0);
            v[j][n + j] = 1.0;
        }
        for (int col = 0; col < n; ++col) {
            int pivot = col;
            for (int r = col + 1; r < n; ++r)
                if (magnitude(v[r][col]) > magnitude(v[pivot][col])) pivot = r;
            for (int k = 0; k < 2 * n; ++k) {
                const double t = v[col][k];
                v[col][k] = v[pivot][k];
                v[pivot][k] = t;
            }
            const double inv = 1.0 / v[col][col];
            for (int k = 0; k < 2 * n; ++k) v[col][k] *= inv;
            for (int r = 0; r < n; ++r) {
                if (r == col || v[r][col] == 0.0) continue;
                const double f = v[r][col];
                for (int k = 0; k < 2 * n; ++k) v[r][k] -= f * v[col][k];
            }
        }
        // B^T = (V^-1)^T; row i of B^T is column i of V^-1.
        for (int i = 0; i < n; ++i) {
            double row[n] = {}, largest = 0.0;
            for (int k = 0; k < n; ++k) {
                row[k] = v[k][n + i];
                if (magnitude(row[k]) < 1e-12) row[k] = 0.0;  // exact zeros, not rounding noise
                if (magnitude(row[k]) > largest) largest = magnitude(row[k]);
            }
            for (int k = 0; k < n; ++k) bt[i][k] = float(row[k] / largest);
            for (int k = 0; k < R; ++k)
                g[i][k] = (i < n - 1 ? power(kWinogradPoints[i], k) : (k == R - 1 ? 1.0 : 0.0)) * largest;
        }
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < n; ++j)
                at[i][j] = float(j < n - 1 ? power(kWinogradPoints[j], i) : (i == M - 1 ? 1.0 : 0.0));
    }
};

template <int M, int R>
constexpr Winograd1d<M, R> kWinograd1d{};

}  // namespace
}  // namespace tinception::kernels
