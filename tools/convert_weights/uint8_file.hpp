// The 8-bit weight file (format 3): the source's uint8 tensors kept as they are, transposed to
// the layouts the float32 file has, and each BatchNormalization's tensors kept beside its conv
// to fold at load (src/weights/expanded_weights.hpp) with the very arithmetic the float32 file
// was folded with.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tfjs_model.hpp"
#include "weights/weight_file_writer.hpp"

namespace tinception::convert {

// One tensor as the 8-bit file keeps it: uint8 bytes with scale and min when the source has
// them, else float32 values.
struct KeptTensor {
    std::string name;  // as written, e.g. "conv2d_1/weights", "conv2d_1/moving_mean"
    std::vector<std::int64_t> dims;
    std::optional<QuantizedWeight> q;
    std::vector<float> values;
};

// What the 8-bit file keeps of each layer with tensors: the tensors, in order, and for a
// conv2d with a batch normalisation to fold, its epsilon as text that reads back exactly.
struct KeptLayer {
    std::vector<KeptTensor> tensors;
    std::string batch_norm_epsilon;  // empty: none
};

// Keras HWIO -> OIHW, and [in, out] -> [out, in]: for float values and uint8 bytes alike.
template <typename T>
std::vector<T> hwio_to_oihw(const std::vector<T>& hwio, std::int64_t kh, std::int64_t kw, std::int64_t in_c,
                            std::int64_t out_c) {
    std::vector<T> oihw(hwio.size());
    for (std::int64_t y = 0; y < kh; ++y)
        for (std::int64_t x = 0; x < kw; ++x)
            for (std::int64_t i = 0; i < in_c; ++i)
                for (std::int64_t o = 0; o < out_c; ++o)
                    oihw[std::size_t(((o * in_c + i) * kh + y) * kw + x)] =
                        hwio[std::size_t(((y * kw + x) * in_c + i) * out_c + o)];
    return oihw;
}
template <typename T>
std::vector<T> transposed(const std::vector<T>& rows_by_cols, std::int64_t rows, std::int64_t cols) {
    std::vector<T> out(rows_by_cols.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) out[std::size_t(c * rows + r)] = rows_by_cols[std::size_t(r * cols + c)];
    return out;
}

// The source weight `source_name` of `source_shape` as kept, named `name` with `dims`, its
// elements reordered by `reorder` (applied to the uint8 bytes or the float values).
template <typename Reorder>
KeptTensor keep_weight(const TfjsModel& model, const std::string& source_name,
                       const std::vector<std::int64_t>& source_shape, const std::string& name,
                       const std::vector<std::int64_t>& dims, Reorder reorder) {
    KeptTensor t{name, dims, model.quantized_u8(source_name, source_shape), {}};
    if (t.q)
        t.q->q = reorder(t.q->q);
    else
        t.values = reorder(model.weight(source_name, source_shape));
    return t;
}

// The 8-bit file of `float32_file` (as build_weight_file made it): its graph and metadata,
// the kept tensors of each layer in `kept`, and the float32 file's checksum, which it records
// as the checksum it expands to.
WeightFileWriter uint8_weight_file(const WeightFileWriter& float32_file, const std::map<std::string, KeptLayer>& kept);

}  // namespace tinception::convert
