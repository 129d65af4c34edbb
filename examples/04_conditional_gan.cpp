// 04_conditional_gan.cpp - a class-conditional DCGAN (Mirza & Osindero 2014): ask for a 7, get a 7.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/04_conditional_gan.cpp -lopenblas -lz -o cgan && ./cgan
//   ./cgan --resume --digit 7          # after training: only samples, writes runs/conditional/digit_7.png
//
// A plain GAN (01, 02) draws a random digit: you cannot choose which. A conditional GAN gives
// both players the label y as an extra input (gan/conditional.hpp):
//   G(z, y): the noise z and a one-hot code of y, concatenated: 100 + 10 numbers in;
//   D(x, y): the image with 10 extra channels, channel y all ones: "is this a real y?".
// The loss is the GAN loss of 01_vanilla_gan.cpp with y passed along (the minimax game on
// the joint pairs (x, y)):
//   d_loss = bce(D(x, y), 1) + bce(D(G(z, y), y), 0),   g_loss = bce(D(G(z, y), y), 1).
// A perfect-looking 3 offered as a "7" is easy for D to reject, so G must obey y to fool it.
// --conditioning acgan swaps in AC-GAN's D (Odena et al. 2017, end of gan/conditional.hpp): D
// sees the image alone and must name its class; G is rewarded when D names the class it asked
// for. Samples then obey y more often but vary less (docs/results.md measures both).
// z is left with everything y does not say: slant, stroke width, style. The sample grid shows
// it: row c is class c, and column j uses the same z in every row, so a column is one
// "handwriting" writing all ten digits. The defaults are 02_dcgan's demo recipe (D without
// dropout at twice G's learning rate, weight average) for 8 epochs: 98% of the samples are
// classified as the class asked for (docs/results.md).
//
// Every epoch writes runs/conditional/samples/epoch_NNN.png (10 rows x 8), progress.gif,
// losses.png, metrics.csv, checkpoints and run.json; with --ema (on by default, as in
// 02_dcgan) the grids come from an average of G's weights, saved as generator_ema.safetensors. --digit N writes a grid of 64 samples of
// class N at the end (for Fashion-MNIST, N is the class index: 0 T-shirt ... 9 ankle boot).
#include <cstdio>

#include <minigan/data/dataset.hpp>
#include <minigan/gan/conditional.hpp>
#include <minigan/gan/ema.hpp>
#include <minigan/gan/training_run.hpp>
#include <minigan/io/cli.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

constexpr int classes = 10;         // MNIST digits 0-9, or the 10 Fashion-MNIST classes
constexpr int columns = 8;          // samples per class row in the epoch grids
constexpr uint32_t sample_seed = 12345;  // the fixed latent vectors of the grids

int main(int argc, char** argv) {
    io::Cli cli("04_conditional_gan", "Train a class-conditional DCGAN; draw any class on request.");
    cli.option("--dataset", "mnist", "training images");
    cli.choices("--dataset", {"mnist", "fashion"});
    cli.option("--epochs", 8, "passes over the training set (one: under a minute at width 0.25 on two cores)");
    cli.option("--batch", 64, "images per step (for D: this many real and this many fake)");
    cli.option("--width", 0.25, "channel multiplier: 1 = the reference DCGAN, 0.25 = fast demo");
    cli.option("--latent", 100, "size of the random vector z (the class code is added to it)");
    cli.option("--lr", 5e-4, "Adam learning rate of G, and of D unless --lr-d is set (DCGAN paper: 2e-4)");
    cli.option("--beta1", 0.5, "Adam beta1 (DCGAN paper: 0.5)");
    cli.option("--seed", 1, "random seed: same seed, same run (on one thread)");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.option("--out", "runs/conditional", "output folder");
    cli.option("--data", "data", "folder holding mnist/ and fashion-mnist/ (see data/fetch.sh)");
    cli.option("--limit", 0, "use only the first N training images (0 = all): quick experiments");
    cli.option("--lr-d", 1e-3, "Adam learning rate of D alone (0 = the same as --lr)");
    cli.option("--ema", 0.995, "sample from an average of G's weights over ~1/(1-EMA) steps (0 = off)");
    cli.option("--d-dropout", 0.0, "dropout in D after each conv block (the reference: 0.3)");
    cli.option("--conditioning", "input", "how D learns y: input (told y, Mirza & Osindero) or acgan (names y itself)");
    cli.choices("--conditioning", {"input", "acgan"});
    cli.option("--digit", -1, "after training, write <out>/digit_N.png: 64 samples of class N (-1 = none)");
    cli.flag("--resume", "continue the run in --out from its last checkpoint (a finished run: only sample)");
    cli.finish(argc, argv);

    const int epochs = cli.integer("--epochs"), batch = cli.integer("--batch"), latent = cli.integer("--latent");
    const int digit = cli.integer("--digit");
    const float width = static_cast<float>(cli.number("--width"));
    if (epochs < 1 || batch < 2 || latent < 1 || width <= 0.0f || width > 4.0f)
        cli.fail("need --epochs >= 1, --batch >= 2 (BatchNorm needs a batch), --latent >= 1, 0 < --width <= 4");
    const double ema = cli.number("--ema");
    if (cli.number("--d-dropout") < 0 || cli.number("--d-dropout") >= 1 || ema < 0 || ema >= 1 || cli.number("--lr-d") < 0)
        cli.fail("need 0 <= --d-dropout < 1, 0 <= --ema < 1, --lr-d >= 0");
    if (digit < -1 || digit >= classes) cli.fail("--digit must be a class in 0.." + std::to_string(classes - 1) + " (or -1)");
    if (cli.integer("--threads") > 0) set_num_threads(cli.integer("--threads"));
    manual_seed(static_cast<uint32_t>(cli.integer("--seed")));
    std::printf("minigan 04_conditional_gan: %s\n", runtime_summary().c_str());

    try {
        // ---- models and optimizers (before the data: --resume --digit needs no data) ------------
        auto G = gan::conditional_generator(latent, classes, width);   // (N, latent + 10) -> (N, 1, 28, 28)
        const bool acgan = cli.text("--conditioning") == "acgan";
        auto D = acgan ? gan::acgan_discriminator(classes, width)        // (N, 1, 28, 28) -> (N, 1 + 10)
                       : gan::conditional_discriminator(classes, width);  // (N, 1 + 10, 28, 28) -> logit (N, 1)
        for (size_t i = 0; i < D->size(); ++i)  // --d-dropout: the same probability in each Dropout of D
            if (auto* drop = dynamic_cast<nn::Dropout*>(&(*D)[i])) drop->p = static_cast<float>(cli.number("--d-dropout"));
        std::printf("G: %zu parameters\n%sD: %zu parameters\n%s", G->parameter_count(), G->summary().c_str(),
                    D->parameter_count(), D->summary().c_str());
        const float lr = static_cast<float>(cli.number("--lr")), beta1 = static_cast<float>(cli.number("--beta1"));
        optim::Adam optG(G->parameters(), lr, beta1, 0.999f);
        const float lr_d = cli.number("--lr-d") > 0 ? static_cast<float>(cli.number("--lr-d")) : lr;
        optim::Adam optD(D->parameters(), lr_d, beta1, 0.999f);

        // --ema (gan/ema.hpp): G_avg holds the running average of G's weights; grids and --digit use it.
        std::unique_ptr<gan::WeightAverage> average;
        std::shared_ptr<nn::Sequential> G_avg;
        if (ema > 0) {
            average = std::make_unique<gan::WeightAverage>(*G, static_cast<float>(ema));
            G_avg = gan::conditional_generator(latent, classes, width);
        }

        // The grid's latent vectors: `columns` of them, each reused in all ten class rows.
        Rng sample_rng(sample_seed);
        const Tensor column_z = randn({columns, latent}, sample_rng);
        Tensor grid_z({classes * columns, latent});
        for (int c = 0; c < classes; ++c)
            std::copy(column_z.data.begin(), column_z.data.end(), grid_z.data.begin() + c * columns * latent);
        const std::vector<int> grid_labels = gan::class_rows(classes, columns);  // 0 x8, 1 x8, ..., 9 x8

        // run.json records every flag and the model, so tools can rebuild G from it.
        Json config = cli.values();
        config["model"] = "conditional";
        config["classes"] = classes;
        gan::TrainingRun run(cli.text("--out"), config);
        if (cli.is_set("--resume")) {
            if (run.resume(*G, *D, optG, optD)) {
                std::printf("resumed %s at epoch %d, step %ld\n", run.dir().c_str(), run.state.epoch, run.state.step);
                if (average && !gan::restore_average(run, *average))
                    std::printf("the checkpoint holds no weight average: --ema starts again from G\n");
            } else
                std::printf("no checkpoint in %s: starting a new run\n", run.dir().c_str());
        }

        if (run.state.epoch < epochs) {
            // ---- data: images in [-1, 1] with their labels -------------------------------------
            data::Dataset train = data::load_dataset(cli.text("--dataset"), "train", cli.text("--data"));
            if (cli.integer("--limit") > 0) train = data::subset(train, cli.integer("--limit"));
            data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
            std::printf("data: %zu %s training images, %d batches of %d per epoch\n", train.size(),
                        cli.text("--dataset").c_str(), batches.batches_per_epoch(), batch);

            // ---- training loop -------------------------------------------------------------
            for (int epoch = run.state.epoch; epoch < epochs; ++epoch) {
                batches.start_epoch(epoch);
                io::ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                                    batches.batches_per_epoch(), batch);
                G->train();
                D->train();
                Tensor images;
                std::vector<int> labels;  // this time the labels matter: they are y
                gan::StepStats s{};
                for (int b = 0; b < batches.batches_per_epoch(); ++b) {
                    batches.next(images, labels);
                    double t0 = bar.seconds();
                    Var real(images);
                    Var z(randn({batch, latent}));
                    s = acgan ? gan::acgan_train_step(*G, *D, optG, optD, real, labels, z, classes)
                              : gan::conditional_train_step(*G, *D, optG, optD, real, labels, z, classes);
                    if (average) average->update(*G);
                    run.state.seconds += bar.seconds() - t0;
                    run.log_step(s);
                    char line[160];
                    std::snprintf(line, sizeof line, "d_loss %.3f g_loss %.3f D(x) %.2f D(G(z)) %.2f", s.d_loss,
                                  s.g_loss, s.d_real, s.d_fake);
                    bar.update(b + 1, line);
                }
                // One row per class, in eval mode (BatchNorm's running statistics).
                if (average) average->copy_to(*G, *G_avg);
                nn::Sequential& sampler = average ? *G_avg : *G;
                sampler.eval();
                Tensor samples;
                {
                    NoGrad no_grad;
                    samples = sampler(gan::generator_input(Var(grid_z), grid_labels, classes)).value();
                }
                if (average) gan::store_average(run, *average);  // into the checkpoint, to resume it
                run.end_epoch(*G, *D, optG, optD, samples);
                if (average)
                    io::save_module(run.dir() + "/generator_ema.safetensors", *G_avg, {{"step", std::to_string(run.state.step)}});
                bar.finish("-> " + run.dir() + "/samples/epoch_" + std::string(epoch + 1 < 10 ? "00" : "0") +
                           std::to_string(epoch + 1) + ".png (row c = class c)");
            }
            std::printf("done: %d epochs, %ld steps, %.0f s of training. Look at %s/samples/ and %s/progress.gif\n",
                        run.state.epoch, run.state.step, run.state.seconds, run.dir().c_str(), run.dir().c_str());
        } else {
            std::printf("%s has finished its %d epochs: nothing to train\n", run.dir().c_str(), run.state.epoch);
        }

        // ---- on request: 64 samples of one class --------------------------------------------
        if (digit >= 0) {
            if (average) average->copy_to(*G, *G_avg);
            nn::Sequential& sampler = average ? *G_avg : *G;
            sampler.eval();
            Rng digit_rng(sample_seed + 1 + digit);
            Tensor samples;
            {
                NoGrad no_grad;
                Var z(randn({64, latent}, digit_rng));
                samples = sampler(gan::generator_input(z, std::vector<int>(64, digit), classes)).value();
            }
            const std::string path = run.dir() + "/digit_" + std::to_string(digit) + ".png";
            io::save_image_grid(path, samples, 8);
            std::printf("wrote %s: 64 samples of class %d\n", path.c_str(), digit);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "04_conditional_gan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
