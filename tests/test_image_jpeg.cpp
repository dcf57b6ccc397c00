// JPEG input through libjpeg-turbo: its pixels against stb_image's (an independent decoder),
// DCT scaling to the network's input size, orientation after scaling, and damaged files.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "image/image.hpp"
#include "image/image_formats.hpp"
#include "image_corpus.hpp"
#include "pixel_difference.hpp"

using namespace tinception;
namespace corpus = tinception::testing;

namespace {

corpus::Bytes photo_jpeg(int w, int h, corpus::JpegOptions o = {}) {
    const int channels = o.kind == corpus::JpegKind::rgb ? 3 : o.kind == corpus::JpegKind::grayscale ? 1 : 4;
    return corpus::jpeg_from_pixels(w, h, corpus::photo_pattern(w, h, channels), o);
}

ImageLimits scaled_to(int min_side) {
    ImageLimits limits;
    limits.min_side = min_side;
    return limits;
}

std::string refusal(const corpus::Bytes& bytes, const std::string& name, const ImageLimits& limits = {}) {
    try {
        decode_image(bytes.data(), bytes.size(), name, limits);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

#ifdef TINCEPTION_HAVE_TURBOJPEG

TEST_CASE("libjpeg-turbo and stb_image decode the same JPEG to nearly the same pixels") {
    struct Case {
        const char* name;
        corpus::Bytes bytes;
    };
    const Case cases[] = {
        {"rgb 4:2:0", photo_jpeg(64, 48)},
        {"odd size", photo_jpeg(41, 29)},
        {"grayscale", photo_jpeg(33, 17, {corpus::JpegKind::grayscale})},
        {"progressive", photo_jpeg(57, 31, {corpus::JpegKind::rgb, true})},
        {"cmyk (Adobe)", photo_jpeg(40, 24, {corpus::JpegKind::cmyk})},
        {"quality 100", photo_jpeg(48, 40, {corpus::JpegKind::rgb, false, 0, 100})},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const ImageRgb8 turbo = decode_jpeg_turbo(c.bytes.data(), c.bytes.size(), c.name, {});
        const ImageRgb8 stb = decode_with_stb(c.bytes.data(), c.bytes.size(), c.name, {});
        // Both use an accurate integer IDCT and triangle ("fancy") chroma upsampling; they
        // differ in rounding only, a level or two at a few pixels.
        const corpus::PixelDifference d = corpus::difference(turbo, stb);
        CAPTURE(d.largest);
        CHECK(d.largest <= 4);
        CHECK(d.mean < 0.5);
        // decode_image is libjpeg-turbo's decode in this build.
        const ImageRgb8 chosen = decode_image(c.bytes.data(), c.bytes.size(), c.name);
        CHECK(chosen.pixels == turbo.pixels);
    }
}

TEST_CASE("DCT scaling: the smallest of 1/8..1 that leaves both sides at least min_side") {
    struct Case {
        int width, height, min_side, expected_w, expected_h;
    };
    const Case cases[] = {
        {4032, 3024, 299, 504, 378},  // a 12-megapixel phone photo: 1/8
        {1200, 900, 299, 450, 338},   // 3/8 (2/8 would leave 225)
        {800, 600, 299, 400, 300},    // 4/8: 300 is enough
        {598, 598, 299, 299, 299},    // 4/8 exactly (sizes round up)
        {597, 400, 299, 448, 300},    // 6/8: 5/8 leaves 250
        {300, 200, 299, 300, 200},    // already under: full size, never enlarged
        {1200, 900, 0, 1200, 900},    // min_side 0: full size
        {1200, 900, 1, 150, 113},     // 1/8 is the floor
    };
    for (const Case& c : cases) {
        CAPTURE(c.width);
        CAPTURE(c.height);
        CAPTURE(c.min_side);
        const corpus::Bytes jpg = corpus::jpeg_bytes(c.width, c.height, {corpus::JpegKind::rgb, false, 0, 50});
        const ImageRgb8 image = decode_image(jpg.data(), jpg.size(), "scaled.jpg", scaled_to(c.min_side));
        CHECK(image.width == c.expected_w);
        CHECK(image.height == c.expected_h);
        CHECK(image.pixels.size() == std::size_t(c.expected_w) * c.expected_h * 3);
    }
}

TEST_CASE("a DCT-scaled decode is the full image averaged over blocks, near enough") {
    const int w = 640, h = 480;
    const corpus::Bytes jpg = photo_jpeg(w, h);
    const ImageRgb8 full = decode_image(jpg.data(), jpg.size(), "full.jpg");
    const ImageRgb8 eighth = decode_image(jpg.data(), jpg.size(), "eighth.jpg", scaled_to(60));
    REQUIRE(eighth.width == w / 8);
    REQUIRE(eighth.height == h / 8);
    ImageRgb8 averaged;
    averaged.width = w / 8;
    averaged.height = h / 8;
    for (int y = 0; y < h / 8; ++y)
        for (int x = 0; x < w / 8; ++x)
            for (int c = 0; c < 3; ++c) {
                int sum = 0;
                for (int dy = 0; dy < 8; ++dy)
                    for (int dx = 0; dx < 8; ++dx) sum += full.pixels[(std::size_t(y * 8 + dy) * w + x * 8 + dx) * 3 + c];
                averaged.pixels.push_back(std::uint8_t((sum + 32) / 64));
            }
    const corpus::PixelDifference d = corpus::difference(eighth, averaged);
    CAPTURE(d.largest);
    CHECK(d.mean < 3.0);
    // And far from a wrong picture: the same against the image shifted by a block.
    ImageRgb8 shifted = averaged;
    for (int y = 0; y < shifted.height; ++y)
        for (int x = 0; x < shifted.width; ++x)
            for (int c = 0; c < 3; ++c)
                shifted.pixels[(std::size_t(y) * shifted.width + x) * 3 + c] =
                    averaged.pixels[(std::size_t(y) * shifted.width + std::min(x + 3, shifted.width - 1)) * 3 + c];
    CHECK(corpus::difference(eighth, shifted).mean > 3 * d.mean);
}

TEST_CASE("Exif orientation turns a scaled decode upright, after scaling") {
    // Stored 1600x800, left half red and right half blue, rotated 90 clockwise by its tag.
    const std::vector<unsigned char> px = corpus::red_left_blue_right(1600, 800);
    corpus::JpegOptions o;
    o.exif_orientation = 6;
    const corpus::Bytes jpg = corpus::jpeg_from_pixels(1600, 800, px, o);
    const ImageRgb8 image = decode_image(jpg.data(), jpg.size(), "rotated.jpg", scaled_to(100));
    REQUIRE(image.width == 100);  // 1/8 of 800, then turned
    REQUIRE(image.height == 200);
    const auto at = [&](int x, int y) { return &image.pixels[(std::size_t(y) * image.width + x) * 3]; };
    CHECK(at(50, 20)[0] > 200);  // the red half is on top
    CHECK(at(50, 20)[2] < 60);
    CHECK(at(50, 180)[2] > 200);
    CHECK(at(50, 180)[0] < 60);
}

TEST_CASE("libjpeg-turbo: the pixel limit is checked from the header, before any pixel") {
    const corpus::Bytes claims = corpus::jpeg_claiming_size(9000, 9000);
    ImageLimits small;
    small.max_pixels = 1000;
    CHECK_THROWS_WITH_AS(decode_jpeg_turbo(claims.data(), claims.size(), "x.jpg", small),
                         "x.jpg: image is 9000x9000 pixels, over the limit of 1000", Error);
    // Scaling does not raise the limit: it applies to the image as stored.
    CHECK(refusal(claims, "y.jpg", [] {
              ImageLimits l = scaled_to(299);
              l.max_pixels = 1000;
              return l;
          }()) == "y.jpg: image is 9000x9000 pixels, over the limit of 1000");
}

TEST_CASE("libjpeg-turbo: damaged entropy data is refused, never decoded into garbage") {
    const corpus::Bytes whole = photo_jpeg(96, 64);
    std::size_t scan = 0;
    for (std::size_t i = 2; i + 1 < whole.size(); ++i)
        if (whole[i] == 0xFF && whole[i + 1] == 0xDA) scan = i;
    REQUIRE(scan > 0);
    // The middle of the scan cut out, the end-of-image marker kept: libjpeg meets the marker
    // early, warns, and the warning is an error here.
    const std::size_t from = scan + (whole.size() - scan) / 3, to = scan + 2 * (whole.size() - scan) / 3;
    corpus::Bytes gap(whole.begin(), whole.begin() + long(from));
    gap.insert(gap.end(), whole.begin() + long(to), whole.end());
    for (const int min_side : {0, 20}) {
        CAPTURE(min_side);
        const std::string message = refusal(gap, "gap.jpg", scaled_to(min_side));
        CHECK(message.rfind("gap.jpg: cannot decode JPEG: ", 0) == 0);
    }
    // Cut anywhere: refused with the file's name, never a crash or a half image.
    for (std::size_t cut = 0; cut < whole.size(); cut += 37) {
        CAPTURE(cut);
        const corpus::Bytes part(whole.begin(), whole.begin() + long(cut));
        CHECK(refusal(part, "cut.jpg", scaled_to(20)).rfind("cut.jpg: ", 0) == 0);
    }
    // Random bytes written over the scan: an image of the stated size or a refusal by name.
    std::mt19937 rng(3);
    for (int trial = 0; trial < 40; ++trial) {
        corpus::Bytes bad = whole;
        for (int k = 0; k < 8; ++k)
            bad[scan + 20 + rng() % (whole.size() - scan - 24)] = std::uint8_t(rng());
        try {
            const ImageRgb8 image = decode_image(bad.data(), bad.size(), "noisy.jpg", scaled_to(20));
            CHECK(image.pixels.size() == std::size_t(image.width) * image.height * 3);
        } catch (const Error& e) {
            CHECK(std::string(e.what()).rfind("noisy.jpg: ", 0) == 0);
        }
    }
}

#else

TEST_CASE("without libjpeg-turbo, JPEGs decode at full size unless 1/8 still leaves min_side") {
    const corpus::Bytes jpg = photo_jpeg(640, 480);
    const ImageRgb8 image = decode_image(jpg.data(), jpg.size(), "full.jpg", scaled_to(61));
    CHECK(image.width == 640);
    CHECK(image.height == 480);
    const ImageRgb8 eighth = decode_image(jpg.data(), jpg.size(), "eighth.jpg", scaled_to(60));  // DC-only
    CHECK(eighth.width == 80);
    CHECK(eighth.height == 60);
}

#endif

TEST_CASE("decode_variant names what a feature cache must tell apart") {
    const corpus::Bytes jpg = corpus::jpeg_bytes(16, 16);
    const corpus::Bytes png = corpus::png_bytes(16, 16, 3);
    CHECK(decode_variant(jpg.data(), jpg.size(), {}) == "");
    CHECK(decode_variant(png.data(), png.size(), scaled_to(299)) == "");  // PNGs decode alike either way
#ifdef TINCEPTION_HAVE_TURBOJPEG
    CHECK(decode_variant(jpg.data(), jpg.size(), scaled_to(299)) == "jpeg-dc-dct-scaled");
#else
    CHECK(decode_variant(jpg.data(), jpg.size(), scaled_to(299)) == "jpeg-dc-scaled");
#endif
}

TEST_CASE("fuzz finding: a scan naming an undefined Huffman table is refused before any decoder reads it") {
    // tests/fuzz/fuzz_jpeg_decode: stb_image 2.27 indexed past maxcode[18] decoding with a
    // table no DHT segment defined. Rename every table the file defines to id 1, so its
    // scan's tables (id 0) are undefined.
    corpus::Bytes jpg = corpus::jpeg_bytes(16, 16);
    for (std::size_t i = 2; i + 4 < jpg.size(); ++i)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC4) {
            const std::size_t end = i + 2 + (std::size_t(jpg[i + 2]) << 8 | jpg[i + 3]);
            for (std::size_t t = i + 4; t + 17 <= end;) {
                std::size_t codes = 0;
                for (int k = 1; k <= 16; ++k) codes += jpg[t + std::size_t(k)];
                jpg[t] = std::uint8_t((jpg[t] & 0xF0) | 1);
                t += 17 + codes;
            }
        }
    CHECK(refusal(jpg, "tables.jpg") == "tables.jpg: JPEG is damaged: a scan uses a Huffman table that is not defined");
    CHECK_THROWS_WITH_AS(decode_with_stb(jpg.data(), jpg.size(), "tables.jpg", {}),
                         "tables.jpg: JPEG is damaged: a scan uses a Huffman table that is not defined", Error);
    // Behind 0xFF fill bytes the same file is still a JPEG, and still refused.
    jpg.insert(jpg.begin(), {0xFF, 0xFF});
    CHECK(refusal(jpg, "fill.jpg").find("not defined") != std::string::npos);
}

TEST_CASE("a JPEG behind 0xFF fill bytes decodes like the same file without them") {
    const corpus::Bytes jpg = corpus::jpeg_bytes(32, 24, {corpus::JpegKind::rgb, false, 6});
    corpus::Bytes filled = jpg;
    filled.insert(filled.begin(), {0xFF, 0xFF, 0xFF});
    const ImageRgb8 plain = decode_image(jpg.data(), jpg.size(), "plain.jpg", scaled_to(8));
    const ImageRgb8 behind = decode_image(filled.data(), filled.size(), "filled.jpg", scaled_to(8));
    CHECK(behind.width == plain.width);
    CHECK(behind.height == plain.height);
    CHECK(behind.pixels == plain.pixels);
#ifdef TINCEPTION_HAVE_TURBOJPEG
    CHECK(plain.width == 9);  // 24 * 3/8 (2/8 leaves 6 by 8), turned by its Exif tag (6)
#else
    CHECK(plain.width == 24);  // stb_image: full size, turned by its Exif tag (6)
#endif
}

TEST_CASE("fuzz finding: a PNM header number too long for stb_image's int is refused before it reads it") {
    // tests/fuzz/fuzz_image_decode: stb_image 2.27 overflowed an int (UBSan) reading the width
    // "50187203380". The header's size also counts against the pixel limit, before decoding.
    const std::string text = "P5\n50187203380 77\n255\n";
    const corpus::Bytes long_number(text.begin(), text.end());
    CHECK(refusal(long_number, "long.pgm") == "long.pgm: PNM is damaged: a number in its header has more than nine digits");
    const std::string big = "P6\n# a comment\n100000 90000\n255\n";
    CHECK(refusal(corpus::Bytes(big.begin(), big.end()), "big.ppm") ==
          "big.ppm: image is 100000x90000 pixels, over the limit of 50000000");
    const std::string small("P6 2 1 255\n\xff\x00\x00\x00\x00\xff", 17);
    const ImageRgb8 two = decode_image(reinterpret_cast<const std::uint8_t*>(small.data()), small.size(), "two.ppm");
    CHECK(two.pixels == std::vector<std::uint8_t>{255, 0, 0, 0, 0, 255});
    // tests/fuzz/fuzz_jpeg_decode: 16-bit samples sent stb_image 2.27 reading past its buffer.
    const std::string wide("P5 2 1 65535\n\x01\x02\x03\x04", 16);
    CHECK(refusal(corpus::Bytes(wide.begin(), wide.end()), "wide.pgm") ==
          "wide.pgm: PNM is damaged: 16-bit samples (maximum value 65535) are not supported");
}
