// libFuzzer target: decode_image on arbitrary bytes must either return an image whose
// pixel count matches its size or throw tinception::Error; nothing else. stb_image is
// compiled into this target from stb_image_instrumented.cpp (its definitions take
// precedence over the system libstb's) so the fuzzer sees its branches and the sanitizers
// check its memory accesses.
#include <cstddef>
#include <cstdint>

#include "error.hpp"
#include "image/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    tinception::ImageLimits limits;
    limits.max_pixels = 4'000'000;  // keeps one input's decode cheap; the check path is the same
    try {
        const tinception::ImageRgb8 image = tinception::decode_image(data, size, "fuzz", limits);
        if (image.width <= 0 || image.height <= 0 ||
            image.pixels.size() != std::size_t(image.width) * std::size_t(image.height) * 3)
            __builtin_trap();
    } catch (const tinception::Error&) {
    }
    return 0;
}
