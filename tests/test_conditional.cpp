// test_conditional.cpp - gan/conditional.hpp: one_hot, class_planes, the conditional inputs,
// models and training step. Run one case: ./test_conditional -tc="one_hot*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/gan/conditional.hpp>
#include <minigan/minigan.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::contains;
using gradcheck_util::gradcheck;
using gradcheck_util::thrown_message;
using V = std::vector<float>;
using Vars = std::vector<Var>;

TEST_CASE("one_hot by hand") {
    Tensor y = gan::one_hot({2, 0, 1, 2}, 3);
    CHECK(y.shape == Shape{4, 3});
    CHECK(y.data == V{0, 0, 1,    // 2
                      1, 0, 0,    // 0
                      0, 1, 0,    // 1
                      0, 0, 1});  // 2
    CHECK(gan::one_hot({}, 5).shape == Shape{0, 5});
}

TEST_CASE("one_hot refuses labels outside [0, classes), naming the label and its position") {
    CHECK(thrown_message<std::invalid_argument>([] { gan::one_hot({0, 3}, 3); }) ==
          "one_hot: label 3 (at 1) is not in [0, 3)");
    CHECK(contains(thrown_message<std::invalid_argument>([] { gan::one_hot({-1}, 3); }), "label -1"));
    CHECK_THROWS_AS(gan::one_hot({0}, 0), std::invalid_argument);
}

TEST_CASE("class_planes: plane y of each image is all ones, the others zero") {
    Tensor p = gan::class_planes({1, 0}, 2, 2, 3);  // 2 images, 2 classes, 2x3 planes
    CHECK(p.shape == Shape{2, 2, 2, 3});
    CHECK(p.data == V{0, 0, 0, 0, 0, 0,    // image 0, plane 0
                      1, 1, 1, 1, 1, 1,    // image 0, plane 1 (its class)
                      1, 1, 1, 1, 1, 1,    // image 1, plane 0 (its class)
                      0, 0, 0, 0, 0, 0});  // image 1, plane 1
}

TEST_CASE("class_rows: one class per grid row") {
    CHECK(gan::class_rows(3, 2) == std::vector<int>{0, 0, 1, 1, 2, 2});
}

TEST_CASE("generator_input appends the one-hot code to z") {
    Var z(Tensor({2, 2}, {0.5f, -1, 2, 3}));
    Var in = gan::generator_input(z, {1, 0}, 3);
    CHECK(in.shape() == Shape{2, 5});
    CHECK(in.value().data == V{0.5f, -1, 0, 1, 0,   // z row 0, then class 1
                               2, 3, 1, 0, 0});     // z row 1, then class 0
    CHECK(contains(thrown_message<std::invalid_argument>([&] { gan::generator_input(z, {1}, 3); }), "1 labels"));
}

TEST_CASE("discriminator_input: image channel first, then the class planes; gradient only to the image") {
    Var image(Tensor({1, 1, 1, 2}, {0.25f, -0.75f}), true);
    Var in = gan::discriminator_input(image, {2}, 3);
    CHECK(in.shape() == Shape{1, 4, 1, 2});
    CHECK(in.value().data == V{0.25f, -0.75f, 0, 0, 0, 0, 1, 1});
    // The same function of the image, checked numerically: the label planes are constants.
    Rng rng(3);
    gradcheck([](const Vars& v) { return gan::discriminator_input(v[0], {0, 2}, 3); }, {randn({2, 1, 3, 3}, rng)}, {},
              "discriminator_input");
    CHECK(contains(thrown_message<std::invalid_argument>([&] { gan::discriminator_input(image, {0, 1}, 3); }),
                   "2 labels"));
}

TEST_CASE("conditional models: shapes, and the class changes G's image") {
    manual_seed(5);
    const int latent = 6, classes = 10;
    auto G = gan::conditional_generator(latent, classes, 0.0625f);
    auto D = gan::conditional_discriminator(classes, 0.0625f);
    G->eval();
    Rng rng(6);
    Tensor z1 = randn({1, latent}, rng);
    Tensor z2({2, latent});
    std::copy(z1.data.begin(), z1.data.end(), z2.data.begin());
    std::copy(z1.data.begin(), z1.data.end(), z2.data.begin() + latent);  // the same z twice
    Tensor images = (*G)(gan::generator_input(Var(z2), {3, 7}, classes)).value();
    CHECK(images.shape == Shape{2, 1, 28, 28});
    double diff = 0.0;  // same z, classes 3 and 7: the images differ
    for (size_t i = 0; i < 784; ++i) diff += std::fabs(images[i] - images[784 + i]);
    CHECK(diff > 1e-3);
    Var logits = (*D)(gan::discriminator_input(Var(images), {3, 7}, classes));
    CHECK(logits.shape() == Shape{2, 1});
}

// G, a given D, their optimizers, and a batch of 4 random "images" with z: one training step's inputs.
struct StepFixture {
    static constexpr int latent = 4, classes = 10, batch = 4;
    std::shared_ptr<nn::Sequential> G, D;
    optim::Adam optG, optD;
    Var real, z;
    StepFixture(std::shared_ptr<nn::Sequential> discriminator, uint32_t seed)
        : G(gan::conditional_generator(latent, classes, 0.0625f)), D(std::move(discriminator)),
          optG(G->parameters(), 1e-3f, 0.5f, 0.999f), optD(D->parameters(), 1e-3f, 0.5f, 0.999f) {
        Rng rng(seed);
        real = Var(rand_uniform({batch, 1, 28, 28}, -1.0f, 1.0f, rng));
        z = Var(randn({batch, latent}, rng));
    }
    // One step (conditional_train_step or acgan_train_step) on labels 0 1 2 9, and what every
    // step must do: finite losses, D(x) a probability, both nets moved, D trainable afterwards.
    template <typename Step>
    gan::StepStats check_step(Step step) {
        const Tensor g_before = G->parameters()[0].value(), d_before = D->parameters()[0].value();
        gan::StepStats s = step(*G, *D, optG, optD, real, {0, 1, 2, 9}, z, classes);
        CHECK(std::isfinite(s.d_loss));
        CHECK(std::isfinite(s.g_loss));
        CHECK(s.d_real > 0.0f);
        CHECK(s.d_real < 1.0f);
        CHECK(G->parameters()[0].value().data != g_before.data);
        CHECK(D->parameters()[0].value().data != d_before.data);
        for (const Var& p : D->parameters()) CHECK(p.requires_grad());
        return s;
    }
};

TEST_CASE("conditional_train_step: finite losses, both nets move, D unfrozen afterwards") {
    manual_seed(7);
    StepFixture f(gan::conditional_discriminator(StepFixture::classes, 0.0625f), 8);
    f.check_step(gan::conditional_train_step);
    // The labels must match the batch.
    CHECK_THROWS_AS(gan::conditional_train_step(*f.G, *f.D, f.optG, f.optD, f.real, {0, 1}, f.z, StepFixture::classes),
                    std::invalid_argument);
}

// ---- AC-GAN ------------------------------------------------------------------------------

TEST_CASE("acgan_discriminator: no class input, 1 + classes outputs") {
    manual_seed(9);
    auto D = gan::acgan_discriminator(10, 0.0625f);
    Rng rng(10);
    Var out = (*D)(Var(rand_uniform({3, 1, 28, 28}, -1.0f, 1.0f, rng)));
    CHECK(out.shape() == Shape{3, 11});
    // It takes the image alone: the 11-channel input of the input-conditioned D does not fit.
    CHECK_THROWS_AS((*D)(gan::discriminator_input(Var(Tensor({3, 1, 28, 28})), {0, 1, 2}, 10)), std::invalid_argument);
}

TEST_CASE("acgan_loss = bce of column 0 + cross_entropy of the rest, by hand") {
    // Two rows, 3 classes: [source logit | 3 class scores].
    Var out(Tensor({2, 4}, {0.5f, 2.0f, 0.0f, -1.0f,  //
                            -1.0f, 0.0f, 1.0f, 0.0f}));
    const std::vector<int> labels{0, 2};
    auto softplus = [](double v) { return std::log1p(std::exp(v)); };  // bce(logit, 1) = softplus(-logit)
    auto log_softmax = [](std::vector<double> s, int y) {
        double m = *std::max_element(s.begin(), s.end()), acc = 0.0;
        for (double v : s) acc += std::exp(v - m);
        return s[y] - m - std::log(acc);
    };
    const double ce = -(log_softmax({2, 0, -1}, 0) + log_softmax({0, 1, 0}, 2)) / 2;
    const double real = (softplus(-0.5) + softplus(1.0)) / 2 + ce;  // is_real = 1
    const double fake = (softplus(0.5) + softplus(-1.0)) / 2 + ce;   // is_real = 0: bce = softplus(logit)
    CHECK(gan::acgan_loss(out, 1.0f, labels).item() == doctest::Approx(real).epsilon(1e-5));
    CHECK(gan::acgan_loss(out, 0.0f, labels).item() == doctest::Approx(fake).epsilon(1e-5));
    Rng rng(11);
    gradcheck([&](const Vars& v) { return gan::acgan_loss(v[0], 1.0f, labels); }, {randn({2, 4}, rng)}, {},
              "acgan_loss");
    CHECK(thrown_message<std::invalid_argument>([] { gan::acgan_loss(Var(Tensor({4})), 1.0f, {0, 1, 2, 3}); }) ==
          "acgan_loss: need D's output as (N, 1 + classes), got (4,) (see acgan_discriminator)");
}

TEST_CASE("acgan_train_step: finite losses, both nets move, D unfrozen; a one-logit D is refused") {
    manual_seed(12);
    StepFixture f(gan::acgan_discriminator(StepFixture::classes, 0.0625f), 13);
    gan::StepStats s = f.check_step(gan::acgan_train_step);
    // d_loss holds two source terms (log 2 each at chance) and two class terms (log 10 at chance).
    CHECK(s.d_loss > 2.0f * std::log(2.0f));
    auto one_logit = gan::dcgan_discriminator(0.0625f);
    optim::Adam opt1(one_logit->parameters(), 1e-3f);
    CHECK(contains(thrown_message<std::invalid_argument>([&] {
                       gan::acgan_train_step(*f.G, *one_logit, f.optG, opt1, f.real, {0, 1, 2, 9}, f.z, StepFixture::classes);
                   }),
                   "need D's output as (N, 1 + classes), got (4, 1)"));
}

TEST_CASE("acgan: D's class scores learn the labels of real images") {
    // Two fixed images, labelled 3 and 8: a few D steps on acgan_loss alone and D names them right.
    manual_seed(14);
    auto D = gan::acgan_discriminator(10, 0.0625f);
    optim::Adam opt(D->parameters(), 1e-2f);
    Rng rng(15);
    Var images(rand_uniform({2, 1, 28, 28}, -1.0f, 1.0f, rng));
    const std::vector<int> labels{3, 8};
    float first = 0.0f, last = 0.0f;
    for (int step = 0; step < 30; ++step) {
        Var loss = gan::acgan_loss((*D)(images), 1.0f, labels);
        if (step == 0) first = loss.item();
        last = loss.item();
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
    CHECK(last < 0.25f * first);
    D->eval();
    Tensor out = (*D)(images).value();
    auto named_class = [&](int row) {  // the class with the highest score, columns 1..10 of the row
        const float* scores = out.ptr() + row * 11 + 1;
        return static_cast<int>(std::max_element(scores, scores + 10) - scores);
    };
    CHECK(named_class(0) == 3);
    CHECK(named_class(1) == 8);
}
