// Names and no-overwrite copies for classified images: `<label>-<score>.<ext>`, with a
// numbered suffix when that name is taken. Nothing that exists is ever replaced.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinception {

// A label as one file or folder name: '/' and NUL become '_', and "", "." and ".." become
// "_", so a label read from a model file can never name a place outside the output folder.
std::string safe_name_for_label(const std::string& label);

// "elsa", 0.996361, "photo.JPG" -> "elsa-0.99636.JPG" (score with 5 decimals; the
// extension of the original name, or none; the label through safe_name_for_label).
std::string classified_file_name(const std::string& label, float score, const std::string& original_name);

// Writes `bytes` into `directory` under `file_name`, or `<stem>-2<ext>`, `<stem>-3<ext>`...
// when taken. The file appears complete or not at all (temporary file, then link(2),
// which refuses to replace). Returns the path written. Throws Error on I/O failure.
std::string write_new_file(const std::string& directory, const std::string& file_name,
                           const std::vector<std::uint8_t>& bytes);

// The same name rule, but a hard link to `source` (following a symbolic link to its file)
// instead of a copy; where the file system refuses hard links (another device, a file
// system without them), `bytes` are written as write_new_file does. `*linked` says which.
std::string link_or_write_new_file(const std::string& source, const std::string& directory,
                                   const std::string& file_name, const std::vector<std::uint8_t>& bytes,
                                   bool* linked);

}  // namespace tinception
