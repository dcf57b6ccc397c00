// Header parsing for the four formats we decode: sizes, and a JPEG's Exif orientation.
#include "image/image_header.hpp"

#include <array>
#include <cstdlib>
#include <cstring>

#include "image/byte_order.hpp"

namespace tinception {
namespace {

using bytes::be16;
using bytes::be32;
using bytes::le16;
using bytes::le32;

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

// Orientation from one APP1 payload: "Exif\0\0", a TIFF header (II or MM), IFD0 entries of
// 12 bytes each (tag, type, count, value); tag 0x0112 is a SHORT stored in the value field.
int exif_orientation(const std::uint8_t* p, std::size_t n) {
    if (n < 14 || p[0] != 'E' || p[1] != 'x' || p[2] != 'i' || p[3] != 'f' || p[4] != 0 || p[5] != 0) return 1;
    const std::uint8_t* tiff = p + 6;
    const std::size_t tiff_size = n - 6;
    const bool little = tiff[0] == 'I' && tiff[1] == 'I';
    if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
    const auto u16 = [little](const std::uint8_t* q) { return little ? le16(q) : be16(q); };
    const auto u32 = [little](const std::uint8_t* q) {
        return little ? std::uint32_t(le16(q + 2) << 16 | le16(q)) : be32(q);
    };
    if (u16(tiff + 2) != 42) return 1;
    const std::size_t ifd = u32(tiff + 4);
    if (ifd > tiff_size || tiff_size - ifd < 2) return 1;
    const std::size_t count = u16(tiff + ifd);
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t entry = ifd + 2 + 12 * k;
        if (entry > tiff_size || tiff_size - entry < 12) return 1;
        if (u16(tiff + entry) != 0x0112) continue;
        if (u16(tiff + entry + 2) != 3) return 1;  // not a SHORT
        const std::uint32_t value = u16(tiff + entry + 8);
        return value >= 1 && value <= 8 ? int(value) : 1;
    }
    return 1;
}

// One DHT segment's payload: tables of class/id, 16 code counts, then that many symbols.
// `available` may be less than `length` when the file ends inside the segment; stb_image
// then reads zeros, so only the counts actually present can overflow its tables.
// Marks each table it holds in defined[class][id].
std::string dht_problem(const std::uint8_t* p, std::size_t length, std::size_t available, bool (&defined)[2][4]) {
    std::size_t i = 0;
    while (i < length) {
        if (i >= available) return "";
        if ((p[i] >> 4) > 1 || (p[i] & 15) > 3) return "a Huffman table has an invalid class or id";
        defined[p[i] >> 4][p[i] & 15] = true;
        std::size_t codes = 0;
        for (std::size_t k = 1; k <= 16 && i + k < available; ++k) codes += p[i + k];
        if (codes > 256) return "a Huffman table declares " + std::to_string(codes) + " codes (at most 256)";
        // stb_image keeps reading past the segment's end: a table cut short by it is refused.
        if (length - i < 17 + codes) return "a Huffman table runs past the end of its segment";
        i += 17 + codes;
    }
    return "";
}

// One start-of-scan header: Ns, Ns x (component, DC table << 4 | AC table), Ss, Se, Ah << 4 | Al.
// stb_image decodes with whatever tables the scan names, and reads past the end of one that
// was never defined (found by tests/fuzz/fuzz_jpeg_decode), so a scan must name defined ones:
// baseline scans both, a progressive first DC scan its DC table, an AC scan its AC table.
std::string scan_tables_problem(const std::uint8_t* p, std::size_t length, bool progressive,
                                const bool (&defined)[2][4]) {
    if (length < 1 || length < 1 + 2 * std::size_t(p[0]) + 3) return "";  // stb_image refuses it itself
    const std::size_t components = p[0];
    const std::uint8_t spectral_start = p[1 + 2 * components], approximation_high = p[3 + 2 * components] >> 4;
    const bool uses_dc = !progressive || (spectral_start == 0 && approximation_high == 0);
    const bool uses_ac = !progressive || spectral_start > 0;
    for (std::size_t k = 0; k < components; ++k) {
        const int dc = p[2 + 2 * k] >> 4, ac = p[2 + 2 * k] & 15;
        if ((uses_dc && (dc > 3 || !defined[0][dc])) || (uses_ac && (ac > 3 || !defined[1][ac])))
            return "a scan uses a Huffman table that is not defined";
    }
    return "";
}

bool is_pnm(const std::uint8_t* d, std::size_t n) {
    return n >= 3 && d[0] == 'P' && (d[1] == '5' || d[1] == '6');
}

// The three numbers of a binary PNM header (width, height, maximum value), read the way
// stb_image reads them: whitespace and '#' comments skipped, then a run of digits. A run over
// nine digits would overflow stb_image's int (found by tests/fuzz/fuzz_image_decode): nothing.
std::optional<std::array<std::int64_t, 3>> pnm_numbers(const std::uint8_t* d, std::size_t n) {
    const auto is_space = [](std::uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    std::array<std::int64_t, 3> numbers{};
    std::size_t i = 2;
    for (std::int64_t& number : numbers) {
        for (;;) {
            while (i < n && is_space(d[i])) ++i;
            if (i >= n || d[i] != '#') break;
            while (i < n && d[i] != '\n' && d[i] != '\r') ++i;
        }
        std::size_t digits = 0;
        for (; i < n && d[i] >= '0' && d[i] <= '9'; ++i, ++digits) {
            if (digits == 9) return std::nullopt;
            number = number * 10 + (d[i] - '0');
        }
    }
    return numbers;
}

}  // namespace

std::string pnm_header_problem(const std::uint8_t* d, std::size_t n) {
    if (!is_pnm(d, n)) return "";
    const auto numbers = pnm_numbers(d, n);
    if (!numbers) return "a number in its header has more than nine digits";
    // stb_image 2.27 allocates 8-bit room for 16-bit samples and reads past it converting them
    // (found by tests/fuzz/fuzz_jpeg_decode): a maximum value over 255 is refused.
    if ((*numbers)[2] > 255)
        return "16-bit samples (maximum value " + std::to_string((*numbers)[2]) + ") are not supported";
    return "";
}

// Walks the markers the way stb_image finds them: bytes between segments are skipped up to
// the next 0xFF, fill bytes are skipped, and after a start-of-scan the entropy-coded data
// runs to the next marker that is neither a stuffed 0xFF00 nor a restart marker.
std::string jpeg_structure_problem(const std::uint8_t* d, std::size_t n) {
    // stb_image accepts fill bytes before the start-of-image marker too: FF FF D8.
    std::size_t i = 0;
    while (i < n && d[i] == 0xFF) ++i;
    if (i == 0 || i >= n || d[i] != 0xD8) return "";
    ++i;
    bool defined[2][4] = {};
    bool progressive = false;
    while (i < n) {
        if (d[i] != 0xFF) { ++i; continue; }
        while (i < n && d[i] == 0xFF) ++i;
        if (i >= n) break;
        const std::uint8_t marker = d[i++];
        if (marker == 0xD9) break;
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
        if (n - i < 2) break;
        const std::size_t length = be16(d + i);
        if (length < 2) break;
        if (marker == 0xC2) progressive = true;
        if (marker == 0xC4 || marker == 0xDA) {
            const std::string problem = marker == 0xC4 ? dht_problem(d + i + 2, length - 2, n - i - 2, defined)
                                        : n - i >= length ? scan_tables_problem(d + i + 2, length - 2, progressive, defined)
                                                          : "";
            if (!problem.empty()) return problem;
        }
        i += length;
        if (marker == 0xDA)  // memchr to each 0xFF: megabytes of entropy-coded data hold few
            while (i + 1 < n && !(d[i] == 0xFF && d[i + 1] != 0x00 && !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7))) {
                const void* ff = std::memchr(d + i + 1, 0xFF, n - i - 1);
                i = ff ? std::size_t(static_cast<const std::uint8_t*>(ff) - d) : n;
            }
    }
    return "";
}

int read_jpeg_exif_orientation(const std::uint8_t* d, std::size_t n) {
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return 1;
    std::size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF) return 1;
        const std::uint8_t marker = d[i + 1];
        if (marker == 0xFF) { ++i; continue; }
        if (marker == 0xDA || marker == 0xD9) return 1;  // start of scan: no more headers
        if (marker >= 0xD0 && marker <= 0xD7) { i += 2; continue; }
        const std::size_t length = be16(d + i + 2);
        if (length < 2 || i + 2 + length > n) return 1;
        if (marker == 0xE1) {
            const int orientation = exif_orientation(d + i + 4, length - 2);
            if (orientation != 1) return orientation;
        }
        i += 2 + length;
    }
    return 1;
}

std::optional<ImageSize> read_image_size(const std::uint8_t* d, std::size_t n) {
    if (n >= 24 && d[0] == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G')
        return ImageSize{be32(d + 16), be32(d + 20)};
    if (n >= 10 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F')
        return ImageSize{le16(d + 6), le16(d + 8)};
    if (n >= 26 && d[0] == 'B' && d[1] == 'M')  // height is negative for top-down bitmaps
        return ImageSize{std::abs(std::int64_t(le32(d + 18))), std::abs(std::int64_t(le32(d + 22)))};
    if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) return jpeg_size(d, n);
    if (is_pnm(d, n))
        if (const auto numbers = pnm_numbers(d, n)) return ImageSize{(*numbers)[0], (*numbers)[1]};
    return std::nullopt;
}

}  // namespace tinception
