// WebP and TIFF files made in memory for the image tests, the bad-input tests and the fuzz
// seeds, written with libwebp and libtiff themselves. Only for builds that decode them.
#pragma once
#include <tiffio.h>
#include <unistd.h>
#include <webp/encode.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "image_corpus.hpp"

namespace tinception::testing {

// Lossless, so a decode must give corpus_pattern(w, h, 3) back exactly.
inline Bytes webp_bytes(int w, int h) {
    const auto px = corpus_pattern(w, h, 3);
    std::uint8_t* out = nullptr;
    const std::size_t size = WebPEncodeLosslessRGB(px.data(), w, h, w * 3, &out);
    if (size == 0) throw std::runtime_error("WebPEncodeLosslessRGB failed");
    Bytes b(out, out + size);
    WebPFree(out);
    return b;
}

// A lossless WebP whose VP8L header declares width x height (each at most 16384).
inline Bytes webp_claiming_size(int width, int height) {
    Bytes b = webp_bytes(8, 8);
    // RIFF(12) "VP8L" size(4), then the signature 0x2F and 14 bits each of width-1, height-1.
    if (b.size() < 25 || b[12] != 'V' || b[15] != 'L' || b[20] != 0x2F)
        throw std::runtime_error("libwebp wrote no VP8L chunk where expected");
    const std::uint32_t bits = std::uint32_t(width - 1) | std::uint32_t(height - 1) << 14 |
                               std::uint32_t(b[24] >> 4) << 28;  // keeps alpha and version bits
    for (int i = 0; i < 4; ++i) b[21 + i] = std::uint8_t(bits >> (8 * i));
    return b;
}

// An uncompressed (or LZW) TIFF with `channels` 1 (grayscale) or 3 (RGB), little-endian.
inline Bytes tiff_bytes(int w, int h, int channels = 3, bool lzw = false) {
    char path[] = "/tmp/tinception-tiff-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    TIFF* tiff = TIFFOpen(path, "w");
    if (!tiff) throw std::runtime_error("TIFFOpen for writing failed");
    TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, std::uint32_t(w));
    TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, std::uint32_t(h));
    TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t(channels));
    TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, std::uint16_t(8));
    TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, channels == 1 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB);
    TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tiff, TIFFTAG_COMPRESSION, lzw ? COMPRESSION_LZW : COMPRESSION_NONE);
    TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, std::uint32_t(4));
    auto px = corpus_pattern(w, h, channels);
    for (int y = 0; y < h; ++y)
        if (TIFFWriteScanline(tiff, px.data() + std::size_t(y) * w * channels, std::uint32_t(y), 0) < 0)
            throw std::runtime_error("TIFFWriteScanline failed");
    TIFFClose(tiff);
    std::ifstream in(path, std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::remove(path);
    return b;
}

// A TIFF whose ImageWidth and ImageLength tags say width x height, its strips unchanged.
inline Bytes tiff_claiming_size(std::uint32_t width, std::uint32_t height) {
    Bytes b = tiff_bytes(8, 8);
    const auto u16 = [&](std::size_t at) { return std::uint32_t(b[at]) | std::uint32_t(b[at + 1]) << 8; };
    const std::size_t ifd = u16(4) | u16(6) << 16;
    const std::uint32_t entries = u16(ifd);
    int patched = 0;
    for (std::uint32_t e = 0; e < entries; ++e) {
        const std::size_t at = ifd + 2 + 12 * e;
        const std::uint32_t tag = u16(at);
        if (tag != 256 && tag != 257) continue;
        const std::uint32_t value = tag == 256 ? width : height;
        b[at + 2] = 4;  // LONG, so any 32-bit size fits
        b[at + 3] = 0;
        for (int i = 0; i < 4; ++i) b[at + 8 + i] = std::uint8_t(value >> (8 * i));
        ++patched;
    }
    if (patched != 2) throw std::runtime_error("libtiff wrote no ImageWidth/ImageLength entries");
    return b;
}

}  // namespace tinception::testing
