// Writing the 8-bit file from the float32 one's graph and the tensors the converter kept.
#include "uint8_file.hpp"

#include <cstdio>

#include "byte_io.hpp"
#include "error.hpp"
#include "weights/tcw_format.hpp"

namespace tinception::convert {

WeightFileWriter uint8_weight_file(const WeightFileWriter& float32_file, const std::map<std::string, KeptLayer>& kept) {
    const std::vector<std::uint8_t> float32_bytes = float32_file.serialize();
    WeightFileWriter out;
    for (LayerSpec l : float32_file.layers()) {
        const auto k = kept.find(l.name);
        if (k == kept.end()) {
            if (!l.tensors.empty()) throw Error("layer '" + l.name + "': no tensors kept for the 8-bit file", ErrorKind::internal);
            out.add_layer(l);
            continue;
        }
        l.tensors.clear();
        for (const KeptTensor& t : k->second.tensors) {
            l.tensors.push_back(t.name);
            if (t.q)
                out.add_uint8_tensor(t.name, t.dims, t.q->q, t.q->scale, t.q->min);
            else
                out.add_tensor(t.name, t.dims, t.values);
        }
        if (!k->second.batch_norm_epsilon.empty()) l.strings[tcw::kBatchNormEpsilon] = k->second.batch_norm_epsilon;
        out.add_layer(l);
    }
    for (const auto& [key, value] : float32_file.metadata()) out.set_metadata(key, value);
    char checksum[16];
    std::snprintf(checksum, sizeof checksum, "%08x",
                  unsigned(load_le<std::uint32_t>(float32_bytes.data() + tcw::kOffContentCrc)));
    out.set_metadata(tcw::kFloat32Checksum, checksum);
    return out;
}

}  // namespace tinception::convert
