// libFuzzer target: WeightFile::open on arbitrary bytes (written to a private temp file,
// since the reader maps a path) opens a consistent file or throws tinception::Error.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <vector>

#include "error.hpp"
#include "weights/crc32.hpp"
#include "weights/tcw_format.hpp"
#include "weights/weight_file.hpp"

namespace {

const std::string& scratch_path() {
    static const std::string path = [] {
        const char* dir = std::getenv("TMPDIR");
        return std::string(dir && *dir ? dir : "/tmp") + "/tinception-fuzz-weights-" + std::to_string(::getpid()) + ".tcw";
    }();
    return path;
}

std::uint64_t load_le(const std::uint8_t* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
    return v;
}

void store_le32(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = std::uint8_t(v >> (8 * i));
}

// Random bytes almost never carry three matching CRC-32s, which would stop every input at
// the checksum test; fixing them up lets the fuzzer reach the table parser. Checksum
// mismatches themselves are covered by test_weight_file.cpp.
void fix_checksums(std::vector<std::uint8_t>& b) {
    namespace tcw = tinception::tcw;
    if (b.size() < tcw::kHeaderSize) return;
    const std::uint64_t table = load_le(&b[tcw::kOffTableOffset], 8);
    const std::uint64_t data = load_le(&b[tcw::kOffDataOffset], 8);
    if (table <= data && data <= b.size()) {
        store_le32(&b[tcw::kOffTableCrc], tinception::crc32(b.data() + table, std::size_t(data - table)));
        store_le32(&b[tcw::kOffContentCrc], tinception::crc32(b.data() + table, std::size_t(b.size() - table)));
    }
    store_le32(&b[tcw::kOffHeaderCrc], tinception::crc32(b.data(), tcw::kOffHeaderCrc));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = scratch_path();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) __builtin_trap();
    std::vector<std::uint8_t> bytes(data, data + size);
    fix_checksums(bytes);
    data = bytes.data();
    std::size_t done = 0;
    while (done < size) {
        const ssize_t put = ::write(fd, data + done, size - done);
        if (put <= 0) __builtin_trap();
        done += std::size_t(put);
    }
    ::close(fd);
    try {
        const tinception::WeightFile file = tinception::WeightFile::open(path);
        for (const tinception::TensorRef& t : file.tensors()) {
            volatile float sink = 0;
            if (t.count > 0) sink = t.data[0] + t.data[t.count - 1];
            (void)sink;
        }
    } catch (const tinception::Error&) {
    }
    ::unlink(path.c_str());
    return 0;
}
