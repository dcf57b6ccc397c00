// `tinception preprocess MODEL IMAGE... -o input.f32`: the network input a model expects
// for each image, as one float32 NHWC tensor [N][size][size][3], little-endian. It is what
// an exported ONNX model takes as `image`, and what `embed --raw-input` reads.
#include <cxxopts.hpp>
#include <iostream>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/decode_option.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "classify/classifier_model.hpp"

namespace tinception::cli {

int run_preprocess(int argc, char** argv) {
    cxxopts::Options options("tinception preprocess",
                             "Write the images resized and scaled as MODEL expects: one float32 NHWC tensor\n"
                             "[N][size][size][3], little-endian, images in the order given.");
    options.positional_help("MODEL IMAGE...");
    options.add_options()
        ("o,output", "file to write", cxxopts::value<std::string>())
        ("force", "replace the output file if it exists")
        ("h,help", "show this help");
    add_decode_option(options);
    const Arguments parsed = parse_arguments(options, argc, argv, 2, SIZE_MAX, "preprocess MODEL IMAGE... -o FILE");
    const cxxopts::ParseResult& args = parsed.options;
    if (args.count("help")) {
        std::cout << options.help({""});
        return kExitOk;
    }
    if (!args.count("output")) throw Error("preprocess needs -o FILE, the tensor file to write");
    const std::string out = args["output"].as<std::string>();
    const Preprocessing p = load_classifier_model(parsed.positional[0]).preprocessing;
    const std::vector<std::string> images(parsed.positional.begin() + 1, parsed.positional.end());
    const std::size_t image_floats = std::size_t(p.size) * p.size * 3;
    std::vector<float> tensor(images.size() * image_floats);
    const ImageLimits decode = decode_limits(p, decode_mode_option(args));
    for (std::size_t i = 0; i < images.size(); ++i) preprocess(load_image(images[i], decode), p, tensor.data() + i * image_floats);
    AtomicFileWriter file(out);
    file.write(tensor.data(), tensor.size() * sizeof(float));
    file.commit(args.count("force") > 0);  // without --force an existing file is refused
    std::cerr << "preprocess: " << images.size() << " x " << p.size << "x" << p.size << "x3 floats written to " << out
              << "\n";
    return kExitOk;
}

}  // namespace tinception::cli
