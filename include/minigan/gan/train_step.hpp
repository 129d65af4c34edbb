// gan/train_step.hpp - one step of GAN training: update D on real and fake, then update G.
//
// Read loss.hpp, optim.hpp and nn/module.hpp first. This is Goodfellow et al. (2014) with the
// "non-saturating" generator loss every practical GAN uses:
//   D maximises log D(x) + log(1 - D(G(z)))  ->  d_loss = bce(D(x), 1) + bce(D(G(z)), 0)
//   G maximises log D(G(z))                  ->  g_loss = bce(D(G(z)), 1)
// (minimising log(1 - D(G(z))) instead saturates: its gradient vanishes while D wins easily).
#pragma once

#include "../loss.hpp"
#include "../nn/batchnorm.hpp"
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

// Does D (or a layer inside it) look at the batch as a whole? BatchNorm in training mode does:
// its output for one image depends on the others, so D(real) and D(fake) must stay two passes.
inline bool mixes_batch(const nn::Module& m) {
    if (dynamic_cast<const nn::BatchNorm*>(&m) && m.is_training()) return true;
    for (const auto& [name, child] : m.children())
        if (mixes_batch(*child)) return true;
    return false;
}

// (Na, ...) and (Nb, ...) -> (Na + Nb, ...): two batches as one; the gradient is cut back in two.
inline Var stack_batches(const Var& a, const Var& b) {
    Shape sa = a.shape(), sb = b.shape();
    if (sa.empty() || sb.size() != sa.size() || !std::equal(sa.begin() + 1, sa.end(), sb.begin() + 1))
        throw std::invalid_argument("stack_batches: " + shape_str(sa) + " and " + shape_str(sb) +
                                    " differ beyond the batch dimension");
    Shape sy = sa;
    sy[0] += sb[0];
    Tensor y(sy);
    std::copy(a.value().data.begin(), a.value().data.end(), y.data.begin());
    std::copy(b.value().data.begin(), b.value().data.end(), y.data.begin() + a.numel());
    const size_t na = a.numel();
    return make_result(std::move(y), {a, b}, [na](Node& out) {
        for (size_t p = 0; p < 2; ++p)
            if (Tensor* d = parent_grad(out, p))
                for (size_t i = 0; i < d->numel(); ++i) (*d)[i] += out.grad[(p == 0 ? 0 : na) + i];
    });
}

// D's loss on one stacked batch of logits, the first n_real for real images (target real_label),
// the rest for fakes (target 0): mean bce over the real rows + mean bce over the fake rows,
// exactly bce_with_logits(real part) + bce_with_logits(fake part) (loss.hpp has the formulas).
inline Var stacked_d_loss(const Var& logits, size_t n_real, float real_label) {
    const Tensor& x = logits.value();
    const size_t n = x.numel(), n_fake = n - n_real;
    if (n_real == 0 || n_fake == 0) throw std::invalid_argument("stacked_d_loss: need real and fake rows");
    auto target = [=](size_t i) { return i < n_real ? real_label : 0.0f; };
    double acc_real = 0.0, acc_fake = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double l = std::max(x[i], 0.0f) - x[i] * target(i) + std::log1p(std::exp(-std::fabs(x[i])));
        (i < n_real ? acc_real : acc_fake) += l;
    }
    const float value = static_cast<float>(acc_real / n_real) + static_cast<float>(acc_fake / n_fake);
    return make_result(Tensor({}, value), {logits}, [=](Node& out) {
        if (Tensor* dx = parent_grad(out, 0)) {
            const Tensor& x = out.parents[0]->value;
            const float g_real = out.grad[0] / static_cast<float>(n_real), g_fake = out.grad[0] / static_cast<float>(n_fake);
            for (size_t i = 0; i < n; ++i) (*dx)[i] += (i < n_real ? g_real : g_fake) * (stable_sigmoid(x[i]) - target(i));
        }
    });
}

// real: a batch of training images; z: a batch of latent vectors. Labels: real = 1, fake = 0.
// When no layer of D mixes the batch (no BatchNorm), D sees the real and the fake batch as one
// batch of twice the size: the same loss and gradients as two passes (up to float rounding),
// with half the matrix products, each twice as tall (faster: docs/performance.md).
inline StepStats train_step(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD,
                            const Var& real, const Var& z, float real_label = 1.0f) {
    Var fake = G(z);

    // 1. Discriminator: real images -> 1, generated images -> 0. detach(): no gradient into G.
    //    In its own scope: D's graph (activations and their gradients) is freed before the G pass.
    float d_loss_value, d_real, d_fake;
    {
        Var d_loss;
        if (!mixes_batch(D)) {
            Var logits = D(stack_batches(real, fake.detach()));
            // D's rows split in proportion: one per image, or one per pack of images (gan::Pack).
            const size_t images_real = static_cast<size_t>(real.shape()[0]);
            const size_t images_all = images_real + static_cast<size_t>(fake.shape()[0]);
            const size_t n_real = logits.numel() * images_real / images_all;
            if (n_real * images_all != logits.numel() * images_real)
                throw std::invalid_argument("train_step: D gives " + std::to_string(logits.numel()) + " rows for " +
                                            shape_str(real.shape()) + " real and " + shape_str(fake.shape()) +
                                            " fake images: a pack of images would mix the two");
            d_loss = stacked_d_loss(logits, n_real, real_label);
            const std::vector<float>& l = logits.value().data;
            d_real = mean_probability(Tensor({static_cast<int>(n_real)}, std::vector<float>(l.begin(), l.begin() + n_real)));
            d_fake = mean_probability(Tensor({static_cast<int>(l.size() - n_real)}, std::vector<float>(l.begin() + n_real, l.end())));
        } else {
            Var logits_real = D(real);
            Var logits_fake = D(fake.detach());
            d_loss = bce_with_logits(logits_real, constant_like(logits_real, real_label)) +
                     bce_with_logits(logits_fake, constant_like(logits_fake, 0.0f));
            d_real = mean_probability(logits_real.value());
            d_fake = mean_probability(logits_fake.value());
        }
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
}

}  // namespace minigan::gan
