// gan/conditional.hpp - a class-conditional DCGAN (Mirza & Osindero 2014): "draw me a 7".
//
// Read gan/models.hpp and gan/train_step.hpp first. Both networks are told the class y:
//   G(z, y): z (N, latent) and one_hot(y) (N, classes) side by side -> (N, latent + classes),
//            then the DCGAN generator; its first Linear mixes noise and class.
//   D(x, y): the image (N, 1, 28, 28) with `classes` extra channels: channel y all ones, the
//            others all zeros -> (N, 1 + classes, 28, 28), then the DCGAN discriminator.
// D now judges "is this a real image OF CLASS y?": a sharp 3 offered as a 7 is fake, so G can
// only win by drawing the class it was asked for. The losses are those of train_step.hpp.
// The models are the DCGAN's with wider inputs, so their state_dict names are the same.
//
// AC-GAN (Odena et al. 2017), the other common recipe, at the end of this file: G is the same,
// but D is NOT told y; it must name the class itself. D(x) -> (N, 1 + classes): a real/fake
// logit and a score per class. Both players are rewarded when D names the class G was asked
// for, so G learns to draw classes D cannot mistake: fewer in-between images, less variety.
#pragma once

#include "../ops.hpp"
#include "models.hpp"
#include "train_step.hpp"

namespace minigan::gan {

// labels (N,) with values in [0, classes) -> (N, classes): row n is 1 at column labels[n], 0 elsewhere.
inline Tensor one_hot(const std::vector<int>& labels, int classes) {
    if (classes < 1) throw std::invalid_argument("one_hot: need classes >= 1, got " + std::to_string(classes));
    Tensor y({static_cast<int>(labels.size()), classes});
    for (size_t n = 0; n < labels.size(); ++n) {
        if (labels[n] < 0 || labels[n] >= classes)
            throw std::invalid_argument("one_hot: label " + std::to_string(labels[n]) + " (at " + std::to_string(n) +
                                        ") is not in [0, " + std::to_string(classes) + ")");
        y[n * classes + labels[n]] = 1.0f;
    }
    return y;
}

// The one-hot code spread over the image: (N, classes, height, width), plane labels[n] of image n
// all ones, every other plane zeros.
inline Tensor class_planes(const std::vector<int>& labels, int classes, int height, int width) {
    Tensor code = one_hot(labels, classes);
    Tensor planes({static_cast<int>(labels.size()), classes, height, width});
    const size_t plane = static_cast<size_t>(height) * width;
    for (size_t n = 0; n < labels.size(); ++n) {
        float* first = planes.ptr() + (n * classes + labels[n]) * plane;
        std::fill(first, first + plane, 1.0f);
    }
    return planes;
}

// G's input: z (N, latent) -> (N, latent + classes), the class code after the noise.
inline Var generator_input(const Var& z, const std::vector<int>& labels, int classes) {
    if (z.value().dim() != 2 || z.shape()[0] != static_cast<int>(labels.size()))
        throw std::invalid_argument("generator_input: z " + shape_str(z.shape()) + " needs shape (N, latent) with N = " +
                                    std::to_string(labels.size()) + " labels");
    return concat(z, Var(one_hot(labels, classes)), 1);
}

// D's input: images (N, 1, H, W) -> (N, 1 + classes, H, W). The class planes are constants:
// the gradient flows only into the image channel (into G, for generated images).
inline Var discriminator_input(const Var& images, const std::vector<int>& labels, int classes) {
    if (images.value().dim() != 4 || images.shape()[0] != static_cast<int>(labels.size()))
        throw std::invalid_argument("discriminator_input: images " + shape_str(images.shape()) +
                                    " need shape (N, C, H, W) with N = " + std::to_string(labels.size()) + " labels");
    return concat(images, Var(class_planes(labels, classes, images.shape()[2], images.shape()[3])), 1);
}

// G: (N, latent + classes) -> image (N, 1, 28, 28). Feed it generator_input(z, labels, classes).
inline std::shared_ptr<nn::Sequential> conditional_generator(int latent = 100, int classes = 10, float width = 1.0f) {
    return dcgan_generator(latent + classes, width);
}

// D: (N, 1 + classes, 28, 28) -> logit (N, 1). Feed it discriminator_input(images, labels, classes).
inline std::shared_ptr<nn::Sequential> conditional_discriminator(int classes = 10, float width = 1.0f) {
    return dcgan_discriminator(width, 1 + classes);
}

// Labels for a sample grid: `per_class` copies of each class in turn, 0 0 0 1 1 1 2 ..., so a
// grid `per_class` wide shows one class per row.
inline std::vector<int> class_rows(int classes, int per_class) {
    std::vector<int> labels;
    for (int c = 0; c < classes; ++c) labels.insert(labels.end(), per_class, c);
    return labels;
}

// One conditional step, train_step() with the class passed along: D learns real (x, y) -> 1 and
// (G(z, y), y) -> 0; then G, with D frozen, learns to make D say 1 for (G(z, y), y). The fakes
// are asked for the labels of the real batch, so both halves of D's batch hold the same classes.
inline StepStats conditional_train_step(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD,
                                        const Var& real, const std::vector<int>& labels, const Var& z, int classes) {
    Var fake = G(generator_input(z, labels, classes));

    // 1. Discriminator. detach(): D's loss sends no gradient into G.
    Var logits_real = D(discriminator_input(real, labels, classes));
    Var logits_fake = D(discriminator_input(fake.detach(), labels, classes));
    Var d_loss = bce_with_logits(logits_real, constant_like(logits_real, 1.0f)) +
                 bce_with_logits(logits_fake, constant_like(logits_fake, 0.0f));
    optD.zero_grad();
    d_loss.backward();
    optD.step();

    // 2. Generator, with D frozen: the gradient flows through D into G's image only.
    D.set_requires_grad(false);
    Var logits_g = D(discriminator_input(fake, labels, classes));
    Var g_loss = bce_with_logits(logits_g, constant_like(logits_g, 1.0f));
    optG.zero_grad();
    g_loss.backward();
    optG.step();
    D.set_requires_grad(true);

    return {d_loss.item(), g_loss.item(), mean_probability(logits_real.value()), mean_probability(logits_fake.value())};
}

// ---- AC-GAN: D names the class ---------------------------------------------------------

// D: image (N, 1, 28, 28) -> (N, 1 + classes): column 0 the real/fake logit, columns 1.. the
// class scores (logits of a softmax). The DCGAN discriminator with 1 + classes outputs.
inline std::shared_ptr<nn::Sequential> acgan_discriminator(int classes = 10, float width = 1.0f) {
    return dcgan_discriminator(width, 1, 1, 1 + classes);
}

// The two parts of an AC-GAN D output (N, 1 + classes), as losses against what they should say:
//   bce(source logit, is_real) + cross_entropy(class scores, labels).
inline Var acgan_loss(const Var& out, float is_real, const std::vector<int>& labels) {
    if (out.value().dim() != 2 || out.shape()[1] < 2)
        throw std::invalid_argument("acgan_loss: need D's output as (N, 1 + classes), got " + shape_str(out.shape()) +
                                    " (see acgan_discriminator)");
    const int classes = out.shape()[1] - 1;
    Var source = narrow(out, 1, 0, 1), class_scores = narrow(out, 1, 1, classes);
    return bce_with_logits(source, constant_like(source, is_real)) + cross_entropy(class_scores, labels);
}

// One AC-GAN step (the paper's L_S, source, and L_C, class):
//   D maximises L_S + L_C:  d_loss = bce(src(x), 1) + ce(cls(x), y) + bce(src(G(z, y)), 0) + ce(cls(G(z, y)), y)
//   G maximises L_C - L_S:  g_loss = bce(src(G(z, y)), 1) + ce(cls(G(z, y)), y)
// D learns to classify real images AND the fakes, so a fake of the wrong class costs G twice.
// The returned D(x) and D(G(z)) are the source parts, as in conditional_train_step.
inline StepStats acgan_train_step(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD,
                                  const Var& real, const std::vector<int>& labels, const Var& z, int classes) {
    Var fake = G(generator_input(z, labels, classes));

    // 1. Discriminator, on real and (detached) fake images; it sees no labels, only its targets.
    Var out_real = D(real), out_fake = D(fake.detach());  // acgan_loss checks their shape
    Var d_loss = acgan_loss(out_real, 1.0f, labels) + acgan_loss(out_fake, 0.0f, labels);
    optD.zero_grad();
    d_loss.backward();
    optD.step();

    // 2. Generator, with D frozen: look real, and be named as the class asked for.
    D.set_requires_grad(false);
    Var g_loss = acgan_loss(D(fake), 1.0f, labels);
    optG.zero_grad();
    g_loss.backward();
    optG.step();
    D.set_requires_grad(true);

    return {d_loss.item(), g_loss.item(), mean_probability(narrow(out_real, 1, 0, 1).value()),
            mean_probability(narrow(out_fake, 1, 0, 1).value())};
}

}  // namespace minigan::gan
