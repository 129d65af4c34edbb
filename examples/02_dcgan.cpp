// 02_dcgan.cpp - a deep convolutional GAN (Radford et al. 2016) on MNIST or Fashion-MNIST.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/02_dcgan.cpp -lopenblas -lz -o dcgan && ./dcgan
//
// G turns 100 random numbers into a 28x28 image with transposed convolutions; D is a small
// CNN that scores real vs generated. Both train at once (gan/train_step.hpp). Every epoch writes
// runs/dcgan/samples/epoch_NNN.png from the same 64 latent vectors, so you watch the same
// "people" learn to write; also progress.gif, losses.png, metrics.csv and checkpoints.
// --width 1 --d-width 1 is the reference model of the TensorFlow DCGAN tutorial. The defaults are
// a demo that takes about four minutes on two cores: G at width 0.25 (a quarter of the
// channels), D at width 0.75 judging pairs of images (--pack 2, PacGAN), batches of 32, 8 epochs,
// Adam lr 5e-4 for both, no dropout in D, samples from an average of G's weights (--ema);
// docs/results.md measures each choice with examples/evaluate. The tutorial's recipe:
//   ./dcgan --width 1 --d-width 1 --pack 1 --batch 64 --lr 2e-4 --lr-d 0 --d-dropout 0.3 --ema 0
#include <cstdio>
#include <filesystem>

#include <minigan/data/dataset.hpp>
#include <minigan/gan/ema.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/gan/training_run.hpp>
#include <minigan/io/cli.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

int main(int argc, char** argv) {
    io::Cli cli("02_dcgan", "Train a DCGAN and write sample grids, loss curves and checkpoints.");
    cli.option("--dataset", "mnist", "training images");
    cli.choices("--dataset", {"mnist", "fashion"});
    cli.option("--epochs", 8, "passes over the training set (one: ~30 s with the defaults on two idle cores)");
    cli.option("--batch", 32, "images per step (for D: this many real and this many fake)");
    cli.option("--width", 0.25, "channel multiplier of G (and of D when --d-width is 0): 1 = the reference DCGAN");
    cli.option("--d-width", 0.75, "channel multiplier of D (0 = the same as --width): a stronger D teaches G more per step");
    cli.option("--pack", 2, "D judges this many images at once (PacGAN: counters dropped classes; 1 = one by one)");
    cli.option("--latent", 100, "size of the random vector z that G turns into an image");
    cli.option("--lr", 5e-4, "Adam learning rate for both networks (DCGAN paper: 2e-4; 5e-4 learns faster in a short run)");
    cli.option("--beta1", 0.5, "Adam beta1 (DCGAN paper: 0.5; PyTorch's default 0.9 oscillates)");
    cli.option("--seed", 1, "random seed: same seed, same run (on one thread)");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.option("--out", "runs/dcgan", "output folder");
    cli.option("--data", "data", "folder holding mnist/ and fashion-mnist/ (see data/fetch.sh)");
    cli.option("--limit", 0, "use only the first N training images (0 = all): quick experiments");
    cli.option("--minutes", 0.0, "stop after this many minutes of training, mid-epoch if need be (0 = no limit)");
    cli.option("--real-label", 1.0, "D's target for real images (0.9 = one-sided label smoothing)");
    cli.option("--lr-d", 5e-4, "Adam learning rate of D alone (0 = the same as --lr; 1e-3 helps a D as narrow as G)");
    cli.option("--d-dropout", 0.0, "dropout in D after each conv block (the reference: 0.3)");
    cli.option("--ema", 0.995, "sample from an average of G's weights over ~1/(1-EMA) steps (0 = off)");
    cli.flag("--resume", "continue the run in --out from its last checkpoint");
    cli.finish(argc, argv);

    const int epochs = cli.integer("--epochs"), batch = cli.integer("--batch"), latent = cli.integer("--latent");
    const float width = static_cast<float>(cli.number("--width"));
    const double minutes = cli.number("--minutes"), ema = cli.number("--ema"), real_label = cli.number("--real-label");
    if (epochs < 1 || batch < 2 || latent < 1 || width <= 0.0f || width > 4.0f)
        cli.fail("need --epochs >= 1, --batch >= 2 (BatchNorm needs a batch), --latent >= 1, 0 < --width <= 4");
    if (minutes < 0 || ema < 0 || ema >= 1 || real_label <= 0 || real_label > 1 || cli.number("--lr-d") < 0 ||
        cli.number("--d-dropout") < 0 || cli.number("--d-dropout") >= 1 || cli.number("--d-width") < 0 ||
        cli.number("--d-width") > 4 || cli.integer("--pack") < 1 || batch % cli.integer("--pack") != 0)
        cli.fail("need --minutes >= 0, 0 <= --ema < 1, 0 < --real-label <= 1, --lr-d >= 0, 0 <= --d-dropout < 1, "
                 "0 <= --d-width <= 4, --pack >= 1 dividing --batch");
    if (cli.integer("--threads") > 0) set_num_threads(cli.integer("--threads"));
    manual_seed(static_cast<uint32_t>(cli.integer("--seed")));
    std::printf("minigan 02_dcgan: %s\n", runtime_summary().c_str());

    try {
        // ---- data: images scaled to [-1, 1], the range of G's tanh output ----------------------
        data::Dataset train = data::load_dataset(cli.text("--dataset"), "train", cli.text("--data"));
        if (cli.integer("--limit") > 0) train = data::subset(train, cli.integer("--limit"));
        data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
        std::printf("data: %zu %s training images, %d batches of %d per epoch\n", train.size(),
                    cli.text("--dataset").c_str(), batches.batches_per_epoch(), batch);

        // ---- models and optimizers: separate Adams, so D's step never moves G --------------------
        auto G = gan::dcgan_generator(latent, width);
        const float d_width = cli.number("--d-width") > 0 ? static_cast<float>(cli.number("--d-width")) : width;
        auto D = gan::dcgan_discriminator(d_width, 1, cli.integer("--pack"));
        for (size_t i = 0; i < D->size(); ++i)  // --d-dropout: the same probability in each Dropout of D
            if (auto* drop = dynamic_cast<nn::Dropout*>(&(*D)[i])) drop->p = static_cast<float>(cli.number("--d-dropout"));
        std::printf("G (width %g): %zu parameters\n%sD (width %g): %zu parameters\n%s", width, G->parameter_count(),
                    G->summary().c_str(), d_width, D->parameter_count(), D->summary().c_str());
        const float lr = static_cast<float>(cli.number("--lr")), beta1 = static_cast<float>(cli.number("--beta1"));
        optim::Adam optG(G->parameters(), lr, beta1, 0.999f);
        const float lr_d = cli.number("--lr-d") > 0 ? static_cast<float>(cli.number("--lr-d")) : lr;
        optim::Adam optD(D->parameters(), lr_d, beta1, 0.999f);

        // --ema: G_avg holds the running average of G's weights; the sample grids come from it.
        std::unique_ptr<gan::WeightAverage> average;
        std::shared_ptr<nn::Sequential> G_avg;
        if (ema > 0) {
            average = std::make_unique<gan::WeightAverage>(*G, static_cast<float>(ema));
            G_avg = gan::dcgan_generator(latent, width);
        }

        // A fixed latent batch: the sample grids of all epochs show the same 64 points of z-space.
        Rng sample_rng(12345);
        const Tensor fixed_z = randn({64, latent}, sample_rng);

        Json config(cli.values());
        config["model"] = "dcgan";  // examples/evaluate rebuilds the generator from this
        gan::TrainingRun run(cli.text("--out"), config);
        const std::string average_path = run.dir() + "/generator_ema.safetensors";
        if (cli.is_set("--resume")) {
            if (run.resume(*G, *D, optG, optD)) {
                std::printf("resumed %s at epoch %d, step %ld\n", run.dir().c_str(), run.state.epoch, run.state.step);
                // The average goes on from where it was: the checkpoint holds it ("avg." entries).
                // An older checkpoint without them: the average starts again from G.
                if (average && !gan::restore_average(run, *average))
                    std::printf("the checkpoint holds no weight average: --ema starts again from G\n");
            } else {
                std::printf("no checkpoint in %s: starting a new run\n", run.dir().c_str());
            }
        }
        const double budget_seconds = minutes * 60.0;
        auto out_of_time = [&] { return budget_seconds > 0 && run.state.seconds >= budget_seconds; };

        // ---- training loop -----------------------------------------------------------------
        for (int epoch = run.state.epoch; epoch < epochs && !out_of_time(); ++epoch) {
            batches.start_epoch(epoch);
            io::ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                                batches.batches_per_epoch(), batch);
            G->train();
            D->train();
            Tensor images;
            std::vector<int> labels;
            gan::StepStats s{};
            for (int b = 0; b < batches.batches_per_epoch() && !out_of_time(); ++b) {
                batches.next(images, labels);
                double t0 = bar.seconds();
                Var real(images);
                Var z(randn({batch, latent}));
                s = gan::train_step(*G, *D, optG, optD, real, z, static_cast<float>(real_label));
                if (average) average->update(*G);
                run.state.seconds += bar.seconds() - t0;
                run.log_step(s);
                char line[160];
                std::snprintf(line, sizeof line, "d_loss %.3f g_loss %.3f D(x) %.2f D(G(z)) %.2f", s.d_loss, s.g_loss,
                              s.d_real, s.d_fake);
                bar.update(b + 1, line);
            }
            // Samples in eval mode: BatchNorm uses its running statistics, as at deployment.
            nn::Sequential& sampler = average ? *G_avg : *G;
            if (average) average->copy_to(*G, *G_avg);
            sampler.eval();
            Tensor samples;
            {
                NoGrad no_grad;
                samples = sampler(Var(fixed_z)).value();
            }
            if (average) gan::store_average(run, *average);  // into the checkpoint, to resume it
            run.end_epoch(*G, *D, optG, optD, samples);
            if (average) io::save_module(average_path, *G_avg, {{"step", std::to_string(run.state.step)}});
            bar.finish("-> " + run.dir() + "/samples/epoch_" + std::string(epoch + 1 < 10 ? "00" : "0") +
                       std::to_string(epoch + 1) + ".png");
        }
        if (out_of_time()) std::printf("stopped after the --minutes %g time budget\n", minutes);
        std::printf("done: %d epochs, %ld steps, %.0f s of training. Look at %s/samples/ and %s/progress.gif\n",
                    run.state.epoch, run.state.step, run.state.seconds, run.dir().c_str(), run.dir().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "02_dcgan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
