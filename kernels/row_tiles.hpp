// How the micro-kernels' tiles cover a run of output pixels, shared by the fp32 GEMM and the
// int8 and bf16 direct convolutions. Internal linkage: each ISA file compiles its own copy.
#pragma once

namespace tinception::kernels {
namespace {

// Calls fn(first_row, rows) for the fewest micro-tiles of at most MaxRows rows that cover
// `count` rows, all of near-equal size: 16 rows make two tiles of 8 rather than 14 and 2,
// whose every weight load would feed only a few multiply-adds, and whose few accumulators
// cannot hide the instruction's latency (a 17-pixel row: 9 and 8, not 14 and 3). Which tile
// a row lands in never changes its sums.
template <int MaxRows, typename Fn>
void for_each_row_tile(int count, Fn&& fn) {
    const int tiles = (count + MaxRows - 1) / MaxRows;
    for (int i = 0; i < tiles; ++i) {
        const int r0 = int(long(count) * i / tiles);
        fn(r0, int(long(count) * (i + 1) / tiles) - r0);
    }
}

}  // namespace
}  // namespace tinception::kernels
