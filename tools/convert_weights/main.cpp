// convert_weights MODEL_JSON OUT.tcw [--input-range LO,HI] [--uint8] [--force] [--keep-head] [--source TEXT] [--labels FILE]
// Prints one summary line on success, one error line on failure (exit 2 bad input, 1 otherwise).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

#include "convert.hpp"
#include "error.hpp"
#include "file_io.hpp"

namespace {

constexpr const char* kUsage =
    "usage: convert_weights MODEL_JSON OUT.tcw [--input-range LO,HI] [--uint8] [--force] [--keep-head]\n"
    "                       [--source TEXT] [--labels FILE]\n"
    "  Converts a TF.js layers-format Keras InceptionV3-family model to a tinception weight file.\n"
    "  --input-range  what pixel values 0 and 255 become at the model's input: 0,1 for nsfwjs's\n"
    "                 model, -1,1 for keras.applications' InceptionV3; required unless the model\n"
    "                 starts with a Rescaling layer, which then says it\n"
    "  --uint8      keep the model's uint8 weights as they are, batch normalisation folded at\n"
    "               load: a file a quarter the size (format 3) that loads to the same float32\n"
    "               values, bit for bit, as the file written without it (format 2)\n"
    "  --force      overwrite OUT.tcw if it exists\n"
    "  --keep-head  keep the Dense layers after the last Flatten (default: cut them)\n"
    "  --source     text stored as the file's 'source' metadata\n"
    "  --labels     file of class labels, one a line, stored as 'labels' metadata\n";

// "LO,HI": two finite, different numbers.
std::optional<std::pair<double, double>> parse_range(const std::string& text) {
    const std::size_t comma = text.find(',');
    if (comma == std::string::npos) return std::nullopt;
    const std::string lo_text = text.substr(0, comma), hi_text = text.substr(comma + 1);
    char* end = nullptr;
    const double lo = std::strtod(lo_text.c_str(), &end);
    if (lo_text.empty() || *end != '\0') return std::nullopt;
    const double hi = std::strtod(hi_text.c_str(), &end);
    if (hi_text.empty() || *end != '\0') return std::nullopt;
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo == hi) return std::nullopt;
    return std::make_pair(lo, hi);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace tinception;
    convert::ConvertOptions options;
    std::vector<std::string> positional;
    std::string labels_path;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (arg == "--force") {
            options.force = true;
        } else if (arg == "--uint8") {
            options.uint8 = true;
        } else if (arg == "--keep-head") {
            options.keep_head = true;
        } else if (arg == "--input-range" && i + 1 < argc) {
            options.input_range = parse_range(argv[++i]);
            if (!options.input_range) {
                std::cerr << "convert_weights: error: --input-range takes LO,HI (two different numbers, e.g. -1,1), not '"
                          << argv[i] << "'\n";
                return 2;
            }
        } else if ((arg == "--source" || arg == "--labels") && i + 1 < argc) {
            (arg == "--source" ? options.source : labels_path) = argv[++i];
        } else if (!arg.empty() && arg[0] == '-') {
            std::cerr << "convert_weights: error: unknown or incomplete option '" << arg << "'\n" << kUsage;
            return 2;
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.size() != 2) {
        std::cerr << kUsage;
        return 2;
    }
    options.model_json = positional[0];
    options.out_path = positional[1];
    try {
        if (!labels_path.empty()) {
            const std::vector<std::uint8_t> bytes = read_file_bytes(labels_path);
            options.labels.assign(bytes.begin(), bytes.end());
            while (!options.labels.empty() && (options.labels.back() == '\n' || options.labels.back() == '\r'))
                options.labels.pop_back();
        }
        const convert::ConvertSummary s = convert::convert_weights(options);
        std::cout << "convert_weights: wrote " << options.out_path << ": ";
        bool first = true;
        for (const auto& [op, n] : s.layers_by_op) {
            std::cout << (first ? "" : ", ") << n << " " << op;
            first = false;
        }
        char crc[16], file_crc[16];
        std::snprintf(crc, sizeof crc, "%08x", unsigned(s.checksum));
        std::snprintf(file_crc, sizeof file_crc, "%08x", unsigned(s.file_checksum));
        std::cout << "; " << s.tensor_count << " tensors, " << s.parameter_count << " parameters, " << s.file_size
                  << " bytes, format " << s.format_version;
        if (s.file_checksum != s.checksum)
            std::cout << ", crc32 of its table and data " << file_crc << ", expands to the float32 file with crc32 " << crc << "\n";
        else
            std::cout << ", crc32 of table and data " << crc << "\n";
        return 0;
    } catch (const Error& e) {
        std::cerr << "convert_weights: error: " << e.what() << "\n";
        return e.kind() == ErrorKind::internal ? 1 : 2;
    } catch (const std::bad_alloc&) {
        std::cerr << "convert_weights: error: out of memory\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "convert_weights: error: internal: " << e.what() << "\n";
        return 1;
    }
}
