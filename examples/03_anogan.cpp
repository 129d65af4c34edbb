// 03_anogan.cpp - unsupervised anomaly detection: a GAN that knows only "normal" flags the rest.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/03_anogan.cpp -lopenblas -lz -o anogan
//   ./anogan --dataset mnist --normal-class 8
//
// The one-class protocol of Ruff et al. (2018): train a DCGAN on ONE class of the training set
// (--normal-class), then score every test image; the test images of that class are normal, all
// others are anomalies. A good detector gives anomalies the higher scores: AUROC near 1.
//   f-AnoGAN (Schlegl et al. 2019): an encoder E learns to map an image to the z that G
//     redraws it from; score = ||x - G(E(x))||^2/n + kappa ||f(x) - f(G(E(x)))||^2/n_f, one pass.
//   AnoGAN (Schlegl et al. 2017): search z for each query with Adam (hundreds of G and D passes),
//     score = the final (1-lambda) sum|x - G(z)| + lambda sum|f(x) - f(G(z))|. Slow, so it
//     scores a stratified subset of the test set (--search-queries, stated in the output).
//   f-AnoGAN + code (minigan's score, gan/code_score.hpp): the same pass, scored by how unusual
//     E(x) is among the codes of normal images plus the residual relative to the ink; it wins on
//     the hard classes (docs/anomaly-detection.md).
// f is a feature map inside the discriminator (--feature-layer). Writes to --out:
//   gan/            the DCGAN run (samples/, progress.gif, losses.png, checkpoints): run again
//                   with the same --out and it is loaded instead of trained
//   encoder.safetensors, roc.png (the ROC curves), histogram.png / histogram_code.png /
//   histogram_anogan.png (scores of normal vs anomalous images), panel_f-anogan.png,
//   panel_code.png, panel_anogan.png (x | G(z) | |residual| for the least and the most anomalous
//   test images by each score), scores.csv (every test image's scores), results.json (AUROCs,
//   queries/s, timings).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <minigan/io/json.hpp>

#include <minigan/data/dataset.hpp>
#include <minigan/gan/anogan.hpp>
#include <minigan/gan/code_score.hpp>
#include <minigan/gan/metrics.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/gan/training_run.hpp>
#include <minigan/io/cli.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

// Seconds since `start`.
static double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The panel: `rows` rows, each query | G(z) | |x - G(z)| for the least anomalous test images
// (left) and the most anomalous ones (right). The residual is drawn black (0) to white (>= 1,
// half the pixel range) so small differences stay visible.
static void write_panel(const std::string& path, const std::string& title, const Tensor& queries,
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
static void write_histogram(const std::string& path, const std::string& title, const std::vector<float>& scores,
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
        const std::vector<float> counts = gan::histogram(values, bins, lo, hi);
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

int main(int argc, char** argv) {
    io::Cli cli("03_anogan", "Train a DCGAN on one class, then flag the other classes with f-AnoGAN and AnoGAN.");
    cli.option("--dataset", "mnist", "images");
    cli.choices("--dataset", {"mnist", "fashion"});
    cli.option("--normal-class", 0, "the class the GAN learns as normal (0..9); the other nine are anomalies");
    // The GAN (02_dcgan's flags)
    cli.option("--epochs", 10, "DCGAN passes over the normal training images (~6000)");
    cli.option("--batch", 64, "DCGAN batch size");
    cli.option("--width", 0.25, "channel multiplier of G, D and E: 1 = the reference DCGAN");
    cli.option("--latent", 100, "size of z");
    cli.option("--lr", 2e-4, "Adam learning rate of G and D");
    cli.option("--beta1", 0.5, "Adam beta1 of G and D");
    // f-AnoGAN
    cli.option("--encoder-epochs", 10, "passes of izi_f encoder training over the normal training images");
    cli.option("--encoder-lr", 1e-3, "Adam learning rate of the encoder");
    cli.option("--kappa", 1.0, "weight of the feature term in the izi_f score (Schlegl et al. 2019: 1)");
    cli.option("--feature-layer", 6, "f = D's first N layers (3: after the first conv block, 6: after the second)");
    // AnoGAN
    cli.option("--search-queries", 1000, "test images scored by latent search (a stratified subset; 0 = none)");
    cli.option("--search-steps", 500, "Adam steps on z per query (Schlegl et al. 2017: 500)");
    cli.option("--search-lr", 0.05, "Adam learning rate on z");
    cli.option("--lambda", 0.1, "weight of the discrimination loss in latent search (Schlegl et al.: 0.1)");
    cli.option("--search-batch", 500, "queries searched at once");
    // Housekeeping
    cli.option("--seed", 1, "random seed");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.option("--out", "", "output folder (empty: runs/anogan_<dataset>_<class>)");
    cli.option("--data", "data", "folder holding mnist/ and fashion-mnist/ (see data/fetch.sh)");
    cli.option("--limit", 0, "use only the first N normal training images (0 = all): quick experiments");
    cli.option("--test-limit", 0, "score only the first N test images (0 = all 10,000): quick experiments");
    cli.finish(argc, argv);

    const int normal_class = cli.integer("--normal-class"), epochs = cli.integer("--epochs"), batch = cli.integer("--batch");
    const int latent = cli.integer("--latent"), encoder_epochs = cli.integer("--encoder-epochs");
    const int feature_layer = cli.integer("--feature-layer"), search_queries = cli.integer("--search-queries");
    const int search_steps = cli.integer("--search-steps"), search_batch = cli.integer("--search-batch");
    const float width = static_cast<float>(cli.number("--width")), kappa = static_cast<float>(cli.number("--kappa"));
    const float lambda = static_cast<float>(cli.number("--lambda"));
    if (normal_class < 0 || normal_class > 9) cli.fail("--normal-class must be 0..9");
    if (epochs < 1 || batch < 2 || latent < 1 || width <= 0.0f || width > 4.0f || encoder_epochs < 1)
        cli.fail("need --epochs >= 1, --batch >= 2, --latent >= 1, 0 < --width <= 4, --encoder-epochs >= 1");
    if (search_queries < 0 || search_steps < 1 || search_batch < 1 || !(lambda >= 0 && lambda <= 1) || !(kappa >= 0))
        cli.fail("need --search-queries >= 0, --search-steps >= 1, --search-batch >= 1, 0 <= --lambda <= 1, --kappa >= 0");
    if (cli.integer("--threads") > 0) set_num_threads(cli.integer("--threads"));
    const std::string dataset = cli.text("--dataset");
    const std::string out = cli.text("--out").empty() ? "runs/anogan_" + dataset + "_" + std::to_string(normal_class)
                                                       : cli.text("--out");
    manual_seed(static_cast<uint32_t>(cli.integer("--seed")));
    std::printf("minigan 03_anogan: %s\n", runtime_summary().c_str());

    try {
        // ---- data: the normal class of the training set; the whole test set ------------------
        data::Dataset train = data::only_classes(data::load_dataset(dataset, "train", cli.text("--data")), {normal_class});
        if (cli.integer("--limit") > 0) train = data::subset(train, cli.integer("--limit"));
        data::Dataset test = data::load_dataset(dataset, "test", cli.text("--data"));
        if (cli.integer("--test-limit") > 0) test = data::subset(test, cli.integer("--test-limit"));
        std::vector<int> is_anomaly(test.size());
        for (size_t i = 0; i < test.size(); ++i) is_anomaly[i] = test.labels[i] != normal_class;
        const long n_normal = std::count(is_anomaly.begin(), is_anomaly.end(), 0);
        std::printf("data: %zu training images of class %d (%s); %zu test images, %ld normal, %ld anomalous\n",
                    train.size(), normal_class, dataset.c_str(), test.size(), n_normal, static_cast<long>(test.size()) - n_normal);
        if (train.size() < static_cast<size_t>(batch)) throw std::runtime_error("fewer normal training images than --batch");
        if (n_normal == 0 || n_normal == static_cast<long>(test.size()))
            throw std::runtime_error("the test images must hold both normal and anomalous images (raise --test-limit)");

        // ---- 1. the DCGAN, on normal images only (loaded if --out already holds it) ----------
        auto G = gan::dcgan_generator(latent, width);
        auto D = gan::dcgan_discriminator(width);
        const float lr = static_cast<float>(cli.number("--lr")), beta1 = static_cast<float>(cli.number("--beta1"));
        optim::Adam optG(G->parameters(), lr, beta1, 0.999f), optD(D->parameters(), lr, beta1, 0.999f);
        gan::TrainingRun run(out + "/gan", cli.values());
        if (run.resume(*G, *D, optG, optD))
            std::printf("loaded the GAN of %s/gan (epoch %d, step %ld)\n", out.c_str(), run.state.epoch, run.state.step);
        const int epochs_before = run.state.epoch;
        data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
        Rng sample_rng(12345);
        const Tensor fixed_z = randn({64, latent}, sample_rng);
        for (int epoch = run.state.epoch; epoch < epochs; ++epoch) {
            batches.start_epoch(epoch);
            io::ProgressBar bar("GAN epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                                batches.batches_per_epoch(), batch);
            G->train();
            D->train();
            Tensor images;
            std::vector<int> labels;
            for (int b = 0; batches.next(images, labels); ++b) {
                const double t0 = bar.seconds();
                gan::StepStats s = gan::train_step(*G, *D, optG, optD, Var(images), Var(randn({batch, latent})));
                run.state.seconds += bar.seconds() - t0;
                run.log_step(s);
                char line[160];
                std::snprintf(line, sizeof line, "d_loss %.3f g_loss %.3f D(x) %.2f D(G(z)) %.2f", s.d_loss, s.g_loss,
                              s.d_real, s.d_fake);
                bar.update(b + 1, line);
            }
            G->eval();
            Tensor samples;
            {
                NoGrad no_grad;
                samples = (*G)(Var(fixed_z)).value();
            }
            run.end_epoch(*G, *D, optG, optD, samples);
            bar.finish("-> " + run.dir() + "/samples/");
        }
        const bool gan_trained_now = run.state.epoch != epochs_before;

        // ---- 2. the f-AnoGAN encoder, G and D frozen -----------------------------------------
        auto E = gan::dcgan_encoder(latent, width);
        gan::EncoderOptions eopt;
        eopt.epochs = encoder_epochs;
        eopt.batch = batch;
        eopt.lr = static_cast<float>(cli.number("--encoder-lr"));
        eopt.kappa = kappa;
        eopt.feature_layers = static_cast<size_t>(feature_layer);
        eopt.seed = static_cast<uint32_t>(cli.integer("--seed"));
        const std::string encoder_path = out + "/encoder.safetensors";
        // The encoder belongs to one GAN and one recipe: reuse it only if both are unchanged.
        const std::string encoder_tag = "gan_step=" + std::to_string(run.state.step) + " epochs=" +
                                        std::to_string(encoder_epochs) + " lr=" + cli.text("--encoder-lr") +
                                        " kappa=" + cli.text("--kappa") + " layer=" + std::to_string(feature_layer);
        double encoder_seconds = 0.0;
        io::Metadata encoder_meta;
        if (!gan_trained_now && std::filesystem::exists(encoder_path) &&
            (io::load_safetensors(encoder_path, &encoder_meta), encoder_meta["recipe"] == encoder_tag)) {
            io::load_module(encoder_path, *E);
            encoder_seconds = std::stod(encoder_meta["seconds"]);
            std::printf("loaded the encoder of %s\n", encoder_path.c_str());
        } else {
            const int steps = encoder_epochs * (static_cast<int>(train.size()) / batch);
            io::ProgressBar bar("encoder (izi_f)", steps, batch);
            auto losses = gan::train_encoder(*E, *G, *D, train, eopt, [&](int step, int, float loss) {
                char line[64];
                std::snprintf(line, sizeof line, "loss %.4f", loss);
                bar.update(step, line);
            });
            encoder_seconds = bar.seconds();
            char line[96];
            std::snprintf(line, sizeof line, "loss %.4f -> %.4f", losses.front(), losses.back());
            bar.finish(line);
            io::save_module(encoder_path, *E, {{"recipe", encoder_tag}, {"seconds", std::to_string(encoder_seconds)}});
        }

        // ---- 3. f-AnoGAN scores for the whole test set: one pass per query -------------------
        // Calibration for the "code + relative residual" score: E's codes of the normal training
        // images (their Gaussian) and the spread of both parts on normal images.
        auto t0 = std::chrono::steady_clock::now();
        const gan::CodeResidualScorer code_scorer =
            gan::CodeResidualScorer::fit(gan::encode_queries(*G, *D, *E, static_cast<size_t>(feature_layer), train.images, kappa));
        const double calibration_seconds = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        const gan::EncodedQueries encoded =
            gan::encode_queries(*G, *D, *E, static_cast<size_t>(feature_layer), test.images, kappa);
        const double izif_seconds = seconds_since(t0);
        const std::vector<float> code_score = code_scorer.score(encoded);
        const double code_seconds = seconds_since(t0);
        const std::vector<float>& izif = encoded.izif;
        const Tensor& reconstructions = encoded.generated;
        const double izif_auroc = gan::auroc(izif, is_anomaly), code_auroc = gan::auroc(code_score, is_anomaly);
        const std::vector<float> mahalanobis = code_scorer.codes.mahalanobis(encoded.codes);
        const double mahalanobis_auroc = gan::auroc(mahalanobis, is_anomaly);
        const double relative_auroc = gan::auroc(encoded.relative, is_anomaly);
        std::printf("f-AnoGAN (izi_f score): %zu queries in %.2f s (%.0f queries/s), AUROC %.4f\n", test.size(),
                    izif_seconds, test.size() / izif_seconds, izif_auroc);
        std::printf("f-AnoGAN + code (minigan's score): %.0f queries/s, AUROC %.4f (its parts alone: code %.4f, "
                    "relative residual %.4f)\n", test.size() / code_seconds, code_auroc, mahalanobis_auroc, relative_auroc);

        // ---- 4. AnoGAN latent search on a stratified subset --------------------------------
        const std::vector<size_t> subset = gan::stratified_subset(test.labels, static_cast<size_t>(search_queries),
                                                                  static_cast<uint32_t>(cli.integer("--seed")));
        data::Dataset queries = data::select(test, subset);
        std::vector<int> query_is_anomaly;
        for (size_t i : subset) query_is_anomaly.push_back(is_anomaly[i]);
        std::vector<float> anogan, izif_on_subset, code_on_subset;
        for (size_t i : subset) izif_on_subset.push_back(izif[i]), code_on_subset.push_back(code_score[i]);
        Tensor searched(queries.images.shape);
        double search_seconds = 0.0, anogan_auroc = NAN;
        const bool both_groups = std::count(query_is_anomaly.begin(), query_is_anomaly.end(), 1) > 0 &&
                                 std::count(query_is_anomaly.begin(), query_is_anomaly.end(), 0) > 0;
        if (!subset.empty()) {
            gan::LatentSearchOptions sopt;
            sopt.steps = search_steps;
            sopt.lambda = lambda;
            sopt.feature_layers = static_cast<size_t>(feature_layer);
            sopt.lr = static_cast<float>(cli.number("--search-lr"));
            io::ProgressBar bar("AnoGAN latent search (" + std::to_string(search_steps) + " steps)",
                                static_cast<long>(subset.size()), 1, 1);
            t0 = std::chrono::steady_clock::now();
            const size_t pixels = queries.images.numel() / subset.size();
            for (size_t first = 0; first < subset.size(); first += static_cast<size_t>(search_batch)) {
                const size_t count = std::min(static_cast<size_t>(search_batch), subset.size() - first);
                sopt.seed = static_cast<uint32_t>(cli.integer("--seed") + first);
                auto r = gan::latent_search(*G, *D, data::image_range(queries, first, count), latent, sopt);
                anogan.insert(anogan.end(), r.scores.begin(), r.scores.end());
                std::copy(r.generated.data.begin(), r.generated.data.end(),
                          searched.data.begin() + static_cast<std::ptrdiff_t>(first * pixels));
                char line[96];
                std::snprintf(line, sizeof line, "loss %.1f -> %.1f", r.loss_curve.front(), r.loss_curve.back());
                bar.update(static_cast<long>(first + count), line);
            }
            search_seconds = seconds_since(t0);
            bar.finish();
            if (both_groups) anogan_auroc = gan::auroc(anogan, query_is_anomaly);
            std::printf("AnoGAN: %zu queries (stratified subset), %d steps each, in %.1f s (%.2f queries/s), AUROC %.4f\n",
                        subset.size(), search_steps, search_seconds, subset.size() / search_seconds, anogan_auroc);
        }
        const double izif_subset_auroc = both_groups ? gan::auroc(izif_on_subset, query_is_anomaly) : NAN;
        const double code_subset_auroc = both_groups ? gan::auroc(code_on_subset, query_is_anomaly) : NAN;

        // ---- 5. pictures and numbers ------------------------------------------------------
        char label[96];
        std::vector<io::Series> roc;
        auto add_curve = [&](const std::string& name, const std::vector<float>& s, const std::vector<int>& y,
                             double area, io::RGB colour) {
            io::Series series;
            for (const gan::RocPoint& p : gan::roc_curve(s, y))
                series.x.push_back(static_cast<float>(p.fpr)), series.y.push_back(static_cast<float>(p.tpr));
            std::snprintf(label, sizeof label, "%s (AUROC %.3f)", name.c_str(), area);
            series.label = label;
            series.colour = colour;
            roc.push_back(series);
        };
        add_curve("f-AnoGAN, " + std::to_string(test.size()) + " images", izif, is_anomaly, izif_auroc, io::plot_colour(0));
        add_curve("f-AnoGAN + code", code_score, is_anomaly, code_auroc, io::plot_colour(2));
        if (!std::isnan(anogan_auroc))
            add_curve("AnoGAN, " + std::to_string(subset.size()) + " images", anogan, query_is_anomaly, anogan_auroc,
                      io::plot_colour(1));
        roc.push_back({"chance", {0, 1}, {0, 1}, {160, 160, 160}});
        io::PlotOptions ropt;
        ropt.title = dataset + ": normal class " + std::to_string(normal_class);
        ropt.x_label = "false positive rate";
        ropt.y_label = "true positive rate";
        ropt.x_min = 0, ropt.x_max = 1, ropt.y_min = 0, ropt.y_max = 1;
        ropt.width = 640, ropt.height = 600;
        io::plot_lines(out + "/roc.png", roc, ropt);
        write_histogram(out + "/histogram.png", "f-AnoGAN scores, class " + std::to_string(normal_class) + " normal",
                        izif, is_anomaly);
        write_histogram(out + "/histogram_code.png", "f-AnoGAN + code scores, class " + std::to_string(normal_class) +
                        " normal", code_score, is_anomaly);
        write_panel(out + "/panel_f-anogan.png", "f-AnoGAN: x, G(E(x)), |x - G(E(x))|", test.images, reconstructions,
                    izif, 8);
        write_panel(out + "/panel_code.png", "f-AnoGAN + code: x, G(E(x)), |x - G(E(x))|", test.images, reconstructions,
                    code_score, 8);
        if (!subset.empty()) {
            if (both_groups)
                write_histogram(out + "/histogram_anogan.png",
                                "AnoGAN scores, class " + std::to_string(normal_class) + " normal", anogan, query_is_anomaly);
            write_panel(out + "/panel_anogan.png", "AnoGAN: x, G(z), |x - G(z)|", queries.images, searched, anogan, 8);
        }

        // Every test image's scores (AnoGAN's only for the subset), for your own analysis.
        std::string csv = "index,label,anomaly,f_anogan,f_anogan_code,code_mahalanobis,relative_residual,anogan\n";
        std::vector<float> anogan_of(test.size(), NAN);
        for (size_t k = 0; k < subset.size(); ++k) anogan_of[subset[k]] = anogan[k];
        for (size_t i = 0; i < test.size(); ++i) {
            char row[160];
            std::snprintf(row, sizeof row, "%zu,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g\n", i, test.labels[i], is_anomaly[i], izif[i],
                          code_score[i], mahalanobis[i], encoded.relative[i], anogan_of[i]);
            csv += row;
        }
        io::write_file_atomic(out + "/scores.csv", csv);

        auto number_or_null = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
        Json results{
            {"dataset", dataset},
            {"normal_class", normal_class},
            {"test_images", test.size()},
            {"f_anogan", {{"auroc", izif_auroc},
                          {"auroc_on_search_subset", number_or_null(izif_subset_auroc)},
                          {"queries", test.size()},
                          {"queries_per_second", test.size() / izif_seconds},
                          {"kappa", kappa},
                          {"feature_layer", feature_layer},
                          {"encoder_epochs", encoder_epochs},
                          {"encoder_seconds", encoder_seconds}}},
            {"f_anogan_code", {{"auroc", code_auroc},
                               {"auroc_on_search_subset", number_or_null(code_subset_auroc)},
                               {"auroc_code_alone", mahalanobis_auroc},
                               {"auroc_relative_residual_alone", relative_auroc},
                               {"queries_per_second", test.size() / code_seconds},
                               {"calibration_seconds", calibration_seconds}}},
            {"anogan", {{"auroc", number_or_null(anogan_auroc)},
                        {"queries", subset.size()},
                        {"steps", search_steps},
                        {"lambda", lambda},
                        {"queries_per_second", subset.empty() ? Json(nullptr) : Json(subset.size() / search_seconds)},
                        {"seconds", search_seconds}}},
            {"gan", {{"epochs", run.state.epoch}, {"steps", run.state.step}, {"seconds", run.state.seconds},
                     {"width", width}, {"latent", latent}}},
            {"threads", num_threads()},
            {"config", cli.values()}};
        io::write_file_atomic(out + "/results.json", results.dump(2) + "\n");
        std::printf("wrote %s/{roc.png, histogram*.png, panel_*.png, scores.csv, results.json}\n", out.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "03_anogan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
