// The arithmetic that turns stored weights into the float32 values the network runs on:
// dequantising a TF.js uint8 tensor and folding a BatchNormalization into the conv before it.
// tools/convert_weights (writing float32 files) and the reader of 8-bit files (expanding them
// at load) both call these, compiled once here, so the two give the same bits.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tinception {

// TF.js's affine uint8 quantisation: value = min + scale * q, computed in double, then rounded
// to float once.
float dequantize_u8(std::uint8_t q, double scale, double min);
void dequantize_u8(const std::uint8_t* q, std::size_t n, double scale, double min, float* out);

// Per output channel o: k[o] = gamma[o] / sqrt(variance[o] + epsilon) in double (gamma = 1 when
// null, for a BatchNormalization without scale). Throws Error "`who` has a non-positive
// variance + epsilon in channel N" when that sum is not positive (or is NaN).
std::vector<double> batch_norm_factors(const float* gamma, const float* variance, std::size_t channels,
                                       double epsilon, const std::string& who);

// w' = w * k per output channel, for `per_channel` weights after each channel's first (OIHW).
void fold_batch_norm_weights(float* weights, std::size_t per_channel, const std::vector<double>& k);
// The same bits as dequantize_u8 followed by fold_batch_norm_weights (`k` empty: no fold),
// by a table of the 256 values per tensor (or per channel when folding), so that expanding a
// file costs a lookup a weight.
void dequantize_u8_folded(const std::uint8_t* q, std::size_t per_channel, double scale, double min,
                          const std::vector<double>& k, std::size_t count, float* out);
// b' = beta + (b - mean) * k (beta = 0 when null, for a BatchNormalization without center).
void fold_batch_norm_bias(float* bias, const float* beta, const float* mean, const std::vector<double>& k);

}  // namespace tinception
