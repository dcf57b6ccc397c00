// Decoding images into 8-bit RGB, with a pixel limit checked from the header before
// any pixel is decoded. Resizing and scaling to float live in preprocess.hpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinception {

struct ImageRgb8 {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels;  // row-major, 3 bytes a pixel, no row padding
};

struct ImageLimits {
    std::int64_t max_pixels = 50'000'000;  // of the image as stored, checked from its header
    // Over 0: a JPEG may be decoded shrunk as long as both sides stay at least this, the
    // network's input size: to 1/8 from its blocks' DC coefficients when that is small enough
    // (decode_jpeg_dc_only), else by libjpeg-turbo's DCT scaling (1/8 to 7/8, in builds that
    // have it); the pixels then differ slightly from a full-size decode's (bench/README.md).
    // 0: every image at its stored size.
    int min_side = 0;
};

// Decodes JPEG (libjpeg-turbo when the build has it, else stb_image), PNG, BMP, GIF (first
// frame), binary PNM (P5/P6), and WebP and TIFF (first image) when the build has them,
// recognised by content whatever the file is named. Grayscale, alpha and 16-bit
// inputs come back as 8-bit RGB (alpha dropped). Throws Error naming `name` when the bytes are not an
// image, are truncated, or exceed the pixel limit.
ImageRgb8 decode_image(const std::uint8_t* data, std::size_t size, const std::string& name,
                       const ImageLimits& limits = {});

// What a feature cache must tell apart about how decode_image decodes these bytes under
// `limits`: for a JPEG that may be shrunk (min_side over 0), "jpeg-dc-dct-scaled" in builds
// with libjpeg-turbo and "jpeg-dc-scaled" in others; else "" (every other image, and every
// image when min_side is 0, decodes at its stored size).
std::string decode_variant(const std::uint8_t* data, std::size_t size, const ImageLimits& limits);

// Reads the whole file, then decode_image.
ImageRgb8 load_image(const std::string& path, const ImageLimits& limits = {});

// "JPEG, PNG, BMP, GIF, PNM, WebP, TIFF": what decode_image reads in this build.
std::string supported_image_formats();

// The format its first bytes announce ("JPEG", "PNG", "GIF", "BMP", "PNM", "WebP", "TIFF"),
// or "" when they are none of these. Signatures only: the file may still be damaged.
std::string image_format_of(const std::uint8_t* data, std::size_t size);

// Empty when the file starts like an image (image_format_of its first bytes); otherwise why
// not: "not a supported image (JPEG, PNG, ...)", "file is empty", or why it cannot be read. Reads 16
// bytes at most, so a folder can be listed by content without decoding anything.
std::string image_file_problem(const std::string& path);

// True when the file name ends in an image extension we decode (case-insensitive).
bool has_image_extension(const std::string& path);

}  // namespace tinception
