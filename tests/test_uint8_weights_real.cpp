// The real 8-bit weight file against the float32 one, both converted here from the TF.js model
// tools/test.sh fetches: the same tensors bit for bit, the same checksum, and the same
// mixed5 and mixed10 features bit for bit on real images with every kernel table (mixed5 only
// with the slow reference one), the 8-bit file opened deferred so that its conv2d weights are
// expanded layer by layer as needed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "convert.hpp"
#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/network.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using tinception::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string required_path(const char* name) {
    const std::string variable = name;
    const char* value = std::getenv(name);
    REQUIRE_MESSAGE((value && *value), variable << " is not set; run tools/test.sh, which fetches it and sets it");
    REQUIRE_MESSAGE(fs::exists(value), variable << "=" << value << " does not exist; run tools/test.sh");
    return value;
}

// The first image of each category, by sorted name.
std::vector<std::string> some_images() {
    std::vector<std::string> paths;
    for (const char* category : {"darth_vader", "elsa"}) {
        std::vector<std::string> in_category;
        for (const fs::directory_entry& e : fs::directory_iterator(fs::path(required_path("TINCEPTION_SUPERHEROES")) / category))
            if (e.is_regular_file() && has_image_extension(e.path().string())) in_category.push_back(e.path().string());
        std::sort(in_category.begin(), in_category.end());
        REQUIRE(!in_category.empty());
        paths.push_back(in_category.front());
    }
    return paths;
}

}  // namespace

TEST_CASE("the 8-bit file loads to the float32 file's tensors and features, bit for bit") {
    TempDir dir;
    const std::string model_json = (fs::path(required_path("TINCEPTION_TFJS_MODEL")) / "model.json").string();
    convert::ConvertOptions o{model_json, dir.file("f32.tcw"), false, false, "test", "", std::make_pair(0.0, 1.0)};
    o.source = "npm:nsfwjs@4.4.0 dist/models/inception_v3";  // as weights/fetch_weights.sh writes it
    const convert::ConvertSummary f32_summary = convert::convert_weights(o);
    o.out_path = dir.file("u8.tcw");
    o.uint8 = true;
    const convert::ConvertSummary u8_summary = convert::convert_weights(o);
    MESSAGE("float32 file " << f32_summary.file_size << " bytes, 8-bit file " << u8_summary.file_size << " bytes");
    CHECK(u8_summary.file_size * 3 < f32_summary.file_size);

    const WeightFile f32 = WeightFile::open(dir.file("f32.tcw"));
    const WeightFile u8 = WeightFile::open(dir.file("u8.tcw"));
    CHECK(u8.format_version() == 3);
    CHECK(u8.checksum() == f32.checksum());
    REQUIRE(u8.tensors().size() == f32.tensors().size());
    std::size_t differing = 0;
    for (std::size_t i = 0; i < f32.tensors().size(); ++i) {
        const TensorRef &a = f32.tensors()[i], &b = u8.tensors()[i];
        REQUIRE(a.name == b.name);
        REQUIRE(a.count == b.count);
        if (std::memcmp(a.data, b.data, a.count * sizeof(float)) != 0) ++differing;
    }
    CHECK(differing == 0);

    // The fetched weights (either format) are these very weights.
    const WeightFile fetched = WeightFile::open(required_path("TINCEPTION_WEIGHTS"));
    CHECK(fetched.checksum() == f32.checksum());

    const std::vector<std::string> images = some_images();
    const FeatureExtractor shapes(std::make_shared<const WeightFile>(WeightFile::open(dir.file("f32.tcw"))), "mixed5");
    const std::size_t image_floats = std::size_t(shapes.preprocessing().size) * shapes.preprocessing().size * 3;
    std::vector<float> input(images.size() * image_floats);
    for (std::size_t i = 0; i < images.size(); ++i)
        preprocess(load_image(images[i]), shapes.preprocessing(), input.data() + i * image_floats);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        // Opened as guess opens it: conv2d weights expanded as each layer is packed (or all at
        // once for a table that reads them unpacked), mixed5's first, the rest for mixed10.
        const WeightFile lazy = WeightFile::open(dir.file("u8.tcw"), DataCheck::deferred);
        for (const char* layer : {"mixed5", "mixed10"}) {
            // The reference table reads every weight unpacked, so mixed5 already expands the
            // whole file; its mixed10 run would add minutes and no new path.
            if (std::string(table->isa_name) == "reference" && std::string(layer) == "mixed10") continue;
            CAPTURE(std::string(table->isa_name));
            CAPTURE(std::string(layer));
            Network a(f32, layer, *table), b(lazy, layer, *table);
            const int n = int(images.size());
            std::vector<float> fa(std::size_t(n) * std::size_t(a.feature_size())), fb(fa.size(), -1.0f);
            a.extract_features(input.data(), n, fa.data());
            b.extract_features(input.data(), n, fb.data());
            CHECK(std::memcmp(fa.data(), fb.data(), fa.size() * sizeof(float)) == 0);
            CHECK(*std::max_element(fa.begin(), fa.end()) > 0.0f);
            MESSAGE(std::string(table->isa_name) << " " << std::string(layer) << ": " << images.size() << " images, features equal bit for bit");
        }
    }
}
