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
//   queries/s, timings): gan/anomaly_report.hpp writes them.
#include <algorithm>
#include <cstdio>

#include <minigan/gan/anogan.hpp>
#include <minigan/gan/anomaly_report.hpp>
#include <minigan/gan/code_score.hpp>
#include <minigan/gan/example_run.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

int main(int argc, char** argv) {
    io::Cli cli("03_anogan", "Train a DCGAN on one class, then flag the other classes with f-AnoGAN and AnoGAN.");
    gan::add_gan_flags(cli, /*epochs*/ 10, /*batch*/ 64, /*lr*/ 2e-4);  // the GAN, on ~6000 normal images
    cli.option("--width", 0.25, "channel multiplier of G, D and E: 1 = the reference DCGAN");
    cli.option("--normal-class", 0, "the class the GAN learns as normal (0..9); the other nine are anomalies");
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
    gan::add_run_flags(cli, "", "output folder (empty: runs/anogan_<dataset>_<class>)", "normal training images");
    cli.option("--test-limit", 0, "score only the first N test images (0 = all 10,000): quick experiments");
    cli.range("--batch", "[2, 4096]");
    cli.range("--width", "(0, 4]");
    cli.range("--normal-class", "[0, 9]");
    cli.range("--encoder-epochs", "[1, 100000]");
    cli.range("--encoder-lr", "(0, 1]");
    cli.range("--kappa", "[0, 1000]");
    cli.range("--feature-layer", "[1, 64]");
    cli.range("--search-queries", "[0, 100000]");
    cli.range("--search-steps", "[1, 100000]");
    cli.range("--search-lr", "(0, 1]");
    cli.range("--lambda", "[0, 1]");
    cli.range("--search-batch", "[1, 10000]");
    cli.range("--test-limit", "[0, 100000000]");
    cli.finish(argc, argv);

    const int normal_class = cli.integer("--normal-class"), epochs = cli.integer("--epochs"), batch = cli.integer("--batch");
    const int latent = cli.integer("--latent"), encoder_epochs = cli.integer("--encoder-epochs");
    const int feature_layer = cli.integer("--feature-layer"), search_queries = cli.integer("--search-queries");
    const int search_steps = cli.integer("--search-steps"), search_batch = cli.integer("--search-batch");
    const float width = static_cast<float>(cli.number("--width")), kappa = static_cast<float>(cli.number("--kappa"));
    const float lambda = static_cast<float>(cli.number("--lambda"));
    const uint32_t seed = static_cast<uint32_t>(cli.integer("--seed"));
    const std::string dataset = cli.text("--dataset");
    const std::string out = cli.text("--out").empty() ? "runs/anogan_" + dataset + "_" + std::to_string(normal_class)
                                                       : cli.text("--out");
    gan::start_program(cli);  // --threads, --seed, and the first line

    try {
        // ---- data: the normal class of the training set; the whole test set ------------------
        data::Dataset train = data::only_classes(data::load_dataset(dataset, "train", cli.text("--data")), {normal_class});
        if (cli.integer("--limit") > 0) train = data::subset(train, cli.integer("--limit"));
        data::Dataset test = data::load_dataset(dataset, "test", cli.text("--data"));
        if (cli.integer("--test-limit") > 0) test = data::subset(test, cli.integer("--test-limit"));
        gan::AnomalyReport report(dataset, normal_class, test);  // is_anomaly[i]: test image i is not of the class
        const long n_normal = std::count(report.is_anomaly.begin(), report.is_anomaly.end(), 0);
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
        const bool gan_trained_now = gan::train_or_load_gan(run, *G, *D, optG, optD, train, batch, latent, epochs, seed);

        // ---- 2. the f-AnoGAN encoder, G and D frozen -----------------------------------------
        auto E = gan::dcgan_encoder(latent, width);
        gan::EncoderOptions eopt;
        eopt.epochs = encoder_epochs, eopt.batch = batch, eopt.lr = static_cast<float>(cli.number("--encoder-lr"));
        eopt.kappa = kappa, eopt.feature_layers = static_cast<size_t>(feature_layer), eopt.seed = seed;
        // The encoder belongs to one GAN and one recipe: an earlier run's is reused only if both are unchanged.
        const std::string recipe = "gan_step=" + std::to_string(run.state.step) + " epochs=" +
                                   std::to_string(encoder_epochs) + " lr=" + cli.text("--encoder-lr") +
                                   " kappa=" + cli.text("--kappa") + " layer=" + std::to_string(feature_layer);
        report.encoder_seconds = gan::train_or_load_encoder(*E, *G, *D, train, eopt, out + "/encoder.safetensors", recipe,
                                                            !gan_trained_now);

        // ---- 3. f-AnoGAN scores for the whole test set: one pass per query -------------------
        report.score_f_anogan(*G, *D, *E, train.images, eopt.feature_layers, kappa);

        // ---- 4. AnoGAN latent search on a stratified subset --------------------------------
        gan::LatentSearchOptions sopt;
        sopt.steps = search_steps, sopt.lambda = lambda, sopt.feature_layers = eopt.feature_layers;
        sopt.lr = static_cast<float>(cli.number("--search-lr")), sopt.seed = seed;
        report.search_subset(*G, *D, latent, sopt, static_cast<size_t>(search_queries), static_cast<size_t>(search_batch));

        // ---- 5. pictures and numbers ------------------------------------------------------
        report.recipe = {kappa, feature_layer, encoder_epochs, search_steps, lambda};
        report.gan = {{"epochs", run.state.epoch}, {"steps", run.state.step}, {"seconds", run.state.seconds},
                      {"width", width}, {"latent", latent}};
        report.write(out, cli.values());
        std::printf("wrote %s/{roc.png, histogram*.png, panel_*.png, scores.csv, results.json}\n", out.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "03_anogan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
