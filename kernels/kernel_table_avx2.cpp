// The AVX2+FMA kernel table: convolutions through the 6x16 micro-kernel (gemm_tile_6x16_avx2.hpp)
// on the paths of conv2d_simd_paths.hpp, AVX2 pooling and softmax-head loops; the other ops are
// the reference's.
#include "conv2d_simd_paths.hpp"
#include "fma_peak.hpp"
#include "gemm_tile_6x16_avx2.hpp"
#include "kernel_table.hpp"
#include "pool2d_simd.hpp"
#include "reference.hpp"
#include "simd_tables.hpp"
#include "softmax_head.hpp"

namespace tinception::kernels {

// Called only by simd_tables.cpp after the CPU check: building the table runs code compiled
// for this ISA (GCC copies the struct with its vector moves).
const KernelTable& avx2_table_unchecked() {
    static const KernelTable table = [] {
        KernelTable t = reference_kernels();
        t.isa_name = "avx2";
        set_conv2d_entries<GemmTile6x16Avx2>(t);
        t.fma_peak = fma_peak_avx2;
        t.maxpool2d = maxpool2d_nhwc_avx2;
        t.avgpool2d = avgpool2d_nhwc_avx2;
        t.head_dots = head_dots_avx2;
        t.head_outer = head_outer_avx2;
        return t;
    }();
    return table;
}

}  // namespace tinception::kernels
