// libFuzzer target: the TF.js model reader on an arbitrary model.json plus one shard.
// The input is split at the first NUL byte: before it model.json, after it the bytes of
// "group1-shard1of1.bin" beside it. load() and every weight() must return or throw Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "error.hpp"
#include "tfjs_model.hpp"

namespace {

const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        const char* tmp = std::getenv("TMPDIR");
        std::filesystem::path d = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                                  ("tinception-fuzz-tfjs-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

void write(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::uint8_t* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
    const std::size_t json_size = nul ? std::size_t(nul - data) : size;
    const std::size_t shard_offset = nul ? json_size + 1 : size;
    write(scratch_dir() / "model.json", data, json_size);
    write(scratch_dir() / "group1-shard1of1.bin", data + shard_offset, size - shard_offset);
    try {
        const auto model = tinception::convert::TfjsModel::load((scratch_dir() / "model.json").string());
        for (const auto& layer : model.layers()) (void)model.find_layer(layer.name);
        for (const auto& layer : model.layers())
            for (const char* role : {"/kernel", "/bias", "/gamma", "/moving_mean"}) {
                const std::string name = layer.name + role;
                if (!model.has_weight(name)) continue;
                try {
                    (void)model.weight(name, model.entry(name).shape);
                } catch (const tinception::Error&) {
                }
            }
    } catch (const tinception::Error&) {
    }
    return 0;
}
