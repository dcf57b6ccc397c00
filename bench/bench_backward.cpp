// conv2d backward (input, weight and bias gradients, ReLU fused) per backward table over the
// Inception v3 layers, single-threaded, in FLOP/s (twice the forward's multiply-adds: one
// GEMM for each gradient), with the speed-up over the reference (x_ref) measured in the same
// process. The reference is timed on one run, and only on layers it finishes in seconds.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backward/backward_kernels.hpp"
#include "conv_geometry.hpp"
#include "inception_v3_shapes.hpp"
#include "reference.hpp"

using namespace tinception;
using tinception::bench::ConvLayer;

namespace {

constexpr double kReferenceFlopLimit = 4e8;

// One layer's forward call (run once by the reference, for the ReLU mask), its output
// gradient, and room for every gradient.
struct LayerData {
    kernels::Conv2dBackwardArgs args;
    std::vector<float> input, weights, bias, output, grad_output, grad_input, grad_weights, grad_bias;
    std::vector<unsigned char> workspace;

    LayerData(const ConvLayer& l, const kernels::BackwardKernelTable& table) {
        std::mt19937 rng(42);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        kernels::Conv2dArgs& f = args.forward;
        const Padding pad = l.same ? Padding::same : Padding::valid;
        const Padding1d py = padding_for(pad, l.in_h, l.kernel_h, l.stride), px = padding_for(pad, l.in_w, l.kernel_w, l.stride);
        f.in_h = l.in_h, f.in_w = l.in_w, f.in_c = l.in_c, f.out_c = l.out_c, f.out_h = py.out, f.out_w = px.out;
        f.kernel_h = l.kernel_h, f.kernel_w = l.kernel_w, f.stride_h = f.stride_w = l.stride;
        f.pad_top = py.before, f.pad_left = px.before, f.relu = true;
        const auto random = [&](std::vector<float>& v, std::size_t n) {
            v.resize(n);
            for (float& x : v) x = dist(rng);
        };
        random(input, std::size_t(l.in_h) * l.in_w * l.in_c);
        random(weights, std::size_t(l.out_c) * l.in_c * l.kernel_h * l.kernel_w);
        random(bias, std::size_t(l.out_c));
        random(grad_output, std::size_t(f.out_h) * f.out_w * l.out_c);
        output.resize(grad_output.size());
        grad_input.resize(input.size()), grad_weights.resize(weights.size()), grad_bias.resize(bias.size());
        f.input = input.data(), f.weights = weights.data(), f.bias = bias.data(), f.output = output.data();
        kernels::conv2d_direct_ref(f);
        args.grad_output = grad_output.data();
        args.grad_input = grad_input.data(), args.grad_weights = grad_weights.data(), args.grad_bias = grad_bias.data();
        workspace.resize((table.conv2d_backward_workspace_size ? table.conv2d_backward_workspace_size(args) : 0) + 64);
        const auto base = reinterpret_cast<std::uintptr_t>(workspace.data());
        args.workspace = workspace.data() + (64 - base % 64) % 64;
    }
};

double backward_flops(const kernels::Conv2dArgs& f) {
    return 4.0 * f.out_c * f.out_h * f.out_w * double(f.in_c) * f.kernel_h * f.kernel_w;
}

double backward_flops(const ConvLayer& l) {
    const Padding pad = l.same ? Padding::same : Padding::valid;
    const double pixels = double(padding_for(pad, l.in_h, l.kernel_h, l.stride).out) *
                          padding_for(pad, l.in_w, l.kernel_w, l.stride).out;
    return 4.0 * l.out_c * pixels * double(l.in_c) * l.kernel_h * l.kernel_w;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool close(const std::vector<float>& expected, const std::vector<float>& actual, double terms) {
    for (std::size_t i = 0; i < expected.size(); ++i)
        if (std::fabs(expected[i] - actual[i]) > 1e-6 * terms * (1.0 + std::fabs(expected[i]))) return false;
    return true;
}

void bm_conv2d_backward(benchmark::State& state, const kernels::BackwardKernelTable* table, ConvLayer layer) {
    LayerData d(layer, *table);
    // A fast wrong kernel must not produce a number: one run checked against the reference,
    // which is timed on that run.
    LayerData ref(layer, kernels::reference_backward_kernels());
    const auto ref_start = std::chrono::steady_clock::now();
    kernels::conv2d_backward_ref(ref.args);
    const double ref_seconds = seconds_since(ref_start);
    table->conv2d_backward(d.args);
    const kernels::Conv2dArgs& f = d.args.forward;
    const double pixels = double(f.out_h) * f.out_w;
    if (!close(ref.grad_input, d.grad_input, double(f.out_c) * f.kernel_h * f.kernel_w) ||
        !close(ref.grad_weights, d.grad_weights, pixels) || !close(ref.grad_bias, d.grad_bias, pixels)) {
        state.SkipWithError("gradients differ from the reference");
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        table->conv2d_backward(d.args);
        benchmark::ClobberMemory();
    }
    const double seconds_per_run = seconds_since(start) / double(state.iterations());
    state.counters["FLOP/s"] = benchmark::Counter(backward_flops(f), benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::OneK::kIs1000);
    state.counters["x_ref"] = ref_seconds / seconds_per_run;
}

}  // namespace

int main(int argc, char** argv) {
    const kernels::BackwardKernelTable* tables[3];
    const int count = kernels::available_backward_tables(tables);
    for (int t = 1; t < count; ++t)
        for (const ConvLayer& layer : bench::kInceptionV3Convs) {
            if (backward_flops(layer) > kReferenceFlopLimit) continue;
            const std::string name = std::string("conv2d_backward/") + tables[t]->isa_name + "/" + layer.name;
            benchmark::RegisterBenchmark(name.c_str(), bm_conv2d_backward, tables[t], layer)->Unit(benchmark::kMillisecond);
        }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
