// gan/models.hpp - the reference GAN models: the MLP "vanilla" GAN and the TensorFlow-tutorial DCGAN.
//
// Read nn/ first. These are exactly the models of docs/models.md (and of the PyTorch peer
// benchmark), so speed and quality numbers compare like with like. `width` scales every
// hidden layer (1 = the reference; 0.25 = a 16x cheaper net for a quick demo).
#pragma once

#include "../nn/batchnorm.hpp"
#include "../nn/conv_layers.hpp"
#include "../nn/init.hpp"
#include "../nn/layers.hpp"
#include "../nn/linear.hpp"

namespace minigan::gan {

inline int scaled(int channels, float width) { return std::max(1, static_cast<int>(std::lround(channels * width))); }

// vanilla G: z (N, latent) -> image (N, 784) in [-1, 1].
inline std::shared_ptr<nn::Sequential> vanilla_generator(int latent = 100, float width = 1.0f, int pixels = 784) {
    using namespace nn;
    int h1 = scaled(256, width), h2 = scaled(512, width), h3 = scaled(1024, width);
    return make<Sequential>(make<Linear>(latent, h1), make<LeakyReLU>(0.2f), make<Linear>(h1, h2), make<LeakyReLU>(0.2f),
                            make<Linear>(h2, h3), make<LeakyReLU>(0.2f), make<Linear>(h3, pixels), make<Tanh>());
}

// vanilla D: image (N, 784) -> logit (N, 1). No sigmoid: the loss is bce_with_logits.
inline std::shared_ptr<nn::Sequential> vanilla_discriminator(float width = 1.0f, int pixels = 784) {
    using namespace nn;
    int h1 = scaled(1024, width), h2 = scaled(512, width), h3 = scaled(256, width);
    return make<Sequential>(make<Linear>(pixels, h1), make<LeakyReLU>(0.2f), make<Dropout>(0.3f),
                            make<Linear>(h1, h2), make<LeakyReLU>(0.2f), make<Dropout>(0.3f),
                            make<Linear>(h2, h3), make<LeakyReLU>(0.2f), make<Dropout>(0.3f), make<Linear>(h3, 1));
}

// DCGAN G: z (N, latent) -> Linear -> (c1, 7, 7) -> 7x7 -> 14x14 -> 28x28 image (N, 1, 28, 28).
// Channels c1, c2, c3 = 256, 128, 64 at width 1. No biases before BatchNorm (it would cancel them).
inline std::shared_ptr<nn::Sequential> dcgan_generator(int latent = 100, float width = 1.0f, int out_channels = 1) {
    using namespace nn;
    int c1 = scaled(256, width), c2 = scaled(128, width), c3 = scaled(64, width);
    auto G = make<Sequential>(
        make<Linear>(latent, c1 * 7 * 7, false), make<BatchNorm1d>(c1 * 7 * 7), make<LeakyReLU>(0.2f),
        make<Reshape>(Shape{c1, 7, 7}),
        make<ConvTranspose2d>(c1, c2, 5, 1, 2, 0, false), make<BatchNorm2d>(c2), make<LeakyReLU>(0.2f),   // 7x7
        make<ConvTranspose2d>(c2, c3, 5, 2, 2, 1, false), make<BatchNorm2d>(c3), make<LeakyReLU>(0.2f),   // 14x14
        make<ConvTranspose2d>(c3, out_channels, 5, 2, 2, 1, false), make<Tanh>());                       // 28x28
    dcgan_init(*G);
    return G;
}

// PacGAN (Lin et al. 2018): D judges k images at once, stacked as channels,
//   (N, C, H, W) -> (N/k, k*C, H, W): images k*i, ..., k*i + k-1 become one input.
// A generator that drops a mode (makes few 6s, say) produces packs with too little variety, which
// a packed D can notice and a one-image D cannot; so packing counters mode dropping, and D runs on
// N/k inputs instead of N. A pure view of the same memory: the gradient passes back unchanged.
struct Pack : nn::Module {
    explicit Pack(int k) : k(k) {
        if (k < 1) throw std::invalid_argument("Pack: need k >= 1, got " + std::to_string(k));
    }
    Var forward(const Var& x) override {
        const Shape& s = x.shape();
        if (s.size() != 4 || s[0] % k != 0)
            throw std::invalid_argument("Pack(" + std::to_string(k) + "): need (N, C, H, W) with N a multiple of " +
                                        std::to_string(k) + ", got " + shape_str(s));
        return reshape(x, {s[0] / k, s[1] * k, s[2], s[3]});
    }
    std::string name() const override { return "Pack(" + std::to_string(k) + ")"; }
    int k;
};

// DCGAN D: image (N, 1, 28, 28) -> 14x14 -> 7x7 -> logit (N, 1).
// Layer 3 (after the first conv block) and layer 6 (after the second) are feature maps AnoGAN can use.
// pack > 1: PacGAN's D, a Pack(pack) layer first (so one index later for every layer) and one
// logit per pack of images, (N/pack, 1). outputs > 1: that many numbers per input instead of
// one logit (AC-GAN's D, gan/conditional.hpp: the logit and a score per class).
inline std::shared_ptr<nn::Sequential> dcgan_discriminator(float width = 1.0f, int in_channels = 1, int pack = 1,
                                                           int outputs = 1) {
    using namespace nn;
    int c1 = scaled(64, width), c2 = scaled(128, width);
    auto D = make<Sequential>();
    if (pack > 1) D->add(make<Pack>(pack));
    D->add(make<Conv2d>(in_channels * pack, c1, 5, 2, 2)).add(make<LeakyReLU>(0.2f)).add(make<Dropout>(0.3f));  // 14x14
    D->add(make<Conv2d>(c1, c2, 5, 2, 2)).add(make<LeakyReLU>(0.2f)).add(make<Dropout>(0.3f));               // 7x7
    D->add(make<Flatten>()).add(make<Linear>(c2 * 7 * 7, outputs));
    dcgan_init(*D);
    return D;
}

}  // namespace minigan::gan
