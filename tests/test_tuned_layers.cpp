// A model's fine-tuned convolutions (finetune/tuned_layers.cpp): written and read back in the
// model file, format 2 files still read, a damaged section refused, and tuned layers checked
// against the graph they are meant to replace, on the tiny block of tiny_span_graph.hpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "byte_io.hpp"
#include "classifier_model_v1.hpp"
#include "classify/classifier_model.hpp"
#include "error.hpp"
#include "finetune/tuned_layers.hpp"
#include "tiny_span_graph.hpp"
#include "weights/crc32.hpp"

using namespace tinception;
using namespace tinception::testing;

namespace {

ClassifierModel small_model() {
    ClassifierModel m;
    m.labels = {"a", "b"};
    m.feature_layer = "top";
    m.feature_size = 2;
    m.weights_path = "tiny.tcw";
    m.head.n_classes = 2, m.head.feature_size = 2;
    m.head.weights = {1, 2, 3, 4};
    m.head.bias = {0.5f, -0.5f};
    return m;
}

TunedLayers tuned_from(const SpanBackprop& span, const std::string& from) {
    TunedLayers t;
    t.from = from;
    t.convolutions = span.convolutions();
    for (TrainableConv& c : t.convolutions) {
        for (float& w : c.weights) w *= 1.25f;  // not the file's weights any more
        c.grad_weights.clear(), c.grad_bias.clear();
    }
    return t;
}

// small_model with the tiny block's convolutions tuned after "stem"
ClassifierModel tuned_model(const TinyGraph& g) {
    const SpanBackprop span(g.graph, "stem", "top", kernels::reference_kernels(), kernels::reference_backward_kernels());
    ClassifierModel m = small_model();
    m.tuned = tuned_from(span, "stem");
    return m;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// The model's bytes with the size and checksum fields made right again.
void reseal(std::vector<std::uint8_t>& bytes) {
    store_le(bytes.data() + 12, std::uint64_t(bytes.size()));
    store_le(bytes.data() + bytes.size() - 4, crc32(bytes.data(), bytes.size() - 4));
}

}  // namespace

TEST_CASE("tuned layers: a model keeps its tuned convolutions byte for byte") {
    const TinyGraph g;
    const ClassifierModel m = tuned_model(g);
    const std::vector<std::uint8_t> bytes = serialize_classifier_model(m);
    const ClassifierModel back = parse_classifier_model(bytes.data(), bytes.size(), "m.tcm");
    REQUIRE(back.tuned.convolutions.size() == 6);
    CHECK(back.tuned.from == "stem");
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(back.tuned.convolutions[i].name == m.tuned.convolutions[i].name);
        CHECK(back.tuned.convolutions[i].weights == m.tuned.convolutions[i].weights);
        CHECK(back.tuned.convolutions[i].bias == m.tuned.convolutions[i].bias);
    }
    CHECK(back.tuned.describe("top") == "up to top (6 convolutions, after stem)");
    CHECK(serialize_classifier_model(back) == bytes);
}

TEST_CASE("tuned layers: a format 2 model, written before them, still reads, with nothing tuned") {
    const ClassifierModel m = small_model();
    // format 6 less the empty tuned-layer section (an empty name and a zero count) and the
    // zeros after it (no augmentation, no standardisation, no int8 ranges, no bf16)
    const std::vector<std::uint8_t> bytes = tinception::testing::format2_bytes(m);
    const ClassifierModel old = parse_classifier_model(bytes.data(), bytes.size(), "v2.tcm");
    CHECK(old.tuned.empty());
    CHECK(old.head.weights == m.head.weights);
}

TEST_CASE("tuned layers: a damaged section is refused with one line, never read past its end") {
    const TinyGraph g;
    const std::vector<std::uint8_t> good = serialize_classifier_model(tuned_model(g));
    // the count field follows the name "stem": find it by the name's bytes
    const std::string name = "stem";
    std::size_t at = 0;
    for (std::size_t i = 0; i + 8 <= good.size(); ++i)
        if (load_le<std::uint32_t>(good.data() + i) == 4 && std::equal(name.begin(), name.end(), good.begin() + long(i) + 4)) at = i + 8;
    REQUIRE(at > 0);
    for (const std::uint32_t count : {0u, 7u, 5000u, 0xffffffffu}) {
        CAPTURE(count);
        std::vector<std::uint8_t> bytes = good;
        store_le(bytes.data() + at, count);
        reseal(bytes);
        const std::string e = error_of([&] { parse_classifier_model(bytes.data(), bytes.size(), "bad.tcm"); });
        CHECK(e.find("bad.tcm: ") == 0);
        CHECK(e.find('\n') == std::string::npos);
    }
}

TEST_CASE("tuned layers: only the convolutions of the span they replace, of the file's sizes, are taken") {
    const TinyGraph g;
    const SpanBackprop span(g.graph, "stem", "top", kernels::reference_kernels(), kernels::reference_backward_kernels());
    const TunedLayers good = tuned_from(span, "stem");
    const auto check = [&](const TunedLayers& t, const std::string& feature_layer) {
        return error_of([&] { check_tuned_layers(t, g.graph, feature_layer, "m.tcm", "tiny.tcw"); });
    };
    CHECK(check(good, "top").empty());
    CHECK(check(TunedLayers{}, "mix").empty());
    CHECK(check(good, "mix").find("m.tcm holds 6 tuned convolutions, but the layers after 'stem' up to 'mix' in tiny.tcw have 5") == 0);
    TunedLayers renamed = good;
    renamed.convolutions[2].name = "b2x";
    CHECK(check(renamed, "top").find("m.tcm: tuned convolution 'b2x'") == 0);
    TunedLayers resized = good;
    resized.convolutions[0].weights.pop_back();
    CHECK(check(resized, "top").find("does not match 'b1' of tiny.tcw") != std::string::npos);
    TunedLayers elsewhere = good;
    elsewhere.from = "b2a";
    CHECK(check(elsewhere, "top").find("m.tcm fine-tunes the layers after 'b2a' up to 'top', which tiny.tcw cannot run") == 0);

    // the span built from them runs the tuned weights, not the file's
    const std::unique_ptr<TunedFeatures> tuned =
        tuned_span(good, g.graph, "top", kernels::reference_kernels(), "m.tcm", "tiny.tcw");
    CHECK(tuned->span().convolutions()[3].weights == good.convolutions[3].weights);
    CHECK(tuned->span().convolutions()[3].weights != span.convolutions()[3].weights);
    CHECK(tuned->span().output_layer() == "top");
    CHECK(tuned->feature_size() == 5);

    // a layer set reading the same span, a frozen layer and a tapped one besides
    CHECK(check(good, "stem,mix,top").empty());
    CHECK(tuned_span(good, g.graph, "stem,mix,top", kernels::reference_kernels(), "m.tcm", "tiny.tcw")->feature_size() ==
          4 + 18 + 5);
    CHECK(check(good, "stem,mix").find("m.tcm holds 6 tuned convolutions") == 0);
}
