// Names and no-overwrite copies for classified images: `<label>-<score>.<ext>`, with a
// numbered suffix when that name is taken. Nothing that exists is ever replaced.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinception {

// "elsa", 0.996361, "photo.JPG" -> "elsa-0.99636.JPG" (score with 5 decimals; the
// extension of the original name, or none).
std::string classified_file_name(const std::string& label, float score, const std::string& original_name);

// Writes `bytes` into `directory` under `file_name`, or `<stem>-2<ext>`, `<stem>-3<ext>`...
// when taken. The file appears complete or not at all (temporary file, then link(2),
// which refuses to replace). Returns the path written. Throws Error on I/O failure.
std::string write_new_file(const std::string& directory, const std::string& file_name,
                           const std::vector<std::uint8_t>& bytes);

}  // namespace tinception
