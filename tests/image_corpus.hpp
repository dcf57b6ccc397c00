// Image files made in memory for the bad-input tests and the fuzz seeds: every format and
// pixel layout we accept, built with stb_image_write, libjpeg (grayscale, CMYK,
// progressive, EXIF) or by hand (GIF, 16-bit PNG, oversized headers). No binary fixtures.
#pragma once
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <jpeglib.h>

namespace tinception::testing {

using Bytes = std::vector<std::uint8_t>;

// Pixel (x, y) of channel c: a smooth pattern, so JPEG keeps it recognisable.
inline std::vector<unsigned char> corpus_pattern(int w, int h, int channels) {
    std::vector<unsigned char> px(std::size_t(w) * h * channels);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c)
                px[(std::size_t(y) * w + x) * channels + c] = (unsigned char)((x * 5 + y * 3 + c * 70) % 256);
    return px;
}

// Something like a photo: smooth shading, an edge, fine texture and a little noise, so JPEG
// has every frequency to code and a scaled decode has detail to lose. Used by the JPEG tests
// and the decoding benchmarks (bench/), which make their 12-megapixel "photos" with it.
inline std::vector<unsigned char> photo_pattern(int w, int h, int channels, unsigned seed = 7) {
    std::vector<unsigned char> px(std::size_t(w) * h * channels);
    std::uint32_t state = seed * 2654435761u + 1;
    for (int y = 0; y < h; ++y) {
        const double row_shade = std::cos(y * 0.011 + seed);
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c) {
                state = state * 1664525u + 1013904223u;  // LCG noise: fast enough for 12 MP
                const double shade = 120 + 80 * std::sin(x * 0.013 + c + seed) * row_shade;
                const double texture = 25 * std::sin(x * 0.9 + y * 0.4 + c);
                const double edge = (x > w / 3 && y > h / 2) ? 40 : 0;
                const int v = int(shade + texture + edge) + int(state >> 28) - 8;
                px[(std::size_t(y) * w + x) * channels + c] = (unsigned char)std::min(255, std::max(0, v));
            }
    }
    return px;
}

// RGB, left half red and right half blue: which way an Exif rotation turned it is plain.
inline std::vector<unsigned char> red_left_blue_right(int w, int h) {
    std::vector<unsigned char> px(std::size_t(w) * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            unsigned char* p = &px[(std::size_t(y) * w + x) * 3];
            p[0] = x < w / 2 ? 255 : 0;
            p[2] = x < w / 2 ? 0 : 255;
        }
    return px;
}

inline void append_to_bytes(void* context, void* data, int size) {
    auto* out = static_cast<Bytes*>(context);
    const auto* p = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), p, p + size);
}

inline Bytes png_bytes(int w, int h, int channels) {
    Bytes out;
    const auto px = corpus_pattern(w, h, channels);
    if (!stbi_write_png_to_func(append_to_bytes, &out, w, h, channels, px.data(), w * channels))
        throw std::runtime_error("stbi_write_png failed");
    return out;
}

inline Bytes bmp_bytes(int w, int h) {
    Bytes out;
    const auto px = corpus_pattern(w, h, 3);
    if (!stbi_write_bmp_to_func(append_to_bytes, &out, w, h, 3, px.data()))
        throw std::runtime_error("stbi_write_bmp failed");
    return out;
}

// Pixel data given explicitly, for tests that check where a pixel ends up.
inline Bytes png_from_pixels(int w, int h, const std::vector<unsigned char>& rgb) {
    Bytes out;
    if (!stbi_write_png_to_func(append_to_bytes, &out, w, h, 3, rgb.data(), w * 3))
        throw std::runtime_error("stbi_write_png failed");
    return out;
}

enum class JpegKind { rgb, grayscale, cmyk };

struct JpegOptions {
    JpegKind kind = JpegKind::rgb;
    bool progressive = false;
    int exif_orientation = 0;  // 0: no Exif segment; 1..8: an APP1 Exif block with that tag
    int quality = 90;
    int luma_h = 2, luma_v = 2;  // luma sampling factors against chroma's 1x1 (2x2: 4:2:0)
    int restart_interval = 0;    // MCUs between restart markers; 0: none
};

// A little-endian TIFF/Exif block holding one IFD0 entry: Orientation (0x0112) = value.
inline Bytes exif_orientation_block(int orientation) {
    Bytes b = {'E', 'x', 'i', 'f', 0, 0,
               'I', 'I', 42, 0, 8, 0, 0, 0,      // TIFF header, IFD0 at offset 8
               1, 0,                             // one entry
               0x12, 0x01, 3, 0, 1, 0, 0, 0,     // tag 0x0112, type SHORT, count 1
               std::uint8_t(orientation), 0, 0, 0,
               0, 0, 0, 0};                      // no next IFD
    return b;
}

// Encodes `pixels` (w*h*3 RGB, or w*h gray, or w*h*4 CMYK by kind) as a JPEG with libjpeg.
inline Bytes jpeg_from_pixels(int w, int h, const std::vector<unsigned char>& pixels, const JpegOptions& o) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr jerr{};
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = JDIMENSION(w);
    cinfo.image_height = JDIMENSION(h);
    cinfo.input_components = o.kind == JpegKind::rgb ? 3 : o.kind == JpegKind::grayscale ? 1 : 4;
    cinfo.in_color_space = o.kind == JpegKind::rgb ? JCS_RGB : o.kind == JpegKind::grayscale ? JCS_GRAYSCALE : JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, o.quality, TRUE);
    if (o.kind == JpegKind::rgb) {
        cinfo.comp_info[0].h_samp_factor = o.luma_h;
        cinfo.comp_info[0].v_samp_factor = o.luma_v;
    }
    cinfo.restart_interval = unsigned(o.restart_interval);
    if (o.progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    if (o.exif_orientation) {
        const Bytes exif = exif_orientation_block(o.exif_orientation);
        jpeg_write_marker(&cinfo, JPEG_APP0 + 1, exif.data(), unsigned(exif.size()));
    }
    const int row_bytes = w * cinfo.input_components;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = const_cast<unsigned char*>(pixels.data()) + std::size_t(cinfo.next_scanline) * row_bytes;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    Bytes out(buffer, buffer + size);
    std::free(buffer);
    return out;
}

inline Bytes jpeg_bytes(int w, int h, const JpegOptions& o = {}) {
    const int channels = o.kind == JpegKind::rgb ? 3 : o.kind == JpegKind::grayscale ? 1 : 4;
    return jpeg_from_pixels(w, h, corpus_pattern(w, h, channels), o);
}

// A valid baseline JPEG whose frame header is patched to claim width x height: the pixel
// limit must refuse it from the header alone.
inline Bytes jpeg_claiming_size(int width, int height) {
    Bytes b = jpeg_bytes(16, 16);
    for (std::size_t i = 2; i + 9 < b.size(); ++i)
        if (b[i] == 0xFF && b[i + 1] == 0xC0) {  // SOF0: FF C0, length(2), precision, height, width
            b[i + 5] = std::uint8_t(height >> 8);
            b[i + 6] = std::uint8_t(height);
            b[i + 7] = std::uint8_t(width >> 8);
            b[i + 8] = std::uint8_t(width);
            return b;
        }
    throw std::runtime_error("no SOF0 marker in libjpeg's output");
}

// A two-colour GIF89a. LZW with a 2-bit minimum code size: every pixel is sent as a clear
// code followed by the pixel's code, so the code width stays at 3 bits and no table is
// needed to write it.
inline Bytes gif_bytes(int w, int h) {
    Bytes b = {'G', 'I', 'F', '8', '9', 'a', std::uint8_t(w), std::uint8_t(w >> 8), std::uint8_t(h),
               std::uint8_t(h >> 8), 0x80, 0, 0,  // global colour table of 2 entries
               0, 0, 0, 255, 255, 255,
               ',', 0, 0, 0, 0, std::uint8_t(w), std::uint8_t(w >> 8), std::uint8_t(h), std::uint8_t(h >> 8), 0,
               2};  // LZW minimum code size
    Bytes packed;
    std::uint32_t bits = 0;
    int nbits = 0;
    const auto put = [&](int code) {
        bits |= std::uint32_t(code) << nbits;
        nbits += 3;
        while (nbits >= 8) {
            packed.push_back(std::uint8_t(bits));
            bits >>= 8;
            nbits -= 8;
        }
    };
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            put(4);                // clear
            put((x / 4 + y / 4) % 2);
        }
    put(5);  // end of information
    if (nbits) packed.push_back(std::uint8_t(bits));
    for (std::size_t i = 0; i < packed.size(); i += 255) {
        const std::size_t n = std::min<std::size_t>(255, packed.size() - i);
        b.push_back(std::uint8_t(n));
        b.insert(b.end(), packed.begin() + long(i), packed.begin() + long(i + n));
    }
    b.push_back(0);    // block terminator
    b.push_back(';');  // trailer
    return b;
}

inline std::uint32_t png_crc(const std::uint8_t* p, std::size_t n) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

inline void put_be32(Bytes& b, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(std::uint8_t(v >> (8 * i)));
}

inline void png_chunk(Bytes& png, const char* type, const Bytes& data) {
    put_be32(png, std::uint32_t(data.size()));
    const std::size_t start = png.size();
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    put_be32(png, png_crc(png.data() + start, png.size() - start));
}

// A 16-bit-per-channel RGB PNG (stb_image_write only writes 8 bits), its zlib stream made
// of stored (uncompressed) deflate blocks.
inline Bytes png16_bytes(int w, int h) {
    Bytes raw;
    for (int y = 0; y < h; ++y) {
        raw.push_back(0);  // filter: none
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                const int v = (x * 1000 + y * 300 + c * 20000) % 65536;
                raw.push_back(std::uint8_t(v >> 8));
                raw.push_back(std::uint8_t(v));
            }
    }
    Bytes z = {0x78, 0x01};
    for (std::size_t i = 0; i < raw.size() || i == 0; i += 65535) {
        const std::size_t n = std::min<std::size_t>(65535, raw.size() - i);
        z.push_back(i + n >= raw.size() ? 1 : 0);
        z.push_back(std::uint8_t(n));
        z.push_back(std::uint8_t(n >> 8));
        z.push_back(std::uint8_t(~n));
        z.push_back(std::uint8_t(~n >> 8));
        z.insert(z.end(), raw.begin() + long(i), raw.begin() + long(i + n));
        if (n == 0) break;
    }
    std::uint32_t a = 1, s = 0;
    for (const std::uint8_t v : raw) {
        a = (a + v) % 65521;
        s = (s + a) % 65521;
    }
    put_be32(z, s << 16 | a);
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Bytes ihdr;
    put_be32(ihdr, std::uint32_t(w));
    put_be32(ihdr, std::uint32_t(h));
    ihdr.insert(ihdr.end(), {16, 2, 0, 0, 0});  // depth 16, colour type RGB
    png_chunk(png, "IHDR", ihdr);
    png_chunk(png, "IDAT", z);
    png_chunk(png, "IEND", {});
    return png;
}

}  // namespace tinception::testing
