// Header parsing for the four formats we decode; only sizes, nothing else.
#include "image/image_header.hpp"

#include <cstdlib>

namespace tinception {
namespace {

std::uint32_t be16(const std::uint8_t* p) { return std::uint32_t(p[0]) << 8 | p[1]; }
std::uint32_t be32(const std::uint8_t* p) { return be16(p) << 16 | be16(p + 2); }
std::uint32_t le16(const std::uint8_t* p) { return std::uint32_t(p[1]) << 8 | p[0]; }
std::int32_t le32(const std::uint8_t* p) { return std::int32_t(le16(p + 2) << 16 | le16(p)); }

// Walks JPEG marker segments up to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC).
std::optional<ImageSize> jpeg_size(const std::uint8_t* d, std::size_t n) {
    std::size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF) return std::nullopt;
        const std::uint8_t marker = d[i + 1];
        if (marker == 0xFF) { ++i; continue; }  // fill byte
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }
        const std::size_t length = be16(d + i + 2);
        if (length < 2) return std::nullopt;
        const bool is_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
                              marker != 0xC8 && marker != 0xCC;
        if (is_frame) {
            if (i + 9 > n) return std::nullopt;
            return ImageSize{be16(d + i + 7), be16(d + i + 5)};
        }
        i += 2 + length;
    }
    return std::nullopt;
}

}  // namespace

std::optional<ImageSize> read_image_size(const std::uint8_t* d, std::size_t n) {
    if (n >= 24 && d[0] == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G')
        return ImageSize{be32(d + 16), be32(d + 20)};
    if (n >= 10 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F')
        return ImageSize{le16(d + 6), le16(d + 8)};
    if (n >= 26 && d[0] == 'B' && d[1] == 'M')  // height is negative for top-down bitmaps
        return ImageSize{std::abs(std::int64_t(le32(d + 18))), std::abs(std::int64_t(le32(d + 22)))};
    if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) return jpeg_size(d, n);
    return std::nullopt;
}

}  // namespace tinception
