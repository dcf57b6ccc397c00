// libFuzzer target for the WebP and TIFF decoders: the first input byte picks the format and
// the rest follows that format's signature, so every input reaches libwebp or libtiff behind
// decode_image's own checks. It must return an image whose pixel count matches its size or
// throw tinception::Error; nothing else.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "error.hpp"
#include "image/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::vector<std::uint8_t> bytes;
    if (data[0] & 1) {  // WebP: "RIFF", the chunk size the rest implies, "WEBP", the rest
        const std::uint32_t riff_size = std::uint32_t(size - 1 + 4);
        bytes = {'R', 'I', 'F', 'F', std::uint8_t(riff_size), std::uint8_t(riff_size >> 8),
                 std::uint8_t(riff_size >> 16), std::uint8_t(riff_size >> 24), 'W', 'E', 'B', 'P'};
    } else {  // TIFF, little- or big-endian by the second bit
        bytes = (data[0] & 2) ? std::vector<std::uint8_t>{'M', 'M', 0, '*'} : std::vector<std::uint8_t>{'I', 'I', '*', 0};
    }
    bytes.insert(bytes.end(), data + 1, data + size);
    tinception::ImageLimits limits;
    limits.max_pixels = 4'000'000;  // keeps one input's decode cheap; the check path is the same
    try {
        const tinception::ImageRgb8 image = tinception::decode_image(bytes.data(), bytes.size(), "fuzz", limits);
        if (image.width <= 0 || image.height <= 0 ||
            image.pixels.size() != std::size_t(image.width) * std::size_t(image.height) * 3)
            __builtin_trap();
    } catch (const tinception::Error&) {
    }
    return 0;
}
