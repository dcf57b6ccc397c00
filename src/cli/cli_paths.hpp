// Default locations the command line falls back on when a path is not given.
#pragma once
#include <string>
#include <vector>

namespace tinception::cli {

// --weights when given; else $TINCEPTION_WEIGHTS; else weights/inception_v3.tcw under the
// current folder or next to the source tree the program was built in. Throws Error saying
// how to get the file when none exists.
std::string resolve_weights_path(const std::string& given);

// The weight file to classify with MODEL: `given` (--weights) when not empty; else where the
// model records it (relative records from the model's folder), else resolve_weights_path's
// default. Throws Error naming every place tried and --weights when none holds a file.
std::string weights_for_model(const std::string& model_path, const std::string& given);

// Where weights_for_model looks when --weights is not given, in order (the default only
// when there is one).
std::vector<std::string> weight_file_candidates(const std::string& model_path);

// $XDG_CACHE_HOME/tinception/bottlenecks, else ~/.cache/tinception/bottlenecks.
std::string default_bottleneck_dir();

// An absolute form of `path` (made from the current folder), for paths stored in files.
std::string absolute_path(const std::string& path);

// `path` with its extension (if any) replaced by `suffix`: ("a/m.tcm", ".labels.txt") -> "a/m.labels.txt".
std::string with_suffix(const std::string& path, const std::string& suffix);

}  // namespace tinception::cli
