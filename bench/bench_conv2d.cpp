// conv2d per kernel table over the Inception v3 layers, single-threaded, in FLOP/s, with the
// speed-up over the reference (x_ref) and over Eigen (x_eigen) measured in the same process.
// FLOP/s count the direct convolution's multiply-adds; the SIMD tables' Winograd paths do
// fewer, so on their layers the rate is an effective one. The reference is timed on one run
// per shape; it is benchmarked itself only on small layers. The bf16 tables are checked
// against Eigen within bf16's precision. BENCH_CONV_BATCH=N (default 1) runs each layer on a
// batch of N images, as the network's later layers run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bf16/conv2d_bf16.hpp"
#include "inception_v3_shapes.hpp"
#include "kernel_dispatch.hpp"
#include "layers/conv2d_workspace.hpp"

using namespace tinception;
using tinception::bench::ConvLayer;

namespace {

// The reference at ~1 GFLOP/s would spend minutes per big layer in a benchmark loop.
constexpr double kReferenceFlopLimit = 2e8;

double conv_flops(const kernels::Conv2dArgs& a) {
    return 2.0 * a.n * a.out_c * a.out_h * a.out_w * double(a.in_c) * a.kernel_h * a.kernel_w;
}

void geometry(int in, int kernel, int stride, bool same, int& out, int& before) {
    if (!same) {
        out = (in - kernel) / stride + 1;
        before = 0;
        return;
    }
    out = (in + stride - 1) / stride;
    const int total = (out - 1) * stride + kernel - in;
    before = total > 0 ? total / 2 : 0;
}

// BENCH_CONV_BATCH, or 1 when unset or not a number from 1 to 64.
int batch_size() {
    const char* text = std::getenv("BENCH_CONV_BATCH");
    const long n = text ? std::strtol(text, nullptr, 10) : 1;
    return n >= 1 && n <= 64 ? int(n) : 1;
}

// Random inputs and weights for one layer; outputs per table are allocated by the caller.
struct LayerData {
    kernels::Conv2dArgs args;
    std::vector<float> input, weights, bias;

    explicit LayerData(const ConvLayer& l) {
        std::mt19937 rng(42);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        kernels::Conv2dArgs& a = args;
        a.in_h = l.in_h, a.in_w = l.in_w, a.in_c = l.in_c, a.out_c = l.out_c;
        a.kernel_h = l.kernel_h, a.kernel_w = l.kernel_w, a.stride_h = a.stride_w = l.stride;
        geometry(l.in_h, l.kernel_h, l.stride, l.same, a.out_h, a.pad_top);
        geometry(l.in_w, l.kernel_w, l.stride, l.same, a.out_w, a.pad_left);
        a.n = batch_size();
        input.resize(std::size_t(a.n) * l.in_h * l.in_w * l.in_c);
        weights.resize(std::size_t(l.out_c) * l.in_c * l.kernel_h * l.kernel_w);
        bias.resize(std::size_t(l.out_c));
        for (float& v : input) v = dist(rng);
        for (float& v : weights) v = dist(rng);
        for (float& v : bias) v = dist(rng);
        a.input = input.data();
        a.weights = weights.data();
        a.bias = bias.data();
        a.relu = true;
    }
    std::size_t output_size() const { return std::size_t(args.n) * args.out_h * args.out_w * args.out_c; }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Mean time per run over at least 0.2 s (the reference: one run), cached per table and layer,
// so the ratio compares like with like against the benchmark loop's mean.
double baseline_seconds(const kernels::KernelTable& table, const ConvLayer& layer) {
    static std::map<std::string, double> cache;
    const std::string key = std::string(table.isa_name) + "/" + layer.name;
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    LayerData d(layer);
    std::vector<float> out(d.output_size());
    d.args.output = out.data();
    const bool reference = std::string(table.isa_name) == "reference";
    const Conv2dScratch scratch(conv2d_workspace_bytes(table, d.args), 1);
    d.args.workspace = scratch.workspaces().for_thread(0);
    if (!reference) table.conv2d(d.args);  // warm-up: first-touch page faults, caches
    long runs = 0;
    double elapsed = 0.0;
    const auto start = std::chrono::steady_clock::now();
    do {
        table.conv2d(d.args);
        ++runs;
        elapsed = seconds_since(start);
    } while (!reference && elapsed < 0.2);
    return cache[key] = elapsed / double(runs);
}

void bm_conv2d(benchmark::State& state, const kernels::KernelTable* table, ConvLayer layer) {
    LayerData d(layer);
    kernels::Conv2dArgs a = d.args;
    std::vector<unsigned char> packed;
    if (table->conv2d_pack) {
        packed.resize(table->conv2d_packed_size(a));
        table->conv2d_pack(a, packed.data());
        a.packed = packed.data();
    }
    const Conv2dScratch scratch(conv2d_workspace_bytes(*table, a), 1);
    a.workspace = scratch.workspaces().for_thread(0);
    // A fast wrong kernel must not produce a number: check against Eigen once.
    std::vector<float> expected(d.output_size()), out(d.output_size());
    kernels::Conv2dArgs check = d.args;
    check.output = expected.data();
    eigen_kernels().conv2d(check);
    a.output = out.data();
    table->conv2d(a);
    // bf16 rounds inputs and weights to 8 significant bits: an error that grows like the square
    // root of the sum's length, far below a wrong kernel's.
    const double k = double(a.in_c) * a.kernel_h * a.kernel_w;
    const bool bf16 = std::string(table->isa_name).find("bf16") != std::string::npos;
    const double tolerance = bf16 ? 1e-2 * std::sqrt(k) : 1e-5 * k;
    double worst = 0;  // the largest error in units of the tolerance
    for (std::size_t i = 0; i < out.size(); ++i)
        worst = std::max(worst, std::fabs(out[i] - expected[i]) / (tolerance * (1.0 + std::fabs(expected[i]))));
    if (worst > 1) {
        static std::string message;  // SkipWithError keeps the pointer
        message = "output differs from the Eigen kernel: " + std::to_string(worst) + " x the tolerance";
        state.SkipWithError(message.c_str());
        return;
    }

    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        table->conv2d(a);
        benchmark::ClobberMemory();
    }
    const double seconds_per_run = seconds_since(start) / double(state.iterations());
    state.counters["FLOP/s"] = benchmark::Counter(conv_flops(a), benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::OneK::kIs1000);
    state.counters["x_ref"] = baseline_seconds(kernels::reference_kernels(), layer) / seconds_per_run;
    state.counters["x_eigen"] = baseline_seconds(eigen_kernels(), layer) / seconds_per_run;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<ConvLayer> layers(std::begin(bench::kInceptionV3Convs), std::end(bench::kInceptionV3Convs));
    layers.insert(layers.end(), std::begin(bench::kAwkwardConvs), std::end(bench::kAwkwardConvs));
    // The bf16 tables too: all-bf16, and the per-layer choice --precision bf16 runs.
    std::vector<const kernels::KernelTable*> tables = available_kernel_tables();
    for (const kernels::KernelTable* bf16 : {kernels::avx512_bf16_direct_kernels(), kernels::avx512_bf16_kernels()})
        if (bf16) tables.push_back(bf16);
    for (const kernels::KernelTable* table : tables)
        for (const ConvLayer& layer : layers) {
            const bool reference = std::string(table->isa_name) == "reference";
            if (reference && conv_flops(LayerData(layer).args) > kReferenceFlopLimit) continue;
            const std::string name = std::string("conv2d/") + table->isa_name + "/" + layer.name;
            auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_conv2d, table, layer);
            b->Unit(benchmark::kMillisecond);
            if (reference) b->Iterations(2);
        }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
