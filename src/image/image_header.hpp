// Width and height read from an image's header bytes alone, so a size limit can be
// enforced, with a clear message, before any decoder allocates for the pixels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace tinception {

struct ImageSize {
    std::int64_t width = 0;
    std::int64_t height = 0;
};

// Empty when a binary PNM's (P5, P6) header is safe for stb_image; otherwise why not.
std::string pnm_header_problem(const std::uint8_t* data, std::size_t size);

// The declared size of a PNG, GIF, BMP, JPEG or PNM, or nothing when the header is not one
// of those or is cut short.
std::optional<ImageSize> read_image_size(const std::uint8_t* data, std::size_t size);

// Empty when a JPEG's marker segments are well formed as far as stb_image relies on them;
// otherwise why not. Checks every Huffman table (DHT) has at most 256 codes and fits its
// segment: the stb_image Debian ships (2.27) indexes past its tables when the counts sum
// over 256 (found by tests/fuzz/fuzz_image_decode), and every scan uses only tables defined
// before it (stb_image reads past an undefined one's). Non-JPEG bytes give "".
std::string jpeg_structure_problem(const std::uint8_t* data, std::size_t size);

// The Exif Orientation tag (1..8) of a JPEG's APP1 segment, or 1 (as stored) when the
// bytes are not a JPEG, carry no Exif block, or the tag is missing or out of range.
int read_jpeg_exif_orientation(const std::uint8_t* data, std::size_t size);

}  // namespace tinception
