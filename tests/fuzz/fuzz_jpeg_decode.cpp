// libFuzzer target for the JPEG decoders: the first input byte picks decode_image with
// scaling down to min_side = (byte & 0x7F) (0: full size; the DC-only decoder where 1/8
// leaves min_side, else libjpeg-turbo), or, when its top bit is set, stb_image
// (fuzz_image_decode's JPEGs go to libjpeg-turbo in builds that have it); the rest
// is the file. Each must return an image whose pixel count matches its size, no smaller than
// min_side allows, or throw tinception::Error; nothing else.
#include <cstddef>
#include <cstdint>

#include "error.hpp"
#include "image/image.hpp"
#include "image/image_formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    tinception::ImageLimits limits;
    limits.max_pixels = 4'000'000;  // keeps one input's decode cheap; the check path is the same
    limits.min_side = data[0] & 0x7F;
    const bool use_stb = data[0] & 0x80;
    try {
        const tinception::ImageRgb8 image =
            use_stb ? tinception::decode_with_stb(data + 1, size - 1, "fuzz", limits)
                    : tinception::decode_image(data + 1, size - 1, "fuzz", limits);
        if (image.width <= 0 || image.height <= 0 ||
            image.pixels.size() != std::size_t(image.width) * std::size_t(image.height) * 3)
            __builtin_trap();
    } catch (const tinception::Error&) {
    }
    return 0;
}
