// One call of a packed-GEMM micro-kernel, for any ISA's vector operations S (simd_*.hpp):
// C[rows][panel] (+)= A[rows][k_len] * B[k_len][panel], optionally seeded with a bias and
// finished with ReLU. A panel is two vectors of S::kLanes output channels.
#pragma once

namespace tinception::kernels {
namespace {

template <class S>
struct TileJob {
    const float* a;   // first pixel row of the tile at this chunk's first k
    long lda;         // floats between pixel rows of A
    const float* b;   // packed panel chunk, [k_len][2 * S::kLanes]
    long k_len;
    float* c;         // output of the tile's first pixel at the panel's first channel
    long ldc;
    const float* bias;  // this panel's bias, or nullptr
    typename S::Mask mask0, mask1;  // each vector's lanes below out_c
    // The panel chunk this thread multiplies next (k_len rows of 2 * S::kLanes, all inside the
    // packed weights; or nullptr), fetched into cache while this tile runs: at batch 1 a chunk
    // serves few tiles, and the first of them would wait on memory for every weight row. A
    // tile may ignore it (the NEON one does): it changes no result.
    const float* prefetch = nullptr;
    bool first, last, relu;
};

}  // namespace
}  // namespace tinception::kernels
