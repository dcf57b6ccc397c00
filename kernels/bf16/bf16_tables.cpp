// The bf16 tables, only where this build holds AVX-512 and AVX-512 BF16 code and the CPU runs
// both. Compiled without ISA flags.
//  - avx512_bf16_direct: every convolution in bf16 (conv2d_bf16_avx512.cpp).
//  - avx512_bf16, what --precision bf16 runs, per layer:
//    - the layers the AVX-512 table runs by Winograd, by a bf16 Winograd: fp32 transforms,
//      bf16 products (winograd_bf16_avx512.cpp; winograd_bf16_path.hpp picks the transform);
//    - layers with an odd in_c (the RGB stem) on the AVX-512 table in fp32: bf16 pairs input
//      channels, so their rows were gathered tap by tap and padded, 1.5x the fp32 table's
//      time on the stem, and rounding the image to bf16 was the largest single loss of
//      accuracy; and the two 147x147 3x3 layers, where fp32's F(4x4, 3x3) is faster
//      (bf16_stays_fp32, winograd_bf16_path.hpp);
//    - the rest in bf16 directly.
//    All three pack 32-channel panels, so a layer's cuts work either way.
#include "bf16/conv2d_bf16.hpp"
#include "bf16/winograd_bf16_path.hpp"
#include "cpu_features.hpp"

namespace tinception::kernels {

#if defined(TINCEPTION_BUILT_AVX512) && defined(TINCEPTION_BUILT_AVX512_BF16)
void set_bf16_conv2d(KernelTable& t);            // bf16/conv2d_bf16_avx512.cpp
void set_bf16_winograd_conv2d(KernelTable& t);   // bf16/winograd_bf16_avx512.cpp

const KernelTable* avx512_bf16_direct_kernels() {
    const KernelTable* avx512 = avx512_kernels();
    if (!avx512 || !cpu_features().avx512bf16) return nullptr;
    static const KernelTable table = [avx512] {
        KernelTable t = *avx512;
        t.isa_name = "avx512_bf16_direct";
        set_bf16_conv2d(t);
        return t;
    }();
    return &table;
}

namespace {

const KernelTable& winograd_table() {
    static const KernelTable table = [] {
        KernelTable t = *avx512_bf16_direct_kernels();
        t.isa_name = "avx512_bf16_winograd";
        set_bf16_winograd_conv2d(t);
        return t;
    }();
    return table;
}

const KernelTable& for_layer(const Conv2dArgs& a) {
    if (bf16_stays_fp32(a)) return *avx512_kernels();
    if (bf16_winograd(a) != Bf16Winograd::none) return winograd_table();
    return *avx512_bf16_direct_kernels();
}

void conv2d(const Conv2dArgs& a) { for_layer(a).conv2d(a); }
std::size_t packed_size(const Conv2dArgs& a) { return for_layer(a).conv2d_packed_size(a); }
void pack(const Conv2dArgs& a, void* packed) { for_layer(a).conv2d_pack(a, packed); }
std::size_t workspace_size(const Conv2dArgs& a) { return for_layer(a).conv2d_workspace_size(a); }
std::size_t packed_offset(const Conv2dArgs& a, int first_channel) {
    const KernelTable& t = for_layer(a);
    if (t.conv2d_packed_offset) return t.conv2d_packed_offset(a, first_channel);
    return std::size_t(first_channel) * std::size_t(a.in_c) * std::size_t(a.kernel_h) * std::size_t(a.kernel_w);
}
int row_alignment(const Conv2dArgs& a) {
    const KernelTable& t = for_layer(a);
    return t.conv2d_row_alignment ? t.conv2d_row_alignment(a) : 1;
}
const char* path(const Conv2dArgs& a) { return for_layer(a).conv2d_path(a); }

}  // namespace

const KernelTable* avx512_bf16_kernels() {
    const KernelTable* direct = avx512_bf16_direct_kernels();
    if (!direct) return nullptr;
    static const KernelTable table = [direct] {
        KernelTable t = *direct;
        t.isa_name = "avx512_bf16";
        t.conv2d = conv2d;
        t.conv2d_packed_size = packed_size;
        t.conv2d_pack = pack;
        t.conv2d_workspace_size = workspace_size;
        t.conv2d_packed_offset = packed_offset;
        t.conv2d_row_alignment = row_alignment;
        t.conv2d_path = path;
        return t;
    }();
    return &table;
}
#else
const KernelTable* avx512_bf16_direct_kernels() { return nullptr; }
const KernelTable* avx512_bf16_kernels() { return nullptr; }
#endif

bool bf16_layer_runs_fp32(const Conv2dArgs& a) { return bf16_stays_fp32(a); }

}  // namespace tinception::kernels
