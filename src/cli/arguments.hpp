// Reading a command's arguments the same way in every command: positional arguments taken
// whole (a file name with a comma is one file), unknown options answered with the spelling
// to use, and numbers checked against their range with the option named. Each command still
// declares its own options and help.
#pragma once
#include <cxxopts.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace tinception::cli {

struct Arguments {
    cxxopts::ParseResult options;
    std::vector<std::string> positional;  // in order; after `--` too, for names starting with '-'
};

// Parses argv. Throws Error for an unknown option, suggesting ours for a retrain.py or
// label_image.py spelling (`--image_dir`, `--top_k`), and when the positional count is
// outside [min_positional, max_positional]: `usage` ("train DATA_DIR -o MODEL") names them.
Arguments parse_arguments(cxxopts::Options& options, int argc, char** argv, std::size_t min_positional,
                          std::size_t max_positional, const std::string& usage);

// A whole-number option declared as a string with a default, checked to lie in [min, max];
// refused with one line naming the option and the range ("--steps takes a whole number
// from 1 to 1000000, not 'abc'").
std::int64_t integer_option(const cxxopts::ParseResult& args, const std::string& name, std::int64_t min,
                            std::int64_t max);
// The same for a decimal number in [min, max], or in (min, max] when `above_min`.
double number_option(const cxxopts::ParseResult& args, const std::string& name, double min, double max,
                     bool above_min = false);

}  // namespace tinception::cli
