// Width and height read from an image's header bytes alone, so a size limit can be
// enforced, with a clear message, before any decoder allocates for the pixels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

namespace tinception {

struct ImageSize {
    std::int64_t width = 0;
    std::int64_t height = 0;
};

// The declared size of a PNG, GIF, BMP or JPEG, or nothing when the header is not one
// of those or is cut short.
std::optional<ImageSize> read_image_size(const std::uint8_t* data, std::size_t size);

}  // namespace tinception
