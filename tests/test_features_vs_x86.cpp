// Cross builds only: the real weights on noise_image.hpp's input with this machine's active
// kernels (under QEMU: the NEON table) against the x86 reference kernels' features, which
// tools/test_arm64.sh writes with noise_features before the cross-built tests run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "file_io.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "noise_image.hpp"

using namespace tinception;

namespace {

// A missing input is a failure, never a skip: a suite that quietly runs nothing looks green.
std::string required_env(const char* name) {
    const std::string variable = name;  // doctest would print a const char* as a pointer
    const char* value = std::getenv(name);
    REQUIRE_MESSAGE((value && *value), variable << " is not set; run tools/test_arm64.sh");
    return value;
}

}  // namespace

TEST_CASE("features of a noise image: the active kernels match x86's reference kernels within 1e-4") {
    const std::string active = active_kernels().isa_name;
    MESSAGE("active kernels: " << active);
    const char* forced = std::getenv("TINCEPTION_ISA");
    if (kernels::neon_kernels() && !(forced && *forced)) CHECK(active == "neon");

    const std::vector<std::uint8_t> bytes = read_file_bytes(required_env("TINCEPTION_X86_FEATURES"));
    std::vector<float> expected(bytes.size() / sizeof(float));
    std::memcpy(expected.data(), bytes.data(), expected.size() * sizeof(float));

    FeatureExtractor extractor(required_env("TINCEPTION_WEIGHTS"), testing::kNoiseLayer);
    const std::vector<float> input = testing::noise_image(extractor.preprocessing().size, testing::kNoiseSeed);
    const std::vector<float> actual = extractor.extract_preprocessed(input.data(), 1);
    REQUIRE(bytes.size() == actual.size() * sizeof(float));

    double scale = 0.0, diff = 0.0;
    for (std::size_t i = 0; i < actual.size(); ++i) {
        scale = std::max(scale, double(std::fabs(expected[i])));
        diff = std::max(diff, double(std::fabs(expected[i] - actual[i])));
    }
    MESSAGE(std::string(testing::kNoiseLayer) << ": " << active << " vs x86 reference max |diff| = " << diff << " (max |ref| "
                                 << scale << ", " << actual.size() << " features)");
    CHECK(scale > 0.0);
    CHECK(diff <= 1e-4 * scale);
}
