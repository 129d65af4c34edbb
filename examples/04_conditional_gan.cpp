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
// dropout at twice G's learning rate, weight average) for 8 epochs; docs/results.md measures
// how often the samples are of the class asked for.
//
// Every epoch writes runs/conditional/samples/epoch_NNN.png (10 rows x 8), progress.gif,
// losses.png, metrics.csv, checkpoints and run.json; with --ema (on by default, as in
// 02_dcgan) the grids come from an average of G's weights, saved as generator_ema.safetensors. --digit N writes a grid of 64 samples of
// class N at the end (for Fashion-MNIST, N is the class index: 0 T-shirt ... 9 ankle boot).
#include <cstdio>

#include <minigan/gan/conditional.hpp>
#include <minigan/gan/example_run.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

constexpr int classes = 10;         // MNIST digits 0-9, or the 10 Fashion-MNIST classes
constexpr int columns = 8;          // samples per class row in the epoch grids
constexpr uint32_t sample_seed = 12345;  // the fixed latent vectors of the grids

int main(int argc, char** argv) {
    io::Cli cli("04_conditional_gan", "Train a class-conditional DCGAN; draw any class on request.");
    gan::add_gan_flags(cli, /*epochs*/ 8, /*batch*/ 64, /*lr*/ 5e-4);  // 02_dcgan's demo recipe
    cli.option("--width", 0.25, "channel multiplier: 1 = the reference DCGAN, 0.25 = fast demo");
    gan::add_demo_flags(cli, /*lr_d*/ 1e-3);         // --lr-d --d-dropout --ema
    gan::add_run_flags(cli, "runs/conditional");     // --seed --threads --out --data --limit
    cli.option("--conditioning", "input", "how D learns y: input (told y, Mirza & Osindero) or acgan (names y itself)");
    cli.choices("--conditioning", {"input", "acgan"});
    cli.option("--digit", -1, "after training, write <out>/digit_N.png: 64 samples of class N (-1 = none)");
    cli.flag("--resume", "continue the run in --out from its last checkpoint (a finished run: only sample)");
    cli.range("--batch", "[2, 4096]");  // BatchNorm needs two images to take a variance
    cli.range("--width", "(0, 4]");
    cli.range("--digit", "[-1, " + std::to_string(classes - 1) + "]");
    cli.finish(argc, argv);

    const int epochs = cli.integer("--epochs"), batch = cli.integer("--batch"), latent = cli.integer("--latent");
    const int digit = cli.integer("--digit");
    const float width = static_cast<float>(cli.number("--width"));
    gan::start_program(cli);  // --threads, --seed, and the first line

    try {
        // ---- models and optimizers (before the data: --resume --digit needs no data) ------------
        auto G = gan::conditional_generator(latent, classes, width);   // (N, latent + 10) -> (N, 1, 28, 28)
        const bool acgan = cli.text("--conditioning") == "acgan";
        auto D = acgan ? gan::acgan_discriminator(classes, width)        // (N, 1, 28, 28) -> (N, 1 + 10)
                       : gan::conditional_discriminator(classes, width);  // (N, 1 + 10, 28, 28) -> logit (N, 1)
        gan::set_dropout(*D, static_cast<float>(cli.number("--d-dropout")));
        gan::print_models(*G, *D);
        const float lr = static_cast<float>(cli.number("--lr")), beta1 = static_cast<float>(cli.number("--beta1"));
        optim::Adam optG(G->parameters(), lr, beta1, 0.999f);
        optim::Adam optD(D->parameters(), gan::d_learning_rate(cli), beta1, 0.999f);

        // --ema: grids and --digit come from an average of G's weights (gan/example_run.hpp).
        const double ema = cli.number("--ema");
        gan::AveragedGenerator average(*G, ema, ema > 0 ? gan::conditional_generator(latent, classes, width) : nullptr);

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
        gan::resume_if_asked(cli, run, *G, *D, optG, optD, &average);

        if (run.state.epoch < epochs) {
            // ---- data: images in [-1, 1] with their labels -------------------------------------
            data::Dataset train = gan::load_training_set(cli);
            data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
            gan::print_data(cli, train, batches);

            // ---- training loop -------------------------------------------------------------
            for (int epoch = run.state.epoch; epoch < epochs; ++epoch) {
                batches.start_epoch(epoch);
                io::ProgressBar bar(gan::epoch_label(epoch, epochs), batches.batches_per_epoch(), batch);
                G->train();
                D->train();
                Tensor images;
                std::vector<int> labels;  // this time the labels matter: they are y
                for (int b = 0; b < batches.batches_per_epoch(); ++b) {
                    batches.next(images, labels);
                    double t0 = bar.seconds();
                    Var real(images);
                    Var z(randn({batch, latent}));
                    gan::StepStats s = acgan ? gan::acgan_train_step(*G, *D, optG, optD, real, labels, z, classes)
                                             : gan::conditional_train_step(*G, *D, optG, optD, real, labels, z, classes);
                    average.update(*G);
                    run.state.seconds += bar.seconds() - t0;
                    run.log_step(s);
                    bar.update(b + 1, gan::step_line(s));
                }
                // One row per class, in eval mode (BatchNorm's running statistics).
                const Tensor samples =
                    gan::sample(average.sampler(*G), gan::generator_input(Var(grid_z), grid_labels, classes));
                average.store(run);  // into the checkpoint, to resume it
                run.end_epoch(*G, *D, optG, optD, samples);
                average.save(run);
                bar.finish("-> " + run.sample_path(run.state.epoch) + " (row c = class c)");
            }
            gan::print_done(run);
        } else {
            std::printf("%s has finished its %d epochs: nothing to train\n", run.dir().c_str(), run.state.epoch);
        }

        // ---- on request: 64 samples of one class --------------------------------------------
        if (digit >= 0) {
            Rng digit_rng(sample_seed + 1 + digit);
            Var z(randn({64, latent}, digit_rng));
            const Tensor samples =
                gan::sample(average.sampler(*G), gan::generator_input(z, std::vector<int>(64, digit), classes));
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
