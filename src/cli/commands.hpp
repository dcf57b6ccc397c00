// One function per subcommand; each parses its own options and returns the exit code.
#pragma once

namespace tinception::cli {

// Exit codes, documented in --help and the README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;    // internal error, or some items of a batch failed
inline constexpr int kExitBadInput = 2;   // bad usage or bad input
inline constexpr int kExitBelowAccuracy = 3;  // train: test accuracy under --assert-accuracy-at-least

// The feature layers train, guess and embed use unless told otherwise: with the shipped
// weights mixed3, mixed5 and mixed7 side by side separate categories better than mixed10 (the
// blocks above mixed7 were fine-tuned for another task) and cost less to compute (README's
// table of what was cross-validated).
inline constexpr const char* kDefaultFeatureLayer = "mixed3,mixed5,mixed7";

int run_info(int argc, char** argv);
int run_embed(int argc, char** argv);
int run_train(int argc, char** argv);
int run_guess(int argc, char** argv);
int run_guess_dir(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_export(int argc, char** argv);
int run_preprocess(int argc, char** argv);
int run_bottlenecks(int argc, char** argv);
int run_cache(int argc, char** argv);

}  // namespace tinception::cli
