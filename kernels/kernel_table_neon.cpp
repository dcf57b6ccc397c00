// The AArch64 NEON kernel table: convolutions through the 8x8 micro-kernel (gemm_tile_8x8_neon.hpp)
// on the paths of conv2d_simd_paths.hpp, NEON pooling; the other ops are the reference's.
#include "conv2d_simd_paths.hpp"
#include "fma_peak.hpp"
#include "gemm_tile_8x8_neon.hpp"
#include "kernel_table.hpp"
#include "pool2d_simd.hpp"
#include "reference.hpp"
#include "simd_tables.hpp"

namespace tinception::kernels {

// Called only by simd_tables.cpp, like the x86 tables' builders; every AArch64 CPU runs it.
const KernelTable& neon_table_unchecked() {
    static const KernelTable table = [] {
        KernelTable t = reference_kernels();
        t.isa_name = "neon";
        set_conv2d_entries<GemmTile8x8Neon>(t);
        t.fma_peak = fma_peak_neon;
        t.maxpool2d = maxpool2d_nhwc_neon;
        t.avgpool2d = avgpool2d_nhwc_neon;
        return t;
    }();
    return table;
}

}  // namespace tinception::kernels
