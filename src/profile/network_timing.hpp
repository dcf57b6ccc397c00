// Timing a network as `tinception bench` reports it: medians over repeated runs, per layer
// at several thread counts, and start-up step by step. Measures; asserts nothing.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel_table.hpp"

namespace tinception {

class Network;
class Int8Network;
class WeightFile;

double median(std::vector<double> values);

// Median seconds per extract_features call of `batch` images over `iterations` runs, after
// `warmup` untimed runs; `input` holds at least `batch` images.
double median_seconds(Network& net, const std::vector<float>& input, int batch, int warmup, int iterations);
// The same for any run: `warmup` untimed calls, then the median of `iterations` timed ones.
double median_seconds(const std::function<void()>& run, int warmup, int iterations);

// Several (batch, threads) configurations timed in rounds: after `warmup` untimed runs of
// each, every round runs each configuration once, so all of them see the same moments of a
// machine whose speed drifts (a shared or virtual one), and ratios between them can be taken
// round by round; a timed run whose thread count differs from the run before it follows an
// untimed run at its own count. Per run: the time of one extract_features call, and the part of it the
// calling thread spent waiting at the end of a parallel_for for other threads' tasks.
struct RunConfig {
    int batch, threads;
};
struct RunTimes {
    std::vector<double> seconds, waiting;  // [round]
};
std::vector<RunTimes> time_interleaved(Network& net, const std::vector<float>& input,
                                       const std::vector<RunConfig>& configs, int warmup, int iterations);

struct LayerTimes {
    std::vector<std::string> steps;       // the network's steps, input first
    std::vector<std::vector<double>> ms;  // [thread config][step]: median ms per image
    std::vector<std::int64_t> multiply_adds;  // [step]: per image, step_multiply_adds
};
LayerTimes time_layers(Network& net, const std::vector<float>& input, int batch, const std::vector<int>& threads_list,
                       int iterations);
LayerTimes time_layers(Int8Network& net, const std::vector<float>& input, int batch,
                       const std::vector<int>& threads_list, int iterations);

// Start-up on one thread, in milliseconds: the packed-weights cache built in a fresh temporary
// folder (the user's cache is left alone) by a network to `layer` (the layers it needs packed
// and written), then mapped, a network built from it and run once.
struct StartUpTimes {
    double fingerprint = 0, build_cache = 0, map_cache = 0, network = 0, first_forward = 0;
};
StartUpTimes time_start_up(const WeightFile& weights, const std::string& layer, const kernels::KernelTable& table,
                           const std::vector<float>& input);

}  // namespace tinception
