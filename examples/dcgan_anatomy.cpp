// dcgan_anatomy.cpp - the DCGAN of gan/models.hpp taken apart: the shape after every layer of G
// and D, and what dcgan_init (nn/init.hpp) does to the weights. No training; well under a second
// (docs/lessons/10-dcgan.md).
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/dcgan_anatomy.cpp -lopenblas -lz -o dcgan_anatomy && ./dcgan_anatomy
//
// 1. A batch of 2 latent vectors through G, one layer at a time: (2, 100) -> ... -> (2, 1, 28, 28),
//    and the generated images through D: -> (2, 1), one logit each.
// 2. The weights: a layer as its constructor leaves it (PyTorch's default, uniform in
//    +-1/sqrt(fan_in)) beside the same layer after dcgan_init: N(0, 0.02), BatchNorm's gamma N(1, 0.02).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <minigan/gan/models.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

constexpr int kLatent = 100;  // G's input size
constexpr float kWidth = 1.0f;  // 1 = the reference DCGAN of docs/models.md
constexpr int kBatch = 2;     // two images: BatchNorm in training mode needs more than one

// Mean and standard deviation of a tensor's values.
static void mean_std(const Tensor& t, double& mean, double& stddev) {
    double sum = 0, sq = 0;
    for (float v : t.data) sum += v, sq += static_cast<double>(v) * v;
    mean = sum / t.numel();
    stddev = std::sqrt(std::max(sq / t.numel() - mean * mean, 0.0));
}

// Run x through every layer of `net`, printing the shape (and the value range) after each.
static Var trace(nn::Sequential& net, Var x, const char* title) {
    std::printf("%s\n   %-62s %s\n", title, "input", shape_str(x.shape()).c_str());
    for (size_t i = 0; i < net.size(); ++i) {
        x = net[i](x);
        const auto [lo, hi] = std::minmax_element(x.value().data.begin(), x.value().data.end());
        std::printf("   (%2zu) %-57s %-18s values in [%.3f, %.3f]\n", i, net[i].name().c_str(), shape_str(x.shape()).c_str(),
                    *lo, *hi);
    }
    return x;
}

// One row of the weight table: a layer's weight before and after dcgan_init.
static void weight_row(const std::string& what, Var& weight, nn::Module& layer) {
    double m0, s0, m1, s1;
    mean_std(weight.value(), m0, s0);
    nn::dcgan_init(layer);
    mean_std(weight.value(), m1, s1);
    std::printf("   %-34s %9zu   mean %7.4f  std %.4f   ->   mean %7.4f  std %.4f\n", what.c_str(), weight.numel(), m0, s0,
                m1, s1);
}

int main() {
    manual_seed(1);
    std::printf("minigan %s\n\n", runtime_summary().c_str());

    // ---- 1. shapes, layer by layer ----------------------------------------------------------
    auto G = gan::dcgan_generator(kLatent, kWidth);
    auto D = gan::dcgan_discriminator(kWidth);
    std::printf("G: %zu parameters, D: %zu parameters (width %g)\n\n", G->parameter_count(), D->parameter_count(), kWidth);
    const Var images = trace(*G, Var(randn({kBatch, kLatent})), "1. G, training mode, z ~ N(0, 1):");
    trace(*D, images, "\n   D, on G's images:");

    // ---- 2. the initialisation --------------------------------------------------------------
    std::printf("\n2. weights as the constructor leaves them -> after dcgan_init\n");
    std::printf("   %-34s %9s   %-28s   %s\n", "layer", "weights", "PyTorch's default", "dcgan_init (the DCGAN recipe)");
    nn::Linear linear(kLatent, 256 * 7 * 7, false);
    weight_row("Linear(100, 12544)", linear.weight, linear);
    nn::ConvTranspose2d up(256, 128, 5, 1, 2, 0, false);
    weight_row("ConvTranspose2d(256, 128, k5)", up.weight, up);
    nn::Conv2d down(64, 128, 5, 2, 2);
    weight_row("Conv2d(64, 128, k5, s2)", down.weight, down);
    nn::BatchNorm2d norm(128);
    weight_row("BatchNorm2d(128): gamma", norm.weight, norm);
    return 0;
}
