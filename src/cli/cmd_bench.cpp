// `tinception bench [WEIGHTS]`: the whole trunk, input to one layer (mixed10 by default),
// timed per batch size and thread count, as a rate next to the machine's fp32 peak and next
// to the Eigen table measured in the same run. The measuring lives in src/profile/; this file
// reads the options, times fp32 and prints its table; bench_tables.cpp prints the others.
// Reports; asserts nothing.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli/bench_tables.hpp"
#include "cli/commands.hpp"
#include "bf16/conv2d_bf16.hpp"
#include "cli/precision_option.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "parallel/thread_pool.hpp"
#include "profile/machine_peak.hpp"
#include "profile/network_timing.hpp"
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
                      "calibrated on the bench's own input: for timing only; with a VNNI table also "
                      "its share of a measured vpdpbusd loop's rate, whole and, with --per-layer, per layer)",
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
    std::vector<BenchRow> rows;
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
    for (const BenchRow& r : rows) {
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

    const std::vector<BenchRow> int8_rows =
        time_int8 ? print_int8_rows(weights, layer, input, rows, warmup, iterations,
                                    fp32_layers ? &*fp32_layers : nullptr, threads_list, flops_per_image / 2.0)
                  : std::vector<BenchRow>{};
    const std::vector<BenchRow> bf16_rows =
        time_bf16 ? print_bf16_rows(weights, layer, input, rows, warmup, iterations,
                                    fp32_layers ? &*fp32_layers : nullptr, threads_list)
                  : std::vector<BenchRow>{};
    set_thread_count(cores);

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("peak RSS: %.1f MiB (getrusage ru_maxrss, whole run)\n", double(usage.ru_maxrss) / 1024.0);
    if (args.count("tsv")) {
        for (const BenchRow& r : rows) std::printf("tinception\t%d\t%d\t%.3f\n", r.batch, r.threads, r.ms_per_image);
        for (const BenchRow& r : int8_rows) std::printf("tinception_int8\t%d\t%d\t%.3f\n", r.batch, r.threads, r.ms_per_image);
        for (const BenchRow& r : bf16_rows) std::printf("tinception_bf16\t%d\t%d\t%.3f\n", r.batch, r.threads, r.ms_per_image);
    }
    return kExitOk;
}

}  // namespace tinception::cli
