// The stride-1 convolutions the SIMD tables take a Winograd path for (3x3 on AVX2 and AVX-512;
// 5x5, 1x3, 3x1, 1x7 and 7x1 on AVX-512) against the reference on awkward shapes: odd sizes,
// channel counts around the vector and panel widths, 'same' and 'valid', batches, strided
// input and output, packed and unpacked weights, row bands with negative pad_top and channel
// groups through conv2d_parallel. Other tables run the same cases through their own paths.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "conv_output_check.hpp"
#include "kernel_dispatch.hpp"
#include "layers/conv2d_parallel.hpp"
#include "parallel/thread_pool.hpp"

using namespace tinception;
using namespace tinception::testing;
using kernels::Conv2dArgs;
using kernels::KernelTable;

namespace {

struct Case {
    int n, in_c, h, w, out_c;
    bool same, strided, relu;
    int kernel_h = 3, kernel_w = 3;
};

// small on purpose; each line probes one edge of the tile grid or the channel tails
const Case kCases[] = {
    {1, 1, 5, 5, 1, true, false, false},      // one channel each way, odd size
    {1, 7, 9, 7, 17, true, true, true},       // odd h/w, channels under 8 and over 16, strided
    {1, 17, 6, 8, 33, false, false, true},    // 'valid', even input, odd output tiles
    {3, 33, 7, 5, 7, true, true, false},      // batch 3: tiles cross image boundaries
    {3, 16, 4, 4, 32, false, true, true},     // 2x2 output: one tile per image
    {1, 3, 3, 3, 5, false, false, false},     // input == kernel: 1x1 output, half a tile
    {1, 15, 1, 9, 9, true, false, true},      // one row: tiles run past the bottom
    {2, 300, 5, 6, 40, true, true, true},     // in_c beyond one reduction chunk
    {1, 19, 17, 17, 65, true, false, true},   // 17x17, one over two panels
    {1, 64, 35, 35, 96, true, true, true},    // an Inception 35x35 layer, several tile blocks
    // 3x3 at least 16 wide: 4x4 tiles on AVX-512
    {1, 9, 16, 16, 33, true, true, true},     // exactly 16 wide: four tiles across
    {2, 17, 19, 18, 40, false, false, true},  // 'valid' 17x16, partial tiles at the edges
    {1, 20, 21, 23, 9, true, true, false},    // odd sizes, one partial panel
    // 5x5: 2x2 tiles of a 6x6 window
    {1, 7, 9, 11, 17, true, true, true, 5, 5},
    {3, 33, 7, 6, 40, false, false, true, 5, 5},   // batch 3, 'valid' 3x2
    {1, 48, 35, 35, 64, true, false, true, 5, 5},  // an Inception 35x35 layer
    {1, 5, 4, 4, 3, true, false, false, 5, 5},     // input smaller than the kernel
    // 1-D kernels: tiles run along the kernel's axis
    {1, 7, 9, 7, 17, true, true, true, 1, 7},      // 1x7 over a 7-wide input, odd width
    {1, 7, 9, 7, 17, true, true, true, 7, 1},      // 7x1, odd height
    {3, 33, 7, 5, 7, true, true, false, 1, 3},     // batch 3 with 1x3
    {3, 33, 7, 5, 7, true, true, false, 3, 1},     // batch 3 with 3x1
    {1, 17, 9, 8, 33, false, false, true, 1, 7},   // 'valid': two outputs across
    {1, 17, 9, 8, 33, false, false, true, 7, 1},   // 'valid': three outputs down, half a tile
    {2, 300, 5, 6, 40, true, true, true, 7, 1},    // in_c beyond one reduction chunk
    {1, 5, 1, 9, 9, true, false, true, 1, 7},      // one row
    {1, 5, 9, 1, 9, true, false, true, 7, 1},      // one column
    {1, 160, 17, 17, 192, true, false, true, 1, 7},  // an Inception 17x17 layer
    {1, 40, 17, 17, 130, true, true, true, 7, 1},  // 17x17, a partial last panel
};

std::string describe(const Case& c) {
    std::ostringstream s;
    s << "k" << c.kernel_h << "x" << c.kernel_w << " n" << c.n << " " << c.h << "x" << c.w << "x" << c.in_c << " -> " << c.out_c
      << (c.same ? " same" : " valid") << (c.strided ? " strided" : "") << (c.relu ? " relu" : "");
    return s.str();
}

constexpr float kSentinel = -4321.0f;

struct Fixture {
    Conv2dArgs args;
    std::vector<float> input, weights, bias;
    long out_offset = 0, out_stride = 0, out_floats = 0;

    Fixture(const Case& c, unsigned seed) {
        std::mt19937 rng(seed);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        Conv2dArgs& a = args;
        a.n = c.n, a.in_c = c.in_c, a.in_h = c.h, a.in_w = c.w, a.out_c = c.out_c;
        a.kernel_h = c.kernel_h;
        a.kernel_w = c.kernel_w;
        a.out_h = c.same ? c.h : c.h - c.kernel_h + 1;
        a.out_w = c.same ? c.w : c.w - c.kernel_w + 1;
        a.pad_top = c.same ? (c.kernel_h - 1) / 2 : 0;
        a.pad_left = c.same ? (c.kernel_w - 1) / 2 : 0;
        const long in_stride = c.strided ? c.in_c + 5 : c.in_c;
        a.in_pixel_stride = c.strided ? int(in_stride) : 0;
        input.resize(std::size_t(long(c.n) * c.h * c.w * in_stride + 1));
        for (float& v : input) v = dist(rng);
        a.input = input.data() + (c.strided ? 1 : 0);  // misaligned too
        weights.resize(std::size_t(c.out_c) * c.in_c * c.kernel_h * c.kernel_w);
        for (float& v : weights) v = dist(rng);
        bias.resize(std::size_t(c.out_c));
        for (float& v : bias) v = dist(rng);
        a.weights = weights.data();
        a.bias = bias.data();
        a.relu = c.relu;
        out_offset = c.strided ? 3 : 0;
        out_stride = c.strided ? c.out_c + 7 : c.out_c;
        a.out_pixel_stride = c.strided ? int(out_stride) : 0;
        out_floats = long(c.n) * a.out_h * a.out_w * out_stride + 16;
    }

    std::vector<float> fresh() const { return std::vector<float>(std::size_t(out_floats), kSentinel); }
    Conv2dArgs writing_to(std::vector<float>& out, const void* packed = nullptr) const {
        Conv2dArgs a = args;
        a.output = out.data() + out_offset;
        a.packed = packed;
        return a;
    }
};

void check_close(const Fixture& f, const std::vector<float>& expected, const std::vector<float>& actual) {
    check_conv_output(f.args, f.out_offset, f.out_stride, kSentinel, expected, actual, conv_tolerance(f.args));
}

}  // namespace

TEST_CASE("Winograd shapes: every table matches the reference, packed and not") {
    for (const KernelTable* isa : available_kernel_tables())
        for (const Case& c : kCases) {
            CAPTURE(std::string(isa->isa_name));
            CAPTURE(describe(c));
            const Fixture f(c, 4321);
            std::vector<float> expected = f.fresh(), actual = f.fresh();
            kernels::reference_kernels().conv2d(f.writing_to(expected));
            isa->conv2d(f.writing_to(actual));
            check_close(f, expected, actual);
            if (isa->conv2d_pack) {
                const std::vector<unsigned char> packed = pack(*isa, f.args);
                std::vector<float> with_packed = f.fresh();
                isa->conv2d(f.writing_to(with_packed, aligned(packed)));
                CHECK(with_packed == actual);
            }
        }
}

TEST_CASE("Winograd shapes: row bands of one to three rows, pad_top down to negative") {
    const Case cases[] = {{1, 9, 11, 9, 20, true, true, true},
                          {2, 17, 8, 7, 33, false, false, false},
                          {1, 9, 11, 9, 20, true, true, true, 7, 1},
                          {2, 17, 8, 7, 33, true, false, false, 3, 1},
                          {1, 9, 5, 11, 20, true, true, true, 1, 7},
                          {1, 9, 11, 17, 20, true, true, true},
                          {2, 9, 11, 9, 20, true, false, true, 5, 5}};
    for (const KernelTable* isa : available_kernel_tables())
        for (const Case& c : cases)
            for (int band_rows : {1, 2, 3}) {
                CAPTURE(std::string(isa->isa_name));
                CAPTURE(describe(c));
                CAPTURE(band_rows);
                const Fixture f(c, 11);
                std::vector<float> expected = f.fresh(), actual = f.fresh();
                kernels::reference_kernels().conv2d(f.writing_to(expected));
                const Conv2dArgs whole = f.writing_to(actual);
                const long in_stride = whole.in_pixel_stride ? whole.in_pixel_stride : whole.in_c;
                const long out_stride = whole.out_pixel_stride ? whole.out_pixel_stride : whole.out_c;
                for (int b = 0; b < whole.n; ++b)
                    for (int y0 = 0; y0 < whole.out_h; y0 += band_rows) {
                        Conv2dArgs band = whole;
                        band.n = 1;
                        band.in_pixel_stride = int(in_stride);
                        band.out_pixel_stride = int(out_stride);
                        band.input = whole.input + long(b) * whole.in_h * whole.in_w * in_stride;
                        band.out_h = y0 + band_rows <= whole.out_h ? band_rows : whole.out_h - y0;
                        band.pad_top = whole.pad_top - y0;
                        band.output = whole.output + (long(b) * whole.out_h + y0) * whole.out_w * out_stride;
                        isa->conv2d(band);
                    }
                check_close(f, expected, actual);
            }
}

TEST_CASE("Winograd shapes: conv2d_parallel with channel groups and bands, packed, 1 to 32 threads") {
    // Past a few threads 8x8 and 17x17 are also cut by channel group (a partial last panel at
    // out_c 200 and 130); 35x35 by row band, with a batch.
    const Case cases[] = {
        {1, 33, 8, 8, 200, true, true, true},
        {1, 40, 17, 17, 130, true, false, true},
        {2, 24, 35, 35, 40, true, true, false},
        {1, 7, 9, 9, 130, false, true, true},
        {1, 40, 17, 17, 130, true, true, true, 7, 1},
        {1, 40, 17, 17, 130, true, false, true, 1, 7},
        {1, 33, 8, 8, 200, true, true, true, 3, 1},
        {1, 24, 35, 35, 40, true, true, true},
        {1, 16, 35, 35, 40, true, false, true, 5, 5},
    };
    for (const KernelTable* isa : available_kernel_tables())
        for (const Case& c : cases) {
            CAPTURE(std::string(isa->isa_name));
            CAPTURE(describe(c));
            const Fixture f(c, 5);
            std::vector<unsigned char> packed;
            if (isa->conv2d_pack) packed = pack(*isa, f.args);
            const void* p = aligned(packed);
            std::vector<float> expected = f.fresh(), whole = f.fresh(), one = f.fresh();
            kernels::reference_kernels().conv2d(f.writing_to(expected));
            isa->conv2d(f.writing_to(whole, p));
            set_thread_count(1);
            conv2d_parallel(*isa, f.writing_to(one, p));
            bool cut_channels = false;
            for (const int threads : {2, 3, 8, 32}) {
                CAPTURE(threads);
                std::vector<float> many = f.fresh();
                const Conv2dCut cut = conv2d_cut(*isa, f.writing_to(many, p), threads);
                cut_channels = cut_channels || cut.groups > 1;
                set_thread_count(threads);
                conv2d_parallel(*isa, f.writing_to(many, p));
                CHECK(one == many);
            }
            // The channel-group path really ran (tables without panels plan for two threads).
            if (c.h <= 17 && isa->conv2d_panel_width > 0) CHECK(cut_channels);
            // Bands start on even rows, so every cut keeps the uncut call's tiles and sums.
            if (isa->conv2d_panel_width > 0) CHECK(whole == one);
            check_close(f, expected, one);
        }
    set_thread_count(2);
}
