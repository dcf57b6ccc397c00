// The int8 tables: the reference, and AVX2's and AVX-512 VNNI's only when this build holds
// them and the CPU runs them.
// Compiled without ISA flags.
#include "int8/int8_kernel_table.hpp"
#include "cpu_features.hpp"
#include "kernel_table.hpp"

namespace tinception::kernels {

const Int8KernelTable& reference_int8_kernels() {
    static const Int8KernelTable table = [] {
        Int8KernelTable t;
        t.isa_name = "reference";
        t.conv2d = conv2d_int8_ref;
        t.maxpool2d = maxpool2d_u8_ref;
        t.avgpool2d = avgpool2d_u8_ref;
        t.copy_channels = copy_channels_u8_ref;
        t.quantize_u8 = quantize_u8_ref;
        t.log2_histogram = log2_histogram_ref;
        return t;
    }();
    return table;
}

#ifdef TINCEPTION_BUILT_AVX2
const Int8KernelTable& avx2_int8_table_unchecked();  // int8/conv2d_int8_avx2.cpp
const Int8KernelTable& avx2_7bit_int8_table_unchecked();

// The forward table's getter has checked the build and the CPU for the same ISA.
const Int8KernelTable* avx2_int8_kernels() { return avx2_kernels() ? &avx2_int8_table_unchecked() : nullptr; }
const Int8KernelTable* avx2_7bit_int8_kernels() {
    return avx2_kernels() ? &avx2_7bit_int8_table_unchecked() : nullptr;
}
#else
const Int8KernelTable* avx2_int8_kernels() { return nullptr; }
const Int8KernelTable* avx2_7bit_int8_kernels() { return nullptr; }
#endif

#if defined(TINCEPTION_BUILT_AVX2) && defined(TINCEPTION_BUILT_AVX512) && defined(TINCEPTION_BUILT_AVX512_VNNI)
void set_avx512_vnni_conv2d(Int8KernelTable& t);  // int8/conv2d_int8_avx512_vnni.cpp
void maxpool2d_u8_avx512(const Pool2dU8Args& a);  // int8/pool2d_u8_avx512.cpp
void avgpool2d_u8_avx512(const Pool2dU8Args& a);
std::uint64_t log2_histogram_avx512(const float* values, long pixels, int channels, int pixel_stride,
                                    std::uint64_t* counts, float* largest);  // int8/log2_histogram_avx512.cpp
double dot_peak_avx512_vnni(double seconds);                                     // int8/dot_peak_avx512_vnni.cpp

// AVX2's copies and input quantization (every VNNI CPU runs AVX2) with the VNNI convolution,
// AVX-512 pooling and calibration histogram.
const Int8KernelTable* avx512_vnni_int8_kernels() {
    if (!avx2_kernels() || !avx512_kernels() || !cpu_features().avx512vnni) return nullptr;
    static const Int8KernelTable table = [] {
        Int8KernelTable t = avx2_int8_table_unchecked();
        t.isa_name = "avx512_vnni";
        t.weight_max = 127;
        set_avx512_vnni_conv2d(t);
        t.maxpool2d = maxpool2d_u8_avx512;
        t.avgpool2d = avgpool2d_u8_avx512;
        t.log2_histogram = log2_histogram_avx512;
        t.dot_peak = dot_peak_avx512_vnni;
        return t;
    }();
    return &table;
}
#else
const Int8KernelTable* avx512_vnni_int8_kernels() { return nullptr; }
#endif

}  // namespace tinception::kernels
