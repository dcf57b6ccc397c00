// One function per subcommand; each parses its own options and returns the exit code.
#pragma once

namespace tinception::cli {

// Exit codes, documented in --help and the README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;    // internal error, or some items of a batch failed
inline constexpr int kExitBadInput = 2;   // bad usage or bad input

int run_info(int argc, char** argv);

}  // namespace tinception::cli
