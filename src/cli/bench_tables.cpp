#include "cli/bench_tables.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "bf16/conv2d_bf16.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "parallel/thread_pool.hpp"
#include "quant/int8_network.hpp"

namespace tinception::cli {
namespace {

int max_batch(const std::vector<BenchRow>& rows) {
    int most = 1;
    for (const BenchRow& r : rows) most = std::max(most, r.batch);
    return most;
}

// Another precision's row beside an fp32 row, same batch and threads: median ms per image,
// images/s, fp32's time over it, and the median share of a run the calling thread waited at
// parallel_for's barriers.
BenchRow time_precision_row(const std::function<void(int batch)>& run, const BenchRow& fp32, int warmup, int iterations) {
    set_thread_count(fp32.threads);
    for (int i = 0; i < warmup; ++i) run(fp32.batch);
    std::vector<double> seconds, idle;
    for (int i = 0; i < iterations; ++i) {
        const double waited = caller_wait_seconds();
        const auto start = std::chrono::steady_clock::now();
        run(fp32.batch);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        idle.push_back((caller_wait_seconds() - waited) / seconds.back());
    }
    const double ms = 1e3 * median(seconds) / fp32.batch;
    std::printf("%5d %7d %10.2f %9.2f %9.2f %6.1f%%\n", fp32.batch, fp32.threads, ms, 1e3 / ms, fp32.ms_per_image / ms,
                100.0 * median(idle));
    return {fp32.batch, fp32.threads, ms, median(idle)};
}

}  // namespace

namespace {

// `net`'s rows at each fp32 row's batch and thread count under `title`. Net: Network or
// Int8Network.
template <class Net>
std::vector<BenchRow> print_rows_of(Net& net, const std::string& title, const std::vector<float>& input,
                                    const std::vector<BenchRow>& fp32_rows, int warmup, int iterations) {
    std::printf("\n%s, same input:\n%5s %7s %10s %9s %9s %7s\n", title.c_str(), "batch", "threads", "ms/image",
                "images/s", "x_fp32", "%idle");
    std::vector<float> features(std::size_t(max_batch(fp32_rows)) * std::size_t(net.feature_size()));
    std::vector<BenchRow> rows;
    for (const BenchRow& r : fp32_rows)
        rows.push_back(time_precision_row([&](int batch) { net.extract_features(input.data(), batch, features.data()); },
                                          r, warmup, iterations));
    return rows;
}

// With fp32_layers (--per-layer), `net`'s per-layer table against fp32's; with peak_macs
// (per thread count), each layer's share of that peak too.
template <class Net>
void print_layers_of(Net& net, const char* precision, const std::vector<float>& input,
                     const std::vector<BenchRow>& fp32_rows, int iterations, const LayerTimes* fp32_layers,
                     const std::vector<int>& threads_list, const std::vector<double>& peak_macs = {}) {
    if (!fp32_layers) return;
    const int batch = fp32_rows.front().batch;
    print_per_layer_against_fp32(precision, *fp32_layers, time_layers(net, input, batch, threads_list, iterations),
                                 batch, threads_list, peak_macs);
}

// Each int8 row's multiply-adds per second against the table's dot-product loop on as many
// threads (peak_macs, per thread count): how much of what that instruction can do the whole
// network gets.
void print_int8_against_peak(const char* isa, const std::vector<BenchRow>& rows, double multiply_adds_per_image,
                             const std::vector<int>& threads_list, const std::vector<double>& peak_macs) {
    std::printf("int8 against the %s dot-product loop (register-only, best of 4 x 0.05 s on each thread at once):\n"
                "%5s %7s %12s %12s %10s\n",
                isa, "batch", "threads", "GMAC/s", "peak GMAC/s", "%measured");
    for (const BenchRow& r : rows) {
        const double peak =
            peak_macs[std::size_t(std::find(threads_list.begin(), threads_list.end(), r.threads) - threads_list.begin())];
        const double macs = multiply_adds_per_image / (r.ms_per_image * 1e-3);
        std::printf("%5d %7d %12.1f %12.1f %9.1f%%\n", r.batch, r.threads, macs * 1e-9, peak * 1e-9,
                    100.0 * macs / peak);
    }
}

}  // namespace

std::vector<BenchRow> print_int8_rows(const WeightFile& weights, const std::string& layer,
                                      const std::vector<float>& input, const std::vector<BenchRow>& fp32_rows,
                                      int warmup, int iterations, const LayerTimes* fp32_layers,
                                      const std::vector<int>& threads_list, double multiply_adds_per_image) {
    const ActivationRanges ranges = calibrate_ranges(weights, layer, input.data(), 1, RangeRule{});
    const kernels::Int8KernelTable& table = active_int8_kernels();
    Int8Network int8(weights, layer, ranges, table);
    const std::vector<BenchRow> rows =
        print_rows_of(int8, std::string("int8 (") + table.isa_name + " table)", input, fp32_rows, warmup, iterations);
    std::vector<double> peak_macs;  // per thread count
    if (table.dot_peak) {
        for (const int threads : threads_list) peak_macs.push_back(measured_int8_peak_macs(table, threads, 0.2));
        print_int8_against_peak(table.isa_name, rows, multiply_adds_per_image, threads_list, peak_macs);
    }
    print_layers_of(int8, "int8", input, fp32_rows, iterations, fp32_layers, threads_list, peak_macs);
    return rows;
}

std::vector<BenchRow> print_bf16_rows(const WeightFile& weights, const std::string& layer,
                                      const std::vector<float>& input, const std::vector<BenchRow>& fp32_rows,
                                      int warmup, int iterations, const LayerTimes* fp32_layers,
                                      const std::vector<int>& threads_list) {
    const kernels::KernelTable* table = kernels::avx512_bf16_kernels();
    if (!table) throw Error("--precision bf16 needs a CPU with AVX-512 BF16, which this one lacks");
    Network bf16(weights, layer, *table);
    const std::vector<BenchRow> rows =
        print_rows_of(bf16, std::string("bf16 (") + table->isa_name + " table: convolutions on bf16, fp32 sums)", input,
                      fp32_rows, warmup, iterations);
    print_layers_of(bf16, "bf16", input, fp32_rows, iterations, fp32_layers, threads_list);
    return rows;
}

// On a shared machine one CPU can run well below the other, and the scaling figures are
// bounded by it.
void print_cpu_rates(const std::vector<CpuRate>& rates, const char* isa) {
    if (rates.empty()) return;
    std::printf("per CPU, each alone, pinned (%s FMA loop, median of 20 x 5 ms, lowest-highest):", isa);
    double fastest = 0.0, total = 0.0;
    for (const CpuRate& r : rates) {
        std::printf(" cpu %d %.1f (%.1f-%.1f)", r.cpu, r.median_flops * 1e-9, r.lowest_flops * 1e-9,
                    r.highest_flops * 1e-9);
        fastest = std::max(fastest, r.median_flops);
        total += r.median_flops;
    }
    std::printf(" GFLOP/s\n");
    if (rates.size() > 1 && fastest > 0.0)
        std::printf("  together %.2fx the fastest alone: the most compute-bound work on all of them can gain over one "
                    "thread on the fastest, at these rates\n",
                    total / fastest);
}

// The median over rounds of the two times measured in the same round, so a drift in the
// machine's speed between rounds cancels.
void print_scaling(const std::vector<RunConfig>& configs, const std::vector<RunTimes>& times, int base_threads) {
    for (std::size_t i = 0; i < configs.size(); ++i) {
        if (configs[i].threads == base_threads) continue;
        for (std::size_t b = 0; b < configs.size(); ++b) {
            if (configs[b].threads != base_threads || configs[b].batch != configs[i].batch) continue;
            std::vector<double> ratios;
            for (std::size_t r = 0; r < times[i].seconds.size(); ++r)
                ratios.push_back(times[b].seconds[r] / times[i].seconds[r]);
            std::sort(ratios.begin(), ratios.end());
            std::printf("scaling, batch %d: %d threads run %.2fx as fast as %d (median of %zu rounds' ratios; "
                        "lowest %.2fx, highest %.2fx)\n",
                        configs[i].batch, configs[i].threads, median(ratios), base_threads, ratios.size(),
                        ratios.front(), ratios.back());
        }
    }
}

void print_per_layer(const LayerTimes& t, int batch, const std::vector<int>& threads_list) {
    std::vector<std::size_t> order(t.steps.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return t.ms[0][x] > t.ms[0][y]; });
    double total = 0.0;
    for (const double v : t.ms[0]) total += v;
    std::printf("\nper layer, batch %d, median ms/image:\n", batch);
    for (const int threads : threads_list) std::printf(" %8s", (std::to_string(threads) + "thr").c_str());
    std::printf(" %7s  layer\n", "share");
    for (const std::size_t i : order) {
        if (i == 0) continue;  // the input step does no work
        for (std::size_t ti = 0; ti < threads_list.size(); ++ti) std::printf(" %8.3f", t.ms[ti][i]);
        std::printf(" %6.1f%%  %s\n", total > 0 ? 100.0 * t.ms[0][i] / total : 0.0, t.steps[i].c_str());
    }
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
        double sum = 0.0;
        for (const double v : t.ms[ti]) sum += v;
        std::printf(" %8.3f", sum);
    }
    std::printf(" %7s  sum of layers\n", "100.0%");
}

// The same steps in both: one plan.
void print_per_layer_against_fp32(const char* precision, const LayerTimes& fp32, const LayerTimes& other, int batch,
                                  const std::vector<int>& threads_list, const std::vector<double>& peak_macs) {
    const bool with_peak = !peak_macs.empty();
    std::vector<std::size_t> order;
    // Step 0, the input, takes no time in fp32 and its quantization in int8.
    for (std::size_t i = 0; i < fp32.steps.size(); ++i) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return fp32.ms[0][x] > fp32.ms[0][y]; });
    std::printf("\n%s per layer, batch %d, median ms/image (x: %s / fp32):\n", precision, batch, precision);
    for (const int threads : threads_list) {
        std::printf(" %8s %8s %5s", (std::to_string(threads) + "thr fp32").c_str(), precision, "x");
        if (with_peak) std::printf(" %6s", "%peak");
    }
    std::printf("  layer\n");
    std::vector<double> fp32_sum(threads_list.size(), 0.0), other_sum(threads_list.size(), 0.0);
    for (const std::size_t i : order) {
        for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
            const double f = fp32.ms[ti][i], b = other.ms[ti][i];
            fp32_sum[ti] += f;
            other_sum[ti] += b;
            std::printf(" %8.3f %8.3f %5.2f", f, b, f > 0 ? b / f : 0.0);
            // Multiply-adds per second of this step over the peak; blank for steps with none.
            if (with_peak && other.multiply_adds[i] > 0 && b > 0)
                std::printf(" %5.1f%%", 100.0 * double(other.multiply_adds[i]) / (b * 1e-3) / peak_macs[ti]);
            else if (with_peak)
                std::printf(" %6s", "");
        }
        std::printf("  %s\n", other.steps[i].c_str());
    }
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
        std::printf(" %8.3f %8.3f %5.2f", fp32_sum[ti], other_sum[ti], fp32_sum[ti] > 0 ? other_sum[ti] / fp32_sum[ti] : 0.0);
        if (with_peak) std::printf(" %6s", "");
    }
    std::printf("  sum of layers\n");
}

}  // namespace tinception::cli
