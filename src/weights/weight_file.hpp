// A .tcw weight file, memory-mapped read-only and validated at open; tensors are views
// into the mapping. Nothing here runs the network: the graph is plain data for the executor.
//
// Format 2 in short (format 3 adds uint8 tensors and batch normalisations folded at load,
// see expanded_weights.hpp) (full spec in weights/FORMAT.md), all integers little-endian:
//   header (68 bytes): magic 54 43 57 0D 0A 1A 0A 00, version, header size, tensor count,
//     data alignment (64), table offset, data offset, data size, total file size,
//     CRC-32 of the table, CRC-32 of table and data, CRC-32 of header bytes 0..63
//   table  [table offset, data offset): tensor entries (name, dtype, rank, dims, offset, size),
//     metadata (string pairs), graph (layers in topological order), zero padding
//   data   [data offset, data offset + data size): float32 tensors, each 64-byte aligned
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tinception {

class LayerGraph;
struct FileIdentity;

// When open() checks the tensor data against the file's checksum. Header, table and graph are
// always checked at open. deferred leaves the data to verify_data(), and an 8-bit file's
// conv2d weights unexpanded until make_values_readable(): for a caller that calls them before
// using the tensors or holds a record that this very file (FileIdentity) was verified before,
// as the packed-weights cache does (model/packed_cache.hpp). at_open does both at open.
enum class DataCheck { at_open, deferred };

struct TensorRef {
    std::string name;
    std::vector<std::int64_t> dims;
    const float* data = nullptr;  // into the mapping, or an 8-bit file's expanded values (its conv2d
                                  // weights filled by make_values_readable()); valid while the WeightFile lives
    std::size_t count = 0;        // product of dims
};

// One layer of the network. By op:
//   input:     ints height, width, channels
//   conv2d:    ints kernel_h, kernel_w, stride_h, stride_w, relu (0/1); strings padding ("same"|"valid");
//              tensors {"<name>/weights" OIHW [out_c,in_c,kernel_h,kernel_w], "<name>/bias" [out_c]}
//              (batch normalisation already folded in, so there is always a bias)
//   maxpool2d, avgpool2d: ints kernel_h, kernel_w, stride_h, stride_w; strings padding
//   concat:    channel concatenation of the inputs, in order (NHWC axis 3)
//   flatten:   no attributes
//   dense:     tensors {"<name>/weights" [out,in], "<name>/bias" [out]};
//              strings activation ("linear"|"relu"|"softmax")
struct LayerSpec {
    std::string name;                             // the model's own layer name: "conv2d_1", "mixed5"
    std::string op;                               // "input", "conv2d", "maxpool2d", "avgpool2d", "concat", "flatten", "dense"
    std::vector<std::string> inputs;              // names of the layers feeding it, in order
    std::map<std::string, std::int64_t> ints;
    std::map<std::string, std::string> strings;
    std::vector<std::string> tensors;
};

class WeightFile {
public:
    // Maps the file read-only and validates it, every CRC included unless `data` is deferred.
    // Throws tinception::Error with one sentence naming the file.
    static WeightFile open(const std::string& path, DataCheck data = DataCheck::at_open);
    // The same checks on a .tcw image in memory, copied into a 64-byte-aligned buffer the
    // WeightFile owns (the caller's bytes may be freed afterwards). `name` stands in for the
    // path in messages and path().
    static WeightFile from_memory(const void* bytes, std::size_t size, const std::string& name);

    WeightFile(WeightFile&&) noexcept;
    WeightFile& operator=(WeightFile&&) noexcept;
    ~WeightFile();

    const std::string& path() const;
    const std::vector<LayerSpec>& layers() const;  // topological order, as written
    const LayerGraph& graph() const;               // the same layers, checked and typed (layer_graph.hpp)
    const LayerSpec& layer(const std::string& name) const;
    bool has_tensor(const std::string& name) const;
    const TensorRef& tensor(const std::string& name) const;
    const std::vector<TensorRef>& tensors() const;
    // source, converter_version, input_size, input_scale, input_offset, resize,
    // align_corners, labels (optional, newline-separated)
    const std::map<std::string, std::string>& metadata() const;
    // CRC-32 of the table and data sections: tensors, graph and metadata. What a trained
    // model records to refuse weights other than its own. For an 8-bit (format 3) file, the
    // checksum of the float32 file it expands to, bit for bit, which it records and
    // verify_data() checks; so a model takes either file.
    std::uint32_t checksum() const;
    // The CRC-32 of this file's own table and data: checksum(), except for an 8-bit file.
    std::uint32_t file_checksum() const;
    // True for an 8-bit (format 3) file: tensors expanded and batch normalisation folded at load.
    bool expands_at_load() const;
    std::uint64_t file_size() const;
    std::uint32_t format_version() const;  // the header's version field
    // Checks the tensor data against the checksum (throws as open() would), once: later calls
    // return at once. Thread-safe. A no-op for a file whose data open() checked.
    void verify_data() const;
    // An 8-bit file's conv2d weights, nearly all its bytes, are expanded only when asked for:
    // a caller reading conv2d weight values calls one of these first (thread-safe). Nothing
    // for a float32 file, whose values are the mapping; for an 8-bit one, verify_data() and
    // then every conv2d weight tensor, or just `tensor` (one of tensors()).
    void make_values_readable() const;
    void make_values_readable(const TensorRef& tensor) const;
    bool data_verified() const;
    // For a mapped file, drops its pages from the resident set (they stay in the page cache);
    // after reading it all, so what is used afterwards is what counts. Nothing for weights in memory.
    void drop_resident_pages() const;
    // The mapped file's identity at open; all zero for weights given in memory.
    const FileIdentity& identity() const;
private:
    struct Impl;
    explicit WeightFile(std::unique_ptr<Impl> impl);
    static WeightFile validated(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tinception
