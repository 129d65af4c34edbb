// gan/train_step.hpp - one step of GAN training: update D on real and fake, then update G.
//
// Read loss.hpp, optim.hpp and nn/module.hpp first. This is Goodfellow et al. (2014) with the
// "non-saturating" generator loss every practical GAN uses:
//   D maximises log D(x) + log(1 - D(G(z)))  ->  d_loss = bce(D(x), 1) + bce(D(G(z)), 0)
//   G maximises log D(G(z))                  ->  g_loss = bce(D(G(z)), 1)
// (minimising log(1 - D(G(z))) instead saturates: its gradient vanishes while D wins easily).
#pragma once

#include "../loss.hpp"
#include "../nn/module.hpp"
#include "../optim.hpp"

namespace minigan::gan {

struct StepStats {
    float d_loss, g_loss;
    float d_real;  // mean D(x) as a probability: near 1 means D recognises real images
    float d_fake;  // mean D(G(z)) before D's update: near 0 means D sees through G
};

inline float mean_probability(const Tensor& logits) {
    double acc = 0.0;
    for (float v : logits.data) acc += stable_sigmoid(v);
    return static_cast<float>(acc / logits.numel());
}

// real: a batch of training images; z: a batch of latent vectors. Labels: real = 1, fake = 0.
inline StepStats train_step(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD,
                            const Var& real, const Var& z, float real_label = 1.0f) {
    Var fake = G(z);

    // 1. Discriminator: real images -> 1, generated images -> 0. detach(): no gradient into G.
    Var logits_real = D(real);
    Var logits_fake = D(fake.detach());
    Var d_loss = bce_with_logits(logits_real, constant_like(logits_real, real_label)) +
                 bce_with_logits(logits_fake, constant_like(logits_fake, 0.0f));
    optD.zero_grad();
    d_loss.backward();
    optD.step();

    // 2. Generator: make the (updated) D call the same fakes real. D is frozen for this pass:
    //    the gradient flows through D into G, but D's own weight gradients are not computed.
    D.set_requires_grad(false);
    Var logits_g = D(fake);
    Var g_loss = bce_with_logits(logits_g, constant_like(logits_g, 1.0f));
    optG.zero_grad();
    g_loss.backward();
    optG.step();
    D.set_requires_grad(true);

    return {d_loss.item(), g_loss.item(), mean_probability(logits_real.value()), mean_probability(logits_fake.value())};
}

}  // namespace minigan::gan
