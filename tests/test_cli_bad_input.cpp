// Bad input, faults and interruptions, through the real program: every broken or odd file
// is refused with one clear line or skipped and counted, input folders are never modified,
// and a killed run leaves nothing half-written under a final name. The corpus is made here
// (tests/image_corpus.hpp); no binary fixture is committed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "error.hpp"
#include "image/image.hpp"
#include "image_corpus.hpp"
#if defined(TINCEPTION_HAVE_WEBP) && defined(TINCEPTION_HAVE_TIFF)
#include "image_corpus_webp_tiff.hpp"
#define TINCEPTION_TEST_WEBP_TIFF 1
#endif
#include "temp_dir.hpp"
#include "classify/classifier_model.hpp"
#include "train/hashing.hpp"
#include "weights/crc32.hpp"

namespace fs = std::filesystem;
using namespace tinception;
using tinception::testing::Bytes;
using tinception::testing::TempDir;
namespace corpus = tinception::testing;

namespace {

// A missing input is a failure, never a skip.
std::string env_path(const char* variable) {
    const char* value = std::getenv(variable);
    REQUIRE_MESSAGE((value && *value), variable << " is not set; run tools/test.sh, which sets it");
    REQUIRE_MESSAGE(fs::exists(value), variable << "=" << value << " does not exist");
    return value;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

Bytes read_bytes(const fs::path& path) {
    const std::string s = read_text(path);
    return Bytes(s.begin(), s.end());
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

struct SpawnOptions {
    long file_size_limit = -1;  // RLIMIT_FSIZE in bytes, with SIGXFSZ ignored so write(2) fails
};

// The program running in the background, its stdout and stderr going to files.
struct Child {
    pid_t pid = -1;
    std::string out_path, err_path;
};

Child spawn_cli(const std::vector<std::string>& args, const fs::path& capture_dir, const SpawnOptions& o = {}) {
    static int counter = 0;
    const std::string exe = env_path("TINCEPTION_EXE");
    Child c;
    c.out_path = (capture_dir / ("run" + std::to_string(++counter) + ".out")).string();
    c.err_path = (capture_dir / ("run" + std::to_string(counter) + ".err")).string();
    c.pid = ::fork();
    REQUIRE(c.pid >= 0);
    if (c.pid == 0) {
        const int out = ::open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err = ::open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
        if (o.file_size_limit >= 0) {
            ::signal(SIGXFSZ, SIG_IGN);  // inherited across exec: write() fails with EFBIG instead
            const rlimit limit{rlim_t(o.file_size_limit), rlim_t(o.file_size_limit)};
            if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(127);
        }
        std::vector<char*> argv{const_cast<char*>(exe.c_str())};
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(exe.c_str(), argv.data());
        ::_exit(127);
    }
    return c;
}

struct Result {
    int exit_code = -1;  // -1 when ended by a signal
    int signal = 0;
    std::string out, err;
};

Result wait_for(const Child& c) {
    int status = 0;
    REQUIRE(::waitpid(c.pid, &status, 0) == c.pid);
    Result r;
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = read_text(c.out_path);
    r.err = read_text(c.err_path);
    return r;
}

Result run_cli(const std::vector<std::string>& args, const SpawnOptions& o = {}) {
    static TempDir captures;
    return wait_for(spawn_cli(args, captures.path(), o));
}

// Everything about a folder tree that a command could change: every entry's relative
// path, type, size, content hash and symlink target, without following links.
std::string tree_digest(const fs::path& root) {
    std::vector<std::string> rows;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none);
         it != fs::recursive_directory_iterator(); ++it) {
        const fs::path& p = it->path();
        const std::string rel = p.lexically_relative(root).string();
        const fs::file_status s = fs::symlink_status(p);
        std::string row = rel + " ";
        if (fs::is_symlink(s)) {
            row += "link->" + fs::read_symlink(p).string();
        } else if (fs::is_directory(s)) {
            row += "dir";
        } else {
            const Bytes b = read_bytes(p);
            row += "file " + std::to_string(b.size()) + " " + std::to_string(fnv1a_64(b.data(), b.size()));
        }
        rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end());
    std::string all;
    for (const std::string& r : rows) all += r + "\n";
    return all;
}

std::vector<fs::path> sorted_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        std::error_code ec;  // a looping link is neither a file nor an error here
        if (e.is_regular_file(ec)) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// Regular files anywhere under `dir` (cache entries sit in sub-folders), sorted.
std::vector<fs::path> sorted_files_under(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// A model trained once per test run on 6+6 superheroes images (50 steps), with its
// bottleneck cache, so the tests below pay for training once.
struct TrainedModel {
    TempDir dir;
    fs::path data, model, cache;
    std::vector<fs::path> vader, elsa;  // the copied images
};

const TrainedModel& trained_model() {
    static std::unique_ptr<TrainedModel> shared;
    if (shared) return *shared;
    auto m = std::make_unique<TrainedModel>();
    const fs::path heroes = env_path("TINCEPTION_SUPERHEROES");
    m->data = m->dir.path() / "data";
    m->model = m->dir.path() / "model.tcm";
    m->cache = m->dir.path() / "cache";
    for (const char* label : {"darth_vader", "elsa"}) {
        fs::create_directories(m->data / label);
        const auto files = sorted_files(heroes / label);
        REQUIRE(files.size() >= 6);
        for (std::size_t i = 0; i < 6; ++i) {
            const fs::path to = m->data / label / files[i].filename();
            fs::copy_file(files[i], to);
            (std::string(label) == "elsa" ? m->elsa : m->vader).push_back(to);
        }
    }
    const Result r = run_cli({"train", m->data.string(), "-o", m->model.string(), "--bottleneck-dir",
                              m->cache.string(), "--steps", "50"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::exists(m->model));
    shared = std::move(m);
    return *shared;
}

// A copy of a trained-model data image to a new name (same bytes, so the cache hits).
void copy_image(const fs::path& from, const fs::path& to) { fs::copy_file(from, to, fs::copy_options::overwrite_existing); }

Bytes truncated(const Bytes& b, std::size_t n) { return Bytes(b.begin(), b.begin() + long(std::min(n, b.size()))); }

// One image stored 16x8: left half red, right half blue, as a JPEG with `orientation`.
ImageRgb8 decode_halves(int orientation) {
    const std::vector<unsigned char> px = corpus::red_left_blue_right(16, 8);
    corpus::JpegOptions o;
    o.exif_orientation = orientation;
    o.quality = 100;
    const Bytes jpg = corpus::jpeg_from_pixels(16, 8, px, o);
    return decode_image(jpg.data(), jpg.size(), "halves.jpg");
}

bool is_red(const ImageRgb8& im, int x, int y) {
    const std::uint8_t* p = &im.pixels[(std::size_t(y) * im.width + x) * 3];
    return p[0] > 200 && p[2] < 60;
}
bool is_blue(const ImageRgb8& im, int x, int y) {
    const std::uint8_t* p = &im.pixels[(std::size_t(y) * im.width + x) * 3];
    return p[2] > 200 && p[0] < 60;
}

// The odd-but-valid files every command must accept, by file name.
std::map<std::string, Bytes> valid_odd_files() {
    std::map<std::string, Bytes> files;
    files["plain.png"] = corpus::png_bytes(40, 30, 3);
    files["alpha.png"] = corpus::png_bytes(40, 30, 4);
    files["gray.png"] = corpus::png_bytes(40, 30, 1);
    files["deep16.png"] = corpus::png16_bytes(40, 30);
    files["two colours.gif"] = corpus::gif_bytes(40, 30);
    files["bitmap (copy).bmp"] = corpus::bmp_bytes(40, 30);
    files["gray.jpg"] = corpus::jpeg_bytes(40, 30, {corpus::JpegKind::grayscale});
    files["cmyk.jpg"] = corpus::jpeg_bytes(40, 30, {corpus::JpegKind::cmyk});
    files["progressive.jpg"] = corpus::jpeg_bytes(41, 29, {corpus::JpegKind::rgb, true});
    files["rotated-exif6.jpg"] = corpus::jpeg_bytes(40, 20, {corpus::JpegKind::rgb, false, 6});
    files["one pixel.png"] = corpus::png_bytes(1, 1, 3);
    files["wide 5000x20.png"] = corpus::png_bytes(5000, 20, 3);
    files["\xc3\xa9t\xc3\xa9 \xe2\x98\x83 (2).jpg"] = corpus::jpeg_bytes(33, 33);  // "été ☃ (2).jpg"
#ifdef TINCEPTION_TEST_WEBP_TIFF
    files["phone.webp"] = corpus::webp_bytes(40, 30);
    files["scan.tiff"] = corpus::tiff_bytes(40, 30, 3, true);
    files["gray scan.tif"] = corpus::tiff_bytes(40, 30, 1);
    files["webp really.jpg"] = corpus::webp_bytes(41, 31);
#endif
    return files;
}

// The broken files, each with the reason its error line must give.
struct BadFile {
    std::string name;
    Bytes bytes;
    std::string reason;
};

std::vector<BadFile> bad_files() {
    const Bytes jpg = corpus::jpeg_bytes(64, 48);
#ifdef TINCEPTION_TEST_WEBP_TIFF
    const Bytes webp = corpus::webp_bytes(64, 48);
    const Bytes tiff = corpus::tiff_bytes(64, 48);
#endif
    const std::string text = "This is a text file that someone renamed to .jpg\n";
    return {
        {"empty.jpg", {}, "file is empty"},
        {"half.jpg", truncated(jpg, jpg.size() / 2), "JPEG is truncated"},
        {"ten bytes.jpg", truncated(jpg, 10), "JPEG is truncated"},
        {"notes (really text).jpg", Bytes(text.begin(), text.end()), "not a supported image"},
        {"huge header.jpg", corpus::jpeg_claiming_size(60000, 60000), "image is 60000x60000 pixels, over the limit"},
#ifdef TINCEPTION_TEST_WEBP_TIFF
        {"half.webp", truncated(webp, webp.size() / 2), "cannot decode WebP image"},
        {"huge header.webp", corpus::webp_claiming_size(16384, 16384), "image is 16384x16384 pixels, over the limit"},
        {"half.tiff", truncated(tiff, tiff.size() / 2), "TIFF cannot be opened"},
        {"huge header.tif", corpus::tiff_claiming_size(70000, 70000), "image is 70000x70000 pixels, over the limit"},
        {"tiff really.png", truncated(tiff, tiff.size() - 1), "TIFF cannot be opened"},
#endif
    };
}

}  // namespace

TEST_CASE("decode_image: odd but valid layouts decode to RGB at their stored size") {
    struct Case {
        const char* name;
        Bytes bytes;
        int width, height;
    };
    const Case cases[] = {
        {"rgb png", corpus::png_bytes(7, 5, 3), 7, 5},
        {"png with alpha", corpus::png_bytes(7, 5, 4), 7, 5},
        {"grayscale png", corpus::png_bytes(7, 5, 1), 7, 5},
        {"16-bit png", corpus::png16_bytes(7, 5), 7, 5},
        {"gif", corpus::gif_bytes(9, 6), 9, 6},
        {"bmp", corpus::bmp_bytes(7, 5), 7, 5},
        {"grayscale jpeg", corpus::jpeg_bytes(16, 8, {corpus::JpegKind::grayscale}), 16, 8},
        {"progressive jpeg", corpus::jpeg_bytes(17, 9, {corpus::JpegKind::rgb, true}), 17, 9},
        {"1x1", corpus::png_bytes(1, 1, 3), 1, 1},
        {"5000x20", corpus::png_bytes(5000, 20, 3), 5000, 20},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const ImageRgb8 image = decode_image(c.bytes.data(), c.bytes.size(), c.name);
        CHECK(image.width == c.width);
        CHECK(image.height == c.height);
        CHECK(image.pixels.size() == std::size_t(c.width) * c.height * 3);
    }
    // The 16-bit PNG keeps the high byte: pixel (0,0) channel 1 is 20000 >> 8.
    const Bytes deep = corpus::png16_bytes(3, 2);
    CHECK(int(decode_image(deep.data(), deep.size(), "deep").pixels[1]) == (20000 >> 8));
}

TEST_CASE("decode_image: a CMYK JPEG (Adobe, 4 components) decodes to RGB") {
    // stb_image reads 4-component JPEGs; the pattern survives roughly (lossy, and stb does
    // not apply Adobe's inverted-CMYK convention, so only the size and layout are checked).
    const Bytes cmyk = corpus::jpeg_bytes(16, 8, {corpus::JpegKind::cmyk});
    const ImageRgb8 image = decode_image(cmyk.data(), cmyk.size(), "cmyk.jpg");
    CHECK(image.width == 16);
    CHECK(image.height == 8);
}

TEST_CASE("decode_image: EXIF orientation turns the picture upright") {
    const ImageRgb8 stored = decode_halves(1);  // as stored: 16x8, red left, blue right
    REQUIRE(stored.width == 16);
    REQUIRE(stored.height == 8);
    CHECK(is_red(stored, 2, 4));
    CHECK(is_blue(stored, 13, 4));

    const ImageRgb8 six = decode_halves(6);  // rotate 90 clockwise: 8x16, left half becomes the top
    REQUIRE(six.width == 8);
    REQUIRE(six.height == 16);
    CHECK(is_red(six, 4, 2));
    CHECK(is_blue(six, 4, 13));

    const ImageRgb8 eight = decode_halves(8);  // rotate 90 counter-clockwise: left half becomes the bottom
    REQUIRE(eight.width == 8);
    CHECK(is_blue(eight, 4, 2));
    CHECK(is_red(eight, 4, 13));

    const ImageRgb8 three = decode_halves(3);  // rotate 180: same size, halves swapped
    REQUIRE(three.width == 16);
    CHECK(is_blue(three, 2, 4));
    CHECK(is_red(three, 13, 4));

    const ImageRgb8 two = decode_halves(2);  // mirrored
    CHECK(is_blue(two, 2, 4));

    const ImageRgb8 bad_value = decode_halves(9);  // out of range: ignored
    CHECK(bad_value.width == 16);
}

TEST_CASE("decode_image: broken files are refused with the reason, never decoded") {
    for (const BadFile& b : bad_files()) {
        CAPTURE(b.name);
        try {
            decode_image(b.bytes.data(), b.bytes.size(), b.name);
            FAIL("decoded a broken file");
        } catch (const Error& e) {
            CHECK(contains(e.what(), b.name + ": "));
            CHECK(contains(e.what(), b.reason));
            CHECK(e.kind() == ErrorKind::bad_input);
        }
    }
    // The size limit is applied from the header: a declared size over the limit is refused
    // even when the pixel data is a few bytes, before stb_image allocates for it.
    const Bytes claims = corpus::jpeg_claiming_size(9000, 9000);
    ImageLimits small;
    small.max_pixels = 1000;
    CHECK_THROWS_WITH_AS(decode_image(claims.data(), claims.size(), "x.jpg", small),
                         doctest::Contains("9000x9000 pixels, over the limit of 1000"), Error);
    // Each dimension alone fits in 32 bits; their product must not overflow.
    Bytes png = corpus::png_bytes(2, 2, 3);
    for (int i = 16; i < 24; ++i) png[std::size_t(i)] = 0xFF;
    CHECK_THROWS_AS(decode_image(png.data(), png.size(), "wide.png"), Error);
}

TEST_CASE("decode_image: fuzz finding, a Huffman table with over 256 codes is refused before stb_image reads it") {
    // tests/fuzz/fuzz_image_decode found stb_image 2.27 indexing past its 257-entry size
    // table (UBSan: index 257 out of bounds in stbi__build_huffman) for such a table.
    Bytes jpg = corpus::jpeg_bytes(16, 16);
    std::size_t dht = 0;
    for (std::size_t i = 2; i + 1 < jpg.size() && !dht; ++i)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC4) dht = i;
    REQUIRE(dht != 0);
    for (std::size_t k = 0; k < 16; ++k) jpg[dht + 5 + k] = 17;  // 16 lengths x 17 codes = 272
    CHECK_THROWS_WITH_AS(decode_image(jpg.data(), jpg.size(), "dht.jpg"),
                         doctest::Contains("dht.jpg: JPEG is damaged: a Huffman table declares 272 codes"), Error);
    // Its second form: junk bytes before the table's marker, which stb_image skips over.
    jpg.insert(jpg.begin() + long(dht), {'j', 'u', 'n', 'k'});
    CHECK_THROWS_WITH_AS(decode_image(jpg.data(), jpg.size(), "junk.jpg"),
                         doctest::Contains("junk.jpg: JPEG is damaged: a Huffman table declares 272 codes"), Error);
    // And behind fill bytes before the start-of-image marker, which stb_image also accepts.
    jpg.insert(jpg.begin(), 0xFF);
    CHECK_THROWS_WITH_AS(decode_image(jpg.data(), jpg.size(), "fill.jpg"),
                         doctest::Contains("fill.jpg: JPEG is damaged: a Huffman table declares 272 codes"), Error);
    // And a table whose symbols run past the end of its segment, into the next one.
    Bytes cut = corpus::jpeg_bytes(16, 16);
    for (std::size_t i = 2; i + 1 < cut.size(); ++i)
        if (cut[i] == 0xFF && cut[i + 1] == 0xC4) {
            cut[i + 3] = std::uint8_t(cut[i + 3] - 1);  // segment one byte shorter than its table
            break;
        }
    CHECK_THROWS_WITH_AS(decode_image(cut.data(), cut.size(), "cut.jpg"),
                         doctest::Contains("runs past the end of its segment"), Error);
}

TEST_CASE("guess: each broken file fails with one line naming it and the reason, exit 2") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    for (const BadFile& b : bad_files()) {
        CAPTURE(b.name);
        const fs::path path = dir.path() / b.name;
        write_file(path, b.bytes);
        const Result r = run_cli({"guess", m.model.string(), path.string()});
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        const auto lines = lines_of(r.err);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].rfind("tinception: error: " + path.string() + ": ", 0) == 0);
        CHECK(contains(lines[0], b.reason));
    }
    const Result missing = run_cli({"guess", m.model.string(), (dir.path() / "no such.jpg").string()});
    CHECK(missing.exit_code == 2);
    CHECK(lines_of(missing.err).size() == 1);
    CHECK(contains(missing.err, "no such.jpg: cannot open: No such file or directory"));
}

TEST_CASE("guess: odd but valid files, and names with spaces, parentheses and non-ASCII, are classified") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    std::vector<std::string> args = {"guess", m.model.string(), "--top-k", "1"};
    for (const auto& [name, bytes] : valid_odd_files()) {
        write_file(dir.path() / name, bytes);
        args.push_back((dir.path() / name).string());
    }
    const Result r = run_cli(args);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    for (const auto& [name, bytes] : valid_odd_files()) {
        CAPTURE(name);
        CHECK(contains(r.out, (dir.path() / name).string() + ":\n"));
    }
    const std::regex label_line(R"((darth_vader|elsa) \(score = [01]\.\d{5}\))");
    std::size_t labels = 0;
    for (const std::string& line : lines_of(r.out)) labels += std::regex_match(line, label_line);
    CHECK(labels == valid_odd_files().size());
}

TEST_CASE("guess-dir: skips, reports and summarises; the input folder is never modified") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path in = dir.path() / "in", out = dir.path() / "out";
    fs::create_directories(in / "nested");
    copy_image(m.vader[0], in / "vader one.jpg");
    copy_image(m.elsa[0], in / "(elsa) \xc3\xa9.jpg");
    copy_image(m.elsa[1], in / "nested" / "inside.jpg");
    const auto odd = valid_odd_files();
    for (const auto& [name, bytes] : odd) write_file(in / name, bytes);
    for (const BadFile& b : bad_files()) write_file(in / b.name, b.bytes);
    write_file(in / ".DS_Store", {0, 0, 0, 1, 'B', 'u', 'd', '1'});
    write_file(in / "readme.txt", {'h', 'i', '\n'});
    fs::create_symlink("loop", in / "loop.jpg");
    fs::create_symlink("loop.jpg", in / "loop");
    const std::string before = tree_digest(in);

    const Result r = run_cli({"guess-dir", m.model.string(), in.string(), out.string()});
    INFO(r.err);
    CHECK(r.exit_code == 1);  // some items failed
    CHECK(tree_digest(in) == before);

    const std::size_t good = 2 + odd.size();
    const std::size_t failed = bad_files().size() + 2;  // + the two looping links
    CHECK(contains(r.out, "guess-dir: " + std::to_string(good) + " classified, " + std::to_string(failed) + " failed"));
    for (const BadFile& b : bad_files()) {
        CAPTURE(b.name);
        CHECK(contains(r.err, (in / b.name).string() + ": skipped, " + b.reason));
    }
    CHECK(contains(r.err, (in / "loop.jpg").string() + ": skipped, cannot read"));
    CHECK(contains(r.err, (in / "nested").string() + ": skipped, a sub-folder"));
    CHECK(contains(r.err, (in / "readme.txt").string() + ": skipped, not a supported image"));
    CHECK_FALSE(contains(r.err, "\n\n"));  // no blank lines when stderr is not a terminal
    CHECK_FALSE(contains(r.err, ".DS_Store"));  // hidden files are passed over silently

    // One copy per classified image, byte-identical to its input, under <label>-<score>.<ext>.
    std::multiset<std::uint64_t> input_hashes;
    for (const fs::path& p : sorted_files(in)) {
        const Bytes b = read_bytes(p);
        input_hashes.insert(fnv1a_64(b.data(), b.size()));
    }
    const std::regex copy_name(R"((darth_vader|elsa)-[01]\.\d{5}(-\d+)?\.(jpg|png|gif|bmp|webp|tiff?))");
    std::size_t copies = 0;
    for (const std::string& name : names_in(out)) {
        CAPTURE(name);
        if (name == "predictions.csv") continue;
        CHECK(std::regex_match(name, copy_name));
        const Bytes b = read_bytes(out / name);
        CHECK(input_hashes.count(fnv1a_64(b.data(), b.size())) == 1);
        ++copies;
    }
    CHECK(copies == good);
    // Defect 9: failed files are listed too, each with its error and no label.
    const std::vector<std::string> csv = lines_of(read_text(out / "predictions.csv"));
    CHECK(csv.size() == good + failed + 1);
    CHECK(std::count_if(csv.begin(), csv.end(), [](const std::string& l) { return contains(l, ",,,,"); }) ==
          long(failed));
    CHECK(std::find(csv.begin(), csv.end(), (in / "empty.jpg").string() + ",,,,file is empty") != csv.end());
}

namespace {

// predictions.csv rows as {file, label, score, output, error}; the names in these tests
// hold no comma or quote, so a field is the text between commas.
std::vector<std::vector<std::string>> csv_rows(const fs::path& path) {
    std::vector<std::vector<std::string>> rows;
    for (const std::string& line : lines_of(read_text(path))) {
        std::vector<std::string> fields;
        std::size_t start = 0;
        for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
            fields.push_back(line.substr(start, comma - start));
        fields.push_back(line.substr(start));
        rows.push_back(fields);
    }
    if (!rows.empty()) rows.erase(rows.begin());  // the header
    return rows;
}

// IN_DIR for the guess-dir option tests: two images at the top, two in nested folders, one
// hidden folder, and OUT_DIR's future place inside it.
fs::path make_nested_input(const TrainedModel& m, const fs::path& root) {
    const fs::path in = root / "in";
    fs::create_directories(in / "trip" / "day 1");
    fs::create_directories(in / ".hidden");
    copy_image(m.vader[0], in / "a.jpg");
    copy_image(m.elsa[0], in / "b.jpg");
    copy_image(m.elsa[1], in / "trip" / "c.jpg");
    copy_image(m.vader[1], in / "trip" / "day 1" / "d.jpg");
    copy_image(m.vader[2], in / ".hidden" / "e.jpg");
    return in;
}

}  // namespace

TEST_CASE("guess-dir --recursive --by-label: one folder per label, relative folders and names kept, IN_DIR untouched") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path in = make_nested_input(m, dir.path());
    const std::string before = tree_digest(in);
    const fs::path out = dir.path() / "out";
    const Result r = run_cli({"guess-dir", m.model.string(), in.string(), out.string(), "--recursive", "--by-label"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "guess-dir: 4 classified, 0 failed"));
    CHECK(tree_digest(in) == before);
    const auto rows = csv_rows(out / "predictions.csv");
    REQUIRE(rows.size() == 4);
    const std::map<std::string, std::string> folder_of{{"a.jpg", ""}, {"b.jpg", ""}, {"c.jpg", "trip/"},
                                                       {"d.jpg", "trip/day 1/"}};
    for (const auto& row : rows) {
        CAPTURE(row[0]);
        REQUIRE(row.size() == 5);
        const std::string name = fs::path(row[0]).filename().string();
        REQUIRE(folder_of.count(name) == 1);
        CHECK((row[1] == "darth_vader" || row[1] == "elsa"));
        CHECK(row[3] == row[1] + "/" + folder_of.at(name) + name);
        CHECK(read_bytes(out / row[3]) == read_bytes(row[0]));
    }
    // Again into the same folder: numbered names, nothing replaced.
    const std::string first_run = tree_digest(out);
    const Result again = run_cli({"guess-dir", m.model.string(), in.string(), out.string(), "--recursive", "--by-label"});
    CHECK(again.exit_code == 0);
    for (const auto& row : csv_rows(out / "predictions-2.csv")) {
        CAPTURE(row[0]);
        CHECK(contains(row[3], "-2.jpg"));
    }
    for (const std::string& line : lines_of(first_run)) CHECK(contains(tree_digest(out), line));
    CHECK(tree_digest(in) == before);

    // Without --recursive the sub-folders are reported and left alone.
    const Result flat = run_cli({"guess-dir", m.model.string(), in.string(), (dir.path() / "flat").string()});
    CHECK(contains(flat.out, "guess-dir: 2 classified, 0 failed"));
    CHECK(contains(flat.err, (in / "trip").string() + ": skipped, a sub-folder (guess-dir recurses only with --recursive)"));

    // OUT_DIR inside IN_DIR: never read back as input.
    const fs::path inside = in / "sorted";
    const Result nested = run_cli({"guess-dir", m.model.string(), in.string(), inside.string(), "--recursive"});
    INFO(nested.err);
    CHECK(contains(nested.out, "guess-dir: 4 classified, 0 failed"));
    const Result twice = run_cli({"guess-dir", m.model.string(), in.string(), inside.string(), "--recursive"});
    CHECK(contains(twice.out, "guess-dir: 4 classified, 0 failed"));
    CHECK(csv_rows(inside / "predictions.csv").size() == 4);
    const auto nested_rows = csv_rows(inside / "predictions.csv");
    for (const auto& row : nested_rows) {
        CAPTURE(row[0]);
        const std::string name = fs::path(row[0]).filename().string();
        CHECK(std::regex_match(fs::path(row[3]).filename().string(),
                               std::regex(row[1] + R"(-[01]\.\d{5}\.jpg)")));
        CHECK(fs::path(row[3]).parent_path().string() + (folder_of.at(name).empty() ? "" : "/") ==
              folder_of.at(name));
    }
}

TEST_CASE("guess-dir --threshold: a top score below it files the image under 'unknown'") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path in = make_nested_input(m, dir.path());
    const Result plain = run_cli({"guess-dir", m.model.string(), in.string(), (dir.path() / "plain").string(),
                                  "--recursive"});
    REQUIRE(plain.exit_code == 0);
    std::map<std::string, double> score;
    for (const auto& row : csv_rows(dir.path() / "plain" / "predictions.csv")) score[row[0]] = std::stod(row[2]);
    REQUIRE(score.size() == 4);
    double low = 1, high = 0;
    for (const auto& [file, s] : score) low = std::min(low, s), high = std::max(high, s);
    REQUIRE(low < high);  // the threshold below falls between them
    const double threshold = (low + high) / 2;
    char text[32];
    std::snprintf(text, sizeof text, "%.6f", threshold);
    for (const bool by_label : {false, true}) {
        CAPTURE(by_label);
        const fs::path out = dir.path() / (by_label ? "by-label" : "named");
        std::vector<std::string> args{"guess-dir", m.model.string(), in.string(), out.string(), "--recursive",
                                      "--threshold", text};
        if (by_label) args.push_back("--by-label");
        const Result r = run_cli(args);
        INFO(r.err);
        CHECK(r.exit_code == 0);
        std::size_t unknown = 0;
        for (const auto& row : csv_rows(out / "predictions.csv")) {
            CAPTURE(row[0]);
            const bool below = score.at(row[0]) < threshold;
            CHECK((row[1] == "unknown") == below);
            const std::string name = fs::path(row[3]).filename().string();
            if (by_label) CHECK(row[3].rfind(row[1] + "/", 0) == 0);
            if (!by_label) CHECK(name.rfind(row[1] + "-", 0) == 0);
            unknown += below;
        }
        CHECK(unknown >= 1);
        CHECK(unknown <= 3);
    }
    for (const char* bad : {"-0.1", "1.5", "high"}) {
        CAPTURE(bad);
        const Result r = run_cli({"guess-dir", m.model.string(), in.string(), (dir.path() / "bad").string(),
                                  "--threshold", bad});
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "--threshold takes a number from 0 to 1"));
        CHECK_FALSE(fs::exists(dir.path() / "bad"));
    }
}

TEST_CASE("guess-dir --link: hard links on the same file system, copies across, IN_DIR's contents untouched") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path in = make_nested_input(m, dir.path());
    const std::string before = tree_digest(in);
    const fs::path out = dir.path() / "out";
    const Result r = run_cli({"guess-dir", m.model.string(), in.string(), out.string(), "--recursive", "--by-label",
                              "--link"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "guess-dir: 4 classified, 0 failed; 4 linked, 0 copied"));
    CHECK(tree_digest(in) == before);
    for (const auto& row : csv_rows(out / "predictions.csv")) {
        CAPTURE(row[0]);
        CHECK(fs::equivalent(out / row[3], row[0]));  // the same file, not a copy
        CHECK(fs::hard_link_count(row[0]) == 2);
    }
    // A link to an image is followed: the output is the image, never a dangling link.
    fs::create_directories(dir.path() / "links");
    fs::create_symlink(fs::absolute(in / "a.jpg"), dir.path() / "links" / "via link.jpg");
    const Result via = run_cli({"guess-dir", m.model.string(), (dir.path() / "links").string(),
                                (dir.path() / "out2").string(), "--link", "--by-label"});
    CHECK(via.exit_code == 0);
    const auto via_rows = csv_rows(dir.path() / "out2" / "predictions.csv");
    REQUIRE(via_rows.size() == 1);
    CHECK_FALSE(fs::is_symlink(dir.path() / "out2" / via_rows[0][3]));
    CHECK(fs::equivalent(dir.path() / "out2" / via_rows[0][3], in / "a.jpg"));

    // Another file system: copies, byte for byte.
    struct stat tmp_stat {}, shm_stat {};
    if (::stat(dir.path().c_str(), &tmp_stat) == 0 && ::stat("/dev/shm", &shm_stat) == 0 &&
        tmp_stat.st_dev != shm_stat.st_dev && ::access("/dev/shm", W_OK) == 0) {
        TempDir shm_root;  // named like the others, under /dev/shm
        const fs::path shm = fs::path("/dev/shm") / shm_root.path().filename();
        std::map<std::string, std::uintmax_t> links_before;
        for (const auto& row : csv_rows(out / "predictions.csv")) links_before[row[0]] = fs::hard_link_count(row[0]);
        const Result copied = run_cli({"guess-dir", m.model.string(), in.string(), shm.string(), "--recursive", "--link"});
        INFO(copied.err);
        CHECK(copied.exit_code == 0);
        CHECK(contains(copied.out, "0 linked, 4 copied"));
        for (const auto& row : csv_rows(shm / "predictions.csv")) {
            CHECK(read_bytes(shm / row[3]) == read_bytes(row[0]));
            CHECK(fs::hard_link_count(row[0]) == links_before.at(row[0]));  // no new link
        }
        fs::remove_all(shm);
    } else {
        MESSAGE("no second writable file system at /dev/shm: the copy fallback is not exercised here");
    }
    CHECK(tree_digest(in) == before);
}

TEST_CASE("train: hidden files, non-images, broken images, nested folders and link loops are skipped and reported") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path data = dir.path() / "data";
    fs::copy(m.data, data, fs::copy_options::recursive);
    write_file(data / ".DS_Store", {0, 0, 0, 1});
    write_file(data / "elsa" / ".DS_Store", {0, 0, 0, 1});
    write_file(data / "elsa" / "notes.txt", {'x'});
    write_file(data / "elsa" / "not really.jpg", {'t', 'e', 'x', 't', '\n'});
    write_file(data / "darth_vader" / "cut short.jpg", truncated(read_bytes(m.vader[0]), 100));
    fs::create_directories(data / "elsa" / "more");
    copy_image(m.elsa[0], data / "elsa" / "more" / "x.jpg");
    fs::create_symlink("a loop.jpg", data / "darth_vader" / "a loop.jpg");
    const std::string before = tree_digest(data);
    const fs::path model = dir.path() / "m.tcm";

    const Result r = run_cli({"train", data.string(), "-o", model.string(), "--bottleneck-dir", m.cache.string(),
                              "--steps", "50"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(tree_digest(data) == before);
    CHECK(contains(r.err, (data / "elsa" / ".DS_Store").string() + ": skipped, a hidden file"));
    CHECK(contains(r.err, (data / "elsa" / "notes.txt").string() + ": skipped, not a supported image"));
    CHECK(contains(r.err, (data / "elsa" / "more").string() + ": skipped, a nested folder"));
    CHECK(contains(r.err, (data / "darth_vader" / "a loop.jpg").string() + ": skipped, not a regular file"));
    CHECK(contains(r.err, "not really.jpg: skipped, not a supported image (JPEG, PNG, BMP, GIF, PNM"));
    CHECK(contains(r.err, "cut short.jpg: skipped, JPEG is truncated"));
    CHECK(contains(r.out, "1 skipped"));  // the text file is left out by the scan, before any decoding
    CHECK_FALSE(contains(r.err, "skipped: "));  // one warning form
    CHECK_FALSE(contains(r.err, "\n\n"));
    // Defect 11: the split is printed before training starts.
    REQUIRE(contains(r.out, "split: "));
    CHECK(r.out.find("split: ") < r.out.find("step "));
    CHECK_NOTHROW(load_classifier_model(model.string()));
}

namespace {

// A binary PNM (P6) of an image's pixels: a format decoded by content, never by its name.
Bytes ppm_of(const ImageRgb8& image) {
    const std::string header = "P6\n" + std::to_string(image.width) + " " + std::to_string(image.height) + "\n255\n";
    Bytes b(header.begin(), header.end());
    b.insert(b.end(), image.pixels.begin(), image.pixels.end());
    return b;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    for (std::size_t comma; (comma = text.find(", ", start)) != std::string::npos; start = comma + 2)
        items.push_back(text.substr(start, comma - start));
    items.push_back(text.substr(start));
    return items;
}

}  // namespace

TEST_CASE("defect 8: the format list in errors is exactly what decode_image reads, each recognised by content") {
    const Bytes png = corpus::png_bytes(20, 10, 3);
    std::map<std::string, Bytes> sample{{"JPEG", corpus::jpeg_bytes(20, 10)}, {"PNG", png},
                                        {"BMP", corpus::bmp_bytes(20, 10)},   {"GIF", corpus::gif_bytes(20, 10)},
                                        {"PNM", ppm_of(decode_image(png.data(), png.size(), "p.png"))}};
#ifdef TINCEPTION_TEST_WEBP_TIFF
    sample["WebP"] = corpus::webp_bytes(20, 10);
    sample["TIFF"] = corpus::tiff_bytes(20, 10);
#endif
    const std::vector<std::string> listed = split_list(supported_image_formats());
    CHECK(listed.size() == sample.size());
    for (const std::string& format : listed) {
        CAPTURE(format);
        REQUIRE(sample.count(format) == 1);
        const Bytes& bytes = sample[format];
        CHECK(image_format_of(bytes.data(), bytes.size()) == format);
        const ImageRgb8 image = decode_image(bytes.data(), bytes.size(), "named.txt");
        CHECK(image.width == 20);
        CHECK(image.height == 10);
    }
    const std::string text = "plain text";
    const std::string expected = "t.jpg: not a supported image (" + supported_image_formats() + ")";
    CHECK_THROWS_WITH_AS(decode_image(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), "t.jpg"),
                         expected.c_str(), Error);
}

TEST_CASE("defect 8: train takes images by content, like guess: no extension, or a .ppm") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path data = dir.path() / "data";
    fs::copy(m.data, data, fs::copy_options::recursive);
    const auto heroes = sorted_files(fs::path(env_path("TINCEPTION_SUPERHEROES")) / "darth_vader");
    REQUIRE(heroes.size() > 6);
    fs::copy_file(heroes[6], data / "darth_vader" / "photo without extension");
    write_file(data / "elsa" / "portable.ppm", ppm_of(load_image(m.elsa[0].string())));
    const fs::path model = dir.path() / "m.tcm";
    const Result r = run_cli({"train", data.string(), "-o", model.string(), "--bottleneck-dir", m.cache.string(),
                              "--steps", "20"});
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(contains(r.err, "skipped"));
    CHECK(contains(r.out, "bottlenecks: 4 computed, 24 from cache"));  // the images and their mirrors
    // guess reads both the same way
    const Result g = run_cli({"guess", model.string(), (data / "darth_vader" / "photo without extension").string(),
                              (data / "elsa" / "portable.ppm").string()});
    INFO(g.err);
    CHECK(g.exit_code == 0);
}

TEST_CASE("defect 9: guess --json lists a failed file with its error, in order among the others") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path broken = dir.path() / "half.jpg";
    const Bytes jpg = read_bytes(m.elsa[0]);
    write_file(broken, truncated(jpg, jpg.size() / 2));
    const Result r = run_cli({"guess", m.model.string(), "--json", m.vader[0].string(), broken.string(),
                              (dir.path() / "missing.jpg").string(), m.elsa[0].string()});
    CHECK(r.exit_code == 2);
    const std::size_t first = r.out.find("{\"image\": \"" + m.vader[0].string() + "\", \"scores\": [");
    const std::size_t failed = r.out.find("{\"image\": \"" + broken.string() + "\", \"error\": \"" + broken.string() +
                                          ": JPEG is truncated");
    const std::size_t missing = r.out.find("{\"image\": \"" + (dir.path() / "missing.jpg").string() +
                                           "\", \"error\": \"" + (dir.path() / "missing.jpg").string() + ": cannot open");
    const std::size_t last = r.out.find("{\"image\": \"" + m.elsa[0].string() + "\", \"scores\": [");
    INFO(r.out);
    REQUIRE(first != std::string::npos);
    REQUIRE(failed != std::string::npos);
    REQUIRE(missing != std::string::npos);
    REQUIRE(last != std::string::npos);
    CHECK(first < failed);
    CHECK(failed < missing);
    CHECK(missing < last);
    CHECK(r.out.front() == '[');
    CHECK(r.out.substr(r.out.size() - 3) == "\n]\n");
}

TEST_CASE("defect 10: file names with commas, spaces, quotes and leading dashes are one file each") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const std::vector<std::string> names{"s1imag,hhg8696es.jpg", "two  spaces .jpg", "it's \"quoted\".jpg",
                                         "-leading dash.jpg", "--looks-like-an-option.jpg", ",.jpg"};
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < names.size(); ++i) {
        copy_image(m.elsa[i % m.elsa.size()], dir.path() / names[i]);
        paths.push_back((dir.path() / names[i]).string());
    }
    std::vector<std::string> guess{"guess", m.model.string(), "--json", "--"};
    // Names starting with '-' follow `--`, as with any command-line program.
    guess.insert(guess.end(), paths.begin(), paths.end());
    const Result r = run_cli(guess);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    for (const std::string& p : paths) {
        std::string quoted;  // the name as a JSON string
        for (char ch : p) quoted += ch == '"' ? std::string("\\\"") : std::string(1, ch);
        CAPTURE(p);
        CHECK(contains(r.out, "{\"image\": \"" + quoted + "\", \"scores\""));
    }
    std::vector<std::string> comma_names{"guess", m.model.string(), "--top-k", "1", paths[0], paths[5]};
    const Result text = run_cli(comma_names);
    CHECK(text.exit_code == 0);
    CHECK(contains(text.out, paths[0] + ":\n"));
    CHECK(contains(text.out, paths[5] + ":\n"));

    // embed: one CSV row per file, the name quoted where it needs to be.
    const std::string weights = env_path("TINCEPTION_WEIGHTS");
    std::vector<std::string> embed{"embed", weights, "--layer", "mixed0", "--", paths[0], paths[2], paths[3]};
    const Result e = run_cli(embed);
    INFO(e.err);
    CHECK(e.exit_code == 0);
    const std::vector<std::string> rows = lines_of(e.out);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].rfind("\"" + paths[0] + "\",", 0) == 0);
    CHECK(rows[2].rfind(paths[3] + ",", 0) == 0);
}

TEST_CASE("train --quiet --metrics-json: silence but for warnings, and every evaluation as the console counts it") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const std::vector<std::string> common{"train", m.data.string(), "--bottleneck-dir", m.cache.string(), "--steps",
                                          "25", "--eval-interval", "10"};
    std::vector<std::string> loud = common, quiet = common;
    loud.insert(loud.end(), {"-o", (dir.path() / "loud.tcm").string(), "--metrics-json", (dir.path() / "loud.json").string()});
    quiet.insert(quiet.end(), {"-o", (dir.path() / "quiet.tcm").string(), "--metrics-json",
                               (dir.path() / "quiet.json").string(), "--quiet"});
    const Result l = run_cli(loud);
    const Result q = run_cli(quiet);
    INFO(q.err);
    REQUIRE(l.exit_code == 0);
    REQUIRE(q.exit_code == 0);
    CHECK(q.out.empty());
    for (const std::string& line : lines_of(q.err)) CHECK(line.rfind("warning: ", 0) == 0);
    CHECK(contains(q.err, "warning: category 'elsa' has 6 images; under 20 the model may be unreliable"));
    CHECK(read_bytes(dir.path() / "loud.tcm") == read_bytes(dir.path() / "quiet.tcm"));
    const std::string json = read_text(dir.path() / "quiet.json");
    CHECK(json == read_text(dir.path() / "loud.json"));  // no times: the same run, the same file
    CHECK(contains(l.out, "wrote " + (dir.path() / "loud.tcm").string()));
    CHECK(contains(l.out, (dir.path() / "loud.json").string()));

    // One entry per console step line, with the same step numbers and the same accuracies.
    const std::regex step_line(R"(step (\d+)/25: train accuracy ([0-9.]+)%, cross-entropy ([0-9.]+), validation accuracy ([0-9.]+)%)");
    const std::regex entry(R"(\{"step": (\d+), "train_accuracy": ([0-9.e-]+), "train_cross_entropy": ([0-9.e-]+), "validation_accuracy": ([0-9.e-]+), "validation_cross_entropy": ([0-9.e-]+)\})");
    std::vector<std::smatch> console, metrics;
    for (auto it = std::sregex_iterator(l.out.begin(), l.out.end(), step_line); it != std::sregex_iterator(); ++it)
        console.push_back(*it);
    for (auto it = std::sregex_iterator(json.begin(), json.end(), entry); it != std::sregex_iterator(); ++it)
        metrics.push_back(*it);
    INFO(json);
    REQUIRE(console.size() >= 3);
    REQUIRE(metrics.size() == console.size());
    for (std::size_t i = 0; i < console.size(); ++i) {
        CAPTURE(i);
        CHECK(metrics[i][1] == console[i][1]);
        CHECK(100 * std::stod(metrics[i][2]) == doctest::Approx(std::stod(console[i][2])).epsilon(0.001).scale(0.051));
        CHECK(std::stod(metrics[i][3]) == doctest::Approx(std::stod(console[i][3])).epsilon(0.0001));
    }
    CHECK(metrics.back()[1] == "25");  // the last step, counted as the console counts it
    std::smatch test;
    REQUIRE(std::regex_search(json, test, std::regex(R"("test": \{"images": (\d+), "accuracy": ([0-9.e-]+))")));
    std::smatch final_line;
    REQUIRE(std::regex_search(l.out, final_line, std::regex(R"(Final test accuracy = ([0-9.]+)% \(N=(\d+)\))")));
    CHECK(test[1] == final_line[2]);
    CHECK(contains(json, "\"cross_validation\": null"));

    // The metrics file is one of the run's outputs: checked before any work, never replaced.
    const Result exists = run_cli(loud);
    CHECK(exists.exit_code == 2);
    const std::vector<std::string> missing_folder{"train", m.data.string(), "-o", (dir.path() / "x.tcm").string(),
                                                  "--metrics-json", (dir.path() / "no" / "m.json").string()};
    const Result refused = run_cli(missing_folder);
    CHECK(refused.exit_code == 2);
    CHECK(contains(refused.err, (dir.path() / "no" / "m.json").string() + ": cannot write there"));
    CHECK_FALSE(fs::exists(dir.path() / "x.tcm"));
}

TEST_CASE("train: byte-identical images are reported once and counted once; across categories, a warning") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path data = dir.path() / "data";
    fs::copy(m.data, data, fs::copy_options::recursive);
    copy_image(m.elsa[0], data / "elsa" / "copy of first.jpg");
    copy_image(m.vader[1], data / "elsa" / "vader in disguise.jpg");
    const Result r = run_cli({"train", data.string(), "-o", (dir.path() / "m.tcm").string(), "--bottleneck-dir",
                              m.cache.string(), "--steps", "20"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    const std::string first = "elsa/" + m.elsa[0].filename().string();
    const std::string copy = (data / "elsa" / "copy of first.jpg").string();
    const std::string copy_first = m.elsa[0].filename().string() < "copy of first.jpg"
                                       ? copy + ": skipped, byte-identical to " + first
                                       : (data / first).string() + ": skipped, byte-identical to elsa/copy of first.jpg";
    CHECK(contains(r.err, "warning: " + copy_first + " (counted once)"));
    CHECK(contains(r.err, "warning: byte-identical images in different categories: darth_vader/" +
                              m.vader[1].filename().string() + ", elsa/vader in disguise.jpg; the label is ambiguous"));
    // 6 + 6 + the disguised one; the copy counts once.
    std::smatch split;
    REQUIRE(std::regex_search(r.out, split, std::regex(R"(split: (\d+) training, (\d+) validation, (\d+) testing)")));
    CHECK(std::stoi(split[1]) + std::stoi(split[2]) + std::stoi(split[3]) == 13);
    // The report lists the skipped copy with its reason.
    CHECK(contains(read_text(dir.path() / "m.report.html"), "byte-identical"));
}

TEST_CASE("info MODEL: what train recorded, matching what it printed; the date is now unless SOURCE_DATE_EPOCH") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path model = dir.path() / "m.tcm";
    const Result t = run_cli({"train", m.data.string(), "-o", model.string(), "--bottleneck-dir", m.cache.string(),
                              "--steps", "30", "--cross-validate", "3", "--seed", "5", "--optimizer", "adam"});
    INFO(t.err);
    REQUIRE(t.exit_code == 0);
    const Result info = run_cli({"info", model.string()});
    INFO(info.out);
    REQUIRE(info.exit_code == 0);
    std::smatch test, cv, split;
    REQUIRE(std::regex_search(t.out, test, std::regex(R"(Final test accuracy = ([0-9.]+)% \(N=(\d+)\))")));
    CHECK(contains(info.out, "test accuracy: " + std::string(test[1]) + "% on " + std::string(test[2]) + " images"));
    REQUIRE(std::regex_search(t.out, cv, std::regex(R"(3-fold cross-validated accuracy = ([0-9.]+% \+- [0-9.]+))")));
    CHECK(contains(info.out, "cross-validated accuracy: " + std::string(cv[1]) + " (3 folds)"));
    REQUIRE(std::regex_search(t.out, split, std::regex(R"(split: (\d+) training, (\d+) validation, (\d+) testing)")));
    CHECK(std::regex_search(info.out, std::regex("total +" + std::string(split[1]) + " +" + std::string(split[2]) +
                                                 " +" + std::string(split[3]))));
    CHECK(contains(info.out, "labels:       2: darth_vader, elsa"));
    CHECK(contains(info.out, "bottleneck:   mixed3,mixed5,mixed7 (2304 features, standardised)"));
    CHECK(std::regex_search(info.out, std::regex(R"(seed +5\n)")));
    CHECK(std::regex_search(info.out, std::regex(R"(optimizer +adam\n)")));
    CHECK(std::regex_search(info.out, std::regex("data folder +" + fs::absolute(m.data).string() + "\n")));
    const std::string weights = fs::canonical(env_path("TINCEPTION_WEIGHTS")).string();
    CHECK(contains(info.out, weights + ": there, checksum matches"));
    const char* fixed = std::getenv("SOURCE_DATE_EPOCH");
    REQUIRE_MESSAGE(fixed, "SOURCE_DATE_EPOCH is not set; run through meson test");
    CHECK(std::string(fixed) == "1700000000");
    CHECK(contains(info.out, "trained:      2023-11-14T22:13:20Z"));

    // Without it, the date of the run.
    const std::string saved = fixed;
    ::unsetenv("SOURCE_DATE_EPOCH");
    const std::time_t before = std::time(nullptr);
    const Result now = run_cli({"train", m.data.string(), "-o", (dir.path() / "now.tcm").string(), "--bottleneck-dir",
                                m.cache.string(), "--steps", "10", "--quiet"});
    const std::time_t after = std::time(nullptr);
    ::setenv("SOURCE_DATE_EPOCH", saved.c_str(), 1);
    REQUIRE(now.exit_code == 0);
    const std::string recorded = load_classifier_model((dir.path() / "now.tcm").string()).training.trained_at;
    std::tm parsed{};
    REQUIRE(::strptime(recorded.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parsed) != nullptr);
    const std::time_t when = ::timegm(&parsed);
    CHECK(when >= before);
    CHECK(when <= after);
}

TEST_CASE("train: an empty or single-image category is refused with its name, exit 2, nothing written") {
    const TrainedModel& m = trained_model();
    for (const int extra_images : {0, 1}) {
        CAPTURE(extra_images);
        TempDir dir;
        const fs::path data = dir.path() / "data";
        fs::copy(m.data, data, fs::copy_options::recursive);
        fs::create_directories(data / "lonely");
        if (extra_images == 1) copy_image(m.vader[0], data / "lonely" / "only one.jpg");
        const std::string before = tree_digest(data);
        const fs::path model = dir.path() / "m.tcm";
        const Result r = run_cli({"train", data.string(), "-o", model.string(), "--bottleneck-dir",
                                  m.cache.string(), "--steps", "50"});
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "tinception: error: " + (data / "lonely").string() + ": category 'lonely' has " +
                                  std::to_string(extra_images)));
        CHECK(tree_digest(data) == before);
        CHECK_FALSE(fs::exists(model));
    }
}

TEST_CASE("guess-dir killed mid-run: nothing half-written under a final name; a re-run completes") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path in = dir.path() / "in", out = dir.path() / "out";
    fs::create_directories(in);
    std::set<std::uint64_t> input_hashes;
    for (int i = 0; i < 48; ++i) {
        const fs::path& from = (i % 2 ? m.elsa : m.vader)[std::size_t(i / 2) % 6];
        copy_image(from, in / ("img" + std::to_string(i) + ".jpg"));
        const Bytes b = read_bytes(from);
        input_hashes.insert(fnv1a_64(b.data(), b.size()));
    }
    const std::regex copy_name(R"((darth_vader|elsa)-[01]\.\d{5}(-\d+)?\.jpg)");
    const std::regex hidden_temp(R"(\.tinception-partial-\d+(\.tmp\.\d+)?)");

    for (const int sig : {SIGKILL, SIGTERM, SIGINT}) {
        CAPTURE(sig);
        fs::remove_all(out);
        const Child c = spawn_cli({"guess-dir", m.model.string(), in.string(), out.string(), "--threads", "1"},
                                  dir.path());
        // Wait for the first copies to appear, then strike in the middle of the run.
        bool interrupted = false;
        for (int wait_ms = 0; wait_ms < 120000; wait_ms += 2) {
            std::error_code ec;
            std::size_t visible = 0;
            for (const auto& e : fs::directory_iterator(out, ec)) visible += e.path().filename().string()[0] != '.';
            if (visible >= 3) {
                ::kill(c.pid, sig);
                interrupted = true;
                break;
            }
            int status = 0;
            if (::waitpid(c.pid, &status, WNOHANG) == c.pid) FAIL("guess-dir finished before it could be interrupted");
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        REQUIRE(interrupted);
        const Result r = wait_for(c);
        INFO(r.err);
        CHECK(r.signal == sig);

        for (const std::string& name : names_in(out)) {
            CAPTURE(name);
            if (name[0] == '.') {
                CHECK(std::regex_match(name, hidden_temp));
                // Only SIGKILL, which no handler sees, may leave the temp file behind.
                CHECK(sig == SIGKILL);
                continue;
            }
            REQUIRE(std::regex_match(name, copy_name));
            const Bytes b = read_bytes(out / name);
            CHECK(input_hashes.count(fnv1a_64(b.data(), b.size())) == 1);
        }
        CHECK_FALSE(fs::exists(out / "predictions.csv"));
    }

    // Leftovers are ignored: a re-run into the same folder finishes and adds every image.
    const std::size_t before = names_in(out).size();
    const Result again = run_cli({"guess-dir", m.model.string(), in.string(), out.string()});
    INFO(again.err);
    CHECK(again.exit_code == 0);
    CHECK(contains(again.out, "48 classified, 0 failed"));
    CHECK(names_in(out).size() == before + 48 + 1);
}

namespace {

// A bottleneck cache entry passes every check BottleneckCache::load makes that does not
// need the key: magic, version, a float count matching the bytes left, and the CRC.
bool cache_entry_valid(const fs::path& path) {
    const Bytes b = read_bytes(path);
    const auto u32 = [&](std::size_t at) {
        return std::uint32_t(b[at]) | std::uint32_t(b[at + 1]) << 8 | std::uint32_t(b[at + 2]) << 16 |
               std::uint32_t(b[at + 3]) << 24;
    };
    static const std::uint8_t magic[8] = {'T', 'B', 'N', 'C', '\r', '\n', 0x1A, '\n'};
    // Format 1, or 2 (a DCT-scaled JPEG's entry): its decode variant follows the layer name.
    if (b.size() < 36 || !std::equal(magic, magic + 8, b.begin()) || (u32(8) != 1 && u32(8) != 2)) return false;
    const std::size_t layer_at = 8 + 4 + 8 + 4 + 4;
    std::size_t after_layer = layer_at + 4 + u32(layer_at);
    if (u32(8) == 2) {
        if (after_layer + 4 > b.size()) return false;
        after_layer += 4 + u32(after_layer);
    }
    if (after_layer + 8 > b.size()) return false;
    const std::uint32_t count = u32(after_layer), crc = u32(after_layer + 4);
    const std::size_t data_at = after_layer + 8;
    return b.size() - data_at == std::size_t(count) * 4 && crc32(b.data() + data_at, std::size_t(count) * 4) == crc;
}

}  // namespace

TEST_CASE("train killed mid-run: cache entries are whole or absent, no model; a re-run trusts only whole entries") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path data = dir.path() / "data", cache = dir.path() / "cache", model = dir.path() / "m.tcm";
    fs::copy(m.data, data, fs::copy_options::recursive);
    const Child c = spawn_cli({"train", data.string(), "-o", model.string(), "--bottleneck-dir", cache.string(),
                               "--steps", "50", "--threads", "1"},
                              dir.path());
    bool interrupted = false;
    for (int wait_ms = 0; wait_ms < 120000; wait_ms += 1) {
        std::size_t entries = 0;
        for (const fs::path& p : sorted_files_under(cache)) entries += p.extension() == ".bnc";
        if (entries >= 2) {
            ::kill(c.pid, SIGKILL);
            interrupted = true;
            break;
        }
        int status = 0;
        if (::waitpid(c.pid, &status, WNOHANG) == c.pid) FAIL("train finished before it could be interrupted");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(interrupted);
    const Result r = wait_for(c);
    CHECK(r.signal == SIGKILL);
    CHECK_FALSE(fs::exists(model));
    std::size_t whole = 0;
    for (const fs::path& p : sorted_files_under(cache)) {
        CAPTURE(p);
        if (p.extension() == ".bnc") {
            CHECK(cache_entry_valid(p));
            ++whole;
        } else {
            CHECK(contains(p.filename().string(), ".bnc.tmp."));  // a killed write keeps its temp name
        }
    }
    REQUIRE(whole >= 2);

    // A torn entry under the final name (as a non-atomic writer would leave) is recomputed,
    // and a stray temp file is never read.
    fs::path torn;
    for (const fs::path& p : sorted_files_under(cache))
        if (p.extension() == ".bnc") torn = p;
    REQUIRE(!torn.empty());
    const Bytes full = read_bytes(torn);
    write_file(torn, truncated(full, full.size() / 2));
    write_file(torn.parent_path() / (torn.filename().string() + ".tmp.99999"), truncated(full, 10));
    const Result again = run_cli({"train", data.string(), "-o", model.string(), "--bottleneck-dir", cache.string(),
                                  "--steps", "50"});
    INFO(again.err);
    CHECK(again.exit_code == 0);
    CHECK(contains(again.out, std::to_string(whole - 1) + " from cache"));
    CHECK_NOTHROW(load_classifier_model(model.string()));
    CHECK(cache_entry_valid(torn));
}

TEST_CASE("an output folder that cannot be written, or a full disk, is a clear error and a non-zero exit") {
    const TrainedModel& m = trained_model();
    TempDir dir;
    const fs::path in = dir.path() / "in";
    fs::create_directories(in);
    copy_image(m.vader[0], in / "a.jpg");
    copy_image(m.elsa[0], in / "b.jpg");

    SUBCASE("read-only output folder") {
        const fs::path out = dir.path() / "read-only";
        fs::create_directories(out);
        fs::permissions(out, fs::perms::owner_read | fs::perms::owner_exec);
        if (::geteuid() == 0) {
            MESSAGE("running as root, which permission bits do not stop: checking /proc instead");
            const Result r = run_cli({"guess-dir", m.model.string(), in.string(), "/proc/tinception-out"});
            CHECK(r.exit_code == 2);
            CHECK(contains(r.err, "tinception: error: /proc/tinception-out: cannot create the output folder"));
        } else {
            const Result r = run_cli({"guess-dir", m.model.string(), in.string(), out.string()});
            CHECK(r.exit_code == 1);
            CHECK(contains(r.err, "tinception: error: "));
            CHECK(contains(r.err, "Permission denied"));
            CHECK(names_in(out).empty());
        }
        fs::permissions(out, fs::perms::owner_all);
    }
    SUBCASE("full disk, simulated with RLIMIT_FSIZE: guess-dir") {
        const fs::path out = dir.path() / "full";
        const Result r = run_cli({"guess-dir", m.model.string(), in.string(), out.string()}, {1024});
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(lines_of(r.err).back().rfind("tinception: error: ", 0) == 0);
        CHECK(contains(r.err, "write failed: File too large"));
        CHECK(names_in(out).empty());  // no copy, no temp file
    }
    SUBCASE("full disk, simulated with RLIMIT_FSIZE: train") {
        const fs::path model = dir.path() / "m.tcm";
        const Result r = run_cli({"train", m.data.string(), "-o", model.string(), "--bottleneck-dir",
                                  m.cache.string(), "--steps", "50"},
                                 {1024});
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "write failed: File too large"));
        CHECK_FALSE(fs::exists(model));
        for (const std::string& name : names_in(dir.path())) CHECK(!contains(name, ".tmp."));
    }
}
