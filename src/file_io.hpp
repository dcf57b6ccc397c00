// Whole-file reads and atomic whole-file writes, with errors that name the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinception {

std::vector<std::uint8_t> read_file_bytes(const std::string& path);

// Writes to `path.tmp.<pid>` and renames over `path`, so a reader never sees half a file.
void write_file_atomically(const std::string& path, const void* data, std::size_t size);

}  // namespace tinception
