// `tinception bench [WEIGHTS]`: the whole trunk, input to one layer (mixed10 by default),
// timed per batch size and thread count, as a rate next to the machine's fp32 peak and next
// to the Eigen table measured in the same run. The measuring lives in src/profile/; this file
// reads the options and prints. Reports; asserts nothing.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli/commands.hpp"
#include "bf16/conv2d_bf16.hpp"
#include "cli/precision_option.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "parallel/thread_pool.hpp"
#include "profile/machine_peak.hpp"
#include "profile/network_timing.hpp"
#include "quant/int8_network.hpp"
#include "weights/weight_file.hpp"

namespace tinception::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<int> parse_list(const std::string& text, const char* what, int all_value) {
    std::vector<int> values;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item == "all" && all_value > 0) {
            values.push_back(all_value);
            continue;
        }
        char* end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 1 || v > 4096)
            throw Error(std::string("--") + what + " takes a comma-separated list of positive numbers" +
                        (all_value > 0 ? " or 'all'" : "") + ", not '" + text + "'");
        values.push_back(int(v));
    }
    if (values.empty()) throw Error(std::string("--") + what + " is empty");
    return values;
}

struct Row {
    int batch, threads;
    double ms_per_image;
    double caller_idle;  // share of the run the calling thread waited at parallel_for's end
};

void print_per_layer_against_fp32(const char* precision, const LayerTimes& fp32, const LayerTimes& other, int batch,
                                  const std::vector<int>& threads_list);

int max_batch(const std::vector<Row>& rows) {
    int most = 1;
    for (const Row& r : rows) most = std::max(most, r.batch);
    return most;
}

// Another precision's row beside an fp32 row, same batch and threads: median ms per image,
// images/s, fp32's time over it, and the median share of a run the calling thread waited at
// parallel_for's barriers.
Row time_precision_row(const std::function<void(int batch)>& run, const Row& fp32, int warmup, int iterations) {
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

// The int8 network at each fp32 row's batch and thread count, with fp32 ms / int8 ms; returns its rows.
// With fp32_layers (--per-layer), also each layer's time against fp32's.
std::vector<Row> print_int8_rows(const WeightFile& weights, const std::string& layer, const std::vector<float>& input,
                                 const std::vector<Row>& fp32_rows, int warmup, int iterations,
                                 const LayerTimes* fp32_layers, const std::vector<int>& threads_list) {
    const ActivationRanges ranges = calibrate_ranges(weights, layer, input.data(), 1, RangeRule{});
    Int8Network int8(weights, layer, ranges, active_int8_kernels());
    std::printf("\nint8 (%s table), same input:\n%5s %7s %10s %9s %9s %7s\n", active_int8_kernels().isa_name, "batch",
                "threads", "ms/image", "images/s", "x_fp32", "%idle");
    std::vector<float> features(std::size_t(max_batch(fp32_rows)) * std::size_t(int8.feature_size()));
    std::vector<Row> rows;
    for (const Row& r : fp32_rows)
        rows.push_back(time_precision_row([&](int batch) { int8.extract_features(input.data(), batch, features.data()); },
                                          r, warmup, iterations));
    if (fp32_layers) {
        const int batch = fp32_rows.front().batch;
        print_per_layer_against_fp32("int8", *fp32_layers, time_layers(int8, input, batch, threads_list, iterations),
                                     batch, threads_list);
    }
    return rows;
}


// The network with the bf16 convolution table at each fp32 row's batch and thread count; returns its rows.
// With fp32_layers (--per-layer), also each layer's time against fp32's.
std::vector<Row> print_bf16_rows(const WeightFile& weights, const std::string& layer, const std::vector<float>& input,
                                 const std::vector<Row>& fp32_rows, int warmup, int iterations,
                                 const LayerTimes* fp32_layers, const std::vector<int>& threads_list) {
    const kernels::KernelTable* table = kernels::avx512_bf16_kernels();
    if (!table) throw Error("--precision bf16 needs a CPU with AVX-512 BF16, which this one lacks");
    Network bf16(weights, layer, *table);
    std::printf("\nbf16 (%s table: convolutions on bf16, fp32 sums), same input:\n%5s %7s %10s %9s %9s %7s\n",
                table->isa_name, "batch", "threads", "ms/image", "images/s", "x_fp32", "%idle");
    std::vector<float> features(std::size_t(max_batch(fp32_rows)) * std::size_t(bf16.feature_size()));
    std::vector<Row> rows;
    for (const Row& r : fp32_rows)
        rows.push_back(time_precision_row([&](int batch) { bf16.extract_features(input.data(), batch, features.data()); },
                                          r, warmup, iterations));
    if (fp32_layers) {
        const int batch = fp32_rows.front().batch;
        print_per_layer_against_fp32("bf16", *fp32_layers, time_layers(bf16, input, batch, threads_list, iterations),
                                     batch, threads_list);
    }
    return rows;
}

// Each CPU alone at the FMA loop, and what that leaves two threads: on a shared machine one
// CPU can run well below the other, and the scaling figures below are bounded by it.
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

// Each thread count against the first, per batch: the median over rounds of the two times
// measured in the same round, so a drift in the machine's speed between rounds cancels.
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

// Slowest layers first, each with its share of the total at the first thread count.
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

// Each layer's time in `precision` against its fp32 time (the same steps: one plan), slowest
// in fp32 first.
void print_per_layer_against_fp32(const char* precision, const LayerTimes& fp32, const LayerTimes& other, int batch,
                                  const std::vector<int>& threads_list) {
    std::vector<std::size_t> order;
    // Step 0, the input, takes no time in fp32 and its quantization in int8.
    for (std::size_t i = 0; i < fp32.steps.size(); ++i) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return fp32.ms[0][x] > fp32.ms[0][y]; });
    std::printf("\n%s per layer, batch %d, median ms/image (x: %s / fp32):\n", precision, batch, precision);
    for (const int threads : threads_list)
        std::printf(" %8s %8s %5s", (std::to_string(threads) + "thr fp32").c_str(), precision, "x");
    std::printf("  layer\n");
    std::vector<double> fp32_sum(threads_list.size(), 0.0), other_sum(threads_list.size(), 0.0);
    for (const std::size_t i : order) {
        for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
            const double f = fp32.ms[ti][i], b = other.ms[ti][i];
            fp32_sum[ti] += f;
            other_sum[ti] += b;
            std::printf(" %8.3f %8.3f %5.2f", f, b, f > 0 ? b / f : 0.0);
        }
        std::printf("  %s\n", other.steps[i].c_str());
    }
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti)
        std::printf(" %8.3f %8.3f %5.2f", fp32_sum[ti], other_sum[ti], fp32_sum[ti] > 0 ? other_sum[ti] / fp32_sum[ti] : 0.0);
    std::printf("  sum of layers\n");
}

}  // namespace

int run_bench(int argc, char** argv) {
    cxxopts::Options options("tinception bench",
                             "Time the whole network, input to --layer, for each batch size and thread count:\n"
                             "median ms per image after warm-up, images/s, GFLOP/s against the fp32 peak.");
    options.positional_help("[WEIGHTS]");
    options.add_options()
        ("layer", "last layer to run", cxxopts::value<std::string>()->default_value("mixed10"))
        ("batch", "comma-separated batch sizes", cxxopts::value<std::string>()->default_value("1,8"))
        ("threads", "comma-separated thread counts; 'all' is every core",
         cxxopts::value<std::string>()->default_value("1,all"))
        ("iterations", "timed rounds; each round runs every configuration once (after a change of thread count, once untimed first), and the median is reported",
         cxxopts::value<int>()->default_value("10"))
        ("warmup", "untimed runs before timing", cxxopts::value<int>()->default_value("2"))
        ("compare", "kernel table timed at batch 1 in the same run for the x_<table> ratio, or 'none'",
         cxxopts::value<std::string>()->default_value("eigen"))
        ("per-layer", "also time each layer at the first batch size and every thread count (and, with int8 or bf16, each layer against fp32)")
        ("fma-pipes", "FMA pipes per core in the peak formula (2 on Haswell and later, and Zen 2 and later)",
         cxxopts::value<int>()->default_value("2"))
        ("precision", "'fp32', or 'fp32,int8', 'fp32,bf16' or 'fp32,int8,bf16' to time those networks too, "
                      "in the same run, with their ratio to fp32 (int8 "
                      "calibrated on the bench's own input: for timing only)",
         cxxopts::value<std::string>()->default_value("fp32"))
        ("tsv", "also print one 'tinception<TAB>batch<TAB>threads<TAB>ms_per_image' line per row "
                "(tinception_int8, tinception_bf16 for the other precisions)")
        ("h,help", "show this help")
        ("weights", "", cxxopts::value<std::string>()->default_value("weights/inception_v3.tcw"));
    options.parse_positional({"weights"});
    const auto args = options.parse(argc, argv);
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    const int cores = thread_count();
    const std::vector<int> batches = parse_list(args["batch"].as<std::string>(), "batch", 0);
    const std::vector<int> threads_list = parse_list(args["threads"].as<std::string>(), "threads", cores);
    const int iterations = args["iterations"].as<int>();
    const int warmup = args["warmup"].as<int>();
    if (iterations < 1 || warmup < 0) throw Error("--iterations must be at least 1 and --warmup at least 0");
    const std::string path = args["weights"].as<std::string>();
    const std::string layer = args["layer"].as<std::string>();
    const std::string precision = args["precision"].as<std::string>();
    const bool time_int8 = precision == "fp32,int8" || precision == "fp32,int8,bf16";
    const bool time_bf16 = precision == "fp32,bf16" || precision == "fp32,int8,bf16";
    if (precision != "fp32" && !time_int8 && !time_bf16)
        throw Error("--precision takes 'fp32', 'fp32,int8', 'fp32,bf16' or 'fp32,int8,bf16', not '" + precision + "'");
    if (time_bf16 && !kernels::avx512_bf16_kernels())
        throw Error("--precision bf16 needs a CPU with AVX-512 BF16, which this one lacks");

    const auto open_start = Clock::now();
    const WeightFile weights = WeightFile::open(path, DataCheck::deferred);
    const double open_ms = 1e3 * seconds_since(open_start);
    const auto check_start = Clock::now();
    weights.verify_data();
    const double check_ms = 1e3 * seconds_since(check_start);
    const kernels::KernelTable& table = active_kernels();
    const auto build_start = Clock::now();
    Network net(weights, layer, table);
    const double build_ms = 1e3 * seconds_since(build_start);
    const ActivationShape in = net.input_shape();
    const double flops_per_image = 2.0 * double(net.multiply_adds_per_image());

    // Deterministic input in [0, 1): the timing does not depend on the values.
    const int max_batch = *std::max_element(batches.begin(), batches.end());
    std::vector<float> input(std::size_t(max_batch) * in.h * in.w * in.c);
    std::uint32_t state = 12345;
    for (float& v : input) {
        state = state * 1664525u + 1013904223u;
        v = float(state >> 8) / float(1u << 24);
    }

    const CpuInfo cpu = read_cpuinfo();
    const int pipes = args["fma-pipes"].as<int>();
    if (pipes < 1 || pipes > 8) throw Error("--fma-pipes takes a number from 1 to 8");
    const int lanes = lanes_per_fma_pipe(table.isa_name, cpu);
    std::printf("tinception bench: %s, input %dx%dx%d -> %s, %.3f GFLOP per image (2 x %lld multiply-adds)\n",
                path.c_str(), in.h, in.w, in.c, layer.c_str(), flops_per_image * 1e-9,
                static_cast<long long>(net.multiply_adds_per_image()));
    std::printf("kernels: %s; cpu: %s (%s family %d), %d logical cpus, cpu MHz %.0f\n", table.isa_name,
                cpu.model.c_str(), cpu.vendor.c_str(), cpu.family, cpu.logical_cpus, cpu.mhz);
    std::printf("precisions run natively: %s\n", native_precisions().c_str());
    std::printf("weight file: open (map, header, table and graph) %.1f ms; data check (CRC-32 of table and "
                "data) %.1f ms; network build (packing in memory) %.1f ms\n",
                open_ms, check_ms, build_ms);
    const StartUpTimes up = time_start_up(weights, layer, table, input);
    std::printf("packed-weights cache (%s, one thread): fingerprint (first call) %.1f ms; build (a network to %s packs its "
                "layers, writes them) %.1f ms; map and check header and entries %.1f ms (fingerprint included); network to %s from the "
                "mapping (XXH64 of its layers) %.1f ms; first forward, batch 1 %.1f ms\n",
                table.isa_name, up.fingerprint, layer.c_str(), up.build_cache, up.map_cache, layer.c_str(), up.network, up.first_forward);
    set_thread_count(cores);
    std::printf("peak formula: threads x %d FMA pipes x %d fp32 lanes x 2 flops x %.3f GHz ('cpu MHz') = %.1f GFLOP/s per thread\n"
                "  ('cpu MHz' can be the base clock while the cores boost above it; the measured peak runs at the real clock)\n",
                pipes, lanes, cpu.mhz * 1e-3, formula_peak_flops(pipes, table.isa_name, cpu) * 1e-9);

    std::vector<double> measured_peak(threads_list.size(), 0.0);
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
        measured_peak[ti] = measured_peak_flops(table, threads_list[ti], 0.2);
        if (measured_peak[ti] > 0.0)
            std::printf("measured peak: %s register-only FMA loop, best of 4 x 0.05 s on each of %d thread(s) at once: %.1f GFLOP/s\n",
                        table.isa_name, threads_list[ti], measured_peak[ti] * 1e-9);
    }
    print_cpu_rates(per_cpu_fma_rates(table, 20, 0.005), table.isa_name);
    std::vector<RunConfig> configs;
    for (const int threads : threads_list)
        for (const int batch : batches) configs.push_back({batch, threads});
    const std::vector<RunTimes> times = time_interleaved(net, input, configs, warmup, iterations);
    std::vector<Row> rows;
    for (std::size_t i = 0; i < configs.size(); ++i) {
        std::vector<double> idle;
        for (std::size_t r = 0; r < times[i].seconds.size(); ++r)
            idle.push_back(times[i].waiting[r] / times[i].seconds[r]);
        rows.push_back({configs[i].batch, configs[i].threads, 1e3 * median(times[i].seconds) / configs[i].batch,
                        median(idle)});
    }

    std::optional<LayerTimes> fp32_layers;
    if (args.count("per-layer")) {
        fp32_layers = time_layers(net, input, batches.front(), threads_list, iterations);
        print_per_layer(*fp32_layers, batches.front(), threads_list);
    }

    // The same trunk on the comparison table, batch 1, each thread count.
    const std::string compare = args["compare"].as<std::string>();
    std::vector<double> compare_ms(threads_list.size(), 0.0);
    if (compare != "none") {
        Network other(weights, layer, kernel_table_named(compare));
        for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
            set_thread_count(threads_list[ti]);
            compare_ms[ti] = 1e3 * median_seconds(other, input, 1, std::min(warmup, 1), iterations);
        }
    }
    set_thread_count(cores);

    std::printf("\n%5s %7s %10s %9s %9s %9s %9s %6s", "batch", "threads", "ms/image", "images/s", "GFLOP/s",
                "%formula", "%measured", "%idle");
    if (compare != "none") std::printf(" %9s", ("x_" + compare).c_str());
    std::printf("\n");
    for (const Row& r : rows) {
        const std::size_t ti = std::size_t(std::find(threads_list.begin(), threads_list.end(), r.threads) -
                                           threads_list.begin());
        const double gflops = flops_per_image / (r.ms_per_image * 1e-3) * 1e-9;
        const double formula = r.threads * formula_peak_flops(pipes, table.isa_name, cpu) * 1e-9;
        std::printf("%5d %7d %10.2f %9.2f %9.1f %8.1f%% ", r.batch, r.threads, r.ms_per_image,
                    1e3 / r.ms_per_image, gflops, formula > 0 ? 100.0 * gflops / formula : 0.0);
        if (measured_peak[ti] > 0.0) std::printf("%8.1f%%", 100.0 * gflops / (measured_peak[ti] * 1e-9));
        else std::printf("%9s", "-");
        std::printf(" %5.1f%%", 100.0 * r.caller_idle);
        if (compare != "none") std::printf(" %9.2f", compare_ms[ti] / r.ms_per_image);
        std::printf("\n");
    }
    print_scaling(configs, times, threads_list.front());
    if (compare != "none")
        for (std::size_t ti = 0; ti < threads_list.size(); ++ti)
            std::printf("%s table, batch 1, %d thread(s): %.2f ms/image\n", compare.c_str(), threads_list[ti],
                        compare_ms[ti]);

    const std::vector<Row> int8_rows =
        time_int8 ? print_int8_rows(weights, layer, input, rows, warmup, iterations,
                                    fp32_layers ? &*fp32_layers : nullptr, threads_list)
                  : std::vector<Row>{};
    const std::vector<Row> bf16_rows =
        time_bf16 ? print_bf16_rows(weights, layer, input, rows, warmup, iterations,
                                    fp32_layers ? &*fp32_layers : nullptr, threads_list)
                  : std::vector<Row>{};
    set_thread_count(cores);

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("peak RSS: %.1f MiB (getrusage ru_maxrss, whole run)\n", double(usage.ru_maxrss) / 1024.0);
    if (args.count("tsv")) {
        for (const Row& r : rows) std::printf("tinception\t%d\t%d\t%.3f\n", r.batch, r.threads, r.ms_per_image);
        for (const Row& r : int8_rows) std::printf("tinception_int8\t%d\t%d\t%.3f\n", r.batch, r.threads, r.ms_per_image);
        for (const Row& r : bf16_rows) std::printf("tinception_bf16\t%d\t%d\t%.3f\n", r.batch, r.threads, r.ms_per_image);
    }
    return kExitOk;
}

}  // namespace tinception::cli
