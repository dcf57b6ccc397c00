// Writes the starting corpus for every fuzz target into OUT_DIR/<target>/: small valid
// inputs made here (images in every accepted layout, a classifier file, a weight file, a
// TF.js model, ONNX tensors), so no binary seed is ever committed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "image_corpus.hpp"
#if defined(TINCEPTION_HAVE_WEBP) && defined(TINCEPTION_HAVE_TIFF)
#include "image_corpus_webp_tiff.hpp"
#endif
#include "classify/classifier_model.hpp"
#include "byte_io.hpp"
#include "weights/batch_norm_fold.hpp"
#include "weights/tcw_format.hpp"
#include "weights/weight_file_writer.hpp"

namespace fs = std::filesystem;
using tinception::testing::Bytes;

namespace {

void save(const fs::path& dir, const std::string& name, const Bytes& bytes) {
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

void put_varint(Bytes& b, std::uint64_t v) {
    while (v >= 0x80) {
        b.push_back(std::uint8_t(v | 0x80));
        v >>= 7;
    }
    b.push_back(std::uint8_t(v));
}

// TensorProto: dims (1, varint), data_type (2) = FLOAT, name (8), raw_data (9).
Bytes onnx_tensor(const std::vector<std::uint64_t>& dims, bool packed_floats) {
    Bytes b;
    for (const auto d : dims) {
        b.push_back(1 << 3 | 0);
        put_varint(b, d);
    }
    b.push_back(2 << 3 | 0);
    b.push_back(1);
    b.push_back(8 << 3 | 2);
    b.push_back(1);
    b.push_back('x');
    std::uint64_t count = 1;
    for (const auto d : dims) count *= d;
    Bytes floats;
    for (std::uint64_t i = 0; i < count; ++i) {
        const float v = float(i) * 0.5f;
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
        floats.insert(floats.end(), p, p + 4);
    }
    b.push_back(std::uint8_t((packed_floats ? 4 : 9) << 3 | 2));
    put_varint(b, floats.size());
    b.insert(b.end(), floats.begin(), floats.end());
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_fuzz_seeds OUT_DIR\n");
        return 2;
    }
    namespace t = tinception::testing;
    const fs::path out = argv[1];

    const fs::path images = out / "fuzz_image_decode";
    save(images, "rgb.png", t::png_bytes(7, 5, 3));
    save(images, "rgba.png", t::png_bytes(6, 4, 4));
    save(images, "gray.png", t::png_bytes(5, 3, 1));
    save(images, "rgb16.png", t::png16_bytes(4, 3));
    save(images, "rgb.bmp", t::bmp_bytes(5, 3));
    save(images, "two.gif", t::gif_bytes(6, 5));
    save(images, "rgb.jpg", t::jpeg_bytes(9, 7));
    save(images, "gray.jpg", t::jpeg_bytes(8, 8, {t::JpegKind::grayscale}));
    save(images, "cmyk.jpg", t::jpeg_bytes(8, 8, {t::JpegKind::cmyk}));
    save(images, "progressive.jpg", t::jpeg_bytes(17, 9, {t::JpegKind::rgb, true}));
    save(images, "exif6.jpg", t::jpeg_bytes(8, 4, {t::JpegKind::rgb, false, 6}));

    // fuzz_jpeg_decode: a selector byte (min_side in the low 7 bits, 0x80 for stb_image), then
    // the file; sizes past 8 pixels so scaling by 1/8..7/8 has room.
    const fs::path jpegs = out / "fuzz_jpeg_decode";
    const auto selected = [](std::uint8_t selector, Bytes file) {
        file.insert(file.begin(), selector);
        return file;
    };
    save(jpegs, "scaled.jpg.seed", selected(5, t::jpeg_bytes(40, 24)));
    save(jpegs, "full.jpg.seed", selected(0, t::jpeg_bytes(17, 9)));
    save(jpegs, "gray-scaled.jpg.seed", selected(3, t::jpeg_bytes(24, 16, {t::JpegKind::grayscale})));
    save(jpegs, "cmyk-scaled.jpg.seed", selected(4, t::jpeg_bytes(32, 16, {t::JpegKind::cmyk})));
    save(jpegs, "progressive-scaled.jpg.seed", selected(7, t::jpeg_bytes(41, 29, {t::JpegKind::rgb, true})));
    save(jpegs, "exif6-scaled.jpg.seed", selected(2, t::jpeg_bytes(32, 16, {t::JpegKind::rgb, false, 6})));
    save(jpegs, "stb.jpg.seed", selected(0x80, t::jpeg_bytes(17, 9)));
    // 1/8 still leaves min_side: the DC-only decoder's, with restart markers and 4:2:2 too.
    save(jpegs, "dc-only.jpg.seed", selected(2, t::jpeg_bytes(40, 24)));
    t::JpegOptions restarts;
    restarts.luma_v = 1;
    restarts.restart_interval = 1;
    save(jpegs, "dc-only-restarts.jpg.seed", selected(2, t::jpeg_bytes(48, 32, restarts)));
    t::JpegOptions gray_restarts;
    gray_restarts.kind = t::JpegKind::grayscale;
    gray_restarts.restart_interval = 2;
    save(jpegs, "dc-only-gray.jpg.seed", selected(1, t::jpeg_bytes(24, 16, gray_restarts)));

#if defined(TINCEPTION_HAVE_WEBP) && defined(TINCEPTION_HAVE_TIFF)
    // fuzz_webp_tiff_decode: a selector byte (1 WebP, 0 TIFF little-endian, 2 big-endian),
    // then the file less the signature the target puts back.
    const fs::path webp_tiff = out / "fuzz_webp_tiff_decode";
    const auto with_selector = [](std::uint8_t selector, const Bytes& file, std::size_t signature) {
        Bytes b{selector};
        b.insert(b.end(), file.begin() + long(signature), file.end());
        return b;
    };
    save(webp_tiff, "lossless.webp.seed", with_selector(1, t::webp_bytes(9, 7), 12));
    save(webp_tiff, "rgb.tiff.seed", with_selector(0, t::tiff_bytes(9, 7), 4));
    save(webp_tiff, "lzw.tiff.seed", with_selector(0, t::tiff_bytes(9, 7, 3, true), 4));
    save(webp_tiff, "gray.tiff.seed", with_selector(0, t::tiff_bytes(6, 5, 1), 4));
#endif

    tinception::ClassifierModel m;
    m.labels = {"cat", "dog"};
    m.feature_layer = "mixed5";
    m.feature_size = 4;
    m.weights_checksum = 0x12345678u;
    m.weights_path = "w.tcw";
    m.head.n_classes = 2;
    m.head.feature_size = 4;
    m.head.weights = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, 0.6f, -0.7f, 0.8f};
    m.head.bias = {0.01f, -0.02f};
    save(out / "fuzz_classifier_model", "two_labels.tclf", tinception::serialize_classifier_model(m));

    tinception::WeightFileWriter w;
    w.add_tensor("conv/weights", {2, 1, 1, 1}, {1.0f, 2.0f});
    w.add_tensor("conv/bias", {2}, {0.5f, -0.5f});
    tinception::LayerSpec input{"input", "input", {}, {{"height", 4}, {"width", 4}, {"channels", 1}}, {}, {}};
    tinception::LayerSpec conv{"conv", "conv2d", {"input"},
                               {{"kernel_h", 1}, {"kernel_w", 1}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 1}},
                               {{"padding", "same"}}, {"conv/weights", "conv/bias"}};
    w.add_layer(input);
    w.add_layer(conv);
    w.set_metadata("source", "fuzz seed");
    save(out / "fuzz_weight_file", "tiny.tcw", w.serialize());

    // The same network as an 8-bit file (format 3): uint8 weights and a batch normalisation
    // folded at load (variance 1, epsilon 0: the fold keeps the values), recording the
    // checksum of its float32 twin.
    tinception::WeightFileWriter twin, u8;
    twin.add_tensor("conv/weights", {2, 1, 1, 1}, {tinception::dequantize_u8(10, 0.01, -1.0),
                                                   tinception::dequantize_u8(200, 0.01, -1.0)});
    twin.add_tensor("conv/bias", {2}, {0.0f, 0.0f});
    twin.add_layer(input);
    twin.add_layer(conv);
    twin.set_metadata("source", "fuzz seed");
    const std::vector<std::uint8_t> twin_bytes = twin.serialize();
    char checksum[16];
    std::snprintf(checksum, sizeof checksum, "%08x",
                  unsigned(tinception::load_le<std::uint32_t>(twin_bytes.data() + tinception::tcw::kOffContentCrc)));
    u8.add_uint8_tensor("conv/weights", {2, 1, 1, 1}, {10, 200}, 0.01, -1.0);
    u8.add_tensor("conv/moving_mean", {2}, {0.0f, 0.0f});
    u8.add_tensor("conv/moving_variance", {2}, {1.0f, 1.0f});
    conv.strings[tinception::tcw::kBatchNormEpsilon] = "0";
    conv.tensors = {"conv/weights", "conv/moving_mean", "conv/moving_variance"};
    u8.add_layer(input);
    u8.add_layer(conv);
    u8.set_metadata("source", "fuzz seed");
    u8.set_metadata(tinception::tcw::kFloat32Checksum, checksum);
    save(out / "fuzz_weight_file", "tiny_uint8.tcw", u8.serialize());

    // TF.js: model.json, a NUL byte, then the one shard (see fuzz_tfjs_model.cpp).
    const std::string json = R"({"modelTopology": {"model_config": {"class_name": "Functional", "config": {
  "layers": [
    {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 1]}, "inbound_nodes": []},
    {"name": "conv2d_1", "class_name": "Conv2D", "config": {"filters": 2, "kernel_size": [1, 1]},
     "inbound_nodes": [[["input_1", 0, 0, {}]]]}],
  "output_layers": [["conv2d_1", 0, 0]]}}},
 "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [
   {"name": "conv2d_1/kernel", "shape": [1, 1, 1, 2], "dtype": "float32"},
   {"name": "conv2d_1/bias", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.01}},
   {"name": "conv2d_1/gamma", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}}]}]})";
    Bytes tfjs = text(json);
    tfjs.push_back(0);
    for (const std::uint8_t b : {0, 0, 128, 63, 0, 0, 0, 64, 10, 200, 0, 60, 0, 188}) tfjs.push_back(b);
    save(out / "fuzz_tfjs_model", "conv.bin", tfjs);

    const fs::path onnx = out / "fuzz_protobuf_tensor";
    save(onnx, "raw_2x3.pb", onnx_tensor({2, 3}, false));
    save(onnx, "packed_4.pb", onnx_tensor({4}, true));
    // A few real tensors from the ONNX node tests when the package is installed.
    const fs::path testdata = "/usr/share/libonnx-testdata/data/node";
    int copied = 0;
    for (const char* test : {"test_abs", "test_conv_with_strides_padding", "test_concat_2d_axis_0", "test_softmax_axis_1"}) {
        std::error_code ec;
        const fs::path pb = testdata / test / "test_data_set_0" / "input_0.pb";
        if (fs::exists(pb, ec)) fs::copy_file(pb, onnx / (std::string(test) + ".pb"), fs::copy_options::overwrite_existing, ec);
        copied += !ec;
    }
    std::printf("make_fuzz_seeds: wrote seeds to %s (%d ONNX test tensors copied)\n", out.c_str(), copied);
    return 0;
}
