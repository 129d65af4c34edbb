// gan/train_step.hpp - one step of GAN training: update D on real and fake, then update G.
//
// Read loss.hpp, optim.hpp and nn/module.hpp first. This is Goodfellow et al. (2014) with the
// "non-saturating" generator loss that paper recommends in practice and DCGAN uses:
//   D maximises log D(x) + log(1 - D(G(z)))  ->  d_loss = bce(D(x), 1) + bce(D(G(z)), 0)
//   G maximises log D(G(z))                  ->  g_loss = bce(D(G(z)), 1)
// (minimising log(1 - D(G(z))) instead saturates: its gradient vanishes while D wins easily).
#pragma once

#include "../dispatch.hpp"
#include "../loss.hpp"
#include "../nn/module.hpp"
#include "../optim.hpp"

#ifndef MINIGAN_REFERENCE
#include "../fast/stacked_d.hpp"  // fast::stacked_discriminator_loss: D(real) and D(fake) in one pass
#include "../fast/team.hpp"        // fast::on_team: the whole step in one parallel region
#endif

namespace minigan::gan {

struct StepStats {
    float d_loss, g_loss;
    float d_real;  // mean D(x) as a probability: near 1 means D recognises real images
    float d_fake;  // mean D(G(z)) before D's update: near 0 means D sees through G
};

// d_loss = bce(D(real), real_label) + bce(D(fake), 0): one pass of D over each batch.
// d_real, d_fake: D's mean probability of "real" on each (the log's D(x) and D(G(z))).
inline Var discriminator_loss(nn::Module& D, const Var& real, const Var& fake, float real_label, float& d_real,
                              float& d_fake) {
#ifndef MINIGAN_REFERENCE
    if (fast_path() && !fast::mixes_batch(D)) return fast::stacked_discriminator_loss(D, real, fake, real_label, d_real, d_fake);
#endif
    Var logits_real = D(real);
    Var logits_fake = D(fake);
    d_real = mean_probability(logits_real.value());
    d_fake = mean_probability(logits_fake.value());
    return bce_with_logits(logits_real, constant_like(logits_real, real_label)) +
           bce_with_logits(logits_fake, constant_like(logits_fake, 0.0f));
}

// real: a batch of training images; z: a batch of latent vectors. Labels: real = real_label
// (1, or 0.9 for one-sided label smoothing), fake = 0.
inline StepStats train_step(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD,
                            const Var& real, const Var& z, float real_label = 1.0f) {
#ifndef MINIGAN_REFERENCE
    // Fast path: this same function, run once more on a team of threads (fast/team.hpp).
    if (fast::team_wanted())
        return fast::on_team([&] { return train_step(G, D, optG, optD, real, z, real_label); });
#endif
    // EXERCISE E11 begin
    Var fake = G(z);

    // 1. Discriminator: real images -> 1, generated images -> 0. detach(): no gradient into G.
    //    In its own scope: D's graph (activations and their gradients) is freed before the G pass.
    float d_loss_value, d_real, d_fake;
    {
        Var d_loss = discriminator_loss(D, real, fake.detach(), real_label, d_real, d_fake);
        optD.zero_grad();
        d_loss.backward();
        optD.step();
        d_loss_value = d_loss.item();
    }

    // 2. Generator: make the (updated) D call the same fakes real. D is frozen for this pass:
    //    the gradient flows through D into G, but D's own weight gradients are not computed.
    D.set_requires_grad(false);
    Var logits_g = D(fake);
    Var g_loss = bce_with_logits(logits_g, constant_like(logits_g, 1.0f));
    optG.zero_grad();
    g_loss.backward();
    optG.step();
    D.set_requires_grad(true);

    return {d_loss_value, g_loss.item(), d_real, d_fake};
    // EXERCISE E11 end
}

}  // namespace minigan::gan
