// noise_features WEIGHTS OUT.f32: writes the features of noise_image.hpp's input at its layer,
// computed with the active kernels (TINCEPTION_ISA forces a set), as raw float32. The ARM
// stage (tools/test_arm64.sh) writes the x86 reference kernels' file with it, and the cross
// build's features_vs_x86 test compares the NEON table's features against that file.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "file_io.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "noise_image.hpp"

int main(int argc, char** argv) {
    using namespace tinception;
    if (argc != 3) {
        std::fprintf(stderr, "usage: noise_features WEIGHTS OUT.f32\n");
        return 2;
    }
    try {
        FeatureExtractor extractor(argv[1], testing::kNoiseLayer);
        const std::vector<float> input = testing::noise_image(extractor.preprocessing().size, testing::kNoiseSeed);
        const std::vector<float> features = extractor.extract_preprocessed(input.data(), 1);
        write_file_atomically(argv[2], features.data(), features.size() * sizeof(float));
        std::printf("noise_features: %zu features at %s with the %s kernels -> %s\n", features.size(),
                    testing::kNoiseLayer, active_kernels().isa_name, argv[2]);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "noise_features: error: %s\n", e.what());
        return 1;
    }
}
