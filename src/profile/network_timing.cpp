#include "profile/network_timing.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "error.hpp"
#include "model/network.hpp"
#include "model/packed_cache.hpp"
#include "model/packed_weights.hpp"
#include "quant/int8_network.hpp"
#include "parallel/thread_pool.hpp"
#include "weights/weight_file.hpp"

namespace tinception {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t m = values.size() / 2;
    return values.size() % 2 ? values[m] : 0.5 * (values[m - 1] + values[m]);
}

double median_seconds(const std::function<void()>& run, int warmup, int iterations) {
    for (int i = 0; i < warmup; ++i) run();
    std::vector<double> times;
    for (int i = 0; i < iterations; ++i) {
        const auto start = Clock::now();
        run();
        times.push_back(seconds_since(start));
    }
    return median(times);
}

double median_seconds(Network& net, const std::vector<float>& input, int batch, int warmup, int iterations) {
    std::vector<float> features(std::size_t(batch) * net.feature_size());
    return median_seconds([&] { net.extract_features(input.data(), batch, features.data()); }, warmup, iterations);
}

std::vector<RunTimes> time_interleaved(Network& net, const std::vector<float>& input,
                                       const std::vector<RunConfig>& configs, int warmup, int iterations) {
    int max_batch = 1;
    for (const RunConfig& c : configs) max_batch = std::max(max_batch, c.batch);
    std::vector<float> features(std::size_t(max_batch) * net.feature_size());
    std::vector<RunTimes> times(configs.size());
    const auto run = [&](std::size_t i, bool keep) {
        // The first run after the thread count changes is slower on the machines measured
        // (a Zen 5 VM: 2-thread batch-1 runs by ~4 ms of ~26, whatever the pool does with its
        // threads), as the idle core wakes up; a program keeps its thread count, so the
        // timed run follows an untimed one at the new count.
        const bool switched = configs[i].threads != thread_count();
        set_thread_count(configs[i].threads);
        if (keep && switched) net.extract_features(input.data(), configs[i].batch, features.data());
        const double waited = caller_wait_seconds();
        const auto start = Clock::now();
        net.extract_features(input.data(), configs[i].batch, features.data());
        if (!keep) return;
        times[i].seconds.push_back(seconds_since(start));
        times[i].waiting.push_back(caller_wait_seconds() - waited);
    };
    for (std::size_t i = 0; i < configs.size(); ++i)
        for (int w = 0; w < warmup; ++w) run(i, false);
    for (int round = 0; round < iterations; ++round)
        for (std::size_t i = 0; i < configs.size(); ++i) run(i, true);
    return times;
}

namespace {

template <class Net>
LayerTimes time_steps_of(Net& net, const std::vector<float>& input, int batch, const std::vector<int>& threads_list,
                         int iterations) {
    LayerTimes out;
    out.steps = net.step_descriptions();
    out.multiply_adds = step_multiply_adds(net.plan());
    out.ms.resize(threads_list.size());
    std::vector<float> features(std::size_t(batch) * net.feature_size());
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
        set_thread_count(threads_list[ti]);
        net.extract_features(input.data(), batch, features.data());  // warm-up
        std::vector<std::vector<double>> runs(out.steps.size());
        for (int it = 0; it < iterations; ++it) {
            std::vector<double> seconds;
            net.time_steps(&seconds);
            net.extract_features(input.data(), batch, features.data());
            net.time_steps(nullptr);
            for (std::size_t i = 0; i < out.steps.size(); ++i) runs[i].push_back(seconds[i]);
        }
        for (std::size_t i = 0; i < out.steps.size(); ++i) out.ms[ti].push_back(1e3 * median(runs[i]) / batch);
    }
    return out;
}

}  // namespace

LayerTimes time_layers(Network& net, const std::vector<float>& input, int batch, const std::vector<int>& threads_list,
                       int iterations) {
    return time_steps_of(net, input, batch, threads_list, iterations);
}

LayerTimes time_layers(Int8Network& net, const std::vector<float>& input, int batch,
                       const std::vector<int>& threads_list, int iterations) {
    return time_steps_of(net, input, batch, threads_list, iterations);
}

StartUpTimes time_start_up(const WeightFile& weights, const std::string& layer, const kernels::KernelTable& table,
                           const std::vector<float>& input) {
    std::string dir = (std::filesystem::temp_directory_path() / "tinception-bench-XXXXXX").string();
    if (!::mkdtemp(dir.data())) throw Error(dir + ": cannot create a temporary folder: " + std::strerror(errno));
    auto start = Clock::now();
    const auto lap_ms = [&start] {
        const double ms = 1e3 * seconds_since(start);
        start = Clock::now();
        return ms;
    };
    StartUpTimes t;
    try {
        set_thread_count(1);
        packing_fingerprint(weights.graph(), table);
        t.fingerprint = lap_ms();
        Network(PackedWeights::cached(weights, table, dir), layer);  // packs the layers it needs and writes them
        t.build_cache = lap_ms();
        const auto mapped = PackedWeights::cached(weights, table, dir);
        t.map_cache = lap_ms();
        Network net(mapped, layer);
        t.network = lap_ms();
        std::vector<float> features(std::size_t(net.feature_size()));
        net.extract_features(input.data(), 1, features.data());
        t.first_forward = lap_ms();
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        throw;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return t;
}

}  // namespace tinception
