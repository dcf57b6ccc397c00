// Every available kernel table's conv2d against the reference on awkward shapes, with packed
// and unpacked weights, strided and offset output, unaligned input; and conv2d_parallel.
// Self-contained on purpose: the shared kernel_cases.hpp tests the other ops.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "conv_output_check.hpp"
#include "kernel_dispatch.hpp"
#include "layers/conv2d_parallel.hpp"
#include "layers/pool2d_parallel.hpp"
#include "parallel/thread_pool.hpp"

using namespace tinception;
using namespace tinception::testing;
using kernels::Conv2dArgs;
using kernels::KernelTable;

namespace {

enum class Padding { same, valid };

struct ConvCase {
    int n, in_c, h, w, out_c, kernel_h, kernel_w, stride;
    Padding pad;
};

// small on purpose; each line probes one edge
const ConvCase kConvCases[] = {
    {1, 3, 17, 13, 5, 3, 3, 2, Padding::valid},    // stem-like, odd sizes, stride 2
    {1, 7, 9, 9, 9, 1, 7, 1, Padding::same},       // 1x7 factorised conv
    {1, 9, 9, 9, 7, 7, 1, 1, Padding::same},       // 7x1
    {1, 17, 8, 8, 33, 1, 1, 1, Padding::valid},    // 1x1, channels around 16 and 32
    {3, 17, 5, 7, 33, 1, 1, 1, Padding::same},     // 1x1 over a batch
    {1, 15, 5, 6, 8, 3, 3, 1, Padding::same},      // one under a vector width
    {1, 16, 3, 3, 16, 3, 3, 1, Padding::valid},    // input == kernel: 1x1 output
    {1, 1, 1, 1, 1, 1, 1, 1, Padding::valid},      // smallest
    {3, 8, 11, 10, 15, 5, 5, 1, Padding::same},    // 5x5, batch
    {1, 33, 7, 9, 17, 1, 3, 1, Padding::same},     // 1x3
    {1, 9, 9, 7, 31, 3, 1, 1, Padding::same},      // 3x1, one under a panel
    {3, 3, 12, 15, 32, 3, 3, 2, Padding::same},    // stride 2 'same', batch
    {1, 7, 10, 10, 48, 1, 1, 2, Padding::valid},   // 1x1 stride 2
    {1, 64, 6, 6, 65, 3, 3, 1, Padding::valid},    // one over a panel
    {2, 300, 5, 5, 20, 1, 1, 1, Padding::same},    // K beyond one chunk (1x1)
    {1, 40, 7, 7, 24, 3, 3, 1, Padding::same},     // K beyond one chunk (im2col)
    {1, 16, 20, 20, 1, 3, 3, 1, Padding::same},    // out_c 1, many pixel tiles
};

std::string describe(const ConvCase& c) {
    std::ostringstream s;
    s << "n" << c.n << " " << c.in_c << "x" << c.h << "x" << c.w << " -> " << c.out_c << " k"
      << c.kernel_h << "x" << c.kernel_w << " s" << c.stride
      << (c.pad == Padding::same ? " same" : " valid");
    return s.str();
}

// TensorFlow's rule: 'same' keeps ceil(in / stride) and puts the odd pixel at the bottom/right.
void geometry(int in, int kernel, int stride, Padding pad, int& out, int& before) {
    if (pad == Padding::valid) {
        out = (in - kernel) / stride + 1;
        before = 0;
        return;
    }
    out = (in + stride - 1) / stride;
    const int total = (out - 1) * stride + kernel - in;
    before = total > 0 ? total / 2 : 0;
}

constexpr float kSentinel = -12345.0f;

// Inputs, weights and an output buffer with room for a channel offset and sentinels.
struct Conv2dFixture {
    Conv2dArgs args;
    std::vector<float> input_storage, weights, bias, output;
    int out_offset = 0, out_stride = 0;
    long output_floats = 0;

    Conv2dFixture(const ConvCase& c, unsigned seed, bool unaligned_input, bool strided) {
        std::mt19937 rng(seed);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        Conv2dArgs& a = args;
        a.n = c.n, a.in_h = c.h, a.in_w = c.w, a.in_c = c.in_c, a.out_c = c.out_c;
        a.kernel_h = c.kernel_h, a.kernel_w = c.kernel_w, a.stride_h = a.stride_w = c.stride;
        geometry(c.h, c.kernel_h, c.stride, c.pad, a.out_h, a.pad_top);
        geometry(c.w, c.kernel_w, c.stride, c.pad, a.out_w, a.pad_left);
        a.in_pixel_stride = strided ? c.in_c + 3 : 0;
        const long in_stride = strided ? c.in_c + 3 : c.in_c;
        const long in_floats = long(c.n) * c.h * c.w * in_stride;
        input_storage.resize(std::size_t(in_floats + 32));
        for (float& v : input_storage) v = dist(rng);
        // vector storage is 16-byte aligned at least; one float on makes it misaligned
        a.input = input_storage.data() + (unaligned_input ? 1 : 0);
        weights.resize(std::size_t(long(c.out_c) * c.in_c * c.kernel_h * c.kernel_w));
        for (float& v : weights) v = dist(rng);
        bias.resize(std::size_t(c.out_c));
        for (float& v : bias) v = dist(rng);
        a.weights = weights.data();
        a.bias = bias.data();
        a.relu = true;
        out_offset = strided ? 5 : 0;
        out_stride = strided ? c.out_c + 11 : c.out_c;
        a.out_pixel_stride = strided ? out_stride : 0;
        output_floats = long(c.n) * a.out_h * a.out_w * out_stride + 16;
    }

    std::vector<float> fresh_output() const { return std::vector<float>(std::size_t(output_floats), kSentinel); }

    void run(kernels::Conv2dFn conv, std::vector<float>& out, const void* packed = nullptr) {
        Conv2dArgs a = args;
        a.output = out.data() + out_offset;
        a.packed = packed;
        conv(a);
    }
};

void check_close(const Conv2dFixture& f, const std::vector<float>& expected, const std::vector<float>& actual,
                 float tolerance) {
    check_conv_output(f.args, f.out_offset, f.out_stride, kSentinel, expected, actual, tolerance);
}

}  // namespace

TEST_CASE("conv2d: every table matches the reference on awkward shapes") {
    std::string ran;
    for (const KernelTable* isa : available_kernel_tables()) ran += std::string(isa->isa_name) + " ";
    MESSAGE("conv2d tables tested: " << ran);
    for (const KernelTable* isa : available_kernel_tables()) {
        for (const ConvCase& cc : kConvCases)
            for (int variant = 0; variant < 2; ++variant) {
                const bool odd = variant == 1;
                CAPTURE(std::string(isa->isa_name));
                CAPTURE(describe(cc));
                CAPTURE(odd);
                Conv2dFixture f(cc, 1234, odd, odd);
                std::vector<float> expected = f.fresh_output(), actual = f.fresh_output();
                f.run(kernels::reference_kernels().conv2d, expected);
                f.run(isa->conv2d, actual);
                check_close(f, expected, actual, conv_tolerance(f.args));
                if (isa->conv2d_pack) {
                    const std::vector<unsigned char> packed = pack(*isa, f.args);
                    std::vector<float> with_packed = f.fresh_output();
                    f.run(isa->conv2d, with_packed, aligned(packed));
                    CHECK(with_packed == actual);  // packing once changes nothing
                }
            }
    }
}

TEST_CASE("conv2d: row bands with negative pad_top equal the whole call") {
    const ConvCase cc{1, 5, 13, 11, 19, 5, 5, 2, Padding::same};
    for (const KernelTable* isa : available_kernel_tables()) {
        CAPTURE(std::string(isa->isa_name));
        Conv2dFixture f(cc, 77, false, true);
        std::vector<float> expected = f.fresh_output(), actual = f.fresh_output();
        f.run(kernels::reference_kernels().conv2d, expected);
        const long out_stride = f.out_stride;
        for (int y0 = 0; y0 < f.args.out_h; y0 += 2) {
            Conv2dArgs band = f.args;
            band.out_h = y0 + 2 <= f.args.out_h ? 2 : 1;
            band.pad_top = f.args.pad_top - y0 * f.args.stride_h;
            band.output = actual.data() + f.out_offset + long(y0) * f.args.out_w * out_stride;
            isa->conv2d(band);
        }
        check_close(f, expected, actual, conv_tolerance(f.args));
    }
}

TEST_CASE("conv2d_parallel: 1 and 2 threads bit-identical and close to the reference") {
    const ConvCase cases[] = {
        {2, 19, 35, 33, 37, 3, 3, 1, Padding::same},
        {1, 24, 29, 31, 40, 1, 1, 1, Padding::same},
        {3, 5, 33, 35, 9, 3, 3, 2, Padding::valid},
        {1, 16, 23, 19, 20, 7, 1, 1, Padding::same},
    };
    for (const KernelTable* isa : available_kernel_tables()) {
        for (const ConvCase& cc : cases) {
            CAPTURE(std::string(isa->isa_name));
            CAPTURE(describe(cc));
            Conv2dFixture f(cc, 99, false, true);
            CHECK(conv2d_bands_per_image(*isa, f.args, 2) > 1);
            std::vector<float> expected = f.fresh_output(), one = f.fresh_output(),
                               two = f.fresh_output();
            f.run(kernels::reference_kernels().conv2d, expected);
            Conv2dArgs a = f.args;
            set_thread_count(1);
            a.output = one.data() + f.out_offset;
            conv2d_parallel(*isa, a);
            set_thread_count(2);
            a.output = two.data() + f.out_offset;
            conv2d_parallel(*isa, a);
            CHECK(one == two);
            check_close(f, expected, two, conv_tolerance(f.args));
        }
    }
    set_thread_count(2);
}

TEST_CASE("conv2d_parallel: channel groups on small images, packed and not, match the uncut call") {
    // Small outputs have too few row pairs for many threads, so these are cut by channel
    // too; out_c 200 leaves a partial last panel, stride 2 and 'valid' move the band windows.
    // Thread counts past the cores are fine here: only the cut, not the speed, is under test.
    const ConvCase cases[] = {
        {1, 19, 8, 8, 200, 3, 3, 1, Padding::same},
        {2, 24, 8, 8, 130, 1, 1, 1, Padding::valid},
        {1, 16, 17, 17, 160, 1, 7, 1, Padding::same},
        {1, 9, 35, 35, 192, 3, 3, 2, Padding::valid},
    };
    for (const KernelTable* isa : available_kernel_tables()) {
        for (const ConvCase& cc : cases) {
            CAPTURE(std::string(isa->isa_name));
            CAPTURE(describe(cc));
            Conv2dFixture f(cc, 7, false, true);
            std::vector<unsigned char> packed;
            if (isa->conv2d_pack) packed = pack(*isa, f.args);
            Conv2dArgs a = f.args;
            a.packed = aligned(packed);
            std::vector<float> expected = f.fresh_output(), whole = f.fresh_output(), one = f.fresh_output();
            f.run(kernels::reference_kernels().conv2d, expected);
            f.run(isa->conv2d, whole, a.packed);
            set_thread_count(1);
            a.output = one.data() + f.out_offset;
            conv2d_parallel(*isa, a);
            bool cut_channels = false;
            for (const int threads : {2, 3, 8, 32}) {
                CAPTURE(threads);
                cut_channels = cut_channels || conv2d_cut(*isa, a, threads).groups > 1;
                std::vector<float> many = f.fresh_output();
                set_thread_count(threads);
                a.output = many.data() + f.out_offset;
                conv2d_parallel(*isa, a);
                CHECK(one == many);
            }
            // The channel-group path really ran (tables without panels plan for two threads).
            if (isa->conv2d_panel_width > 0) CHECK(cut_channels);
            if (isa->conv2d_panel_width > 0) CHECK(whole == one);  // same sums, same order
            check_close(f, expected, one, conv_tolerance(f.args));
        }
    }
    set_thread_count(2);
}

TEST_CASE("pool2d_parallel: Inception's pools, every table, 1 and 2 threads bit-identical") {
    struct Case { int n, c, h, w, kernel, stride, pad_top, out_h, out_w; bool max; };
    // 3x3 stride-1 'same' average pools of the mixed blocks (35, 17, 8 pixels; 2048 and an
    // odd 291 channels) and the 'valid' stride-2 max pools of the stem and reductions.
    const Case cases[] = {
        {1, 291, 35, 35, 3, 1, 1, 35, 35, false}, {2, 768, 17, 17, 3, 1, 1, 17, 17, false},
        {1, 2048, 8, 8, 3, 1, 1, 8, 8, false},    {2, 64, 147, 147, 3, 2, 0, 73, 73, true},
        {1, 17, 35, 35, 3, 2, 0, 17, 17, true},   {1, 5, 9, 9, 3, 1, 1, 9, 9, true},
    };
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (const KernelTable* isa : available_kernel_tables())
        for (const Case& pc : cases) {
            CAPTURE(std::string(isa->isa_name));
            CAPTURE(pc.c);
            CAPTURE(pc.h);
            std::vector<float> input(std::size_t(pc.n) * pc.h * pc.w * pc.c);
            for (float& v : input) v = dist(rng);
            kernels::Pool2dArgs a;
            a.input = input.data();
            a.n = pc.n, a.in_h = pc.h, a.in_w = pc.w, a.c = pc.c;
            a.out_h = pc.out_h, a.out_w = pc.out_w;
            a.kernel_h = a.kernel_w = pc.kernel;
            a.stride_h = a.stride_w = pc.stride;
            a.pad_top = a.pad_left = pc.pad_top;
            const std::size_t out_floats = std::size_t(pc.n) * pc.out_h * pc.out_w * pc.c;
            std::vector<float> expected(out_floats), one(out_floats), two(out_floats);
            const auto op = [&](const KernelTable& t) { return pc.max ? t.maxpool2d : t.avgpool2d; };
            a.output = expected.data();
            op(kernels::reference_kernels())(a);
            set_thread_count(1);
            a.output = one.data();
            pool2d_parallel(op(*isa), a);
            set_thread_count(2);
            a.output = two.data();
            pool2d_parallel(op(*isa), a);
            CHECK(one == two);
            float worst = 0.0f;
            for (std::size_t i = 0; i < out_floats; ++i) worst = std::max(worst, std::fabs(expected[i] - two[i]));
            CHECK(worst <= (pc.max ? 0.0f : 4.0f * 9.0f * FLT_EPSILON));
        }
    set_thread_count(2);
}

TEST_CASE("parallel_for: runs every task once, partitions statically, rethrows") {
    for (int threads : {1, 2, 3}) {
        set_thread_count(threads);
#ifdef TINCEPTION_NO_THREADS
        CHECK(thread_count() == 1);  // -Dthreads=disabled: there is no pool to resize
#else
        CHECK(thread_count() == threads);
#endif
        std::vector<int> hits(37, 0);
        parallel_for(37, [&](int t) { ++hits[std::size_t(t)]; });
        CHECK(std::vector<int>(37, 1) == hits);
        CHECK_THROWS(parallel_for(5, [](int t) {
            if (t == 3) throw std::runtime_error("task 3");
        }));
        int nested = 0;
        parallel_for(1, [&](int) { parallel_for(4, [&](int) { ++nested; }); });
        CHECK(nested == 4);
    }
    set_thread_count(2);
}

TEST_CASE("parallel_for: back-to-back calls, calls after the workers sleep, the same task on the same thread") {
    set_thread_count(2);
    std::atomic<long> sum{0};
    for (int i = 0; i < 20000; ++i) parallel_for(2, [&](int t) { sum += t + 1; });
    CHECK(sum == 20000L * 3);
    for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));  // past the workers' polling time
        parallel_for(4, [&](int t) { sum += t; });
    }
    CHECK(sum == 20000L * 3 + 5 * 6);
    // The static partition: task t runs on the same thread call after call.
    std::vector<std::thread::id> first(8), second(8);
    parallel_for(8, [&](int t) { first[std::size_t(t)] = std::this_thread::get_id(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    parallel_for(8, [&](int t) { second[std::size_t(t)] = std::this_thread::get_id(); });
    CHECK(first == second);
#ifndef TINCEPTION_NO_THREADS
    CHECK(first[0] == std::this_thread::get_id());  // the caller takes the first share
    CHECK(first[7] != std::this_thread::get_id());
#endif
}
