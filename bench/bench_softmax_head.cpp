// The softmax head's training loops per kernel table, in multiply-adds per second, over one
// task's 32 rows of the default head's 2304 features and 2 classes (a training step of 100
// rows makes four such calls of each): head_dots, the logits, and head_outer, the gradient.
// Every table gives the same bits (test_kernels), so only the rates differ.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kernel_dispatch.hpp"

using namespace tinception;

namespace {

constexpr int kFeatures = 2304, kClasses = 2, kRows = 32;

std::vector<float> random_floats(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
}

void bm_dots(benchmark::State& state, const kernels::KernelTable* table) {
    const std::vector<float> x = random_floats(std::size_t(kRows) * kFeatures, 1);
    const std::vector<float> wf = random_floats(std::size_t(kClasses) * kFeatures, 2);
    const std::vector<double> w(wf.begin(), wf.end());
    std::vector<const float*> rows;
    for (int r = 0; r < kRows; ++r) rows.push_back(x.data() + std::size_t(r) * kFeatures);
    std::vector<double> z(std::size_t(kRows) * kClasses);
    for (auto _ : state) {
        table->head_dots(rows.data(), kRows, w.data(), kClasses, kFeatures, z.data());
        benchmark::DoNotOptimize(z.data());
        benchmark::ClobberMemory();
    }
    state.counters["GMAC"] = benchmark::Counter(double(kRows) * kClasses * kFeatures * double(state.iterations()) * 1e-9,
                                                  benchmark::Counter::kIsRate);
}

void bm_outer(benchmark::State& state, const kernels::KernelTable* table) {
    const std::vector<float> x = random_floats(std::size_t(kRows) * kFeatures, 3);
    std::vector<const float*> rows;
    for (int r = 0; r < kRows; ++r) rows.push_back(x.data() + std::size_t(r) * kFeatures);
    const std::vector<double> g(std::size_t(kRows) * kClasses, 1e-3);
    std::vector<double> out(std::size_t(kClasses) * kFeatures, 0.0);
    for (auto _ : state) {
        table->head_outer(rows.data(), g.data(), kRows, kClasses, kFeatures, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.counters["GMAC"] = benchmark::Counter(double(kRows) * kClasses * kFeatures * double(state.iterations()) * 1e-9,
                                                benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        const std::string isa = table->isa_name;
        benchmark::RegisterBenchmark(("head_dots/" + isa).c_str(), bm_dots, table)->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("head_outer/" + isa).c_str(), bm_outer, table)->Unit(benchmark::kMicrosecond);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
