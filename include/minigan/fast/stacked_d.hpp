// fast/stacked_d.hpp - D's loss on the real and the fake batch in one pass of twice the size.
//
// Replaces: the two passes D(real), D(fake) of gan::discriminator_loss (gan/train_step.hpp; read
// it first). When no layer of D mixes the batch (no BatchNorm in training mode), D can see the
// real and the fake batch stacked as one batch of twice the size: half the matrix products, each
// twice as tall. The loss and the gradients are those of the two passes up to float rounding
// (tests/test_fast.cpp), with one exception: Dropout draws one mask over the 2N stacked rows
// instead of one mask over each N, so with Dropout in D the two paths agree in distribution only.
#pragma once

#include "../loss.hpp"
#include "../nn/batchnorm.hpp"
#include "../nn/module.hpp"

namespace minigan::fast {

// Does D (or a layer inside it) look at the batch as a whole? BatchNorm in training mode does:
// its output for one image depends on the others, so D(real) and D(fake) must stay two passes.
inline bool mixes_batch(const nn::Module& m) {
    if (dynamic_cast<const nn::BatchNorm*>(&m) && m.is_training()) return true;
    for (const auto& [name, child] : m.children())
        if (mixes_batch(*child)) return true;
    return false;
}

// d_loss = bce(D(x), real_label) + bce(D(G(z)), 0) from one pass of D over [real; fake], with
// D(x) and D(G(z)) as mean probabilities. D's output rows split in proportion to the images:
// one row per image, or one per pack of images (gan::Pack).
inline Var stacked_discriminator_loss(nn::Module& D, const Var& real, const Var& fake, float real_label,
                                      float& d_real, float& d_fake) {
    Var logits = D(concat(real, fake, 0));  // [real; fake]: (Nr + Nf, ...)
    const size_t images_real = static_cast<size_t>(real.shape()[0]);
    const size_t images_all = images_real + static_cast<size_t>(fake.shape()[0]);
    const size_t rows = static_cast<size_t>(logits.shape()[0]);
    const size_t rows_real = rows * images_real / images_all;
    if (rows_real * images_all != rows * images_real || rows_real == 0 || rows_real == rows)
        throw std::invalid_argument("train_step: D gives " + std::to_string(rows) + " rows for " +
                                    shape_str(real.shape()) + " real and " + shape_str(fake.shape()) +
                                    " fake images: a pack of images would mix the two");
    Var logits_real = narrow(logits, 0, 0, static_cast<int>(rows_real));
    Var logits_fake = narrow(logits, 0, static_cast<int>(rows_real), static_cast<int>(rows - rows_real));
    d_real = mean_probability(logits_real.value());
    d_fake = mean_probability(logits_fake.value());
    return bce_with_logits(logits_real, constant_like(logits_real, real_label)) +
           bce_with_logits(logits_fake, constant_like(logits_fake, 0.0f));
}

}  // namespace minigan::fast
