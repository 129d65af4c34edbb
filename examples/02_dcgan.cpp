// 02_dcgan.cpp - a deep convolutional GAN (Radford et al. 2016) on MNIST or Fashion-MNIST.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/02_dcgan.cpp -lopenblas -lz -o dcgan && ./dcgan
//
// G turns 100 random numbers into a 28x28 image with transposed convolutions; D is a small
// CNN that scores real vs generated. Both train at once (gan/train_step.hpp). Every epoch writes
// runs/dcgan/samples/epoch_NNN.png from the same 64 latent vectors, so you watch the same
// "people" learn to write; also progress.gif, losses.png, metrics.csv and checkpoints.
// --width 1 --d-width 1 is the reference model of the TensorFlow DCGAN tutorial. The defaults are
// a short demo for a two-core laptop: G at width 0.25 (a quarter of the
// channels), D at width 0.75 judging pairs of images (--pack 2, PacGAN), batches of 32, 8 epochs,
// Adam lr 5e-4 for both, no dropout in D, samples from an average of G's weights (--ema);
// docs/results.md measures each choice with examples/evaluate. The reference recipe (the
// tutorial's networks, trained with the DCGAN paper's Adam 2e-4 and beta1 0.5, batches of 64):
//   ./dcgan --width 1 --d-width 1 --pack 1 --batch 64 --lr 2e-4 --lr-d 0 --d-dropout 0.3 --ema 0
#include <cstdio>

#include <minigan/gan/example_run.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

int main(int argc, char** argv) {
    io::Cli cli("02_dcgan", "Train a DCGAN and write sample grids, loss curves and checkpoints.");
    gan::add_gan_flags(cli, /*epochs*/ 8, /*batch*/ 32, /*lr*/ 5e-4);  // the demo recipe (top of this file)
    cli.option("--width", 0.25, "channel multiplier of G (and of D when --d-width is 0): 1 = the reference DCGAN");
    cli.option("--d-width", 0.75, "channel multiplier of D (0 = the same as --width): a stronger D teaches G more per step");
    cli.option("--pack", 2, "D judges this many images at once (PacGAN: counters dropped classes; 1 = one by one)");
    cli.option("--real-label", 1.0, "D's target for real images (0.9 = one-sided label smoothing)");
    gan::add_demo_flags(cli, /*lr_d*/ 5e-4);  // --lr-d --d-dropout --ema
    gan::add_run_flags(cli, "runs/dcgan");    // --seed --threads --out --data --limit
    cli.option("--minutes", 0.0, "stop after this many minutes of training, mid-epoch if need be (0 = no limit)");
    cli.flag("--resume", "continue the run in --out from its last checkpoint");
    cli.range("--batch", "[2, 4096]");  // BatchNorm needs two images to take a variance
    cli.range("--width", "(0, 4]");
    cli.range("--d-width", "[0, 4]");
    cli.range("--pack", "[1, 64]");
    cli.range("--real-label", "(0, 1]");
    cli.range("--minutes", "[0, 1000000]");
    cli.finish(argc, argv);

    const int epochs = cli.integer("--epochs"), batch = cli.integer("--batch"), latent = cli.integer("--latent");
    const float width = static_cast<float>(cli.number("--width"));
    const double minutes = cli.number("--minutes"), real_label = cli.number("--real-label");
    if (batch % cli.integer("--pack") != 0) cli.fail("--pack must divide --batch (D judges groups of --pack images)");
    gan::start_program(cli);  // --threads, --seed, and the first line

    try {
        // ---- data: images scaled to [-1, 1], the range of G's tanh output ----------------------
        data::Dataset train = gan::load_training_set(cli);
        data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
        gan::print_data(cli, train, batches);

        // ---- models and optimizers: separate Adams, so D's step never moves G --------------------
        auto G = gan::dcgan_generator(latent, width);  // z (N, latent) -> (N, 1, 28, 28)
        const float d_width = cli.number("--d-width") > 0 ? static_cast<float>(cli.number("--d-width")) : width;
        auto D = gan::dcgan_discriminator(d_width, 1, cli.integer("--pack"));  // (N, 1, 28, 28) -> logit
        gan::set_dropout(*D, static_cast<float>(cli.number("--d-dropout")));
        char g_name[32], d_name[32];
        std::snprintf(g_name, sizeof g_name, "G (width %g)", width);
        std::snprintf(d_name, sizeof d_name, "D (width %g)", d_width);
        gan::print_models(*G, *D, g_name, d_name);
        const float lr = static_cast<float>(cli.number("--lr")), beta1 = static_cast<float>(cli.number("--beta1"));
        optim::Adam optG(G->parameters(), lr, beta1, 0.999f);
        optim::Adam optD(D->parameters(), gan::d_learning_rate(cli), beta1, 0.999f);

        // --ema: the sample grids come from an average of G's weights (gan/example_run.hpp).
        const double ema = cli.number("--ema");
        gan::AveragedGenerator average(*G, ema, ema > 0 ? gan::dcgan_generator(latent, width) : nullptr);

        // A fixed latent batch: the sample grids of all epochs show the same 64 points of z-space.
        Rng sample_rng(12345);
        const Tensor fixed_z = randn({64, latent}, sample_rng);

        Json config(cli.values());
        config["model"] = "dcgan";  // examples/evaluate rebuilds the generator from this
        gan::TrainingRun run(cli.text("--out"), config);
        run.steps_per_epoch = batches.batches_per_epoch();  // resume() checks the checkpoint against it
        gan::resume_if_asked(cli, run, *G, *D, optG, optD, &average);
        const double budget_seconds = minutes * 60.0;
        auto out_of_time = [&] { return budget_seconds > 0 && run.state.seconds >= budget_seconds; };

        // ---- training loop -----------------------------------------------------------------
        for (int epoch = run.state.epoch; epoch < epochs && !out_of_time(); ++epoch) {
            batches.start_epoch(epoch);
            io::ProgressBar bar(gan::epoch_label(epoch, epochs), batches.batches_per_epoch(), batch);
            G->train();
            D->train();
            Tensor images;
            std::vector<int> labels;
            for (int b = 0; b < batches.batches_per_epoch() && !out_of_time(); ++b) {
                batches.next(images, labels);
                double t0 = bar.seconds();
                Var real(images);
                Var z(randn({batch, latent}));
                gan::StepStats s = gan::train_step(*G, *D, optG, optD, real, z, static_cast<float>(real_label));
                average.update(*G);
                run.state.seconds += bar.seconds() - t0;
                run.log_step(s);
                bar.update(b + 1, gan::step_line(s));
            }
            // Samples in eval mode: BatchNorm uses its running statistics, as at deployment.
            const Tensor samples = gan::sample(average.sampler(*G), Var(fixed_z));
            average.store(run);  // into the checkpoint, to resume it
            run.end_epoch(*G, *D, optG, optD, samples);
            average.save(run);
            bar.finish("-> " + run.sample_path(run.state.epoch));
        }
        if (out_of_time()) std::printf("stopped after the --minutes %g time budget\n", minutes);
        gan::print_done(run);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "02_dcgan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
