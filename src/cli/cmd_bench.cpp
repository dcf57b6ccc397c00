// `tinception bench [WEIGHTS]`: the whole trunk, input to one layer (mixed10 by default),
// timed per batch size and thread count, as a rate next to the machine's fp32 peak and next
// to the Eigen table measured in the same run. Reports; asserts nothing.
#include <sys/resource.h>

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli/commands.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "model/packed_cache.hpp"
#include "model/packed_weights.hpp"
#include "parallel/thread_pool.hpp"
#include "weights/weight_file.hpp"

namespace tinception::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct CpuInfo {
    std::string model = "unknown", vendor;
    int family = 0;
    int logical_cpus = 0;
    double mhz = 0.0;  // first 'cpu MHz' line: the nominal clock as the kernel reports it
};

CpuInfo read_cpuinfo() {
    CpuInfo info;
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    const auto value_of = [](const std::string& l) {
        const auto colon = l.find(':');
        return colon == std::string::npos ? std::string() : l.substr(l.find_first_not_of(' ', colon + 1));
    };
    while (std::getline(in, line)) {
        if (line.rfind("processor", 0) == 0) ++info.logical_cpus;
        else if (line.rfind("model name", 0) == 0 && info.model == "unknown") info.model = value_of(line);
        else if (line.rfind("vendor_id", 0) == 0 && info.vendor.empty()) info.vendor = value_of(line);
        else if (line.rfind("cpu family", 0) == 0 && !info.family) info.family = std::atoi(value_of(line).c_str());
        else if (line.rfind("cpu MHz", 0) == 0 && info.mhz == 0.0) info.mhz = std::atof(value_of(line).c_str());
    }
    return info;
}

// fp32 lanes one FMA pipe retires per cycle for this table's ISA. AMD before Zen 5 (family
// 26) runs 512-bit instructions as two 256-bit halves, so its pipes stay 8 lanes wide.
int lanes_per_fma_pipe(const std::string& isa, const CpuInfo& cpu) {
    if (isa == "avx512") return cpu.vendor == "AuthenticAMD" && cpu.family < 26 ? 8 : 16;
    if (isa == "avx2") return 8;
    if (isa == "neon") return 4;  // 128-bit pipes
    return 1;
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

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Median seconds per extract_features call over `iterations` runs, after `warmup` runs.
double median_seconds(Network& net, const std::vector<float>& input, int batch, int warmup,
                      int iterations) {
    std::vector<float> features(std::size_t(batch) * net.feature_size());
    for (int i = 0; i < warmup; ++i) net.extract_features(input.data(), batch, features.data());
    std::vector<double> times;
    for (int i = 0; i < iterations; ++i) {
        const auto start = Clock::now();
        net.extract_features(input.data(), batch, features.data());
        times.push_back(seconds_since(start));
    }
    return median(times);
}

// Sum over threads of the register-only FMA loop, each thread running it at the same time for
// `seconds` in four slices and keeping its best slice: on a shared machine a slice the
// scheduler interrupts reads low, and the peak is what the core can do, not what it got.
double measured_peak_flops(const kernels::KernelTable& table, int threads, double seconds) {
    if (!table.fma_peak) return 0.0;
    set_thread_count(threads);
    std::vector<double> per_thread(std::size_t(threads), 0.0);
    parallel_for(threads, [&](int t) {
        for (int slice = 0; slice < 4; ++slice)
            per_thread[std::size_t(t)] = std::max(per_thread[std::size_t(t)], table.fma_peak(seconds / 4));
    });
    double total = 0.0;
    for (const double f : per_thread) total += f;
    return total;
}

// Median per-layer ms per image at each thread count, slowest layers first, with each layer's
// share of the total at the first thread count.
void print_per_layer(Network& net, const std::vector<float>& input, int batch, const std::vector<int>& threads_list,
                     int iterations) {
    const std::vector<std::string> names = net.step_descriptions();
    std::vector<std::vector<double>> ms(threads_list.size());  // [thread config][step]
    std::vector<float> features(std::size_t(batch) * net.feature_size());
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
        set_thread_count(threads_list[ti]);
        net.extract_features(input.data(), batch, features.data());
        std::vector<std::vector<double>> runs(names.size());
        for (int it = 0; it < iterations; ++it) {
            std::vector<double> seconds;
            net.time_steps(&seconds);
            net.extract_features(input.data(), batch, features.data());
            net.time_steps(nullptr);
            for (std::size_t i = 0; i < names.size(); ++i) runs[i].push_back(seconds[i]);
        }
        for (std::size_t i = 0; i < names.size(); ++i) ms[ti].push_back(1e3 * median(runs[i]) / batch);
    }
    std::vector<std::size_t> order(names.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return ms[0][x] > ms[0][y]; });
    double total = 0.0;
    for (const double v : ms[0]) total += v;
    std::printf("\nper layer, batch %d, median ms/image:\n", batch);
    for (const int t : threads_list) std::printf(" %8s", (std::to_string(t) + "thr").c_str());
    std::printf(" %7s  layer\n", "share");
    for (const std::size_t i : order) {
        if (i == 0) continue;  // the input step does no work
        for (std::size_t ti = 0; ti < threads_list.size(); ++ti) std::printf(" %8.3f", ms[ti][i]);
        std::printf(" %6.1f%%  %s\n", total > 0 ? 100.0 * ms[0][i] / total : 0.0, names[i].c_str());
    }
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
        double sum = 0.0;
        for (const double v : ms[ti]) sum += v;
        std::printf(" %8.3f", sum);
    }
    std::printf(" %7s  sum of layers\n", "100.0%");
}

// Start-up, step by step, on one thread: the packed-weights cache built in a fresh temporary
// folder (so the user's cache is left alone), then mapped, a network built from it and run once.
void print_start_up(const WeightFile& weights, const std::string& layer, const kernels::KernelTable& table,
                    const std::vector<float>& input) {
    std::string dir = (std::filesystem::temp_directory_path() / "tinception-bench-XXXXXX").string();
    if (!::mkdtemp(dir.data())) throw Error(dir + ": cannot create a temporary folder: " + std::strerror(errno));
    auto start = Clock::now();
    const auto lap_ms = [&start] {
        const double ms = 1e3 * seconds_since(start);
        start = Clock::now();
        return ms;
    };
    set_thread_count(1);
    packing_fingerprint(weights.graph(), table);
    const double fingerprint_ms = lap_ms();
    const double build_ms = (PackedWeights::cached(weights, table, dir), lap_ms());
    const auto mapped = PackedWeights::cached(weights, table, dir);
    const double map_ms = lap_ms();
    Network net(mapped, layer);
    const double network_ms = lap_ms();
    std::vector<float> features(std::size_t(net.feature_size()));
    net.extract_features(input.data(), 1, features.data());
    const double forward_ms = lap_ms();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::printf("packed-weights cache (%s, one thread): fingerprint (first call) %.1f ms; build (pack every conv layer, write) "
                "%.1f ms; map and check header and entries %.1f ms (fingerprint included); network to %s from the "
                "mapping (XXH64 of its layers) %.1f ms; first forward, batch 1 %.1f ms\n",
                table.isa_name, fingerprint_ms, build_ms, map_ms, layer.c_str(), network_ms, forward_ms);
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
        ("iterations", "timed runs per configuration (the median is reported)",
         cxxopts::value<int>()->default_value("10"))
        ("warmup", "untimed runs before timing", cxxopts::value<int>()->default_value("2"))
        ("compare", "kernel table timed at batch 1 in the same run for the x_<table> ratio, or 'none'",
         cxxopts::value<std::string>()->default_value("eigen"))
        ("per-layer", "also time each layer at the first batch size and every thread count")
        ("tsv", "also print one 'tinception<TAB>batch<TAB>threads<TAB>ms_per_image' line per row")
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
    const int pipes = 2;  // FMA pipes per core on every x86 this build targets (Haswell+, Zen)
    const int lanes = lanes_per_fma_pipe(table.isa_name, cpu);
    std::printf("tinception bench: %s, input %dx%dx%d -> %s, %.3f GFLOP per image (2 x %lld multiply-adds)\n",
                path.c_str(), in.h, in.w, in.c, layer.c_str(), flops_per_image * 1e-9,
                static_cast<long long>(net.multiply_adds_per_image()));
    std::printf("kernels: %s; cpu: %s (%s family %d), %d logical cpus, cpu MHz %.0f\n", table.isa_name,
                cpu.model.c_str(), cpu.vendor.c_str(), cpu.family, cpu.logical_cpus, cpu.mhz);
    std::printf("weight file: open (map, header, table and graph) %.1f ms; data check (CRC-32 of table and "
                "data) %.1f ms; network build (packing in memory) %.1f ms\n",
                open_ms, check_ms, build_ms);
    print_start_up(weights, layer, table, input);
    set_thread_count(cores);
    std::printf("peak formula: threads x %d FMA pipes x %d fp32 lanes x 2 flops x %.3f GHz ('cpu MHz') = %.1f GFLOP/s per thread\n"
                "  ('cpu MHz' can be the base clock while the cores boost above it; the measured peak runs at the real clock)\n",
                pipes, lanes, cpu.mhz * 1e-3, pipes * lanes * 2 * cpu.mhz * 1e-3);

    struct Row { int batch, threads; double ms_per_image; };
    std::vector<Row> rows;
    std::vector<double> measured_peak(threads_list.size(), 0.0);
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
        const int threads = threads_list[ti];
        measured_peak[ti] = measured_peak_flops(table, threads, 0.2);
        if (measured_peak[ti] > 0.0)
            std::printf("measured peak: %s register-only FMA loop, best of 4 x 0.05 s on each of %d thread(s) at once: %.1f GFLOP/s\n",
                        table.isa_name, threads, measured_peak[ti] * 1e-9);
        set_thread_count(threads);
        for (const int batch : batches)
            rows.push_back({batch, threads, 1e3 * median_seconds(net, input, batch, warmup, iterations) / batch});
    }

    if (args.count("per-layer")) print_per_layer(net, input, batches.front(), threads_list, iterations);

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

    std::printf("\n%5s %7s %10s %9s %9s %9s %9s", "batch", "threads", "ms/image", "images/s", "GFLOP/s",
                "%formula", "%measured");
    if (compare != "none") std::printf(" %9s", ("x_" + compare).c_str());
    std::printf("\n");
    for (const Row& r : rows) {
        const std::size_t ti = std::size_t(std::find(threads_list.begin(), threads_list.end(), r.threads) -
                                           threads_list.begin());
        const double gflops = flops_per_image / (r.ms_per_image * 1e-3) * 1e-9;
        const double formula = r.threads * pipes * lanes * 2 * cpu.mhz * 1e-3;
        std::printf("%5d %7d %10.2f %9.2f %9.1f %8.1f%% ", r.batch, r.threads, r.ms_per_image,
                    1e3 / r.ms_per_image, gflops, formula > 0 ? 100.0 * gflops / formula : 0.0);
        if (measured_peak[ti] > 0.0) std::printf("%8.1f%%", 100.0 * gflops / (measured_peak[ti] * 1e-9));
        else std::printf("%9s", "-");
        if (compare != "none") std::printf(" %9.2f", compare_ms[ti] / r.ms_per_image);
        std::printf("\n");
    }
    if (compare != "none")
        for (std::size_t ti = 0; ti < threads_list.size(); ++ti)
            std::printf("%s table, batch 1, %d thread(s): %.2f ms/image\n", compare.c_str(), threads_list[ti],
                        compare_ms[ti]);

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("peak RSS: %.1f MiB (getrusage ru_maxrss, whole run)\n", double(usage.ru_maxrss) / 1024.0);
    if (args.count("tsv"))
        for (const Row& r : rows) std::printf("tinception\t%d\t%d\t%.3f\n", r.batch, r.threads, r.ms_per_image);
    return kExitOk;
}

}  // namespace tinception::cli
