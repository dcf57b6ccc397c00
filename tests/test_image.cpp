// Image input: every format and pixel layout we accept, and every way a file can be bad.
#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "error.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "temp_dir.hpp"
#if defined(TINCEPTION_HAVE_WEBP) && defined(TINCEPTION_HAVE_TIFF)
#include "image_corpus_webp_tiff.hpp"
#endif

using namespace tinception;
using tinception::testing::TempDir;

namespace {

// A w x h image with `channels` channels whose pixel (x, y) is easy to predict.
std::vector<unsigned char> pattern(int w, int h, int channels) {
    std::vector<unsigned char> px(std::size_t(w) * h * channels);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c)
                px[(std::size_t(y) * w + x) * channels + c] = (unsigned char)((x * 20 + y * 7 + c * 60) % 256);
    return px;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// The smallest valid GIF: 2x1, two-colour palette (red, blue), pixels red then blue.
const std::vector<std::uint8_t> kTinyGif = {
    'G', 'I', 'F', '8', '9', 'a', 2, 0, 1, 0, 0x80, 0, 0,          // header, global palette of 2
    255, 0, 0, 0, 0, 255,                                          // palette: red, blue
    0x2C, 0, 0, 0, 0, 2, 0, 1, 0, 0,                               // image descriptor
    2, 2, 0x44, 0x0A, 0,                                           // LZW min size 2, codes: clear,0,1,eoi
    0x3B};

std::string message_of(const std::string& path) {
    try {
        load_image(path);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("PNG RGB round-trips exactly") {
    TempDir dir;
    const auto px = pattern(13, 7, 3);
    REQUIRE(stbi_write_png(dir.file("a.png").c_str(), 13, 7, 3, px.data(), 13 * 3));
    const ImageRgb8 img = load_image(dir.file("a.png"));
    CHECK(img.width == 13);
    CHECK(img.height == 7);
    CHECK(img.pixels == std::vector<std::uint8_t>(px.begin(), px.end()));
}

TEST_CASE("grayscale and alpha PNGs come back as RGB") {
    TempDir dir;
    const auto gray = pattern(5, 4, 1);
    REQUIRE(stbi_write_png(dir.file("g.png").c_str(), 5, 4, 1, gray.data(), 5));
    const ImageRgb8 g = load_image(dir.file("g.png"));
    REQUIRE(g.pixels.size() == 5 * 4 * 3);
    for (int i = 0; i < 20; ++i) {
        CHECK(g.pixels[i * 3] == gray[i]);
        CHECK(g.pixels[i * 3 + 1] == gray[i]);
        CHECK(g.pixels[i * 3 + 2] == gray[i]);
    }
    const auto rgba = pattern(5, 4, 4);
    REQUIRE(stbi_write_png(dir.file("a.png").c_str(), 5, 4, 4, rgba.data(), 5 * 4));
    const ImageRgb8 a = load_image(dir.file("a.png"));
    REQUIRE(a.pixels.size() == 5 * 4 * 3);
    for (int i = 0; i < 20; ++i)
        for (int c = 0; c < 3; ++c) CHECK(a.pixels[i * 3 + c] == rgba[i * 4 + c]);
}

TEST_CASE("BMP and JPEG decode to the right size and roughly the right colours") {
    TempDir dir;
    const auto px = pattern(16, 9, 3);
    REQUIRE(stbi_write_bmp(dir.file("a.bmp").c_str(), 16, 9, 3, px.data()));
    CHECK(load_image(dir.file("a.bmp")).pixels == std::vector<std::uint8_t>(px.begin(), px.end()));

    std::vector<unsigned char> flat(32 * 24 * 3);
    for (std::size_t i = 0; i < flat.size(); i += 3) { flat[i] = 200; flat[i + 1] = 40; flat[i + 2] = 90; }
    REQUIRE(stbi_write_jpg(dir.file("a.jpg").c_str(), 32, 24, 3, flat.data(), 95));
    const ImageRgb8 jpg = load_image(dir.file("a.jpg"));
    CHECK(jpg.width == 32);
    CHECK(jpg.height == 24);
    CHECK(std::abs(int(jpg.pixels[0]) - 200) <= 4);
    CHECK(std::abs(int(jpg.pixels[1]) - 40) <= 4);
    CHECK(std::abs(int(jpg.pixels[2]) - 90) <= 4);
}

TEST_CASE("GIF: first frame, palette colours") {
    TempDir dir;
    write_bytes(dir.file("a.gif"), kTinyGif);
    const ImageRgb8 img = load_image(dir.file("a.gif"));
    REQUIRE(img.width == 2);
    REQUIRE(img.height == 1);
    CHECK(img.pixels == std::vector<std::uint8_t>{255, 0, 0, 0, 0, 255});
}

TEST_CASE("16-bit PNG comes back as 8-bit RGB") {
    // A 1x1 16-bit RGB PNG (colour type 2, depth 16) holding (0xFF00, 0x8000, 0x0000).
    const std::vector<std::uint8_t> png = {
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x02, 0x00, 0x00, 0x00, 0xC0,
        0xE7, 0x8F, 0x9D, 0x00, 0x00, 0x00, 0x0F, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xD0, 0xC0, 0xC0, 0xC0, 0x00, 0x00, 0x08, 0x01, 0x01, 0x80, 0x9A, 0x5E, 0x33, 0xE8,
        0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82};
    TempDir dir;
    write_bytes(dir.file("deep.png"), png);
    const ImageRgb8 img = load_image(dir.file("deep.png"));
    REQUIRE(img.width == 1);
    REQUIRE(img.pixels.size() == 3);
    CHECK(img.pixels[0] == 0xFF);
    CHECK(img.pixels[1] == 0x80);
    CHECK(img.pixels[2] == 0x00);
}

TEST_CASE("bad files are refused with a message naming the file") {
    TempDir dir;
    write_bytes(dir.file("empty.jpg"), {});
    CHECK(message_of(dir.file("empty.jpg")) == dir.file("empty.jpg") + ": file is empty");

    const std::string text = "this is not an image\n";
    write_bytes(dir.file("text.jpg"), std::vector<std::uint8_t>(text.begin(), text.end()));
    CHECK(message_of(dir.file("text.jpg")).find(dir.file("text.jpg") + ": not a supported image") == 0);

    CHECK(message_of(dir.file("missing.png")).find(dir.file("missing.png") + ": cannot open") == 0);

    const auto px = pattern(64, 48, 3);
    REQUIRE(stbi_write_jpg(dir.file("whole.jpg").c_str(), 64, 48, 3, px.data(), 90));
    const auto whole = read_file_bytes(dir.file("whole.jpg"));
    CHECK_NOTHROW(load_image(dir.file("whole.jpg")));
    for (const double fraction : {0.5, 0.9}) {
        CAPTURE(fraction);
        write_bytes(dir.file("cut.jpg"), {whole.begin(), whole.begin() + long(whole.size() * fraction)});
        CHECK(message_of(dir.file("cut.jpg")).find("truncated") != std::string::npos);
    }
    write_bytes(dir.file("ten.jpg"), {whole.begin(), whole.begin() + 10});
    CHECK(message_of(dir.file("ten.jpg")).find(dir.file("ten.jpg") + ": ") == 0);

    REQUIRE(stbi_write_png(dir.file("whole.png").c_str(), 64, 48, 3, px.data(), 64 * 3));
    const auto png = read_file_bytes(dir.file("whole.png"));
    write_bytes(dir.file("cut.png"), {png.begin(), png.begin() + long(png.size() / 2)});
    CHECK_FALSE(message_of(dir.file("cut.png")).empty());
}

TEST_CASE("the pixel limit is checked from the header, before decoding") {
    TempDir dir;
    const auto px = pattern(40, 30, 3);
    REQUIRE(stbi_write_png(dir.file("a.png").c_str(), 40, 30, 3, px.data(), 40 * 3));
    ImageLimits limits;
    limits.max_pixels = 40 * 30;
    CHECK_NOTHROW(load_image(dir.file("a.png"), limits));
    limits.max_pixels = 40 * 30 - 1;
    try {
        load_image(dir.file("a.png"), limits);
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == dir.file("a.png") + ": image is 40x30 pixels, over the limit of 1199");
    }
    // A PNG header claiming 60000x60000 with no pixel data behind it: refused by the limit.
    std::vector<std::uint8_t> huge = read_file_bytes(dir.file("a.png"));
    const std::uint8_t big[8] = {0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60};
    std::copy(big, big + 8, huge.begin() + 16);
    write_bytes(dir.file("huge.png"), huge);
    CHECK(message_of(dir.file("huge.png")).find("60000x60000 pixels, over the limit") != std::string::npos);
}

#if defined(TINCEPTION_HAVE_WEBP) && defined(TINCEPTION_HAVE_TIFF)
TEST_CASE("WebP and TIFF decode exactly, recognised by content whatever the name") {
    namespace corpus = tinception::testing;
    const std::vector<unsigned char> rgb = corpus::corpus_pattern(7, 5, 3);
    struct Case {
        const char* name;
        corpus::Bytes bytes;
    };
    const Case cases[] = {
        {"lossless.webp", corpus::webp_bytes(7, 5)},
        {"webp named.jpg", corpus::webp_bytes(7, 5)},
        {"plain.tiff", corpus::tiff_bytes(7, 5)},
        {"lzw.tif", corpus::tiff_bytes(7, 5, 3, true)},
        {"tiff named.png", corpus::tiff_bytes(7, 5)},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const ImageRgb8 image = decode_image(c.bytes.data(), c.bytes.size(), c.name);
        CHECK(image.width == 7);
        CHECK(image.height == 5);
        CHECK(image.pixels == std::vector<std::uint8_t>(rgb.begin(), rgb.end()));
    }
    const corpus::Bytes gray_bytes = corpus::tiff_bytes(6, 4, 1);
    const ImageRgb8 gray = decode_image(gray_bytes.data(), gray_bytes.size(), "gray.tiff");
    const std::vector<unsigned char> levels = corpus::corpus_pattern(6, 4, 1);
    REQUIRE(gray.pixels.size() == 6 * 4 * 3);
    for (std::size_t i = 0; i < levels.size(); ++i) {
        CHECK(gray.pixels[3 * i] == levels[i]);
        CHECK(gray.pixels[3 * i + 2] == levels[i]);
    }
}

TEST_CASE("damaged, truncated and oversized WebP and TIFF files are refused by name") {
    namespace corpus = tinception::testing;
    const corpus::Bytes webp = corpus::webp_bytes(64, 48);
    const corpus::Bytes tiff = corpus::tiff_bytes(64, 48);
    const auto refusal = [](const corpus::Bytes& bytes, const std::string& name) -> std::string {
        try {
            decode_image(bytes.data(), bytes.size(), name);
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    for (const std::size_t cut : {std::size_t(14), std::size_t(30), webp.size() / 2, webp.size() - 1}) {
        CAPTURE(cut);
        const std::string message = refusal({webp.begin(), webp.begin() + long(cut)}, "cut.webp");
        CHECK(message.rfind("cut.webp: ", 0) == 0);
        CHECK(message.find("WebP") != std::string::npos);
    }
    for (const std::size_t cut : {std::size_t(8), std::size_t(100), tiff.size() / 2, tiff.size() - 1}) {
        CAPTURE(cut);
        const std::string message = refusal({tiff.begin(), tiff.begin() + long(cut)}, "cut.tif");
        CHECK(message.rfind("cut.tif: ", 0) == 0);
    }
    CHECK(refusal(corpus::webp_claiming_size(16384, 16000), "huge.webp") ==
          "huge.webp: image is 16384x16000 pixels, over the limit of 50000000");
    CHECK(refusal(corpus::tiff_claiming_size(100000, 90000), "huge.tif") ==
          "huge.tif: image is 100000x90000 pixels, over the limit of 50000000");
    // The same header passes under a limit that admits it, and then fails on the missing data.
    const std::string small = refusal(corpus::webp_claiming_size(100, 50), "small.webp");
    CHECK(small.rfind("small.webp: ", 0) == 0);
    CHECK(small.find("over the limit") == std::string::npos);
}
#endif

TEST_CASE("image extensions match case-insensitively") {
    CHECK(has_image_extension("a/b.JPG"));
    CHECK(has_image_extension("x.jpeg"));
    CHECK(has_image_extension("x.Png"));
    CHECK(has_image_extension("x.gif"));
    CHECK(has_image_extension("x.bmp"));
    CHECK(has_image_extension("x.WebP"));
    CHECK(has_image_extension("x.tif"));
    CHECK(has_image_extension("x.tiff"));
    CHECK_FALSE(has_image_extension("x.txt"));
    CHECK_FALSE(has_image_extension("jpg"));
    CHECK_FALSE(has_image_extension("dir.jpg/file"));
}

TEST_CASE("bilinear resize with align_corners keeps the corners and interpolates between") {
    ImageRgb8 img;
    img.width = 2;
    img.height = 2;
    img.pixels = {0, 0, 0, 90, 90, 90, 30, 30, 30, 120, 120, 120};
    std::vector<float> out(4 * 4 * 3);
    resize_bilinear(img, 4, 4, true, out.data());
    CHECK(out[0] == doctest::Approx(0));
    CHECK(out[(0 * 4 + 3) * 3] == doctest::Approx(90));
    CHECK(out[(3 * 4 + 0) * 3] == doctest::Approx(30));
    CHECK(out[(3 * 4 + 3) * 3] == doctest::Approx(120));
    CHECK(out[(0 * 4 + 1) * 3] == doctest::Approx(30));       // a third of the way to 90
    CHECK(out[(1 * 4 + 1) * 3] == doctest::Approx(40));       // (0 + 90 + 30 + 120)/... at (1/3, 1/3)

    // align_corners=false: TensorFlow 1's mapping, source = dest * in/out, clamped.
    resize_bilinear(img, 4, 4, false, out.data());
    CHECK(out[0] == doctest::Approx(0));
    CHECK(out[(0 * 4 + 1) * 3] == doctest::Approx(45));
    CHECK(out[(0 * 4 + 3) * 3] == doctest::Approx(90));
}

TEST_CASE("preprocess scales to the network's input range") {
    ImageRgb8 img;
    img.width = 1;
    img.height = 1;
    img.pixels = {255, 0, 51};
    Preprocessing p;
    p.size = 3;
    std::vector<float> out(27);
    preprocess(img, p, out.data());
    for (int i = 0; i < 9; ++i) {
        CHECK(out[i * 3] == doctest::Approx(1.0));
        CHECK(out[i * 3 + 1] == doctest::Approx(0.0));
        CHECK(out[i * 3 + 2] == doctest::Approx(0.2));
    }
}
