// train's fine-tuning options. The defaults make one pass over about 400 training images
// (25 steps of 16): the span's forward and backward cost about 0.1-0.3 s an image on 2 cores.
#include "cli/fine_tune_options.hpp"

#include "cli/arguments.hpp"
#include "error.hpp"

namespace tinception::cli {

void add_fine_tune_options(cxxopts::Options& options) {
    options.add_options()
        ("fine-tune-from", "also train the layers after LAYER up to the deepest --bottleneck layer with the new "
                           "layer (e.g. mixed4, or mixed6 to tune mixed7 alone); LAYER's output is computed once, not cached",
         cxxopts::value<std::string>())
        ("fine-tune-steps", "fine-tuning steps (1..100000)", cxxopts::value<std::string>()->default_value("25"))
        ("fine-tune-batch-size", "images per fine-tuning step (1..1000)", cxxopts::value<std::string>()->default_value("16"))
        ("fine-tune-learning-rate", "Adam learning rate of the tuned layers (above 0, up to 1)",
         cxxopts::value<std::string>()->default_value("0.0001"))
        ("fine-tune-head-learning-rate", "Adam learning rate of the new layer while fine-tuning (above 0, up to 1)",
         cxxopts::value<std::string>()->default_value("0.001"))
        ("fine-tune-weight-decay", "pulls the tuned weights toward the weight file's (0 or more)",
         cxxopts::value<std::string>()->default_value("0.001"))
        ("fine-tune-eval-interval", "fine-tuning steps between evaluations on the validation set (1 or more)",
         cxxopts::value<std::string>()->default_value("5"));
}

void apply_fine_tune_options(const cxxopts::ParseResult& args, RetrainOptions& o) {
    if (!args.count("fine-tune-from")) {
        for (const char* name : {"fine-tune-steps", "fine-tune-batch-size", "fine-tune-learning-rate",
                                 "fine-tune-head-learning-rate", "fine-tune-weight-decay", "fine-tune-eval-interval"})
            if (args.count(name)) throw Error(std::string("--") + name + " needs --fine-tune-from LAYER");
        return;
    }
    o.fine_tune_from = args["fine-tune-from"].as<std::string>();
    FineTuneOptions& f = o.fine_tune;
    f.steps = int(integer_option(args, "fine-tune-steps", 1, 100'000));
    f.batch_size = int(integer_option(args, "fine-tune-batch-size", 1, 1000));
    f.span_learning_rate = float(number_option(args, "fine-tune-learning-rate", 0, 1, true));
    f.head_learning_rate = float(number_option(args, "fine-tune-head-learning-rate", 0, 1, true));
    f.span_weight_decay = float(number_option(args, "fine-tune-weight-decay", 0, 1e6));
    f.eval_step_interval = int(integer_option(args, "fine-tune-eval-interval", 1, 100'000));
    f.head_l2 = o.train.l2;
    f.class_weighting = o.train.class_weighting;
    f.patience = o.train.patience;
    f.seed = o.train.seed;
}

}  // namespace tinception::cli
