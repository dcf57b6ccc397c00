// oneDNN peer for tinception's whole-trunk benchmarks (bench/peers/run_peers.sh,
// run_quant_peers.sh): the weight file's Inception v3 trunk built from oneDNN primitives
// (onednn_trunk.hpp): in fp32 with direct convolutions and with Winograd for the 3x3 stride-1
// ones, in int8 (u8 x s8, direct) and in bf16 (direct).
//
//   onednn_peer time WEIGHTS BATCHES THREADS ITERATIONS [PRECISIONS]
//       e.g. time w.tcw 1,8 1,2 10 fp32,int8,bf16: TSV rows "engine <tab> batch <tab> threads
//       <tab> ms/image" on stdout, engine onednn_direct and onednn_winograd (fp32, the default),
//       onednn_int8, onednn_bf16; the median of ITERATIONS runs after two warm-up runs; the
//       kernels oneDNN chose on stderr.
//   onednn_peer check WEIGHTS IMAGE FEATURES.f32 [PRECISIONS]
//       IMAGE decoded and preprocessed by tinception's library (exact decode), run through the
//       trunks, compared with FEATURES.f32 (`tinception embed WEIGHTS IMAGE --layer mixed10
//       --exact-decode -o FEATURES.f32`); exit 1 when one is outside its tolerance.
//
// int8 calibration: the largest value of each layer's output in an fp32 trunk run on
// calibration images, nothing clipped. `time` calibrates on one image of its own uniform
// [0, 1) input, as `tinception bench --precision int8` calibrates on its bench input (speed
// does not depend on the values); `check` calibrates on the checked image itself, and prints
// the cosine with the timing calibration too, for information.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "feature_similarity.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "model/feature_extractor.hpp"
#include "onednn_trunk.hpp"

namespace {

using peer::ConvAlgorithm;
using peer::LayerMaxima;
using peer::OnednnTrunk;
using peer::Precision;

const char* const kOutputLayer = "mixed10";  // as `tinception bench`: the 2048 pooled features
constexpr ConvAlgorithm kAlgorithms[] = {ConvAlgorithm::direct, ConvAlgorithm::winograd};
// Features agree when their cosine is above this and no value differs by more than
// kMaxRelativeDiff of the largest feature: float sums in another order (and Winograd's
// transforms) move the last digits, never more.
constexpr double kMinCosine = 0.99999;
constexpr double kMaxRelativeDiff = 1e-3;
// Rounded precisions are checked on the cosine alone: int8 is a speed peer, its features need
// only be roughly those of fp32; bf16 keeps 8 significant bits per value.
constexpr double kMinCosineInt8 = 0.99;
constexpr double kMinCosineBf16 = 0.999;

std::vector<Precision> precision_list(const std::string& text) {
    std::vector<Precision> values;
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        if (item == "fp32") values.push_back(Precision::fp32);
        else if (item == "int8") values.push_back(Precision::int8);
        else if (item == "bf16") values.push_back(Precision::bf16);
        else throw std::runtime_error("'" + text + "' is not a list of precisions fp32, int8, bf16");
    }
    return values;
}

// The TSV engine name: fp32 rows name their convolution algorithm.
std::string engine_name(Precision precision, ConvAlgorithm algorithm) {
    return std::string("onednn_") + (precision == Precision::fp32 ? algorithm_name(algorithm) : precision_name(precision));
}

// `n` images of uniform [0, 1) values, the same every run.
std::vector<float> timing_input(const tinception::ActivationShape& in, int n, unsigned seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
    std::vector<float> input(std::size_t(n) * in.h * in.w * in.c);
    for (float& v : input) v = pixel(random);
    return input;
}

// Each layer's largest output over `n` images, from an fp32 trunk with direct convolutions.
LayerMaxima calibrate(const tinception::WeightFile& weights, const dnnl::engine& engine, const float* images, int n) {
    OnednnTrunk fp32(weights, kOutputLayer, n, ConvAlgorithm::direct, engine);
    std::vector<float> features(std::size_t(n) * fp32.feature_size());
    dnnl::stream stream(engine);
    fp32.run(stream, images, features.data());
    return fp32.layer_maxima();
}

std::vector<int> int_list(const std::string& text) {
    std::vector<int> values;
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        const int value = std::stoi(item);
        if (value < 1 || value > 1024) throw std::runtime_error("'" + text + "' is not a list of counts 1..1024");
        values.push_back(value);
    }
    return values;
}

const char* isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

void print_library() {
    const dnnl_version_t* v = dnnl_version();
    std::cerr << "# oneDNN " << v->major << '.' << v->minor << '.' << v->patch << ", CPU runtime "
              << (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "not OpenMP") << ", ISA "
              << isa_name(dnnl::get_effective_cpu_isa()) << '\n';
}

// The kernels oneDNN chose, one line per primitive kind and implementation.
std::string dispatch_report(const OnednnTrunk& trunk, Precision precision, ConvAlgorithm algorithm) {
    std::ostringstream out;
    out << "# oneDNN " << precision_name(precision) << ' ' << algorithm_name(algorithm) << " trunk, batch "
        << trunk.batch() << ", " << omp_get_max_threads() << " threads:\n";
    for (const auto& [impl, count] : trunk.implementations()) out << "#   " << count << " x " << impl << '\n';
    if (precision == Precision::fp32 && algorithm == ConvAlgorithm::winograd) {
        const std::size_t refused = trunk.winograd_refused().size();
        out << "#   Winograd: " << trunk.winograd_candidates() - int(refused) << " of " << trunk.winograd_candidates()
            << " 3x3 stride-1 convolutions";
        if (refused) out << "; oneDNN has no Winograd implementation for the other " << refused
                         << " here, so they run direct";
        out << '\n';
    }
    return out.str();
}

double median_ms(OnednnTrunk& trunk, dnnl::stream& stream, const std::vector<float>& input,
                 std::vector<float>& features, int iterations) {
    for (int i = 0; i < 2; ++i) trunk.run(stream, input.data(), features.data());
    std::vector<double> ms;
    for (int i = 0; i < iterations; ++i) {
        const auto start = std::chrono::steady_clock::now();
        trunk.run(stream, input.data(), features.data());
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    const std::size_t m = ms.size() / 2;
    return ms.size() % 2 ? ms[m] : 0.5 * (ms[m - 1] + ms[m]);
}

int run_time(const std::string& weights_path, const std::vector<int>& batches, const std::vector<int>& threads_list,
             int iterations, const std::vector<Precision>& precisions) {
    const tinception::WeightFile weights = tinception::WeightFile::open(weights_path);
    const tinception::ActivationShape in = weights.graph().layers().front().shape;
    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::set<std::string> reported;  // each distinct dispatch printed once
    const bool any_int8 = std::find(precisions.begin(), precisions.end(), Precision::int8) != precisions.end();
    const LayerMaxima maxima = any_int8 ? calibrate(weights, engine, timing_input(in, 1, 1234).data(), 1) : LayerMaxima{};
    for (const int threads : threads_list) {
        omp_set_num_threads(threads);  // before building: oneDNN blocks its kernels for this count
        for (const int batch : batches) {
            const std::vector<float> input = timing_input(in, batch, 1234);
            for (const Precision precision : precisions) {
                for (const ConvAlgorithm algorithm : kAlgorithms) {
                    if (precision != Precision::fp32 && algorithm != ConvAlgorithm::direct) continue;
                    OnednnTrunk trunk(weights, kOutputLayer, batch, algorithm, engine, precision, maxima);
                    std::vector<float> features(std::size_t(batch) * trunk.feature_size());
                    const double ms = median_ms(trunk, stream, input, features, iterations);
                    const std::string engine_row = engine_name(precision, algorithm);
                    std::cout << engine_row << '\t' << batch << '\t' << threads << '\t' << ms / batch << std::endl;
                    std::string report = dispatch_report(trunk, precision, algorithm);
                    const std::string kernels = report.substr(report.find('\n'));
                    if (reported.insert(engine_row + kernels).second) std::cerr << report;
                }
            }
        }
    }
    return 0;
}

int run_check(const std::string& weights_path, const std::string& image_path, const std::string& features_path,
              const std::vector<Precision>& precisions) {
    const tinception::WeightFile weights = tinception::WeightFile::open(weights_path);
    const tinception::Preprocessing p = tinception::preprocessing_of(weights);
    std::vector<float> input(std::size_t(p.size) * p.size * 3);
    tinception::preprocess(tinception::load_image(image_path, tinception::decode_limits(p, tinception::DecodeMode::exact)),
                           p, input.data());
    const std::vector<std::uint8_t> bytes = tinception::read_file_bytes(features_path);
    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const auto features_of = [&](OnednnTrunk& trunk) {
        const std::size_t n = std::size_t(trunk.feature_size());
        if (bytes.size() != n * sizeof(float))
            throw std::runtime_error(features_path + " holds " + std::to_string(bytes.size()) + " bytes, expected " +
                                     std::to_string(n) + " float32 features of " + kOutputLayer);
        std::vector<float> actual(n);
        trunk.run(stream, input.data(), actual.data());
        return actual;
    };
    std::vector<float> expected(bytes.size() / sizeof(float));
    std::memcpy(expected.data(), bytes.data(), expected.size() * sizeof(float));
    const auto cosine_of = [&](const std::vector<float>& actual) {
        return tinception::testing::cosine(actual.data(), expected.data(), expected.size());
    };
    bool all_close = true;
    for (const Precision precision : precisions) {
        for (const ConvAlgorithm algorithm : kAlgorithms) {
            if (precision != Precision::fp32 && algorithm != ConvAlgorithm::direct) continue;
            const LayerMaxima maxima = precision == Precision::int8 ? calibrate(weights, engine, input.data(), 1)
                                                                     : LayerMaxima{};
            OnednnTrunk trunk(weights, kOutputLayer, 1, algorithm, engine, precision, maxima);
            const std::vector<float> actual = features_of(trunk);
            double max_diff = 0.0, max_value = 0.0;
            for (std::size_t i = 0; i < actual.size(); ++i) {
                max_diff = std::max(max_diff, std::fabs(double(actual[i]) - expected[i]));
                max_value = std::max(max_value, std::fabs(double(expected[i])));
            }
            const double cosine = cosine_of(actual);
            const double min_cosine = precision == Precision::int8   ? kMinCosineInt8
                                      : precision == Precision::bf16 ? kMinCosineBf16
                                                                     : kMinCosine;
            const bool close = cosine > min_cosine && (precision != Precision::fp32 || max_diff <= kMaxRelativeDiff * max_value);
            all_close = all_close && close;
            std::printf("%s vs tinception embed on %s (%zu features of %s): cosine %.9f (1 - cosine %.1e), "
                        "max abs diff %.2e, largest feature %.3f: %s (needs cosine > %g",
                        engine_name(precision, algorithm).c_str(), image_path.c_str(), actual.size(), kOutputLayer,
                        cosine, 1.0 - cosine, max_diff, max_value, close ? "match" : "MISMATCH", min_cosine);
            if (precision == Precision::fp32) std::printf(", max abs diff <= %g x largest", kMaxRelativeDiff);
            if (precision == Precision::int8) {
                std::printf("; calibrated on this image");
                const tinception::ActivationShape in = weights.graph().layers().front().shape;
                OnednnTrunk timed(weights, kOutputLayer, 1, algorithm, engine, precision,
                                  calibrate(weights, engine, timing_input(in, 1, 1234).data(), 1));
                std::printf("; calibrated on the timing input instead: cosine %.6f", cosine_of(features_of(timed)));
            }
            std::printf(")\n");
        }
    }
    return all_close ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        if ((args.size() == 5 || args.size() == 6) && args[0] == "time") {
            print_library();
            return run_time(args[1], int_list(args[2]), int_list(args[3]), int_list(args[4]).front(),
                            precision_list(args.size() == 6 ? args[5] : "fp32"));
        }
        if ((args.size() == 4 || args.size() == 5) && args[0] == "check")
            return run_check(args[1], args[2], args[3], precision_list(args.size() == 5 ? args[4] : "fp32"));
        std::cerr << "usage: onednn_peer time WEIGHTS BATCHES THREADS ITERATIONS [fp32,int8,bf16]\n"
                     "       onednn_peer check WEIGHTS IMAGE FEATURES.f32 [fp32,int8,bf16]\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "onednn_peer: error: " << e.what() << '\n';
        return 1;
    }
}
