// Matrix product: a naive triple loop against Eigen, in GFLOP/s, measured in the same run.
// The shapes are Inception v3 1x1 convolutions seen as [pixels x in_c] * [in_c x out_c].
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <random>

namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Matrix random_matrix(int rows, int cols, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    Matrix m(rows, cols);
    for (int i = 0; i < m.size(); ++i) m.data()[i] = dist(rng);
    return m;
}

// c[i][j] = sum_k a[i][k] * b[k][j]
void naive_product(const Matrix& a, const Matrix& b, Matrix& c) {
    for (int i = 0; i < a.rows(); ++i)
        for (int j = 0; j < b.cols(); ++j) {
            float sum = 0.0f;
            for (int k = 0; k < a.cols(); ++k) sum += a(i, k) * b(k, j);
            c(i, j) = sum;
        }
}

void set_rate(benchmark::State& state, int m, int k, int n) {
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * m * k * n, benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::OneK::kIs1000);
}

void BM_matmul_naive(benchmark::State& state) {
    const int m = int(state.range(0)), k = int(state.range(1)), n = int(state.range(2));
    const Matrix a = random_matrix(m, k, 1), b = random_matrix(k, n, 2);
    Matrix c(m, n);
    for (auto _ : state) {
        naive_product(a, b, c);
        benchmark::DoNotOptimize(c.data());
    }
    set_rate(state, m, k, n);
}

void BM_matmul_eigen(benchmark::State& state) {
    const int m = int(state.range(0)), k = int(state.range(1)), n = int(state.range(2));
    const Matrix a = random_matrix(m, k, 1), b = random_matrix(k, n, 2);
    Matrix c(m, n);
    for (auto _ : state) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
    }
    set_rate(state, m, k, n);
}

// mixed_5b branch1x1 (35*35 pixels, 192 -> 64) and mixed_7c branch1x1 (8*8, 2048 -> 320)
#define MATMUL_SHAPES Args({35 * 35, 192, 64})->Args({8 * 8, 2048, 320})
BENCHMARK(BM_matmul_naive)->MATMUL_SHAPES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matmul_eigen)->MATMUL_SHAPES->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
