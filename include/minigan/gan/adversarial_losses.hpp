// gan/adversarial_losses.hpp - the five GAN losses the 2D toy GAN compares, as (D loss, G loss)
// pairs of D's raw outputs ("logits" or "scores") on real and generated samples.
//
// Read loss.hpp and gan/train_step.hpp first. r = D(x) on real samples, f = D(G(z)) on fakes.
//   minimax (Goodfellow et al. 2014):  D: bce(r, 1) + bce(f, 0)        G: -bce(f, 0) = E log(1 - sigmoid(f))
//     G's gradient -sigmoid(f) vanishes exactly where D rejects the fakes: it saturates.
//   non-saturating (the same paper):   D: as minimax                    G: bce(f, 1) = -E log sigmoid(f)
//   least squares (LSGAN, Mao et al. 2017, a=0 b=c=1): D: (E (r-1)^2 + E f^2) / 2     G: E (f-1)^2 / 2
//   hinge (Lim & Ye 2017; Miyato et al. 2018): D: E relu(1 - r) + E relu(1 + f)       G: -E f
//   Wasserstein (Arjovsky et al. 2017): D ("critic"): E f - E r                      G: -E f
//     D must be 1-Lipschitz; the paper clips every weight of D to [-c, c] after each step
//     (clip_weights below, c = 0.01).
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>

#include "../activations.hpp"
#include "../loss.hpp"
#include "../nn/module.hpp"
#include "../ops.hpp"

namespace minigan::gan {

enum class AdversarialLoss { minimax, non_saturating, least_squares, hinge, wasserstein };

inline AdversarialLoss adversarial_loss_from_name(const std::string& name) {
    if (name == "minimax") return AdversarialLoss::minimax;
    if (name == "ns" || name == "non-saturating") return AdversarialLoss::non_saturating;
    if (name == "ls" || name == "least-squares") return AdversarialLoss::least_squares;
    if (name == "hinge") return AdversarialLoss::hinge;
    if (name == "wgan" || name == "wasserstein") return AdversarialLoss::wasserstein;
    throw std::invalid_argument("unknown GAN loss '" + name + "' (minimax, ns, ls, hinge, wgan)");
}

// True for the losses whose D output is a logit: sigmoid(D(x)) is then D's probability of "real".
inline bool has_probability(AdversarialLoss loss) {
    return loss == AdversarialLoss::minimax || loss == AdversarialLoss::non_saturating;
}

// D's loss for real-sample outputs r and fake-sample outputs f (any shape, each averaged).
inline Var discriminator_loss(AdversarialLoss loss, const Var& r, const Var& f) {
    switch (loss) {
        case AdversarialLoss::minimax:
        case AdversarialLoss::non_saturating:
            return bce_with_logits(r, constant_like(r, 1.0f)) + bce_with_logits(f, constant_like(f, 0.0f));
        case AdversarialLoss::least_squares:
            return 0.5f * (mse(r, constant_like(r, 1.0f)) + mse(f, constant_like(f, 0.0f)));
        case AdversarialLoss::hinge: return mean(relu(1.0f - r)) + mean(relu(1.0f + f));
        case AdversarialLoss::wasserstein: return mean(f) - mean(r);
    }
    throw std::logic_error("discriminator_loss: unknown loss");
}

// G's loss for the fake-sample outputs f of D.
inline Var generator_loss(AdversarialLoss loss, const Var& f) {
    switch (loss) {
        case AdversarialLoss::minimax: return -bce_with_logits(f, constant_like(f, 0.0f));  // E log(1 - sigmoid(f))
        case AdversarialLoss::non_saturating: return bce_with_logits(f, constant_like(f, 1.0f));
        case AdversarialLoss::least_squares: return 0.5f * mse(f, constant_like(f, 1.0f));
        case AdversarialLoss::hinge:
        case AdversarialLoss::wasserstein: return -mean(f);
    }
    throw std::logic_error("generator_loss: unknown loss");
}

// WGAN's Lipschitz constraint: every parameter of D clamped to [-c, c] in place.
inline void clip_weights(nn::Module& D, float c) {
    for (Var p : D.parameters())
        for (float& w : p.value().data) w = std::clamp(w, -c, c);
}

}  // namespace minigan::gan
