// How much scaled JPEG decoding changes the features, and generated photos for timing
// guess-dir. Results are in bench/README.md.
//   decode_photos cosine WEIGHTS [SUPERHEROES_DIR]
//     generated photos of several sizes (tests/image_corpus.hpp's pattern, and, given the
//     folder, superheroes images enlarged to 12 megapixels with a little noise), each decoded
//     at full size and scaled (decode_image's scaled mode: DC-only at 1/8 where it fits, and
//     libjpeg-turbo's DCT scaling alone): the cosine of their features at mixed5 and mixed10
//     to the full decode's, and, for scale, the same between stb_image's and libjpeg-turbo's
//     full-size decodes.
//   decode_photos write DIR N
//     N generated 12-megapixel JPEGs (4032x3024, quality 90) into DIR.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"
#include "feature_similarity.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "image/image_formats.hpp"
#include "image/preprocess.hpp"
#include "image_corpus.hpp"
#include "model/feature_extractor.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using tinception::testing::cosine;
namespace fs = std::filesystem;

namespace {

struct Photo {
    std::string name;
    testing::Bytes jpeg;
};

testing::Bytes encode(int w, int h, const std::vector<unsigned char>& rgb) {
    testing::JpegOptions o;
    o.quality = 90;
    return testing::jpeg_from_pixels(w, h, rgb, o);
}

Photo pattern_photo(int w, int h, unsigned seed) {
    return {"pattern " + std::to_string(w) + "x" + std::to_string(h) + " seed " + std::to_string(seed),
            encode(w, h, testing::photo_pattern(w, h, 3, seed))};
}

// A small real image enlarged (bilinear) to w x h, with +-4 levels of noise as a sensor adds.
Photo enlarged_photo(const std::string& path, int w, int h, unsigned seed) {
    const ImageRgb8 small = load_image(path);
    std::vector<float> big(std::size_t(w) * h * 3);
    resize_bilinear(small, w, h, true, big.data());
    std::vector<unsigned char> rgb(big.size());
    std::uint32_t state = seed;
    for (std::size_t i = 0; i < big.size(); ++i) {
        state = state * 1664525u + 1013904223u;
        rgb[i] = (unsigned char)std::clamp(int(std::lround(big[i])) + int(state >> 29) - 4, 0, 255);
    }
    return {fs::path(path).parent_path().filename().string() + "/" + fs::path(path).filename().string() +
                " enlarged to " + std::to_string(w) + "x" + std::to_string(h),
            encode(w, h, rgb)};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int run_cosine(const std::string& weights_path, const std::string& superheroes) {
    std::vector<Photo> photos;
    for (unsigned seed = 1; seed <= 3; ++seed) photos.push_back(pattern_photo(4032, 3024, seed));
    photos.push_back(pattern_photo(3024, 4032, 4));
    photos.push_back(pattern_photo(2000, 1500, 5));
    photos.push_back(pattern_photo(1200, 900, 6));
    if (!superheroes.empty()) {
        std::vector<std::string> paths;
        for (const auto& category : fs::directory_iterator(superheroes))
            if (category.is_directory())
                for (const auto& f : fs::directory_iterator(category.path()))
                    if (has_image_extension(f.path().string())) paths.push_back(f.path().string());
        std::sort(paths.begin(), paths.end());
        const std::size_t step = std::max<std::size_t>(1, paths.size() / 8);
        for (std::size_t i = 0; i < paths.size() && photos.size() < 14; i += step)
            photos.push_back(enlarged_photo(paths[i], 4032, 3024, unsigned(i)));
    }

    const auto weights = std::make_shared<const WeightFile>(WeightFile::open(weights_path));
    FeatureExtractor mixed5(weights, "mixed5"), mixed10(weights, "mixed10");
    const Preprocessing p = mixed5.preprocessing();
    // Per column (our scaled decode, libjpeg-turbo's scaled decode, stb_image's full decode)
    // the cosine of its features to libjpeg-turbo's full decode's, at mixed5 and mixed10.
    std::vector<double> columns[3][2];
    std::printf("%-52s %11s  %-15s %-15s %-15s\n", "photo", "scaled to", "ours vs full", "turbo-scaled", "stb vs turbo");
    std::printf("%-52s %11s  %7s %7s  %7s %7s  %7s %7s\n", "", "", "mixed5", "mixed10", "mixed5", "mixed10", "mixed5",
                "mixed10");
    for (const Photo& photo : photos) {
        const auto& b = photo.jpeg;
        const ImageLimits scaled_limits = decode_limits(p, DecodeMode::scaled);
        const ImageRgb8 full = decode_image(b.data(), b.size(), photo.name, decode_limits(p, DecodeMode::exact));
        const ImageRgb8 scaled = decode_image(b.data(), b.size(), photo.name, scaled_limits);
#ifdef TINCEPTION_HAVE_TURBOJPEG
        const ImageRgb8 turbo_scaled = decode_jpeg_turbo(b.data(), b.size(), photo.name, scaled_limits);
#else
        const ImageRgb8 turbo_scaled = scaled;
#endif
        const ImageRgb8 stb = decode_with_stb(b.data(), b.size(), photo.name, {});
        const std::vector<ImageRgb8> images = {full, scaled, turbo_scaled, stb};
        const std::vector<float> f5 = mixed5.extract(images), f10 = mixed10.extract(images);
        const std::size_t n5 = std::size_t(mixed5.feature_size()), n10 = std::size_t(mixed10.feature_size());
        std::printf("%-52s %5dx%-5d", photo.name.c_str(), scaled.width, scaled.height);
        for (std::size_t c = 0; c < 3; ++c) {
            columns[c][0].push_back(cosine(f5.data(), f5.data() + (c + 1) * n5, n5));
            columns[c][1].push_back(cosine(f10.data(), f10.data() + (c + 1) * n10, n10));
            std::printf("  %.5f %.5f", columns[c][0].back(), columns[c][1].back());
        }
        std::printf("\n");
    }
    std::printf("%-52s %11s", "median", "");
    for (const auto& column : columns) std::printf("  %.5f %.5f", median(column[0]), median(column[1]));
    std::printf("\n%-52s %11s", "lowest", "");
    for (const auto& column : columns)
        std::printf("  %.5f %.5f", *std::min_element(column[0].begin(), column[0].end()),
                    *std::min_element(column[1].begin(), column[1].end()));
    std::printf("\n");
    return 0;
}

int run_write(const std::string& dir, int count) {
    fs::create_directories(dir);
    for (int i = 0; i < count; ++i) {
        const Photo photo = pattern_photo(4032, 3024, unsigned(100 + i));
        const std::string path = (fs::path(dir) / ("photo" + std::to_string(i) + ".jpg")).string();
        write_file_atomically(path, photo.jpeg.data(), photo.jpeg.size());
        std::printf("%s: %zu bytes\n", path.c_str(), photo.jpeg.size());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string command = argc > 1 ? argv[1] : "";
        if (command == "cosine" && (argc == 3 || argc == 4)) return run_cosine(argv[2], argc == 4 ? argv[3] : "");
        if (command == "write" && argc == 4) return run_write(argv[2], std::atoi(argv[3]));
        std::fprintf(stderr, "usage: decode_photos cosine WEIGHTS [SUPERHEROES_DIR] | write DIR N\n");
        return 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "decode_photos: %s\n", e.what());
        return 1;
    }
}
