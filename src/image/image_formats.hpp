// The decoders beside stb_image, for formats it lacks: WebP (libwebp) and TIFF (libtiff),
// each optional at build time (-Dwebp, -Dtiff). image_decode.cpp picks one by the bytes'
// signature, never by the file name; a format left out of the build is refused by name.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/image.hpp"

namespace tinception {

bool is_webp(const std::uint8_t* data, std::size_t size);  // "RIFF" size "WEBP"
bool is_tiff(const std::uint8_t* data, std::size_t size);  // "II*\0" or "MM\0*"

// Both read the declared size first and refuse an image over limits.max_pixels before any
// pixel buffer is allocated; both throw Error naming `name` on damaged or truncated bytes.
ImageRgb8 decode_webp(const std::uint8_t* data, std::size_t size, const std::string& name,
                      const ImageLimits& limits);
// The first image of the file, upright as its Orientation tag says.
ImageRgb8 decode_tiff(const std::uint8_t* data, std::size_t size, const std::string& name,
                      const ImageLimits& limits);

// Refuses an image whose width x height is over the limit, with one line naming both.
void check_pixel_limit(std::int64_t width, std::int64_t height, const std::string& name,
                       const ImageLimits& limits);

}  // namespace tinception
