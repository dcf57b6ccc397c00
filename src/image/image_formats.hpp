// The decoders beside stb_image: for formats it lacks, WebP (libwebp) and TIFF (libtiff), and
// for JPEG, faster and scaled in the DCT, libjpeg-turbo; each optional at build time (-Dwebp,
// -Dtiff, -Dturbojpeg). image_decode.cpp picks one by the bytes' signature, never by the file
// name; a format left out of the build is refused by name (JPEG falls back to stb_image).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
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

// Refuses, naming `name`, a JPEG whose markers are damaged (jpeg_structure_problem), that
// ends before its frame header or has no end-of-image marker: every JPEG decoder checks
// this first, so both give the same reasons. Other bytes pass.
void check_jpeg_complete(const std::uint8_t* data, std::size_t size, const std::string& name);

// JPEG, with DCT scaling down to limits.min_side (see ImageLimits); the Exif orientation is
// not applied. Only in builds with TINCEPTION_HAVE_TURBOJPEG.
ImageRgb8 decode_jpeg_turbo(const std::uint8_t* data, std::size_t size, const std::string& name,
                            const ImageLimits& limits);

// A baseline JPEG at 1/8 of its size, each pixel from its 8x8 blocks' DC coefficients (the
// blocks' means; chroma upsampled linearly), when 1/8 still leaves both sides at least
// limits.min_side (over 0). Nothing when that does not hold, when the file is not a
// single-scan baseline JPEG in grayscale or YCbCr, or when it is damaged in any way: the
// caller then decodes it with a full decoder, which decodes it or says what is wrong. The
// Exif orientation is not applied.
std::optional<ImageRgb8> decode_jpeg_dc_only(const std::uint8_t* data, std::size_t size, const ImageLimits& limits);

// JPEG, PNG, BMP and GIF through stb_image, always at full size; the Exif orientation is
// not applied. decode_image uses it for every format but WebP and TIFF, and
// for JPEG when the build has no libjpeg-turbo; benchmarks compare the two JPEG decoders.
ImageRgb8 decode_with_stb(const std::uint8_t* data, std::size_t size, const std::string& name,
                          const ImageLimits& limits);

// Refuses an image whose width x height is over the limit, with one line naming both.
void check_pixel_limit(std::int64_t width, std::int64_t height, const std::string& name,
                       const ImageLimits& limits);

}  // namespace tinception
