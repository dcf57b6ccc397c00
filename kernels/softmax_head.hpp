// The per-ISA loops behind KernelTable::head_dots and head_outer (see kernel_table.hpp).
#pragma once

namespace tinception::kernels {

void head_dots_avx2(const float* const* x, int rows, const double* w, int classes, int n, double* z);
void head_outer_avx2(const float* const* x, const double* g, int rows, int classes, int n, double* out);
void head_dots_avx512(const float* const* x, int rows, const double* w, int classes, int n, double* z);
void head_outer_avx512(const float* const* x, const double* g, int rows, int classes, int n, double* out);

// a * b rounded to double on its own: the value passes through a register the compiler cannot
// see into, so it cannot fuse the product into the addition that follows (GCC fuses a * b + c
// wherever the ISA has a fused multiply-add, on AArch64 by default).
inline double rounded_product(double a, double b) {
    double p = a * b;
#if defined(__x86_64__) || defined(__i386__)
    asm("" : "+x"(p));
#elif defined(__aarch64__)
    asm("" : "+w"(p));
#endif
    return p;
}

}  // namespace tinception::kernels
