// The tables `tinception bench` prints beside its main one (cmd_bench.cpp): the other
// precisions' rows, the per-layer times, each CPU's rate and the thread scaling. Printing only,
// and the timing of the int8 and bf16 networks those rows need; the measuring itself lives in
// src/profile/.
#pragma once
#include <string>
#include <vector>

#include "profile/machine_peak.hpp"
#include "profile/network_timing.hpp"
#include "weights/weight_file.hpp"

namespace tinception::cli {

// One row of the bench's tables: a batch size and thread count, its median time per image,
// and the share of a run the calling thread waited at parallel_for's barriers.
struct BenchRow {
    int batch, threads;
    double ms_per_image;
    double caller_idle;
};

// The int8 network, calibrated on `input`, and the bf16 one, at each fp32 row's batch and
// thread count, with fp32's time over theirs; return their rows. With fp32_layers
// (--per-layer), also each layer's time against fp32's. int8's rows also give their share of
// the measured peak of the table's dot-product instruction, at the network's
// multiply_adds_per_image.
std::vector<BenchRow> print_int8_rows(const WeightFile& weights, const std::string& layer,
                                      const std::vector<float>& input, const std::vector<BenchRow>& fp32_rows,
                                      int warmup, int iterations, const LayerTimes* fp32_layers,
                                      const std::vector<int>& threads_list, double multiply_adds_per_image);
std::vector<BenchRow> print_bf16_rows(const WeightFile& weights, const std::string& layer,
                                      const std::vector<float>& input, const std::vector<BenchRow>& fp32_rows,
                                      int warmup, int iterations, const LayerTimes* fp32_layers,
                                      const std::vector<int>& threads_list);

// Each CPU alone at the FMA loop, and what that leaves two threads.
void print_cpu_rates(const std::vector<CpuRate>& rates, const char* isa);

// Each thread count against base_threads, per batch, from the same rounds' times.
void print_scaling(const std::vector<RunConfig>& configs, const std::vector<RunTimes>& times, int base_threads);

// Slowest layers first, each with its share of the total at the first thread count.
void print_per_layer(const LayerTimes& t, int batch, const std::vector<int>& threads_list);

// Each layer's time in `precision` against its fp32 time, slowest in fp32 first; with
// peak_macs (multiply-adds per second, per thread count), each layer's share of it.
void print_per_layer_against_fp32(const char* precision, const LayerTimes& fp32, const LayerTimes& other, int batch,
                                  const std::vector<int>& threads_list, const std::vector<double>& peak_macs = {});

}  // namespace tinception::cli
