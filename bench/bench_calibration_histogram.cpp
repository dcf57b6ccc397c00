// int8 calibration's histogram (every activation of every calibration image goes through it)
// per int8 kernel table, in values per second, on ReLU-like outputs of Inception's shapes:
// half zeros at random, the rest spread over octaves. Every table runs in the same process.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "int8/int8_kernel_table.hpp"
#include "int8/log2_bins.hpp"

using namespace tinception;

namespace {

struct Activations {
    const char* name;
    int size, c;
};

const Activations kLayers[] = {{"conv2d_3", 147, 64}, {"conv2d_5", 71, 192}, {"mixed2", 35, 288}, {"mixed5", 17, 768}};

void bm_histogram(benchmark::State& state, const kernels::Int8KernelTable* table, Activations layer) {
    std::mt19937 rng(3);
    std::bernoulli_distribution zero(0.5);
    std::normal_distribution<float> log_scale(-1.0f, 2.0f);
    std::vector<float> values(std::size_t(layer.size) * layer.size * layer.c);
    for (float& v : values) v = zero(rng) ? 0.0f : std::exp2(log_scale(rng));
    std::vector<std::uint64_t> counts(std::size_t(kernels::kLog2Bins), 0);
    float largest = 0.0f;
    for (auto _ : state) {
        benchmark::DoNotOptimize(table->log2_histogram(values.data(), long(layer.size) * layer.size, layer.c, layer.c,
                                                       counts.data(), &largest));
        benchmark::ClobberMemory();
    }
    state.counters["values/s"] =
        benchmark::Counter(double(values.size()) * double(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    std::vector<const kernels::Int8KernelTable*> tables{&kernels::reference_int8_kernels()};
    for (const kernels::Int8KernelTable* t : {kernels::avx2_int8_kernels(), kernels::avx512_vnni_int8_kernels()})
        if (t) tables.push_back(t);
    for (const Activations& layer : kLayers)
        for (const kernels::Int8KernelTable* table : tables)
            benchmark::RegisterBenchmark((std::string("log2_histogram/") + table->isa_name + "/" + layer.name).c_str(),
                                         bm_histogram, table, layer)
                ->Unit(benchmark::kMicrosecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
