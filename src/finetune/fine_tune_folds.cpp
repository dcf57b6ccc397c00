// Cross-validation of fine-tuning on activations computed once (fine_tune_stage.hpp): per
// fold, the head on the frozen features, then the span and head together, then the held-out
// images. The span's starting features are pooled once for every fold.
#include <utility>

#include "error.hpp"
#include "finetune/fine_tune_stage.hpp"

namespace tinception {
namespace {

void append_rows(FeatureSet& to, const FeatureSet& from, const std::vector<std::size_t>& rows) {
    for (const std::size_t i : rows) {
        to.features.insert(to.features.end(), from.row(i), from.row(i) + from.feature_size);
        to.labels.push_back(from.labels[i]);
    }
}

}  // namespace

CrossValidationResult cross_validate_fine_tuning(TunedFeatures& features, const SpatialSet& set,
                                                 const FineTuneFolds& folds, int n_classes,
                                                 const FineTuneOptions& options,
                                                 const std::function<void(int fold)>& fold_done) {
    if (folds.k < 2) throw Error("cross-validation needs at least 2 folds (got " + std::to_string(folds.k) + ")");
    if (folds.fold.size() != set.size())
        throw Error("cross-validation got folds of " + std::to_string(folds.fold.size()) + " images for " +
                    std::to_string(set.size()), ErrorKind::internal);
    const std::vector<TrainableConv> initial = features.span().convolutions();
    const FeatureStandardization none;
    features.standardization = none;
    const std::vector<std::size_t> every = all_rows(set);
    const FeatureSet frozen = pooled_features(features, set, every, options.eval_batch_size);
    const FeatureSet mirrored =
        options.mirror ? pooled_features(features, set, every, options.eval_batch_size, true) : FeatureSet{};
    FineTuneOptions tuning = options;
    tuning.patience = 0;
    std::vector<double> accuracy;
    for (int f = 0; f < folds.k; ++f) {
        std::vector<std::size_t> train_rows, held_out;
        for (std::size_t i = 0; i < set.size(); ++i) (folds.fold[i] == f ? held_out : train_rows).push_back(i);
        if (train_rows.empty() || held_out.empty())
            throw Error("--cross-validate " + std::to_string(folds.k) + " leaves fold " + std::to_string(f + 1) +
                        " of " + std::to_string(set.size()) + " images empty; use fewer folds or more images");
        FeatureSet head_rows;
        head_rows.feature_size = frozen.feature_size;
        append_rows(head_rows, frozen, train_rows);
        if (options.mirror) append_rows(head_rows, mirrored, train_rows);
        features.standardization =
            folds.head.standardize ? fit_standardization(head_rows.features.data(), head_rows.size(), head_rows.feature_size)
                                   : none;
        features.standardization.apply(head_rows.features.data(), head_rows.size());
        FeatureSet no_validation;
        no_validation.feature_size = frozen.feature_size;
        const SoftmaxLayer head = train_softmax_layer(head_rows, no_validation, n_classes, folds.head);
        features.span().convolutions() = initial;
        const FineTuneOutcome out = fine_tune(features, set, train_rows, {}, head, tuning);
        accuracy.push_back(evaluate(out.head, pooled_features(features, set, held_out, options.eval_batch_size)).accuracy);
        if (fold_done) fold_done(f);
    }
    features.span().convolutions() = initial;
    features.standardization = none;
    return summarise_folds(std::move(accuracy));
}

}  // namespace tinception
