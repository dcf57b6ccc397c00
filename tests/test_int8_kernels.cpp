// The int8 kernels: every int8 table equal to the reference, bit for bit, on the shared case
// table in both memory layouts; the reference convolution against the fp32 reference; u8
// pooling of every table against its documented integer rounding, and with a rescale against
// the reference; float to u8 likewise; calibration's histogram against its definition.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "int8/int8_kernel_table.hpp"
#include "int8/log2_bins.hpp"
#include "kernel_cases.hpp"
#include "kernel_fixtures.hpp"
#include "layers/row_band.hpp"

namespace tinception::testing {
namespace {

using kernels::Int8KernelTable;

std::vector<const Int8KernelTable*> int8_tables_under_test() {
    std::vector<const Int8KernelTable*> tables;
    if (const Int8KernelTable* t = kernels::avx2_int8_kernels()) tables.push_back(t);
    if (const Int8KernelTable* t = kernels::avx2_7bit_int8_kernels()) tables.push_back(t);
    if (const Int8KernelTable* t = kernels::avx512_vnni_int8_kernels()) tables.push_back(t);
    static bool reported = false;
    if (!reported) {
        std::string ran;
        for (const Int8KernelTable* t : tables) ran += (ran.empty() ? "" : ", ") + std::string(t->isa_name);
        MESSAGE("int8 tables tested against the reference: " << (ran.empty() ? "none (no AVX2 here)" : ran));
        reported = true;
    }
    return tables;
}

// Bytes with a 64-byte guard of sentinels each side; `misaligned` starts one byte past a
// 64-byte boundary.
class GuardedBytes {
public:
    static constexpr std::uint8_t kSentinel = 0xA5;
    GuardedBytes(std::size_t size, bool misaligned = false) : size_(size), storage_(size + 192, kSentinel) {
        const auto base = reinterpret_cast<std::uintptr_t>(storage_.data() + 64);
        begin_ = 64 + (64 - base % 64) % 64 + (misaligned ? 1 : 0);
    }
    std::uint8_t* data() { return storage_.data() + begin_; }
    std::size_t size() const { return size_; }
    // True when every byte outside [0, size) is the sentinel, and inside the slice's complement
    // of each pixel as well (channels outside [offset, offset + width) of a pixel_stride).
    bool untouched_outside(std::size_t element_bytes, int pixel_stride, int offset, int width) const {
        for (std::size_t i = 0; i < storage_.size(); ++i) {
            const bool inside = i >= begin_ && i < begin_ + size_;
            const int ch = inside ? int((i - begin_) / element_bytes % std::size_t(pixel_stride)) : -1;
            if ((!inside || ch < offset || ch >= offset + width) && storage_[i] != kSentinel) return false;
        }
        return true;
    }
    const std::uint8_t* data() const { return storage_.data() + begin_; }
    // Bytes of [0, size) that differ from o's, for the report.
    std::size_t differences(const GuardedBytes& o) const {
        std::size_t count = 0;
        for (std::size_t i = 0; i < size_ && i < o.size_; ++i) count += data()[i] != o.data()[i];
        return count + (size_ > o.size_ ? size_ - o.size_ : o.size_ - size_);
    }

private:
    std::size_t size_;
    std::vector<std::uint8_t> storage_;
    std::size_t begin_;
};

void fill_bytes(std::uint8_t* data, std::size_t count, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> dist(0, 255);
    for (std::size_t i = 0; i < count; ++i) data[i] = std::uint8_t(dist(rng));
}

// One convolution case: u8 input, weights in [-weight_max, weight_max], scales that spread the outputs over
// the u8 range and past both ends (std of the sum about sqrt(K) * 147 * weight_max / sqrt(3)).
struct Int8ConvFixture {
    Int8ConvFixture(const ConvCase& cc, const MemoryLayout& layout, bool float_output, std::uint32_t seed,
                    int weight_max = kernels::kInt8WeightMax)
        : cc(cc), layout(layout), float_output(float_output), py(padding_for(cc.pad, cc.h, cc.kernel_h, cc.stride)),
          px(padding_for(cc.pad, cc.w, cc.kernel_w, cc.stride)), in_stride(cc.in_c + layout.in_extra),
          out_stride(cc.out_c + layout.out_offset + layout.out_extra),
          input(std::size_t(cc.n) * cc.h * cc.w * std::size_t(in_stride), layout.misaligned),
          weights(std::size_t(cc.out_c) * cc.in_c * cc.kernel_h * cc.kernel_w), scale(std::size_t(cc.out_c)),
          bias(std::size_t(cc.out_c)) {
        fill_bytes(input.data(), input.size(), seed);
        std::mt19937 rng(seed + 1);
        std::uniform_int_distribution<int> w(-weight_max, weight_max);
        for (std::int8_t& v : weights) v = std::int8_t(w(rng));
        const double k = double(weights.size()) / cc.out_c;
        std::uniform_real_distribution<float> s(0.5f, 1.5f), b(-60.0f, 160.0f);
        for (float& v : scale) v = float(s(rng) * 80.0 / (std::sqrt(k) * 147.0 * weight_max / std::sqrt(3.0)));
        for (float& v : bias) v = b(rng);
    }
    std::size_t element_bytes() const { return float_output ? sizeof(float) : 1; }
    GuardedBytes fresh_output() const {
        return GuardedBytes(std::size_t(cc.n) * py.out * px.out * std::size_t(out_stride) * element_bytes());
    }
    kernels::Conv2dInt8Args args(GuardedBytes* out = nullptr) const {
        kernels::Conv2dInt8Args a;
        a.input = const_cast<GuardedBytes&>(input).data();
        a.weights = weights.data();
        a.scale = scale.data();
        a.bias = bias.data();
        a.output = out ? out->data() + std::size_t(layout.out_offset) * element_bytes() : nullptr;
        a.float_output = float_output;
        a.relu = cc.relu;
        a.n = cc.n, a.in_h = cc.h, a.in_w = cc.w, a.in_c = cc.in_c;
        a.out_h = py.out, a.out_w = px.out, a.out_c = cc.out_c;
        a.kernel_h = cc.kernel_h, a.kernel_w = cc.kernel_w;
        a.stride_h = a.stride_w = cc.stride;
        a.pad_top = py.before, a.pad_left = px.before;
        a.in_pixel_stride = in_stride, a.out_pixel_stride = out_stride;
        return a;
    }
    // Runs `table` on pixels [begin, end) (0, 0: all) with its packed weights and workspace.
    void run(const Int8KernelTable& table, GuardedBytes& out, long begin = 0, long end = 0) const {
        kernels::Conv2dInt8Args a = args(&out);
        std::vector<std::uint8_t> packed, workspace;
        if (table.conv2d_pack) {
            packed.resize(table.conv2d_packed_size(a) + 64);
            table.conv2d_pack(a, packed.data());
            a.packed = packed.data();
        }
        if (table.conv2d_workspace_size) {
            workspace.resize(table.conv2d_workspace_size(a) + 64);
            a.workspace = workspace.data();
        }
        a.pixel_begin = begin, a.pixel_end = end;
        table.conv2d(a);
    }

    const ConvCase& cc;
    const MemoryLayout& layout;
    bool float_output;
    Padding1d py, px;
    int in_stride, out_stride;
    GuardedBytes input;
    std::vector<std::int8_t> weights;
    std::vector<float> scale, bias;
};

TEST_CASE("conv2d int8: every table equals the reference exactly on awkward shapes, u8 and float output") {
    for (const Int8KernelTable* table : int8_tables_under_test())
        for (const ConvCase& cc : kConvCases)
            for (const MemoryLayout& layout : kLayouts)
                for (const bool float_output : {false, true}) {
                    CAPTURE(std::string(table->isa_name));
                    CAPTURE(describe(cc));
                    CAPTURE(std::string(layout.name));
                    CAPTURE(float_output);
                    const Int8ConvFixture f(cc, layout, float_output, 4321, table->weight_max);
                    GuardedBytes expected = f.fresh_output(), actual = f.fresh_output();
                    f.run(kernels::reference_int8_kernels(), expected);
                    f.run(*table, actual);
                    CHECK(actual.untouched_outside(f.element_bytes(), f.out_stride, layout.out_offset, cc.out_c));
                    CHECK(actual.differences(expected) == 0);
                }
}

TEST_CASE("conv2d int8: a pixel range computes those pixels only, the same as the whole call") {
    // Gathered (17 input channels), read in place (1x1), and direct over copied rows (whole
    // quads of input channels, stride 1 and 2; 20-wide rows go in windows of 4 rows; a 1x1
    // layer of 578 pixels, two weight passes): the cuts fall mid-row, mid-window and across images.
    const ConvCase cases[] = {{2, 17, 6, 7, 33, 3, 3, 1, Padding::same, true},
                              {2, 19, 5, 7, 20, 1, 1, 1, Padding::valid, true},
                              {2, 20, 6, 7, 33, 3, 3, 1, Padding::same, true},
                              {2, 16, 9, 8, 40, 3, 3, 2, Padding::same, true},
                              {2, 20, 9, 20, 40, 3, 3, 1, Padding::same, true},
                              {2, 24, 17, 17, 40, 1, 1, 1, Padding::valid, true}};
    std::vector<const Int8KernelTable*> tables = int8_tables_under_test();
    tables.push_back(&kernels::reference_int8_kernels());
    for (const Int8KernelTable* table : tables)
        for (const ConvCase& cc : cases) {
            CAPTURE(std::string(table->isa_name));
            CAPTURE(describe(cc));
            const Int8ConvFixture f(cc, kLayouts[1], false, 99, table->weight_max);
            GuardedBytes whole = f.fresh_output(), parts = f.fresh_output();
            f.run(*table, whole);
            const long pixels = long(cc.n) * f.py.out * f.px.out;
            const long cuts[] = {0, 5, 13, 14, std::min(pixels, 97L), std::min(pixels, 203L), pixels};
            for (int i = 0; i + 1 < 7; ++i) f.run(*table, parts, cuts[i], cuts[i + 1]);
            CHECK(parts.differences(whole) == 0);
        }
}

TEST_CASE("conv2d int8: the reference's sums equal the fp32 reference convolution of the same integers") {
    // K * 255 * 127 stays under 2^24 on these rows, so the fp32 sums are exact too.
    for (const ConvCase& cc : kConvCases) {
        if (long(cc.in_c) * cc.kernel_h * cc.kernel_w * 255 * 127 >= (1L << 24)) continue;
        CAPTURE(describe(cc));
        Int8ConvFixture f(cc, kLayouts[0], true, 7);
        std::fill(f.scale.begin(), f.scale.end(), 1.0f);
        std::fill(f.bias.begin(), f.bias.end(), 0.0f);
        GuardedBytes got = f.fresh_output();
        f.run(kernels::reference_int8_kernels(), got);

        kernels::Conv2dArgs a;
        std::vector<float> in(f.input.size()), oihw(f.weights.size()), out(got.size() / sizeof(float));
        for (std::size_t i = 0; i < in.size(); ++i) in[i] = float(f.input.data()[i]);
        for (int oc = 0; oc < cc.out_c; ++oc)
            for (int ic = 0; ic < cc.in_c; ++ic)
                for (int ky = 0; ky < cc.kernel_h; ++ky)
                    for (int kx = 0; kx < cc.kernel_w; ++kx)
                        oihw[((std::size_t(oc) * cc.in_c + ic) * cc.kernel_h + ky) * cc.kernel_w + kx] =
                            f.weights[((std::size_t(oc) * cc.kernel_h + ky) * cc.kernel_w + kx) * cc.in_c + ic];
        const kernels::Conv2dInt8Args q = f.args();
        a.input = in.data(), a.weights = oihw.data(), a.bias = nullptr, a.output = out.data();
        a.n = q.n, a.in_h = q.in_h, a.in_w = q.in_w, a.in_c = q.in_c, a.out_h = q.out_h, a.out_w = q.out_w;
        a.out_c = q.out_c, a.kernel_h = q.kernel_h, a.kernel_w = q.kernel_w, a.stride_h = q.stride_h;
        a.stride_w = q.stride_w, a.pad_top = q.pad_top, a.pad_left = q.pad_left, a.relu = q.relu;
        kernels::reference_kernels().conv2d(a);
        CHECK(std::memcmp(out.data(), got.data(), got.size()) == 0);
    }
}

// The average pooling's documented rounding in integers: sum / count, half to even.
// A pool case's arguments over `input` (output left unset), padding as the case says.
// A pool case in a memory layout: its padding, its pixel strides, an input filled from
// `seed`, the size of an output, and the arguments that pool it (the output left to set).
struct U8PoolFixture {
    const PoolCase& pc;
    const MemoryLayout& layout;
    Padding1d py, px;
    int in_stride, out_stride;
    GuardedBytes input;

    U8PoolFixture(const PoolCase& pool_case, const MemoryLayout& memory_layout, std::uint32_t seed)
        : pc(pool_case), layout(memory_layout), py(padding_for(pc.pad, pc.h, pc.kernel_h, pc.stride)),
          px(padding_for(pc.pad, pc.w, pc.kernel_w, pc.stride)), in_stride(pc.c + layout.in_extra),
          out_stride(pc.c + layout.out_offset + layout.out_extra),
          input(std::size_t(pc.n) * pc.h * pc.w * std::size_t(in_stride), layout.misaligned) {
        fill_bytes(input.data(), input.size(), seed);
    }
    std::size_t output_size() const { return std::size_t(pc.n) * py.out * px.out * std::size_t(out_stride); }
    kernels::Pool2dU8Args args(float rescale) {
        kernels::Pool2dU8Args a;
        a.input = input.data();
        a.n = pc.n, a.in_h = pc.h, a.in_w = pc.w, a.c = pc.c, a.out_h = py.out, a.out_w = px.out;
        a.kernel_h = pc.kernel_h, a.kernel_w = pc.kernel_w, a.stride_h = a.stride_w = pc.stride;
        a.pad_top = py.before, a.pad_left = px.before;
        a.in_pixel_stride = in_stride, a.out_pixel_stride = out_stride, a.rescale = rescale;
        return a;
    }
};

int mean_half_to_even(int sum, int count) {
    int q = sum / count;
    const int twice_r = 2 * (sum % count);
    if (twice_r > count || (twice_r == count && q % 2 == 1)) ++q;
    return q;
}

TEST_CASE("pool2d u8: max exact, average the integer mean rounded half to even, padding left out") {
    std::vector<const Int8KernelTable*> tables = int8_tables_under_test();
    tables.push_back(&kernels::reference_int8_kernels());
    for (const Int8KernelTable* table : tables)
        for (const PoolCase& pc : kPoolCases)
            for (const MemoryLayout& layout : kLayouts) {
                CAPTURE(std::string(table->isa_name));
                CAPTURE(describe(pc));
                CAPTURE(std::string(layout.name));
                U8PoolFixture f(pc, layout, 17);
                const Padding1d &py = f.py, &px = f.px;
                const int in_stride = f.in_stride, out_stride = f.out_stride;
                GuardedBytes& input = f.input;
                // Small values too, where ties (x.5 means) are common.
                for (std::size_t i = 0; i < input.size(); i += 3) input.data()[i] %= 4;
                for (const bool is_max : {true, false}) {
                    GuardedBytes out(f.output_size());
                    kernels::Pool2dU8Args a = f.args(1.0f);
                    a.output = out.data() + layout.out_offset;
                    (is_max ? table->maxpool2d : table->avgpool2d)(a);
                    CHECK(out.untouched_outside(1, out_stride, layout.out_offset, pc.c));
                    long wrong = 0;
                    for (int b = 0; b < pc.n; ++b)
                        for (int oy = 0; oy < py.out; ++oy)
                            for (int ox = 0; ox < px.out; ++ox)
                                for (int c = 0; c < pc.c; ++c) {
                                    int max = 0, sum = 0, count = 0;
                                    for (int y = oy * pc.stride - py.before; y < oy * pc.stride - py.before + pc.kernel_h; ++y)
                                        for (int x = ox * pc.stride - px.before; x < ox * pc.stride - px.before + pc.kernel_w; ++x) {
                                            if (y < 0 || y >= pc.h || x < 0 || x >= pc.w) continue;
                                            const int v = input.data()[((std::size_t(b) * pc.h + y) * pc.w + x) * in_stride + c];
                                            max = std::max(max, v), sum += v, ++count;
                                        }
                                    const int want = is_max ? max : mean_half_to_even(sum, count);
                                    wrong += out.data()[((std::size_t(b) * py.out + oy) * px.out + ox) * out_stride +
                                                        layout.out_offset + c] != want;
                                }
                    CHECK_MESSAGE(wrong == 0, (is_max ? "max" : "average") << ": " << wrong << " outputs differ");
                }
            }
}

TEST_CASE("pool2d u8: with a rescale, every table equals the reference exactly") {
    for (const Int8KernelTable* table : int8_tables_under_test())
        for (const PoolCase& pc : kPoolCases)
            for (const float rescale : {0.37f, 1.9f}) {
                CAPTURE(std::string(table->isa_name));
                CAPTURE(describe(pc));
                CAPTURE(rescale);
                const MemoryLayout& layout = kLayouts[1];
                U8PoolFixture f(pc, layout, 23);
                for (const bool is_max : {true, false}) {
                    GuardedBytes expected(f.output_size()), actual(f.output_size());
                    kernels::Pool2dU8Args a = f.args(rescale);
                    const Int8KernelTable& ref = kernels::reference_int8_kernels();
                    a.output = expected.data() + layout.out_offset;
                    (is_max ? ref.maxpool2d : ref.avgpool2d)(a);
                    a.output = actual.data() + layout.out_offset;
                    (is_max ? table->maxpool2d : table->avgpool2d)(a);
                    CHECK(actual.untouched_outside(1, f.out_stride, layout.out_offset, pc.c));
                    CHECK(actual.differences(expected) == 0);
                }
            }
}

TEST_CASE("pool2d u8: every band of rows of every image gives the whole call's bytes (how the int8 network cuts it)") {
    std::vector<const Int8KernelTable*> tables = int8_tables_under_test();
    tables.push_back(&kernels::reference_int8_kernels());
    for (const Int8KernelTable* table : tables)
        for (const PoolCase& pc : kPoolCases)
            for (const bool is_max : {true, false}) {
                CAPTURE(std::string(table->isa_name));
                CAPTURE(describe(pc));
                CAPTURE(is_max);
                const MemoryLayout& layout = kLayouts[1];
                U8PoolFixture f(pc, layout, 29);
                const int in_stride = f.in_stride, out_stride = f.out_stride;
                GuardedBytes whole(f.output_size()), banded(f.output_size());
                kernels::Pool2dU8Args a = f.args(0.8f);
                const kernels::Pool2dU8Fn pool = is_max ? table->maxpool2d : table->avgpool2d;
                a.output = whole.data() + layout.out_offset;
                pool(a);
                // Bands of 1, 2 and 3 rows, in turn, down each image.
                a.output = banded.data() + layout.out_offset;
                for (int b = 0; b < pc.n; ++b)
                    for (int y0 = 0, rows = 1; y0 < f.py.out; y0 += rows, rows = rows % 3 + 1)
                        pool(row_band(a, in_stride, out_stride, b, y0, std::min(rows, f.py.out - y0)));
                CHECK(banded.untouched_outside(1, out_stride, layout.out_offset, pc.c));
                CHECK(banded.differences(whole) == 0);
            }
}

TEST_CASE("pool2d u8 and copy: a rescale multiplies then rounds half to even, clamped at 255") {
    const std::uint8_t in[4] = {0, 5, 200, 255};
    std::uint8_t out[8] = {};
    kernels::reference_int8_kernels().copy_channels(in, 4, 1, 4, out, 8, 2, 0.5f);
    CHECK(out[2] == 0);
    CHECK(out[3] == 2);    // 2.5 -> 2
    CHECK(out[4] == 100);
    CHECK(out[5] == 128);  // 127.5 -> 128
    CHECK(out[0] == 0);
    CHECK(out[6] == 0);
    kernels::reference_int8_kernels().copy_channels(in, 4, 1, 4, out, 8, 4, 1.5f);
    CHECK(out[4 + 2] == 255);  // 300 clamps
    CHECK(out[4 + 1] == 8);    // 7.5 -> 8
    kernels::Pool2dU8Args a;
    a.input = in, a.output = out, a.in_h = 1, a.in_w = 4, a.c = 1, a.out_h = 1, a.out_w = 1, a.kernel_w = 4;
    a.rescale = 0.5f;
    kernels::reference_int8_kernels().maxpool2d(a);
    CHECK(out[0] == 128);
    kernels::reference_int8_kernels().avgpool2d(a);  // 460 / 4 = 115, * 0.5 = 57.5 -> 58
    CHECK(out[0] == 58);
}

TEST_CASE("pool2d u8 average: a reciprocal and one exact correction equal IEEE division for every window's sum") {
    // The AVX-512 average divides so (pool2d_u8_avx512.cpp); checked here for every count of
    // cells the SIMD kernels take (up to 257) and every sum of that many u8 values.
    long differ = 0;
    for (int count = 1; count <= 257; ++count) {
        const float d = float(count), r = 1.0f / d;
        for (int sum = 0; sum <= 255 * count; ++sum) {
            const float s = float(sum);
            const float q = s * r;
            const float corrected = std::fma(std::fma(-q, d, s), r, q);
            const float divided = s / d;
            if (std::memcmp(&corrected, &divided, sizeof(float)) != 0) ++differ;
        }
    }
    CHECK(differ == 0);
}

TEST_CASE("quantize u8: every table subtracts, divides, clamps and rounds half to even as the reference, RGB to quads too") {
    // The reference's own arithmetic first: halves to even, clamped at 0 and 255, the offset
    // taken off first; an RGB pixel becomes four bytes, the fourth zero.
    const float halves[] = {-3.0f, 0.5f, 1.5f, 2.5f, 254.5f, 300.0f};
    std::uint8_t q[8] = {};
    kernels::reference_int8_kernels().quantize_u8(halves, 6, 1, 0.0f, 1.0f, q, 1);
    CHECK(q[0] == 0);
    CHECK(q[1] == 0);
    CHECK(q[2] == 2);
    CHECK(q[3] == 2);
    CHECK(q[4] == 254);
    CHECK(q[5] == 255);
    std::fill(std::begin(q), std::end(q), std::uint8_t(0xAB));
    kernels::reference_int8_kernels().quantize_u8(halves, 2, 3, -1.0f, 0.5f, q, 4);
    const std::uint8_t rgbx[8] = {0, 3, 5, 0, 7, 255, 255, 0};  // (v + 1) / 0.5
    CHECK(std::equal(std::begin(q), std::end(q), std::begin(rgbx)));
    // Near-ties and random values over and beyond the range, for scales whose reciprocal is
    // not exact (a multiply by 1 / scale rounds some of them the other way), with and without
    // an offset; contiguous, RGB to quads (the network's input), and another padding.
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> level(-20.0f, 300.0f);
    struct Shape { int c, stride; };
    for (const float offset : {0.0f, -1.0f, 0.37f})
        for (const float scale : {1.0f, 0.1f, 0.3f, 1.7f, 0.013f, 2.0f / 255.0f}) {
            std::vector<float> in;  // values a few ulps around offset + (k + 1/2) * scale
            for (int k = 0; k < 256; ++k) {
                float v = float(double(offset) + (k + 0.5) * double(scale));
                for (int step = 0; step < 3; ++step) v = std::nextafter(v, -1e9f);
                for (int step = 0; step < 7; ++step, v = std::nextafter(v, 1e9f)) in.push_back(v);
            }
            while (in.size() < 3 * 700) in.push_back(offset + level(rng) * scale);
            for (const Int8KernelTable* table : int8_tables_under_test())
                for (const Shape shape : {Shape{1, 1}, Shape{3, 3}, Shape{3, 4}, Shape{5, 8}})
                    for (const long pixels : {0L, 1L, 5L, 15L, 16L, 17L, 33L, 399L, 400L}) {
                        CAPTURE(std::string(table->isa_name));
                        CAPTURE(offset);
                        CAPTURE(scale);
                        CAPTURE(shape.c);
                        CAPTURE(shape.stride);
                        CAPTURE(pixels);
                        const std::size_t bytes = std::size_t(pixels) * std::size_t(shape.stride) + 1;
                        std::vector<std::uint8_t> expected(bytes, 0xAB), actual(bytes, 0xAB);
                        kernels::quantize_u8_ref(in.data(), pixels, shape.c, offset, scale, expected.data(), shape.stride);
                        table->quantize_u8(in.data(), pixels, shape.c, offset, scale, actual.data(), shape.stride);
                        CHECK(actual == expected);  // the byte past the last pixel untouched too
                        for (long p = 0; p < pixels; ++p)
                            for (int k = shape.c; k < shape.stride; ++k) CHECK(actual[std::size_t(p * shape.stride + k)] == 0);
                    }
        }
}

// Values calibration can meet: zeros of both signs, negatives, NaN, infinity, the smallest and
// largest floats, both sides of bin edges, and a spread over many octaves.
std::vector<float> histogram_values(std::size_t count, std::mt19937& rng) {
    const float specials[] = {0.0f, -0.0f, -1.0f, std::nanf(""), -std::nanf(""),
                              std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                              std::numeric_limits<float>::max(), std::ldexp(1.0f, kernels::kLowestOctave)};
    std::uniform_int_distribution<int> kind(0, 5), special(0, int(std::size(specials)) - 1), edge(0, 64 * 8);
    std::normal_distribution<float> log_scale(0.0f, 6.0f);
    std::vector<float> v(count);
    for (float& x : v) {
        switch (kind(rng)) {
        case 0:
        case 1: x = 0.0f; break;  // a ReLU's zeros
        case 2: x = special(rng) >= 0 ? specials[special(rng)] : 0.0f; break;
        case 3: {  // next to a bin edge 2^(k/64), either side
            const float at = float(std::exp2(double(edge(rng)) / kernels::kBinsPerOctave - 4.0));
            x = kind(rng) % 2 ? std::nextafter(at, 0.0f) : at;
            break;
        }
        default: x = std::exp2(log_scale(rng));
        }
    }
    return v;
}

}  // namespace

TEST_CASE("log2 histogram: the reference counts each positive value in its log2 bin; every table equals it") {
    std::mt19937 rng(11);
    for (const int channels : {1, 3, 15, 16, 17, 33, 300})
        for (const int gap : {0, 5})
            for (const long pixels : {1L, 3L, 37L}) {
                CAPTURE(channels);
                CAPTURE(gap);
                CAPTURE(pixels);
                const int stride = channels + gap;
                std::vector<float> values = histogram_values(std::size_t(pixels * stride), rng);
                for (long p = 0; p < pixels; ++p)  // between pixels: values that must not be counted
                    for (int c = channels; c < stride; ++c) values[std::size_t(p * stride + c)] = 1e30f;
                for (const float start : {0.0f, 7.5f}) {
                    std::vector<std::uint64_t> expected(std::size_t(kernels::kLog2Bins), 0);
                    std::uint64_t expected_positives = 0;
                    float expected_largest = start;
                    for (long p = 0; p < pixels; ++p)
                        for (int c = 0; c < channels; ++c) {
                            const float x = values[std::size_t(p * stride + c)];
                            if (!(x > 0.0f)) continue;
                            // log2 of infinity is no whole number: the last bin, as documented
                            const int bin = std::isinf(x) ? kernels::kLog2Bins - 1 : kernels::log2_bin_by_log2(x);
                            ++expected[std::size_t(bin)];
                            ++expected_positives;
                            expected_largest = std::max(expected_largest, x);
                        }
                    std::vector<const Int8KernelTable*> tables = int8_tables_under_test();
                    tables.insert(tables.begin(), &kernels::reference_int8_kernels());
                    for (const Int8KernelTable* t : tables) {
                        CAPTURE(std::string(t->isa_name));
                        std::vector<std::uint64_t> counts(std::size_t(kernels::kLog2Bins), 1);  // added to, not set
                        float largest = start;
                        const std::uint64_t positives =
                            t->log2_histogram(values.data(), pixels, channels, stride, counts.data(), &largest);
                        for (std::uint64_t& n : counts) --n;
                        CHECK(positives == expected_positives);
                        CHECK(counts == expected);
                        CHECK(largest == expected_largest);
                    }
                }
            }
}

}  // namespace tinception::testing
