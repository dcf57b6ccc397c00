// The bf16 convolution: rounding to bf16, the reference against fp32 within bf16's precision,
// the AVX-512 BF16 kernel equal to the reference bit for bit on the shared case table, packed
// and not, in both memory layouts, and cut across threads; the bf16 Winograd layers likewise
// against their own reference; and the table the network runs, which routes each layer.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "bf16/bf16.hpp"
#include "bf16/conv2d_bf16.hpp"
#include "kernel_fixtures.hpp"
#include "layers/conv2d_parallel.hpp"
#include "parallel/thread_pool.hpp"

using namespace tinception;
using namespace tinception::testing;
namespace bf16 = tinception::kernels::bf16;

TEST_CASE("bf16: fp32 rounds to the nearest bf16, ties to even") {
    CHECK(bf16::from_float(1.0f) == 0x3F80);
    CHECK(bf16::from_float(-2.0f) == 0xC000);
    const float ulp = std::ldexp(1.0f, -7);  // bf16's spacing just above 1
    CHECK(bf16::from_float(1.0f + ulp / 2) == 0x3F80);            // a tie: down to the even 1.0
    CHECK(bf16::from_float(1.0f + 3 * ulp / 2) == 0x3F82);        // a tie: up to the even 1 + 2 ulp
    CHECK(bf16::from_float(1.0f + ulp / 2 + 1e-6f) == 0x3F81);    // past the tie: up
    CHECK(bf16::to_float(bf16::from_float(3.140625f)) == 3.140625f);  // representable: kept
    CHECK(std::isnan(bf16::to_float(bf16::from_float(std::nanf("")))));
    // vdpbf16ps's arithmetic: the odd element's product first, each sum rounded.
    const std::uint16_t big = bf16::from_float(256.0f), one = bf16::from_float(1.0f), tiny = bf16::from_float(0.5f);
    CHECK(bf16::dot_pair(0.0f, tiny, big, one, one) == 256.5f);
    CHECK(bf16::dot_pair(std::ldexp(1.0f, 24), one, 0, one, 0) == std::ldexp(1.0f, 24));  // 2^24 + 1 rounds back
}

TEST_CASE("bf16 reference: within bf16's precision of the fp32 reference convolution") {
    for (const ConvCase& cc : kConvCases) {
        CAPTURE(describe(cc));
        const ConvFixture f(cc, kLayouts[0], 77);
        GuardedBuffer fp32 = f.fresh_output(), rounded = f.fresh_output();
        kernels::reference_kernels().conv2d(f.args(&fp32));
        kernels::conv2d_bf16_ref(f.args(&rounded));
        // Inputs and weights in [-1, 1] each move by at most 2^-9 relative: a product by
        // 2^-8, the sum of K of them by K * 2^-8 at most; fp32's own rounding is far smaller.
        const double bound = double(cc.in_c) * cc.kernel_h * cc.kernel_w * std::ldexp(1.0, -8) + 1e-5;
        double worst = 0;
        for (std::size_t i = 0; i < fp32.size(); ++i) worst = std::max(worst, double(std::fabs(fp32[i] - rounded[i])));
        CHECK(worst <= bound);
        CHECK(!(fp32 == rounded));  // it did round: a path that kept fp32 would pass the bound
    }
}

#if defined(__x86_64__)
TEST_CASE("bf16 AVX-512: equal to the reference bit for bit on every row, packed and not, both layouts") {
    const kernels::KernelTable* table = kernels::avx512_bf16_direct_kernels();
    if (!table) {
        MESSAGE("no AVX-512 BF16 on this CPU or in this build: only the reference was tested");
        return;
    }
    std::uint32_t seed = 99;
    for (const ConvCase& cc : kConvCases)
        for (const MemoryLayout& layout : kLayouts) {
            CAPTURE(describe(cc));
            CAPTURE(std::string(layout.name));
            CAPTURE(std::string(table->conv2d_path(ConvFixture(cc, layout, 0).args())));
            const ConvFixture f(cc, layout, seed += 3);
            GuardedBuffer expected = f.fresh_output(), actual = f.fresh_output(), with_packed = f.fresh_output();
            kernels::conv2d_bf16_ref(f.args(&expected));
            conv2d_once(*table, f.args(&actual));
            const PackedWeights packed = pack_weights(*table, f.args());
            REQUIRE(packed);
            conv2d_once(*table, f.args(&with_packed, packed.get()));
            CHECK(actual.guards_intact());
            CHECK(actual == expected);
            CHECK(with_packed == expected);
        }
}

namespace {

// Each case, packed once for `table` and cut across 1, 2 and 3 threads: bit for bit what
// reference(args) writes.
template <typename Reference>
void check_cuts(const kernels::KernelTable& table, const std::vector<ConvCase>& cases, std::uint32_t seed,
                Reference reference) {
    for (const ConvCase& cc : cases) {
        CAPTURE(describe(cc));
        const ConvFixture f(cc, kLayouts[1], seed);
        GuardedBuffer expected = f.fresh_output();
        reference(f.args(&expected));
        const PackedWeights packed = pack_weights(table, f.args());
        for (const int threads : {1, 2, 3}) {
            CAPTURE(threads);
            set_thread_count(threads);
            GuardedBuffer actual = f.fresh_output();
            conv2d_parallel(table, f.args(&actual, packed.get()));
            CHECK(actual == expected);
        }
    }
    set_thread_count(2);
}

}  // namespace

TEST_CASE("bf16 AVX-512: cut into channel groups and row bands on 1, 2 and 3 threads, the same bits") {
    const kernels::KernelTable* table = kernels::avx512_bf16_direct_kernels();
    if (!table) return;
    // Inception-like 17x17 and 8x8 layers at batch 1 (channel groups) and 3 (bands); the 1x1
    // ones in chunks of pixels across rows; a taller one in several windows of rows.
    check_cuts(*table,
               {{1, 40, 17, 17, 160, 1, 7, 1, Padding::same, true},
                {1, 64, 17, 17, 96, 1, 1, 1, Padding::same, true},
                {3, 96, 8, 8, 72, 1, 1, 1, Padding::valid, false},
                {3, 48, 8, 8, 136, 3, 3, 1, Padding::same, true},
                {1, 40, 17, 17, 160, 3, 3, 2, Padding::valid, false},
                {2, 16, 40, 20, 40, 3, 3, 2, Padding::same, true}},  // windows of 7, 7 and 6 rows
               5, [](const kernels::Conv2dArgs& a) { kernels::conv2d_bf16_ref(a); });
}

TEST_CASE("bf16 Winograd: Inception's layers cut into channel groups and row bands on 1, 2 and 3 threads, the same bits") {
    const kernels::KernelTable* table = kernels::avx512_bf16_kernels();
    if (!table) return;
    // At batch 1 the 8x8 layers' cuts are channel groups, at batch 3 row bands (F(4, 3)'s 3x1
    // tiles span 4 rows, F(2, 7)'s 7x1 tiles 2); the 17x17 and 35x35 layers run in bands.
    check_cuts(*table,
               {{1, 48, 8, 8, 136, 3, 3, 1, Padding::same, true},
                {3, 40, 8, 8, 96, 1, 3, 1, Padding::same, true},
                {3, 40, 8, 8, 96, 3, 1, 1, Padding::same, true},
                {1, 64, 8, 8, 160, 3, 1, 1, Padding::same, false},
                {3, 40, 17, 17, 48, 7, 1, 1, Padding::same, true},
                {1, 40, 17, 17, 72, 1, 7, 1, Padding::same, true},
                {1, 24, 21, 19, 40, 5, 5, 1, Padding::same, true},
                {1, 34, 23, 21, 40, 3, 3, 1, Padding::same, true}},  // over 32 channels: 32 stay fp32
               8, [](const kernels::Conv2dArgs& a) { REQUIRE(kernels::conv2d_winograd_bf16_ref(a)); });
}

TEST_CASE("bf16 for the network: Winograd layers by a bf16 Winograd, odd in_c and the wide few-channel 3x3 in fp32, the rest in bf16, cut or not") {
    const kernels::KernelTable* table = kernels::avx512_bf16_kernels();
    if (!table) return;
    const kernels::KernelTable& fp32 = *kernels::avx512_kernels();
    int bf16_winograd = 0, stays_fp32 = 0, wide_stem_fp32 = 0, direct = 0;
    std::set<std::string> winograd_paths;
    for (const ConvCase& cc : kConvCases)
        for (const MemoryLayout& layout : kLayouts) {
            CAPTURE(describe(cc));
            CAPTURE(std::string(layout.name));
            const ConvFixture f(cc, layout, 21);
            const std::string fp32_path = fp32.conv2d_path(f.args());
            GuardedBuffer expected = f.fresh_output(), actual = f.fresh_output(), unpacked = f.fresh_output();
            if (kernels::conv2d_winograd_bf16_ref(f.args(&expected))) {
                ++bf16_winograd;
                winograd_paths.insert(table->conv2d_path(f.args()));
                CHECK(fp32_path.rfind("winograd", 0) == 0);
            } else if (kernels::bf16_layer_runs_fp32(f.args())) {
                ++stays_fp32;
                if (cc.in_c % 2 == 0) ++wide_stem_fp32;
                conv2d_once(fp32, f.args(&expected, pack_weights(fp32, f.args()).get()));
            } else {
                ++direct;
                kernels::conv2d_bf16_ref(f.args(&expected));
            }
            const PackedWeights packed = pack_weights(*table, f.args());
            set_thread_count(2);
            conv2d_parallel(*table, f.args(&actual, packed.get()));
            conv2d_once(*table, f.args(&unpacked));
            CHECK(actual.guards_intact());
            CHECK(actual == expected);
            CHECK(unpacked == expected);
        }
    // every kind of layer was there, and every bf16 Winograd
    CHECK(winograd_paths == std::set<std::string>{"bf16_winograd_f2x2_3x3", "bf16_winograd_f2x2_5x5",
                                                  "bf16_winograd_f4_3", "bf16_winograd_f2_7"});
    CHECK(stays_fp32 > 3);
    CHECK(wide_stem_fp32 > 0);  // a 3x3 layer of few, paired channels that F(4x4, 3x3) takes in fp32
    CHECK(direct > 5);
}

TEST_CASE("bf16 Winograd reference: within a few times bf16's error of the fp32 reference, and rounded") {
    int checked = 0;
    for (const ConvCase& cc : kConvCases) {
        const ConvFixture f(cc, kLayouts[0], 31);
        GuardedBuffer fp32 = f.fresh_output(), rounded = f.fresh_output();
        if (!kernels::conv2d_winograd_bf16_ref(f.args(&rounded))) continue;
        CAPTURE(describe(cc));
        ++checked;
        kernels::reference_kernels().conv2d(f.args(&fp32));
        // The transformed inputs and weights each move by at most 2^-9 relative; F(2x2, 3x3)'s
        // transforms add at most 4 inputs (or weights halved), F(4, 3)'s weigh them by at most
        // 8 on the way out: the direct bound, times that growth (64 holds F(2, 7) and
        // F(2x2, 5x5) too).
        const double growth = cc.kernel_h == 3 && cc.kernel_w == 3 ? 16.0 : 64.0;
        const double bound = growth * double(cc.in_c) * cc.kernel_h * cc.kernel_w * std::ldexp(1.0, -8) + 1e-5;
        double worst = 0;
        for (std::size_t i = 0; i < fp32.size(); ++i) worst = std::max(worst, double(std::fabs(fp32[i] - rounded[i])));
        CHECK(worst <= bound);
        CHECK(!(fp32 == rounded));
    }
    CHECK(checked > 3);
}
#endif
