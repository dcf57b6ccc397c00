// The DC-only 1/8 JPEG decoder (decode_jpeg_dc.cpp): its Huffman tables, its pixels against
// libjpeg-turbo's 1/8 decode and stb_image's full decode, restart intervals, the files it
// leaves to the full decoders, and damage, which must never decode into a wrong image.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "image/image.hpp"
#include "image/image_formats.hpp"
#include "image/jpeg_huffman.hpp"
#include "image_corpus.hpp"
#include "pixel_difference.hpp"

using namespace tinception;
namespace corpus = tinception::testing;

namespace {

ImageLimits eighth_at_least(int min_side) {
    ImageLimits limits;
    limits.min_side = min_side;
    return limits;
}

corpus::Bytes photo_jpeg(int w, int h, corpus::JpegOptions o = {}) {
    const int channels = o.kind == corpus::JpegKind::rgb ? 3 : o.kind == corpus::JpegKind::grayscale ? 1 : 4;
    return corpus::jpeg_from_pixels(w, h, corpus::photo_pattern(w, h, channels), o);
}

corpus::JpegOptions sampled(int luma_h, int luma_v, int restart_interval = 0) {
    corpus::JpegOptions o;
    o.luma_h = luma_h;
    o.luma_v = luma_v;
    o.restart_interval = restart_interval;
    return o;
}


// The full image's 8x8 blocks averaged (a partial block at the edge over the pixels it has).
ImageRgb8 block_means(const ImageRgb8& full) {
    ImageRgb8 out;
    out.width = (full.width + 7) / 8;
    out.height = (full.height + 7) / 8;
    for (int by = 0; by < out.height; ++by)
        for (int bx = 0; bx < out.width; ++bx)
            for (int c = 0; c < 3; ++c) {
                int sum = 0, n = 0;
                for (int y = by * 8; y < std::min(full.height, by * 8 + 8); ++y)
                    for (int x = bx * 8; x < std::min(full.width, bx * 8 + 8); ++x, ++n)
                        sum += full.pixels[(std::size_t(y) * full.width + x) * 3 + c];
                out.pixels.push_back(std::uint8_t((sum + n / 2) / n));
            }
    return out;
}

std::size_t scan_start(const corpus::Bytes& jpg) {
    for (std::size_t i = 2; i + 3 < jpg.size(); ++i)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xDA) return i + 2 + (std::size_t(jpg[i + 2]) << 8 | jpg[i + 3]);
    FAIL("no start-of-scan marker");
    return 0;
}

}  // namespace

TEST_CASE("Huffman tables: canonical codes, the lookup, and refused code spaces") {
    // One code each of lengths 1, 2 and 3: 0, 10 and 110.
    const std::uint8_t counts[16] = {1, 1, 1};
    const std::uint8_t symbols[] = {0x00, 0x11, 0xF0};  // end of block, run 1 size 1, run of 16
    const auto table = jpeg::build_huffman_table(counts, symbols, true);
    REQUIRE(table);
    const auto lookup = [&](unsigned prefix, int length) {
        return table->symbol_lookup[prefix << (jpeg::kLookupBits - length)];
    };
    CHECK(lookup(0b0, 1) == (1 << 8 | 0x00));
    CHECK(lookup(0b10, 2) == (2 << 8 | 0x11));
    CHECK(lookup(0b110, 3) == (3 << 8 | 0xF0));
    CHECK(lookup(0b111, 3) == 0);  // no code starts 111
    // Skipping: end of block advances past 63; '10' drops its magnitude bit too.
    CHECK(table->ac_skip[0] == (1 | 64 << 5));
    CHECK(table->ac_skip[std::size_t(0b10) << (jpeg::kLookupBits - 2)] == (3 | 2 << 5));
    CHECK(table->ac_skip[std::size_t(0b110) << (jpeg::kLookupBits - 3)] == (3 | 16 << 5));

    const std::uint8_t enough_symbols[16] = {};  // as many as each table below declares
    const std::uint8_t all_ones[16] = {2};  // codes 0 and 1: 1 is all ones, reserved
    CHECK_FALSE(jpeg::build_huffman_table(all_ones, enough_symbols, false));
    const std::uint8_t overflow[16] = {1, 3};  // 0, then three codes of two bits: no room
    CHECK_FALSE(jpeg::build_huffman_table(overflow, enough_symbols, false));
    const std::uint8_t three_of_one_bit[16] = {3};  // overflows within its first length (found by fuzzing)
    CHECK_FALSE(jpeg::build_huffman_table(three_of_one_bit, enough_symbols, true));

    // Codes longer than the lookup: 12 bits each after a full tree of shorter ones.
    std::uint8_t deep[16] = {};
    deep[0] = 1;   // 0
    deep[11] = 3;  // 1000 0000 0000 .. 1000 0000 0010
    const std::uint8_t deep_symbols[] = {1, 2, 3, 4};
    const auto long_codes = jpeg::build_huffman_table(deep, deep_symbols, false);
    REQUIRE(long_codes);
    CHECK(long_codes->symbol_lookup[std::size_t(1) << (jpeg::kLookupBits - 1)] == 0);
    CHECK(long_codes->max_code[12] == 0x802);
    CHECK(long_codes->symbols[std::size_t(0x801 + long_codes->value_offset[12])] == 3);
}

TEST_CASE("grayscale: the DC-only decode is libjpeg-turbo's 1/8 decode, pixel for pixel") {
#ifdef TINCEPTION_HAVE_TURBOJPEG
    for (const int restart : {0, 7}) {
        for (const auto& [w, h] : {std::pair{523, 517}, std::pair{640, 480}, std::pair{601, 777}}) {
            CAPTURE(w);
            CAPTURE(h);
            CAPTURE(restart);
            corpus::JpegOptions o;
            o.kind = corpus::JpegKind::grayscale;
            o.restart_interval = restart;
            const corpus::Bytes jpg = photo_jpeg(w, h, o);
            const auto dc = decode_jpeg_dc_only(jpg.data(), jpg.size(), eighth_at_least(60));
            REQUIRE(dc);
            const ImageRgb8 turbo = decode_jpeg_turbo(jpg.data(), jpg.size(), "gray.jpg", eighth_at_least(60));
            REQUIRE(turbo.width == (w + 7) / 8);
            CHECK(dc->pixels == turbo.pixels);
        }
    }
#endif
}

TEST_CASE("colour: every sampling close to the full image's block means") {
    struct Case {
        const char* name;
        int luma_h, luma_v;
    };
    for (const Case c : {Case{"4:2:0", 2, 2}, Case{"4:2:2", 2, 1}, Case{"4:4:0", 1, 2}, Case{"4:4:4", 1, 1},
                         Case{"4:1:1", 4, 1}}) {
        CAPTURE(std::string(c.name));
        const int w = 645, h = 491;  // neither a whole number of blocks nor of MCUs
        const corpus::Bytes jpg = photo_jpeg(w, h, sampled(c.luma_h, c.luma_v));
        const auto dc = decode_jpeg_dc_only(jpg.data(), jpg.size(), eighth_at_least(60));
        REQUIRE(dc);
        const ImageRgb8 means = block_means(decode_with_stb(jpg.data(), jpg.size(), "full.jpg", {}));
        const corpus::PixelDifference d = corpus::difference(*dc, means);
        CAPTURE(d.largest);
        // Chroma between its blocks is interpolated, not decoded: up to a level and a half on
        // average (0.1 for 4:4:4 to 1.1 for 4:1:1 here), more at sharp colour edges.
        CHECK(d.mean < 1.5);
        CHECK(d.largest <= 20);
#ifdef TINCEPTION_HAVE_TURBOJPEG
        // libjpeg-turbo's own 1/8 decode is about as far from the block means (0.5 to 2.3
        // levels here), in other places: its reduced IDCTs round and alias differently.
        const ImageRgb8 turbo = decode_jpeg_turbo(jpg.data(), jpg.size(), "turbo.jpg", eighth_at_least(60));
        CHECK(corpus::difference(*dc, turbo).mean < 2.5);
        CHECK(d.mean < corpus::difference(turbo, means).mean + 0.5);
#endif
        // A wrong picture (shifted by two blocks) is far further away.
        ImageRgb8 shifted = means;
        std::rotate(shifted.pixels.begin(), shifted.pixels.begin() + 6, shifted.pixels.end());
        CHECK(corpus::difference(*dc, shifted).mean > 4 * d.mean);
    }
}

TEST_CASE("restart intervals change the stream, not the picture") {
    const corpus::Bytes plain = photo_jpeg(700, 530);
    const auto reference = decode_jpeg_dc_only(plain.data(), plain.size(), eighth_at_least(60));
    REQUIRE(reference);
    for (const int interval : {1, 5, 64}) {
        CAPTURE(interval);
        const corpus::Bytes jpg = photo_jpeg(700, 530, sampled(2, 2, interval));
        REQUIRE(jpg != plain);
        const auto dc = decode_jpeg_dc_only(jpg.data(), jpg.size(), eighth_at_least(60));
        REQUIRE(dc);
        CHECK(dc->pixels == reference->pixels);
    }
}

TEST_CASE("decode_image takes the DC-only path exactly when 1/8 still leaves min_side") {
    const corpus::Bytes jpg = photo_jpeg(800, 640);
    const auto dc = decode_jpeg_dc_only(jpg.data(), jpg.size(), eighth_at_least(80));
    REQUIRE(dc);
    CHECK(dc->width == 100);
    CHECK(dc->height == 80);
    CHECK(decode_image(jpg.data(), jpg.size(), "p.jpg", eighth_at_least(80)).pixels == dc->pixels);
    CHECK_FALSE(decode_jpeg_dc_only(jpg.data(), jpg.size(), eighth_at_least(81)));  // 80 rows < 81
    CHECK_FALSE(decode_jpeg_dc_only(jpg.data(), jpg.size(), {}));                   // min_side 0: full size
    CHECK(decode_image(jpg.data(), jpg.size(), "p.jpg", {}).width == 800);
}

TEST_CASE("files beyond the DC-only path go to the full decoders") {
    corpus::JpegOptions progressive;
    progressive.progressive = true;
    corpus::JpegOptions cmyk;
    cmyk.kind = corpus::JpegKind::cmyk;
    for (const corpus::JpegOptions& o : {progressive, cmyk}) {
        const corpus::Bytes jpg = photo_jpeg(640, 480, o);
        CHECK_FALSE(decode_jpeg_dc_only(jpg.data(), jpg.size(), eighth_at_least(60)));
        const ImageRgb8 image = decode_image(jpg.data(), jpg.size(), "other.jpg", eighth_at_least(60));
        CHECK(image.pixels.size() == std::size_t(image.width) * image.height * 3);
    }
}

TEST_CASE("damage gives nothing from the DC-only path, never a wrong image") {
    const corpus::Bytes whole = photo_jpeg(640, 480, sampled(2, 2, 4));
    const std::size_t scan = scan_start(whole);
    REQUIRE(decode_jpeg_dc_only(whole.data(), whole.size(), eighth_at_least(60)));

    // Entropy data cut short, the end-of-image marker kept.
    corpus::Bytes cut(whole.begin(), whole.begin() + long(scan + (whole.size() - scan) / 2));
    cut.push_back(0xFF);
    cut.push_back(0xD9);
    CHECK_FALSE(decode_jpeg_dc_only(cut.data(), cut.size(), eighth_at_least(60)));
    // No end-of-image marker.
    const corpus::Bytes unended(whole.begin(), whole.end() - 2);
    CHECK_FALSE(decode_jpeg_dc_only(unended.data(), unended.size(), eighth_at_least(60)));
    // A byte an encoder would not leave before the end-of-image marker.
    corpus::Bytes extra = whole;
    extra.insert(extra.end() - 2, 0x55);
    CHECK_FALSE(decode_jpeg_dc_only(extra.data(), extra.size(), eighth_at_least(60)));
    // Restart markers out of order: the second one renumbered.
    corpus::Bytes renumbered = whole;
    int seen = 0;
    for (std::size_t i = scan; i + 1 < renumbered.size(); ++i)
        if (renumbered[i] == 0xFF && renumbered[i + 1] >= 0xD0 && renumbered[i + 1] <= 0xD7 && ++seen == 2) {
            renumbered[i + 1] = 0xD5;
            break;
        }
    REQUIRE(seen == 2);
    CHECK_FALSE(decode_jpeg_dc_only(renumbered.data(), renumbered.size(), eighth_at_least(60)));

    // Random bytes over the scan: nothing, or an image of the right size; never a crash.
    // decode_image then refuses by name or decodes with libjpeg-turbo.
    std::mt19937 rng(5);
    int refused = 0;
    for (int trial = 0; trial < 60; ++trial) {
        corpus::Bytes bad = whole;
        for (int k = 0; k < 4; ++k) bad[scan + rng() % (whole.size() - scan - 2)] = std::uint8_t(rng());
        const auto dc = decode_jpeg_dc_only(bad.data(), bad.size(), eighth_at_least(60));
        if (!dc) {
            ++refused;
            continue;
        }
        CHECK(dc->width == 80);
        CHECK(dc->pixels.size() == 80u * 60u * 3u);
    }
    CHECK(refused > 30);  // most damage shows: a code the table lacks, a marker misplaced
}

TEST_CASE("headers: every cut and every flipped header byte is handled") {
    const corpus::Bytes whole = photo_jpeg(256, 200);
    const std::size_t scan = scan_start(whole);
    for (std::size_t cut = 0; cut < scan + 64; ++cut) {
        const corpus::Bytes part(whole.begin(), whole.begin() + long(cut));
        CHECK_FALSE(decode_jpeg_dc_only(part.data(), part.size(), eighth_at_least(20)));
    }
    for (std::size_t at = 0; at < scan; ++at)
        for (const std::uint8_t value : {std::uint8_t(0x00), std::uint8_t(0xFF), std::uint8_t(whole[at] ^ 0x10)}) {
            corpus::Bytes bad = whole;
            bad[at] = value;
            const auto dc = decode_jpeg_dc_only(bad.data(), bad.size(), eighth_at_least(20));
            if (dc) CHECK(dc->pixels.size() == std::size_t(dc->width) * dc->height * 3);
        }
}
