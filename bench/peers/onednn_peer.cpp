// oneDNN peer for tinception's whole-trunk benchmark (bench/peers/run_peers.sh): the weight
// file's Inception v3 trunk built from oneDNN primitives (onednn_trunk.hpp), with direct
// convolutions and with Winograd for the 3x3 stride-1 ones.
//
//   onednn_peer time WEIGHTS BATCHES THREADS ITERATIONS   e.g. time w.tcw 1,8 1,2 10: TSV rows
//       "onednn_direct|onednn_winograd <tab> batch <tab> threads <tab> ms/image" on stdout, the
//       median of ITERATIONS runs after two warm-up runs; the kernels oneDNN chose on stderr.
//   onednn_peer check WEIGHTS IMAGE FEATURES.f32
//       IMAGE decoded and preprocessed by tinception's library (exact decode), run through both
//       trunks, compared with FEATURES.f32 (`tinception embed WEIGHTS IMAGE --layer mixed10
//       --exact-decode -o FEATURES.f32`); exit 1 when either is outside the tolerance.
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
using peer::OnednnTrunk;

const char* const kOutputLayer = "mixed10";  // as `tinception bench`: the 2048 pooled features
constexpr ConvAlgorithm kAlgorithms[] = {ConvAlgorithm::direct, ConvAlgorithm::winograd};
// Features agree when their cosine is above this and no value differs by more than
// kMaxRelativeDiff of the largest feature: float sums in another order (and Winograd's
// transforms) move the last digits, never more.
constexpr double kMinCosine = 0.99999;
constexpr double kMaxRelativeDiff = 1e-3;

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
std::string dispatch_report(const OnednnTrunk& trunk, ConvAlgorithm algorithm) {
    std::ostringstream out;
    out << "# oneDNN " << algorithm_name(algorithm) << " trunk, batch " << trunk.batch() << ", "
        << omp_get_max_threads() << " threads:\n";
    for (const auto& [impl, count] : trunk.implementations()) out << "#   " << count << " x " << impl << '\n';
    if (algorithm == ConvAlgorithm::winograd) {
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
             int iterations) {
    const tinception::WeightFile weights = tinception::WeightFile::open(weights_path);
    const tinception::ActivationShape in = weights.graph().layers().front().shape;
    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::set<std::string> reported;  // each distinct dispatch printed once
    std::mt19937 random(1234);
    std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
    for (const int threads : threads_list) {
        omp_set_num_threads(threads);  // before building: oneDNN blocks its kernels for this count
        for (const int batch : batches) {
            std::vector<float> input(std::size_t(batch) * in.h * in.w * in.c);
            for (float& v : input) v = pixel(random);
            for (const ConvAlgorithm algorithm : kAlgorithms) {
                OnednnTrunk trunk(weights, kOutputLayer, batch, algorithm, engine);
                std::vector<float> features(std::size_t(batch) * trunk.feature_size());
                const double ms = median_ms(trunk, stream, input, features, iterations);
                std::cout << "onednn_" << algorithm_name(algorithm) << '\t' << batch << '\t' << threads << '\t'
                          << ms / batch << std::endl;
                std::string report = dispatch_report(trunk, algorithm);
                const std::string kernels = report.substr(report.find('\n'));
                if (reported.insert(std::string(algorithm_name(algorithm)) + kernels).second) std::cerr << report;
            }
        }
    }
    return 0;
}

int run_check(const std::string& weights_path, const std::string& image_path, const std::string& features_path) {
    const tinception::WeightFile weights = tinception::WeightFile::open(weights_path);
    const tinception::Preprocessing p = tinception::preprocessing_of(weights);
    std::vector<float> input(std::size_t(p.size) * p.size * 3);
    tinception::preprocess(tinception::load_image(image_path, tinception::decode_limits(p, tinception::DecodeMode::exact)),
                           p, input.data());
    const std::vector<std::uint8_t> bytes = tinception::read_file_bytes(features_path);
    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    bool all_close = true;
    for (const ConvAlgorithm algorithm : kAlgorithms) {
        OnednnTrunk trunk(weights, kOutputLayer, 1, algorithm, engine);
        const std::size_t n = std::size_t(trunk.feature_size());
        if (bytes.size() != n * sizeof(float))
            throw std::runtime_error(features_path + " holds " + std::to_string(bytes.size()) + " bytes, expected " +
                                     std::to_string(n) + " float32 features of " + kOutputLayer);
        std::vector<float> expected(n), actual(n);
        std::memcpy(expected.data(), bytes.data(), bytes.size());
        trunk.run(stream, input.data(), actual.data());
        double max_diff = 0.0, max_value = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            max_diff = std::max(max_diff, std::fabs(double(actual[i]) - expected[i]));
            max_value = std::max(max_value, std::fabs(double(expected[i])));
        }
        const double cosine = tinception::testing::cosine(actual.data(), expected.data(), n);
        const bool close = cosine > kMinCosine && max_diff <= kMaxRelativeDiff * max_value;
        all_close = all_close && close;
        std::printf("onednn_%s vs tinception embed on %s (%zu features of %s): cosine %.9f (1 - cosine %.1e), "
                    "max abs diff %.2e, largest feature %.3f: %s (needs cosine > %g, max abs diff <= %g x largest)\n",
                    algorithm_name(algorithm), image_path.c_str(), n, kOutputLayer, cosine, 1.0 - cosine, max_diff,
                    max_value, close ? "match" : "MISMATCH", kMinCosine, kMaxRelativeDiff);
    }
    return all_close ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        if (args.size() == 5 && args[0] == "time") {
            print_library();
            return run_time(args[1], int_list(args[2]), int_list(args[3]), int_list(args[4]).front());
        }
        if (args.size() == 4 && args[0] == "check") return run_check(args[1], args[2], args[3]);
        std::cerr << "usage: onednn_peer time WEIGHTS BATCHES THREADS ITERATIONS\n"
                     "       onednn_peer check WEIGHTS IMAGE FEATURES.f32\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "onednn_peer: error: " << e.what() << '\n';
        return 1;
    }
}
