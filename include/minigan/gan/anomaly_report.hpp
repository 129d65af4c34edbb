// gan/anomaly_report.hpp - the pictures and numbers of a one-class anomaly detection run
// (examples/03_anogan.cpp): ROC curves, score histograms, x | G(z) | |residual| panels,
// scores.csv and results.json, and the lines that report each score's AUROC.
//
// Read gan/anogan.hpp, gan/code_score.hpp and gan/metrics.hpp first: the scores are computed
// there; an AnomalyReport only collects them and shows them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../data/batches.hpp"
#include "../data/dataset.hpp"
#include "../io/atomic_file.hpp"
#include "../io/canvas.hpp"
#include "../io/cli.hpp"  // parse_number
#include "../io/image_grid.hpp"
#include "../io/json.hpp"
#include "../io/plot.hpp"
#include "../io/progress.hpp"
#include "../io/safetensors.hpp"
#include "../parallel.hpp"
#include "anogan.hpp"
#include "code_score.hpp"
#include "example_run.hpp"
#include "metrics.hpp"
#include "training_run.hpp"

namespace minigan::gan {

// ---- pictures ---------------------------------------------------------------------------

// The panel: `rows` rows, each query | G(z) | |x - G(z)| for the least anomalous test images
// (left) and the most anomalous ones (right). The residual is drawn black (0) to white (>= 1,
// half the pixel range) so small differences stay visible.
inline void write_panel(const std::string& path, const std::string& title, const Tensor& queries,
                        const Tensor& generated, const std::vector<float>& scores, int rows) {
    std::vector<size_t> order(scores.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    rows = std::min<int>(rows, static_cast<int>(order.size()) / 2);
    const int H = queries.shape[2], W = queries.shape[3];
    Tensor cells({rows * 6, 1, H, W});  // 6 columns: 3 for a normal-looking row, 3 for an anomalous one
    auto put = [&](int cell, const Tensor& source, size_t i, bool residual) {
        for (int p = 0; p < H * W; ++p) {
            const size_t k = i * static_cast<size_t>(H * W) + static_cast<size_t>(p);
            float v = source.data[k];
            if (residual) v = std::min(1.0f, std::fabs(queries.data[k] - generated.data[k])) * 2.0f - 1.0f;
            cells.data[static_cast<size_t>(cell) * H * W + static_cast<size_t>(p)] = v;
        }
    };
    for (int r = 0; r < rows; ++r) {
        const size_t normal = order[static_cast<size_t>(r)], anomalous = order[order.size() - 1 - static_cast<size_t>(r)];
        put(r * 6 + 0, queries, normal, false), put(r * 6 + 1, generated, normal, false), put(r * 6 + 2, queries, normal, true);
        put(r * 6 + 3, queries, anomalous, false), put(r * 6 + 4, generated, anomalous, false);
        put(r * 6 + 5, queries, anomalous, true);
    }
    const int scale = 3;
    io::Image grid = io::make_grid(cells, 6, scale, 2);
    // Headings above the grid, on white.
    const int head = 70;
    io::Canvas canvas(grid.width, grid.height + head, {255, 255, 255});
    canvas.text(6, 6, title, {0, 0, 0}, 2);
    const int half = grid.width / 2;
    canvas.text(6, 30, "least anomalous", {0, 110, 0}, 2);
    canvas.text(half + 6, 30, "most anomalous", {180, 0, 0}, 2);
    canvas.text(6, 50, "x   G(z)  |x-G(z)|", {60, 60, 60}, 2);
    canvas.text(half + 6, 50, "x   G(z)  |x-G(z)|", {60, 60, 60}, 2);
    for (int y = 0; y < grid.height; ++y)
        for (int x = 0; x < grid.width; ++x) {
            const uint8_t g = grid.at(x, y)[0];
            canvas.set(x, y + head, {g, g, g});
        }
    io::write_png(path, canvas.image);
}

// Histograms of the scores of normal and of anomalous images, each as a share of its group
// (anomalies are 9 times as many), over [lowest score, 99th percentile].
inline void write_histogram(const std::string& path, const std::string& title, const std::vector<float>& scores,
                            const std::vector<int>& is_anomaly) {
    std::vector<float> sorted = scores;
    std::sort(sorted.begin(), sorted.end());
    const double lo = sorted.front(), hi = std::max<double>(sorted[sorted.size() * 99 / 100], lo + 1e-6);
    const int bins = 50;
    std::vector<io::Series> series;
    for (int group = 0; group < 2; ++group) {
        std::vector<float> values;
        for (size_t i = 0; i < scores.size(); ++i)
            if (is_anomaly[i] == group) values.push_back(scores[i]);
        const std::vector<float> counts = histogram(values, bins, lo, hi);
        io::Series s{group ? "anomalous" : "normal", {}, {}, group ? io::RGB{214, 39, 40} : io::RGB{31, 119, 180}};
        for (int b = 0; b < bins; ++b) {  // a step line: flat across each bin
            const float share = values.empty() ? 0.0f : counts[static_cast<size_t>(b)] / static_cast<float>(values.size());
            s.x.push_back(static_cast<float>(lo + (hi - lo) * b / bins)), s.y.push_back(share);
            s.x.push_back(static_cast<float>(lo + (hi - lo) * (b + 1) / bins)), s.y.push_back(share);
        }
        series.push_back(s);
    }
    io::PlotOptions opt;
    opt.title = title;
    opt.x_label = "anomaly score";
    opt.y_label = "share of images";
    opt.y_min = 0;
    io::plot_lines(path, series, opt);
}

// A ROC curve for the plot, labelled "<name> (AUROC 0.xyz)".
inline io::Series roc_series(const std::string& name, const std::vector<float>& scores,
                             const std::vector<int>& is_anomaly, io::RGB colour) {
    io::Series series;
    for (const RocPoint& p : roc_curve(scores, is_anomaly))
        series.x.push_back(static_cast<float>(p.fpr)), series.y.push_back(static_cast<float>(p.tpr));
    char label[96];
    std::snprintf(label, sizeof label, "%s (AUROC %.3f)", name.c_str(), auroc(scores, is_anomaly));
    series.label = label;
    series.colour = colour;
    return series;
}

// Step 1 of both anomaly examples (03_anogan, 06_sensor_anogan): the GAN, trained on normal
// data only, in `run`'s folder. A checkpoint an earlier run of the same flags left there is loaded
// and training goes on from it (to `epochs`; none left: nothing to train); else the textbook GAN
// step trains it with a progress bar. Returns true when it trained now (the encoder must then be
// trained again too).
inline bool train_or_load_gan(TrainingRun& run, nn::Module& G, nn::Module& D, optim::Optimizer& optG,
                              optim::Optimizer& optD, const data::Dataset& normal, int batch, int latent, int epochs,
                              uint32_t seed) {
    data::Batcher batches(normal, batch, seed);
    run.steps_per_epoch = batches.batches_per_epoch();
    if (run.resume(G, D, optG, optD))
        std::printf("loaded the GAN of %s (epoch %d, step %ld)\n", run.dir().c_str(), run.state.epoch, run.state.step);
    const int epochs_before = run.state.epoch;
    Rng sample_rng(12345);
    const Tensor fixed_z = randn({64, latent}, sample_rng);  // the same 64 samples after every epoch
    for (int epoch = run.state.epoch; epoch < epochs; ++epoch) {
        batches.start_epoch(epoch);
        io::ProgressBar bar("GAN " + epoch_label(epoch, epochs), batches.batches_per_epoch(), batch);
        G.train();
        D.train();
        Tensor x;
        std::vector<int> labels;
        for (int b = 0; batches.next(x, labels); ++b) {
            const double t0 = bar.seconds();
            StepStats s = train_step(G, D, optG, optD, Var(x), Var(randn({batch, latent})));
            run.state.seconds += bar.seconds() - t0;
            run.log_step(s);
            bar.update(b + 1, step_line(s));
        }
        run.end_epoch(G, D, optG, optD, sample(G, Var(fixed_z)));
        bar.finish("-> " + run.dir() + "/samples/");
    }
    return run.state.epoch != epochs_before;
}

// The encoder saved at `path` by an earlier run, if its "recipe" entry is `recipe` (the same
// GAN and encoder flags): loaded into E, its training time into `seconds`. False: train anew.
inline bool load_encoder(const std::string& path, const std::string& recipe, nn::Module& E, double& seconds) {
    if (!std::filesystem::exists(path)) return false;
    io::Metadata meta;
    io::load_safetensors(path, &meta);
    if (meta["recipe"] != recipe) return false;
    io::load_module(path, E);
    if (!io::parse_number(meta["seconds"], seconds) || seconds < 0)
        throw std::runtime_error(path + ": metadata 'seconds' is '" + meta["seconds"] + "', expected a number >= 0");
    return true;
}

// The f-AnoGAN encoder of this GAN: loaded from `path` when an earlier run trained it for the same
// GAN and recipe (and reuse is allowed), else trained with G and D frozen (a progress bar) and
// saved there. Returns its training time in seconds.
inline double train_or_load_encoder(nn::Module& E, nn::Module& G, nn::Sequential& D, const data::Dataset& normal,
                                    const EncoderOptions& opt, const std::string& path, const std::string& recipe,
                                    bool may_reuse) {
    double seconds = 0;
    if (may_reuse && load_encoder(path, recipe, E, seconds)) {
        std::printf("loaded the encoder of %s\n", path.c_str());
        return seconds;
    }
    io::ProgressBar bar("encoder (izi_f)", opt.epochs * (static_cast<int>(normal.size()) / opt.batch), opt.batch);
    std::vector<float> losses = train_encoder(E, G, D, normal, opt, [&](int step, int, float loss) {
        bar.update(step, "loss " + io::fixed(loss, 4));
    });
    seconds = bar.seconds();
    bar.finish("loss " + io::fixed(losses.front(), 4) + " -> " + io::fixed(losses.back(), 4));
    io::save_module(path, E, {{"recipe", recipe}, {"seconds", std::to_string(seconds)}});
    return seconds;
}

// ---- the report -------------------------------------------------------------------------

// What 03_anogan measured, filled in as it goes; write() turns it into the files of --out.
struct AnomalyReport {
    std::string dataset;
    int normal_class;
    const data::Dataset& test;    // the scored test images, all of them
    std::vector<int> is_anomaly;  // is_anomaly[i] = 1: test image i is not of the normal class

    // f-AnoGAN and f-AnoGAN + code, on every test image.
    EncodedQueries encoded;                // izi_f score, relative residual, E(x), G(E(x))
    std::vector<float> code, mahalanobis;  // the code score (gan/code_score.hpp) and its code part alone
    double encoder_seconds = 0, calibration_seconds = 0, izif_seconds = 0, code_seconds = 0;
    // AnoGAN, on a stratified subset of the test images.
    std::vector<size_t> subset;  // indices of the searched test images
    LatentSearchResult search;   // their scores and G(z)
    double search_seconds = 0;
    // Settings for results.json.
    struct Recipe {
        float kappa = 1.0f;
        int feature_layer = 6, encoder_epochs = 0, search_steps = 0;
        float lambda = 0.1f;
    } recipe;
    Json gan;  // the GAN's epochs, steps, seconds, width, latent

    AnomalyReport(std::string dataset_name, int normal, const data::Dataset& test_images)
        : dataset(std::move(dataset_name)), normal_class(normal), test(test_images), is_anomaly(test_images.size()) {
        for (size_t i = 0; i < test.size(); ++i) is_anomaly[i] = test.labels[i] != normal_class;
    }
    AnomalyReport(std::string, int, data::Dataset&&) = delete;  // keeps a reference: no temporaries

    // The searched subset's view: which of its images are anomalies; whether both groups are there.
    std::vector<int> subset_is_anomaly() const {
        std::vector<int> out;
        for (size_t i : subset) out.push_back(is_anomaly[i]);
        return out;
    }
    bool subset_has_both() const {
        const std::vector<int> y = subset_is_anomaly();
        return std::count(y.begin(), y.end(), 1) > 0 && std::count(y.begin(), y.end(), 0) > 0;
    }
    std::vector<float> on_subset(const std::vector<float>& scores) const {
        std::vector<float> out;
        for (size_t i : subset) out.push_back(scores[i]);
        return out;
    }
    double anogan_auroc() const { return subset_has_both() ? auroc(search.scores, subset_is_anomaly()) : NAN; }
    double subset_auroc(const std::vector<float>& scores) const {
        return subset_has_both() ? auroc(on_subset(scores), subset_is_anomaly()) : NAN;
    }

    // f-AnoGAN and f-AnoGAN + code for every test image: one pass of E and G per query. The code
    // score is calibrated on E's codes of the normal training images (gan/code_score.hpp).
    void score_f_anogan(nn::Module& G, nn::Sequential& D, nn::Module& E, const Tensor& normal_images,
                        size_t feature_layers, float kappa) {
        io::Stopwatch clock;
        const CodeResidualScorer scorer =
            CodeResidualScorer::fit(encode_queries(G, D, E, feature_layers, normal_images, kappa));
        calibration_seconds = clock.restart();
        encoded = encode_queries(G, D, E, feature_layers, test.images, kappa);
        izif_seconds = clock.seconds();
        code = scorer.score(encoded);
        code_seconds = clock.seconds();
        mahalanobis = scorer.codes.mahalanobis(encoded.codes);
        print_f_anogan();
    }

    // AnoGAN's latent search for a stratified subset of `queries` test images, `batch` at a time.
    void search_subset(nn::Module& G, nn::Sequential& D, int latent, const LatentSearchOptions& opt, size_t queries,
                       size_t batch) {
        subset = stratified_subset(test.labels, queries, opt.seed);
        if (subset.empty()) return;
        io::ProgressBar bar("AnoGAN latent search (" + std::to_string(opt.steps) + " steps)",
                            static_cast<long>(subset.size()), 1, 1);
        io::Stopwatch clock;
        search = latent_search_batches(G, D, data::select(test, subset).images, latent, opt, batch,
                                       [&](size_t done, const LatentSearchResult& r) {
                                           bar.update(static_cast<long>(done),
                                                      "loss " + io::fixed(r.loss_curve.front(), 1) + " -> " +
                                                          io::fixed(r.loss_curve.back(), 1));
                                       });
        search_seconds = clock.seconds();
        bar.finish();
        print_anogan(opt.steps);
    }

    void print_f_anogan() const {
        std::printf("f-AnoGAN (izi_f score): %zu queries in %.2f s (%.0f queries/s), AUROC %.4f\n", test.size(),
                    izif_seconds, test.size() / izif_seconds, auroc(encoded.izif, is_anomaly));
        std::printf("f-AnoGAN + code (minigan's score): %.0f queries/s, AUROC %.4f (its parts alone: code %.4f, "
                    "relative residual %.4f)\n", test.size() / code_seconds, auroc(code, is_anomaly),
                    auroc(mahalanobis, is_anomaly), auroc(encoded.relative, is_anomaly));
    }
    void print_anogan(int steps) const {
        std::printf("AnoGAN: %zu queries (stratified subset), %d steps each, in %.1f s (%.2f queries/s), AUROC %.4f\n",
                    subset.size(), steps, search_seconds, subset.size() / search_seconds, anogan_auroc());
    }

    // roc.png, histogram*.png, panel_*.png, scores.csv and results.json in `out`.
    void write(const std::string& out, const Json& config) const {
        const std::string cls = std::to_string(normal_class);
        std::vector<io::Series> roc{
            roc_series("f-AnoGAN, " + std::to_string(test.size()) + " images", encoded.izif, is_anomaly, io::plot_colour(0)),
            roc_series("f-AnoGAN + code", code, is_anomaly, io::plot_colour(2))};
        if (subset_has_both())
            roc.push_back(roc_series("AnoGAN, " + std::to_string(subset.size()) + " images", search.scores,
                                     subset_is_anomaly(), io::plot_colour(1)));
        roc.push_back({"chance", {0, 1}, {0, 1}, {160, 160, 160}});
        io::PlotOptions ropt;
        ropt.title = dataset + ": normal class " + cls;
        ropt.x_label = "false positive rate";
        ropt.y_label = "true positive rate";
        ropt.x_min = 0, ropt.x_max = 1, ropt.y_min = 0, ropt.y_max = 1;
        ropt.width = 640, ropt.height = 600;
        io::plot_lines(out + "/roc.png", roc, ropt);
        write_histogram(out + "/histogram.png", "f-AnoGAN scores, class " + cls + " normal", encoded.izif, is_anomaly);
        write_histogram(out + "/histogram_code.png", "f-AnoGAN + code scores, class " + cls + " normal", code, is_anomaly);
        write_panel(out + "/panel_f-anogan.png", "f-AnoGAN: x, G(E(x)), |x - G(E(x))|", test.images, encoded.generated,
                    encoded.izif, 8);
        write_panel(out + "/panel_code.png", "f-AnoGAN + code: x, G(E(x)), |x - G(E(x))|", test.images,
                    encoded.generated, code, 8);
        if (!subset.empty()) {
            if (subset_has_both())
                write_histogram(out + "/histogram_anogan.png", "AnoGAN scores, class " + cls + " normal", search.scores,
                                subset_is_anomaly());
            write_panel(out + "/panel_anogan.png", "AnoGAN: x, G(z), |x - G(z)|", data::select(test, subset).images,
                        search.generated, search.scores, 8);
        }
        io::write_file_atomic(out + "/scores.csv", scores_csv());
        io::write_file_atomic(out + "/results.json", results(config).dump(2) + "\n");
    }

    // Every test image's scores (AnoGAN's only for the subset), for your own analysis.
    std::string scores_csv() const {
        std::string csv = "index,label,anomaly,f_anogan,f_anogan_code,code_mahalanobis,relative_residual,anogan\n";
        std::vector<float> anogan_of(test.size(), NAN);
        for (size_t k = 0; k < subset.size(); ++k) anogan_of[subset[k]] = search.scores[k];
        for (size_t i = 0; i < test.size(); ++i) {
            char row[160];
            std::snprintf(row, sizeof row, "%zu,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g\n", i, test.labels[i], is_anomaly[i],
                          encoded.izif[i], code[i], mahalanobis[i], encoded.relative[i], anogan_of[i]);
            csv += row;
        }
        return csv;
    }

    Json results(const Json& config) const {
        auto number_or_null = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
        const double n = static_cast<double>(test.size());
        return Json{
            {"dataset", dataset},
            {"normal_class", normal_class},
            {"test_images", test.size()},
            {"f_anogan", {{"auroc", auroc(encoded.izif, is_anomaly)},
                          {"auroc_on_search_subset", number_or_null(subset_auroc(encoded.izif))},
                          {"queries", test.size()},
                          {"queries_per_second", n / izif_seconds},
                          {"kappa", recipe.kappa},
                          {"feature_layer", recipe.feature_layer},
                          {"encoder_epochs", recipe.encoder_epochs},
                          {"encoder_seconds", encoder_seconds}}},
            {"f_anogan_code", {{"auroc", auroc(code, is_anomaly)},
                               {"auroc_on_search_subset", number_or_null(subset_auroc(code))},
                               {"auroc_code_alone", auroc(mahalanobis, is_anomaly)},
                               {"auroc_relative_residual_alone", auroc(encoded.relative, is_anomaly)},
                               {"queries_per_second", n / code_seconds},
                               {"calibration_seconds", calibration_seconds}}},
            {"anogan", {{"auroc", number_or_null(anogan_auroc())},
                        {"queries", subset.size()},
                        {"steps", recipe.search_steps},
                        {"lambda", recipe.lambda},
                        {"queries_per_second", subset.empty() ? Json(nullptr) : Json(subset.size() / search_seconds)},
                        {"seconds", search_seconds}}},
            {"gan", gan},
            {"threads", num_threads()},
            {"config", config}};
    }
};

}  // namespace minigan::gan
