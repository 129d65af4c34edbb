// my_gan.cpp - a GAN of your own, built against an installed minigan (README.md says how).
//
// A small MLP GAN that trains in seconds: G turns a random vector z into a 28x28 image, D tells
// real images from G's. With no --data it learns synthetic "strokes" (one straight pen line per
// image, drawn by make_strokes below), so it runs anywhere; with --data DIR it learns MNIST
// (DIR holds train-images-idx3-ubyte[.gz], e.g. minigan's data/mnist). At the end it writes an
// 8x8 grid of G's samples to --out. This file is yours: change the data, the models, the loop.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <minigan/minigan.hpp>

using namespace minigan;

constexpr int kSide = 28;               // images are kSide x kSide, one channel
constexpr int kPixels = kSide * kSide;  // an MLP sees an image as one row of 784 numbers
constexpr int kStrokeImages = 4096;     // the size of the synthetic training set
constexpr uint32_t kStrokeSeed = 7;     // the synthetic set is the same in every run

// n images (n, 1, 28, 28) in [-1, 1]: on black (-1), a white segment of random angle, length
// and position, about two pixels wide. A pixel's ink falls from 1 to 0 as its distance d to the
// segment goes from 1 to 2 pixels: ink = clamp(2 - d, 0, 1).
data::Dataset make_strokes(int n, uint32_t seed) {
    Rng rng(seed);
    data::Dataset strokes;
    strokes.images = Tensor({n, 1, kSide, kSide});
    strokes.labels.assign(static_cast<size_t>(n), 0);  // one class: a GAN needs no labels
    for (int i = 0; i < n; ++i) {
        const float angle = rng.uniform(0.0f, 3.14159265f), half_length = rng.uniform(5.0f, 11.0f);
        const float cx = rng.uniform(10.0f, 18.0f), cy = rng.uniform(10.0f, 18.0f);  // the centre
        const float ux = std::cos(angle) * half_length, uy = std::sin(angle) * half_length;  // centre to one end
        float* image = strokes.images.data.data() + static_cast<size_t>(i) * kPixels;
        for (int y = 0; y < kSide; ++y)
            for (int x = 0; x < kSide; ++x) {
                // The nearest point of the segment: centre + t * (ux, uy) with t clamped to [-1, 1].
                const float px = x - cx, py = y - cy;
                const float t = std::clamp((px * ux + py * uy) / (ux * ux + uy * uy), -1.0f, 1.0f);
                const float d = std::hypot(px - t * ux, py - t * uy);
                image[y * kSide + x] = 2.0f * std::clamp(2.0f - d, 0.0f, 1.0f) - 1.0f;  // ink 0..1 -> -1..1
            }
    }
    return strokes;
}

int main(int argc, char** argv) {
    io::Cli cli("my_gan", "Train a small MLP GAN (on synthetic strokes, or MNIST with --data) and write a sample grid.");
    cli.option("--data", "", "folder with MNIST's train-images-idx3-ubyte[.gz] (empty: synthetic strokes)");
    cli.option("--steps", 2000, "training steps (one step: D on a real and a fake batch, then G)");
    cli.option("--batch", 64, "images per step");
    cli.option("--latent", 32, "size of the random vector z");
    cli.option("--hidden", 128, "width of the hidden layers");
    cli.option("--lr", 1e-3, "Adam learning rate of G and D (a small MLP takes a bigger step than DCGAN's 2e-4)");
    cli.option("--out", "my_gan_samples.png", "where to write the 8x8 grid of samples");
    cli.option("--seed", 1, "random seed: same seed, same run (on one thread)");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.finish(argc, argv);
    const int steps = cli.integer("--steps"), batch = cli.integer("--batch");
    const int latent = cli.integer("--latent"), hidden = cli.integer("--hidden");
    if (steps < 1 || batch < 1 || latent < 1 || hidden < 1) cli.fail("need --steps, --batch, --latent, --hidden >= 1");
    gan::start_program(cli);  // --threads, --seed, and the first line: OpenMP, BLAS, the path

    try {
        // ---- data: images in [-1, 1], the range of G's tanh ------------------------------------
        const std::string dir = cli.text("--data");
        const data::Dataset train =
            dir.empty() ? make_strokes(kStrokeImages, kStrokeSeed) : data::load_mnist_like(dir, "train");
        data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
        std::printf("data: %zu images (%s)\n", train.size(), dir.empty() ? "synthetic strokes" : dir.c_str());

        // ---- models: G (N, latent) -> (N, 784) in [-1, 1];  D (N, 784) -> a logit (N, 1) ------
        using namespace nn;
        auto G = make<Sequential>(make<Linear>(latent, hidden), make<LeakyReLU>(0.2f), make<Linear>(hidden, 2 * hidden),
                                  make<LeakyReLU>(0.2f), make<Linear>(2 * hidden, kPixels), make<Tanh>());
        auto D = make<Sequential>(make<Linear>(kPixels, 2 * hidden), make<LeakyReLU>(0.2f),
                                  make<Linear>(2 * hidden, hidden), make<LeakyReLU>(0.2f), make<Linear>(hidden, 1));
        const float lr = static_cast<float>(cli.number("--lr"));
        optim::Adam optG(G->parameters(), lr, 0.5f, 0.999f);  // separate optimizers: D's step never moves G
        optim::Adam optD(D->parameters(), lr, 0.5f, 0.999f);

        // ---- training: gan::train_step is the textbook step (gan/train_step.hpp) ---------------
        Tensor images;
        std::vector<int> labels;  // unused: a GAN learns without labels
        for (int step = 1, epoch = 0; step <= steps; ++step) {
            if (!batches.next(images, labels)) {  // the epoch is over: reshuffle, start again
                batches.start_epoch(++epoch);
                batches.next(images, labels);
            }
            Var real(images.reshaped({batch, kPixels}));  // (N, 1, 28, 28) -> (N, 784)
            Var z(randn({batch, latent}));
            gan::StepStats s = gan::train_step(*G, *D, optG, optD, real, z);
            if (step % 100 == 0 || step == steps) std::printf("step %4d/%d  %s\n", step, steps, gan::step_line(s).c_str());
        }

        // ---- samples: 64 images of G, as an 8x8 PNG grid, each pixel drawn 2x2 -----------------
        const Tensor samples = gan::sample(*G, Var(randn({64, latent}))).reshaped({64, 1, kSide, kSide});
        io::save_image_grid(cli.text("--out"), samples, /*nrow*/ 8, /*upscale*/ 2);
        std::printf("wrote %s\n", cli.text("--out").c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "my_gan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
