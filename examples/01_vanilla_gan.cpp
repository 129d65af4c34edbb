// 01_vanilla_gan.cpp - the original GAN (Goodfellow et al. 2014) with plain MLPs, on MNIST or Fashion-MNIST.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/01_vanilla_gan.cpp -lopenblas -lz -o vanilla && ./vanilla
//
// What a GAN is. Two networks play a game. The generator G turns a vector z of 100 random
// numbers into an image; the discriminator D looks at an image and outputs one number, a logit:
// sigmoid(D(x)) is its belief that x is a real training image rather than one made by G.
// D is trained to tell real from fake, G is trained to fool D. Neither ever sees a "correct"
// output image: G learns what digits look like only through D's gradient.
//
// The minimax loss. Goodfellow et al. write the game as
//     min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))]
// D maximises it: log D(x) -> 0 on real images and log(1 - D(G(z))) -> 0 on fakes. For D that
// is binary cross-entropy with labels real = 1, fake = 0:
//     d_loss = bce(D(x), 1) + bce(D(G(z)), 0)
// At the game's equilibrium G's images follow the data distribution and D says 1/2 everywhere.
//
// The non-saturating trick. Taken literally, G minimises log(1 - D(G(z))). Write D = sigmoid(l)
// with l the logit: d/dl log(1 - sigmoid(l)) = -sigmoid(l), which is ~0 exactly when D rejects
// the fakes (D(G(z)) ~ 0), as it does early in training: G would learn nothing while it is
// worst. Instead G maximises log D(G(z)), i.e. minimises bce(D(G(z)), 1) = -log sigmoid(l),
// whose gradient -(1 - sigmoid(l)) is ~-1 there: the same fixed point, a strong signal when G
// is bad. Every practical GAN does this (gan/train_step.hpp).
//
// Why Dropout in D. An MLP with 1.5 million weights can memorise 60,000 images, and a D that
// wins too easily is no teacher: its verdict jumps from "fake" to "real" only right at the
// training images, so its gradient tells G little about which way real digits lie, and the
// game tips over (D(G(z)) stuck at 0, G stuck on a few blobs). Dropout(0.3) after every hidden
// layer makes D a noisier, weaker judge with a smoother verdict, that keeps giving G a useful
// signal. (G has no Dropout: it should be as sharp as it can.)
//
// The images are flattened to 784 numbers: an MLP knows nothing of neighbouring pixels, which
// is why its digits stay a little grainy; 02_dcgan.cpp replaces the MLPs with convolutions.
// Every epoch writes runs/vanilla/samples/epoch_NNN.png from the same 64 latent vectors,
// plus progress.gif, losses.png, metrics.csv, checkpoints and run.json (see --resume).
#include <cstdio>

#include <minigan/gan/example_run.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

int main(int argc, char** argv) {
    io::Cli cli("01_vanilla_gan", "Train an MLP GAN and write sample grids, loss curves and checkpoints.");
    gan::add_gan_flags(cli, /*epochs*/ 5, /*batch*/ 64, /*lr*/ 2e-4);  // 5 epochs: recognisable, noisy digits
    cli.option("--width", 1.0, "hidden-layer multiplier: 1 = the reference MLPs (256-512-1024)");
    gan::add_run_flags(cli, "runs/vanilla");  // --seed --threads --out --data --limit
    cli.flag("--resume", "continue the run in --out from its last checkpoint");
    cli.range("--width", "(0, 4]");
    cli.finish(argc, argv);

    const int epochs = cli.integer("--epochs"), batch = cli.integer("--batch"), latent = cli.integer("--latent");
    const float width = static_cast<float>(cli.number("--width"));
    gan::start_program(cli);  // --threads, --seed, and the first line

    constexpr int pixels = 28 * 28;  // an MLP sees an image as one row of 784 numbers

    try {
        // ---- data: images scaled to [-1, 1], the range of G's tanh output ----------------------
        data::Dataset train = gan::load_training_set(cli);
        data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
        gan::print_data(cli, train, batches);

        // ---- models and optimizers: separate Adams, so D's step never moves G --------------------
        auto G = gan::vanilla_generator(latent, width, pixels);   // z (N, latent) -> (N, 784)
        auto D = gan::vanilla_discriminator(width, pixels);        // (N, 784) -> logit (N, 1)
        gan::print_models(*G, *D);
        const float lr = static_cast<float>(cli.number("--lr")), beta1 = static_cast<float>(cli.number("--beta1"));
        optim::Adam optG(G->parameters(), lr, beta1, 0.999f);
        optim::Adam optD(D->parameters(), lr, beta1, 0.999f);

        // A fixed latent batch: the sample grids of all epochs show the same 64 points of z-space.
        Rng sample_rng(12345);
        const Tensor fixed_z = randn({64, latent}, sample_rng);

        // run.json records every flag, and which model they build (tools rebuild G from it).
        Json config = cli.values();
        config["model"] = "vanilla";
        gan::TrainingRun run(cli.text("--out"), config);
        run.steps_per_epoch = batches.batches_per_epoch();  // resume() checks the checkpoint against it
        gan::resume_if_asked(cli, run, *G, *D, optG, optD);

        // ---- training loop -----------------------------------------------------------------
        for (int epoch = run.state.epoch; epoch < epochs; ++epoch) {
            batches.start_epoch(epoch);
            io::ProgressBar bar(gan::epoch_label(epoch, epochs), batches.batches_per_epoch(), batch);
            G->train();
            D->train();
            Tensor images;
            std::vector<int> labels;  // unused: a GAN learns without labels
            for (int b = 0; b < batches.batches_per_epoch(); ++b) {
                batches.next(images, labels);
                double t0 = bar.seconds();
                Var real(images.reshaped({batch, pixels}));  // (N, 1, 28, 28) -> (N, 784)
                Var z(randn({batch, latent}));
                gan::StepStats s = gan::train_step(*G, *D, optG, optD, real, z);
                run.state.seconds += bar.seconds() - t0;
                run.log_step(s);
                bar.update(b + 1, gan::step_line(s));
            }
            // Samples: G has no Dropout or BatchNorm, but eval mode is the habit that keeps that true.
            const Tensor samples = gan::sample(*G, Var(fixed_z)).reshaped({64, 1, 28, 28});  // rows of 784 -> images
            run.end_epoch(*G, *D, optG, optD, samples);
            bar.finish("-> " + run.sample_path(run.state.epoch));
        }
        gan::print_done(run);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "01_vanilla_gan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
