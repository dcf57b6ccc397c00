// int8 against fp32 convolution on Inception v3's layer shapes, one thread, batch 1: every int8
// table this CPU runs (avx2: widened to 16 bits, 8-bit weights; avx2_7bit: vpmaddubsw, 7-bit
// weights; avx512_vnni: vpdpbusd, 8-bit weights) and the active fp32 table (with the path it
// takes: GEMM or Winograd), timed in alternation in the same run (median of 7 rounds of at
// least 20 ms each), each int8 output checked against the int8 reference once before timing.
// Where int8's time goes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "inception_v3_shapes.hpp"
#include "int8/int8_kernel_table.hpp"
#include "kernel_dispatch.hpp"
#include "layers/conv2d_workspace.hpp"

using namespace tinception;
using Clock = std::chrono::steady_clock;

namespace {

void geometry(int in, int kernel, int stride, bool same, int& out, int& before) {
    out = same ? (in + stride - 1) / stride : (in - kernel) / stride + 1;
    before = same ? std::max((out - 1) * stride + kernel - in, 0) / 2 : 0;
}

// Seconds per call: calls repeated for at least 20 ms.
template <typename Run>
double seconds_per_call(const Run& run) {
    long calls = 0;
    const auto start = Clock::now();
    double elapsed = 0.0;
    do {
        run();
        ++calls;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < 0.02);
    return elapsed / double(calls);
}

}  // namespace

int main() {
    std::vector<const kernels::Int8KernelTable*> tables;
    for (const kernels::Int8KernelTable* t :
         {kernels::avx2_int8_kernels(), kernels::avx2_7bit_int8_kernels(), kernels::avx512_vnni_int8_kernels()})
        if (t) tables.push_back(t);
    if (tables.empty()) {
        std::fprintf(stderr, "bench_int8_conv: this CPU lacks AVX2; nothing to time\n");
        return 1;
    }
    const std::size_t n_tables = tables.size();
    const kernels::KernelTable& fp32 = active_kernels();
    std::printf("%-20s %9s", "layer", "fp32 ms");
    for (const kernels::Int8KernelTable* t : tables) std::printf(" %11s ms %7s", t->isa_name, "x_fp32");
    std::printf("  %s\n", "fp32 path");
    double total_fp32 = 0.0;
    std::vector<double> total(n_tables, 0.0);
    std::mt19937 rng(42);
    for (const bench::ConvLayer& l : bench::kInceptionV3Convs) {
        kernels::Conv2dArgs f;
        f.in_h = l.in_h, f.in_w = l.in_w, f.in_c = l.in_c, f.out_c = l.out_c;
        f.kernel_h = l.kernel_h, f.kernel_w = l.kernel_w, f.stride_h = f.stride_w = l.stride;
        geometry(l.in_h, l.kernel_h, l.stride, l.same, f.out_h, f.pad_top);
        geometry(l.in_w, l.kernel_w, l.stride, l.same, f.out_w, f.pad_left);
        f.relu = true;
        const std::size_t k = std::size_t(l.in_c) * l.kernel_h * l.kernel_w;
        const std::size_t outputs = std::size_t(f.out_h) * f.out_w * l.out_c;
        std::vector<float> input(std::size_t(l.in_h) * l.in_w * l.in_c), weights(k * l.out_c), bias(l.out_c), out(outputs);
        std::uniform_real_distribution<float> dist(0.0f, 1.0f);
        for (float& v : input) v = dist(rng);
        for (float& v : weights) v = dist(rng) - 0.5f;
        f.input = input.data(), f.weights = weights.data(), f.bias = bias.data(), f.output = out.data();
        std::vector<unsigned char> packed(fp32.conv2d_pack ? fp32.conv2d_packed_size(f) : 0);
        if (fp32.conv2d_pack) fp32.conv2d_pack(f, packed.data()), f.packed = packed.data();
        const Conv2dScratch scratch(conv2d_workspace_bytes(fp32, f), 1);
        f.workspace = scratch.workspaces().for_thread(0);

        kernels::Conv2dInt8Args q;
        q.in_h = f.in_h, q.in_w = f.in_w, q.in_c = f.in_c, q.out_h = f.out_h, q.out_w = f.out_w, q.out_c = f.out_c;
        q.kernel_h = f.kernel_h, q.kernel_w = f.kernel_w, q.stride_h = q.stride_w = l.stride;
        q.pad_top = f.pad_top, q.pad_left = f.pad_left;
        std::vector<std::uint8_t> qin(input.size());
        std::uniform_int_distribution<int> bytes(0, 255);
        for (auto& v : qin) v = std::uint8_t(bytes(rng));
        std::vector<float> scale(std::size_t(l.out_c), 1.0f / (128.0f * float(k))), qbias(std::size_t(l.out_c), 100.0f);
        q.input = qin.data(), q.scale = scale.data(), q.bias = qbias.data();
        std::vector<std::vector<std::int8_t>> qw(n_tables);
        std::vector<std::vector<unsigned char>> qpacked(n_tables), workspace(n_tables);
        std::vector<std::uint8_t> qout(outputs), expected(outputs);
        std::vector<kernels::Conv2dInt8Args> calls(n_tables, q);
        for (std::size_t t = 0; t < n_tables; ++t) {
            std::uniform_int_distribution<int> levels(-tables[t]->weight_max, tables[t]->weight_max);
            qw[t].resize(weights.size());
            for (auto& v : qw[t]) v = std::int8_t(levels(rng));
            kernels::Conv2dInt8Args& c = calls[t];
            c.weights = qw[t].data();
            qpacked[t].resize(tables[t]->conv2d_packed_size(c));
            workspace[t].resize(tables[t]->conv2d_workspace_size(c) + 64);
            tables[t]->conv2d_pack(c, qpacked[t].data());
            c.output = expected.data();
            kernels::reference_int8_kernels().conv2d(c);
            c.packed = qpacked[t].data(), c.workspace = workspace[t].data(), c.output = qout.data();
            tables[t]->conv2d(c);
            if (qout != expected) {
                std::fprintf(stderr, "bench_int8_conv: %s: the %s output differs from the reference\n", l.name,
                             tables[t]->isa_name);
                return 1;
            }
        }
        std::vector<double> tf;
        std::vector<std::vector<double>> ti(n_tables);
        for (int round = 0; round < 7; ++round) {
            tf.push_back(seconds_per_call([&] { fp32.conv2d(f); }));
            for (std::size_t t = 0; t < n_tables; ++t)
                ti[t].push_back(seconds_per_call([&] { tables[t]->conv2d(calls[t]); }));
        }
        std::sort(tf.begin(), tf.end());
        for (auto& v : ti) std::sort(v.begin(), v.end());
        total_fp32 += tf[3];
        std::printf("%-20s %9.3f", l.name, 1e3 * tf[3]);
        for (std::size_t t = 0; t < n_tables; ++t) {
            total[t] += ti[t][3];
            std::printf(" %14.3f %7.2f", 1e3 * ti[t][3], tf[3] / ti[t][3]);
        }
        std::printf("  %s\n", fp32.conv2d_path ? fp32.conv2d_path(f) : fp32.isa_name);
    }
    std::printf("%-20s %9.3f", "sum", 1e3 * total_fp32);
    for (std::size_t t = 0; t < n_tables; ++t) std::printf(" %14.3f %7.2f", 1e3 * total[t], total_fp32 / total[t]);
    std::printf("  (each shape once)\n");
    return 0;
}
