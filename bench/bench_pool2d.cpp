// Inception v3's pooling layers per kernel table, in GB/s of input read, and for the SIMD
// tables also through pool2d_parallel at one and two threads; every table runs in the same
// process, so the rates compare directly. Pooling is bound by memory, not arithmetic.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kernel_dispatch.hpp"
#include "layers/pool2d_parallel.hpp"
#include "parallel/thread_pool.hpp"

using namespace tinception;

namespace {

struct PoolLayer {
    const char* name;
    int size, c, kernel, stride;
    bool max, same;
};

// The stem and reduction max pools ('valid', stride 2) and the mixed blocks' 3x3 average pools.
const PoolLayer kLayers[] = {
    {"max_pooling2d_1", 147, 64, 3, 2, true, false}, {"max_pooling2d_2", 71, 192, 3, 2, true, false},
    {"average_pooling2d_2", 35, 256, 3, 1, false, true}, {"average_pooling2d_5", 17, 768, 3, 1, false, true},
    {"average_pooling2d_9", 8, 2048, 3, 1, false, true},
};

struct PoolData {
    kernels::Pool2dArgs args;
    std::vector<float> input, output;

    explicit PoolData(const PoolLayer& l) {
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        kernels::Pool2dArgs& a = args;
        a.in_h = a.in_w = l.size;
        a.c = l.c;
        a.kernel_h = a.kernel_w = l.kernel;
        a.stride_h = a.stride_w = l.stride;
        a.out_h = a.out_w = l.same ? (l.size + l.stride - 1) / l.stride : (l.size - l.kernel) / l.stride + 1;
        a.pad_top = a.pad_left = l.same ? ((a.out_h - 1) * l.stride + l.kernel - l.size) / 2 : 0;
        input.resize(std::size_t(l.size) * l.size * l.c);
        for (float& v : input) v = dist(rng);
        output.resize(std::size_t(a.out_h) * a.out_w * l.c);
        a.input = input.data();
        a.output = output.data();
    }
};

void bm_pool(benchmark::State& state, const kernels::KernelTable* table, PoolLayer layer, int threads) {
    PoolData d(layer);
    const kernels::Pool2dFn fn = layer.max ? table->maxpool2d : table->avgpool2d;
    set_thread_count(threads);
    for (auto _ : state) {
        if (threads == 0)
            fn(d.args);
        else
            pool2d_parallel(fn, d.args);
        benchmark::DoNotOptimize(d.output.data());
        benchmark::ClobberMemory();
    }
    state.counters["GB/s"] = benchmark::Counter(double(d.input.size()) * sizeof(float) * double(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    for (const PoolLayer& layer : kLayers)
        for (const kernels::KernelTable* table : available_kernel_tables()) {
            const std::string base = std::string("pool2d/") + table->isa_name + "/" + layer.name;
            benchmark::RegisterBenchmark((base + "/kernel").c_str(), bm_pool, table, layer, 0)
                ->Unit(benchmark::kMicrosecond);
            if (table->conv2d_panel_width > 0)  // the SIMD tables, through the thread pool too
                for (const int threads : {1, 2})
                    benchmark::RegisterBenchmark((base + "/parallel_" + std::to_string(threads)).c_str(), bm_pool,
                                                 table, layer, threads)
                        ->Unit(benchmark::kMicrosecond);
        }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
