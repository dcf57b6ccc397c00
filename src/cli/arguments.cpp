// Argument parsing shared by the subcommands; see arguments.hpp.
#include "cli/arguments.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "error.hpp"

namespace tinception::cli {
namespace {

// Names from retrain.py and label_image.py that are not just our name with '_' for '-'.
struct Suggestion {
    const char* theirs;
    const char* ours;
};
constexpr Suggestion kSuggestions[] = {
    {"image_dir", "DATA_DIR, the first argument"},
    {"output_graph", "-o MODEL"},
    {"how_many_training_steps", "--steps"},
    {"train_batch_size", "--batch-size"},
    {"eval_step_interval", "--eval-interval"},
    {"bottleneck_dir", "--bottleneck-dir"},
    {"graph", "MODEL, the first argument"},
    {"image", "IMAGE, an argument after MODEL"},
    {"labels", "nothing: the labels are inside MODEL"},
};

std::set<std::string> long_names(const cxxopts::Options& options) {
    std::set<std::string> names;
    for (const std::string& group : options.groups())
        for (const cxxopts::HelpOptionDetails& o : options.group_help(group).options)
            for (const std::string& name : o.l) names.insert(name);
    return names;
}

// Refuses the first `--name` the command does not know, with the spelling to use if any.
void check_option_names(const cxxopts::Options& options, int argc, char** argv, const std::string& command) {
    const std::set<std::string> known = long_names(options);
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--") return;
        if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
        const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
        if (known.count(name)) continue;
        std::string hint;
        for (const Suggestion& s : kSuggestions)
            if (name == s.theirs) hint = s.ours;
        std::string dashed = name;
        for (char& ch : dashed)
            if (ch == '_') ch = '-';
        if (hint.empty() && known.count(dashed)) hint = "--" + dashed;
        throw Error("'" + command + "' has no option --" + name + (hint.empty() ? "" : "; did you mean " + hint + "?") +
                    " (see '" + command + " --help')");
    }
}

std::string option_text(const cxxopts::ParseResult& args, const std::string& name) {
    return args[name].as<std::string>();
}

}  // namespace

Arguments parse_arguments(cxxopts::Options& options, int argc, char** argv, std::size_t min_positional,
                          std::size_t max_positional, const std::string& usage) {
    options.add_options()("positional", "", cxxopts::value<std::vector<std::string>>());
    options.parse_positional({"positional"});
    const std::string command = options.program();
    check_option_names(options, argc, argv, command);
    Arguments a{options.parse(argc, argv), {}};
    if (a.options.count("help")) return a;
    if (a.options.count("positional")) a.positional = a.options["positional"].as<std::vector<std::string>>();
    if (a.positional.size() < min_positional)
        throw Error("usage: tinception " + usage + " (see '" + command + " --help')");
    if (a.positional.size() > max_positional)
        throw Error("unexpected argument '" + a.positional[max_positional] + "'; usage: tinception " + usage);
    return a;
}

std::int64_t integer_option(const cxxopts::ParseResult& args, const std::string& name, std::int64_t min,
                            std::int64_t max) {
    const std::string text = option_text(args, name);
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    const bool whole = !text.empty() && end && *end == '\0' && errno == 0;
    if (!whole || value < min || value > max)
        throw Error("--" + name + " takes a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                    ", not '" + text + "'");
    return value;
}

double number_option(const cxxopts::ParseResult& args, const std::string& name, double min, double max,
                     bool above_min) {
    const std::string text = option_text(args, name);
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(text.c_str(), &end);
    const bool number = !text.empty() && end && *end == '\0' && errno == 0 && std::isfinite(value);
    if (!number || value < min || (above_min && value == min) || value > max) {
        char range[96];
        std::snprintf(range, sizeof range, above_min ? "a number above %g, up to %g" : "a number from %g to %g", min, max);
        throw Error("--" + name + " takes " + range + ", not '" + text + "'");
    }
    return value;
}

}  // namespace tinception::cli
