// test_loss.cpp - bce, bce_with_logits, mse: values by hand, the numerically hard corners
// (logits +-100 with the wrong label, p = 0 or 1), gradient checks for input and target,
// and the errors.
// Run one case: ./test_loss -tc="bce_with_logits*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/core.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::contains;
using gradcheck_util::gradcheck;
using gradcheck_util::thrown_message;
using V = std::vector<float>;
using Vars = std::vector<Var>;

static Var leaf(V values, bool requires_grad = true) {
    Shape s{static_cast<int>(values.size())};
    return Var(Tensor(s, std::move(values)), requires_grad);
}

TEST_CASE("bce by hand") {
    // p = (0.8, 0.3), t = (1, 0): -(ln 0.8 + ln 0.7) / 2 = (0.2231436 + 0.3566749) / 2 = 0.2899092
    Var p = leaf({0.8f, 0.3f}), t = leaf({1, 0}, false);
    Var loss = bce(p, t);
    CHECK(loss.shape() == Shape{});
    CHECK(loss.item() == doctest::Approx(0.2899092));
    // dloss/dp = (p - t) / (p (1 - p)) / n: (-0.2 / 0.16) / 2 = -0.625, (0.3 / 0.21) / 2 = 0.7142857
    loss.backward();
    CHECK(p.grad()[0] == doctest::Approx(-0.625));
    CHECK(p.grad()[1] == doctest::Approx(0.7142857));
}

TEST_CASE("bce_with_logits by hand, and equal to bce(sigmoid(x))") {
    // x = (0, 2), t = (1, 0): x = 0 gives ln 2 = 0.6931472; x = 2, t = 0 gives 2 + ln(1 + e^-2) = 2.1269280
    Var x = leaf({0, 2}), t = leaf({1, 0}, false);
    Var loss = bce_with_logits(x, t);
    CHECK(loss.item() == doctest::Approx((0.6931472 + 2.1269280) / 2));
    // dloss/dx = (sigmoid(x) - t) / n: (0.5 - 1) / 2 = -0.25, (0.8807971 - 0) / 2 = 0.4403985
    loss.backward();
    CHECK(x.grad()[0] == doctest::Approx(-0.25));
    CHECK(x.grad()[1] == doctest::Approx(0.4403985));

    Rng rng(41);
    Var z(randn({3, 4}, rng, 0.0f, 3.0f)), labels(rand_uniform({3, 4}, 0.0f, 1.0f, rng));
    CHECK(bce_with_logits(z, labels).item() == doctest::Approx(bce(sigmoid(z), labels).item()).epsilon(1e-5));
}

TEST_CASE("mse by hand") {
    // x = (1, 2, 3), t = (1, 0, 5): (0 + 4 + 4) / 3 = 2.6666667
    Var x = leaf({1, 2, 3}), t = leaf({1, 0, 5});
    Var loss = mse(x, t);
    CHECK(loss.item() == doctest::Approx(8.0 / 3.0));
    // dloss/dx = 2 (x - t) / n = (0, 4/3, -4/3) and dloss/dt = -dloss/dx
    loss.backward();
    CHECK(x.grad()[0] == 0.0f);
    CHECK(x.grad()[1] == doctest::Approx(4.0 / 3.0));
    CHECK(x.grad()[2] == doctest::Approx(-4.0 / 3.0));
    CHECK(t.grad()[1] == doctest::Approx(-4.0 / 3.0));
    CHECK(t.grad()[2] == doctest::Approx(4.0 / 3.0));
}

TEST_CASE("bce_with_logits at logits +-100 with the wrong labels: loss ~100, gradient +-1/n, no inf/NaN") {
    // A confidently wrong discriminator: sigmoid(100) = 1 for a fake (t = 0), sigmoid(-100) = 3.7e-44
    // for a real (t = 1). Each costs exactly 100 (max(x, 0) - x t + log(1 + e^-100)).
    Var x = leaf({100, -100}), t = leaf({0, 1}, false);
    Var loss = bce_with_logits(x, t);
    CHECK(std::isfinite(loss.item()));
    CHECK(loss.item() == doctest::Approx(100.0));
    loss.backward();  // (sigmoid(x) - t) / 2 = (1 - 0) / 2, (0 - 1) / 2
    CHECK(x.grad()[0] == doctest::Approx(0.5));
    CHECK(x.grad()[1] == doctest::Approx(-0.5));
    // Right labels: loss ~0, gradients ~0.
    Var x2 = leaf({100, -100}), t2 = leaf({1, 0}, false);
    Var right = bce_with_logits(x2, t2);
    CHECK(right.item() == doctest::Approx(0.0));
    right.backward();
    CHECK(std::fabs(x2.grad()[0]) < 1e-30f);
    CHECK(std::fabs(x2.grad()[1]) < 1e-30f);
}

TEST_CASE("bce clamps log at -100 as PyTorch: p = 0 with label 1 costs 100, not inf") {
    Var p = leaf({0, 1}), t = leaf({1, 0}, false);
    Var loss = bce(p, t);
    CHECK(loss.item() == doctest::Approx(100.0));  // (100 + 100) / 2
    loss.backward();
    for (float g : p.grad().data) CHECK(std::isfinite(g));
    Var right = bce(leaf({0, 1}, false), leaf({0, 1}, false));
    CHECK(right.item() == 0.0f);
}

TEST_CASE("bce on a value outside [0, 1] throws and suggests bce_with_logits") {
    Var t = leaf({1}, false);
    std::string msg = thrown_message<std::domain_error>([&] { bce(leaf({1.5f}), t); });
    CHECK(contains(msg, "bce: input must be probabilities in [0, 1], got 1.5"));
    CHECK(contains(msg, "bce_with_logits"));
    CHECK_THROWS_AS(bce(leaf({-0.1f}), t), std::domain_error);
    CHECK_THROWS_AS(bce(leaf({std::nanf("")}), t), std::domain_error);
}

TEST_CASE("losses refuse input and target of different shapes, naming both, and empty inputs") {
    Var a(Tensor({4, 1}, 0.5f)), b(Tensor({4}, 0.5f));
    CHECK(thrown_message<std::invalid_argument>([&] { bce(a, b); }) ==
          "bce: input (4, 1) and target (4,) must have the same shape");
    CHECK(thrown_message<std::invalid_argument>([&] { bce_with_logits(a, b); }) ==
          "bce_with_logits: input (4, 1) and target (4,) must have the same shape");
    CHECK(thrown_message<std::invalid_argument>([&] { mse(a, b); }) ==
          "mse: input (4, 1) and target (4,) must have the same shape");
    CHECK(thrown_message<std::invalid_argument>([&] { mse(Var(Tensor({0})), Var(Tensor({0}))); }) == "mse: empty input");
}

TEST_CASE("constant_like gives labels of the input's shape") {
    Var x(Tensor({3, 1}));
    Var ones_ = constant_like(x, 1.0f);
    CHECK(ones_.shape() == Shape{3, 1});
    CHECK(ones_.value().data == V{1, 1, 1});
    CHECK_FALSE(ones_.requires_grad());
}

TEST_CASE("gradcheck: bce with respect to the probabilities and the target") {
    Rng rng(42);
    Tensor p = rand_uniform({3, 4}, 0.1f, 0.9f, rng);  // eps = 0.01 keeps p inside (0, 1)
    Tensor t = rand_uniform({3, 4}, 0.0f, 1.0f, rng);  // soft labels
    // log p is strongly curved near 0 (third derivative 2/p^3 = 2000 at p = 0.1): the default
    // eps = 1e-2 would leave a truncation error of ~6e-4, too close to the tolerance. With a
    // smaller step it is ~2e-5; the loss is a mean of 12 terms, so rounding stays ~1e-5.
    gradcheck_util::Options small_step;
    small_step.eps = 2e-3;
    gradcheck([](const Vars& v) { return bce(v[0], v[1]); }, {p, t}, small_step, "bce");
    // Hard labels, constant target (requires_grad off): only dp is computed.
    Tensor hard({3, 4});
    for (size_t i = 0; i < hard.numel(); ++i) hard[i] = static_cast<float>(i % 2);
    gradcheck_util::Options only_p = small_step;
    only_p.check = {true, false};
    gradcheck([](const Vars& v) { return bce(v[0], v[1]); }, {p, hard}, only_p, "bce, hard labels");
}

TEST_CASE("gradcheck: bce_with_logits with respect to the logits and the target") {
    Rng rng(43);
    Tensor x = randn({3, 4}, rng, 0.0f, 3.0f);
    Tensor t = rand_uniform({3, 4}, 0.0f, 1.0f, rng);
    gradcheck([](const Vars& v) { return bce_with_logits(v[0], v[1]); }, {x, t}, {}, "bce_with_logits");
}

TEST_CASE("gradcheck: mse with respect to input and target") {
    Rng rng(44);
    gradcheck([](const Vars& v) { return mse(v[0], v[1]); }, {randn({2, 5}, rng), randn({2, 5}, rng)}, {}, "mse");
}

TEST_CASE("losses scale an upstream gradient: d(3 * loss) = 3 d(loss)") {
    Rng rng(45);
    Tensor x = randn({4}, rng), t = rand_uniform({4}, 0.0f, 1.0f, rng);
    gradcheck([](const Vars& v) { return bce_with_logits(v[0], v[1]) * 3.0f; }, {x, t}, {}, "3 bce_with_logits");
    gradcheck([](const Vars& v) { return mse(v[0], v[1]) * -2.0f; }, {x, t}, {}, "-2 mse");
    Tensor p = rand_uniform({4}, 0.2f, 0.8f, rng);
    gradcheck_util::Options small_step;  // see "gradcheck: bce ..." above
    small_step.eps = 2e-3;
    gradcheck([](const Vars& v) { return bce(v[0], v[1]) * 3.0f; }, {p, t}, small_step, "3 bce");
}

TEST_CASE("cross_entropy by hand") {
    // Row 0: logits (0, ln 3), label 1: softmax (1/4, 3/4), loss -ln(3/4) = 0.2876821.
    // Row 1: logits (ln 4, 0), label 1: softmax (4/5, 1/5), loss -ln(1/5) = 1.6094379.
    const float ln3 = std::log(3.0f), ln4 = std::log(4.0f);
    Var x(Tensor({2, 2}, {0.0f, ln3, ln4, 0.0f}), true);
    Var loss = cross_entropy(x, {1, 1});
    CHECK(loss.shape() == Shape{});
    CHECK(loss.item() == doctest::Approx((0.2876821 + 1.6094379) / 2));
    // dloss/dx = (softmax - onehot) / N: row 0 (0.25, -0.25) / 2, row 1 (0.8, -0.8) / 2
    loss.backward();
    CHECK(x.grad()[0] == doctest::Approx(0.125));
    CHECK(x.grad()[1] == doctest::Approx(-0.125));
    CHECK(x.grad()[2] == doctest::Approx(0.4));
    CHECK(x.grad()[3] == doctest::Approx(-0.4));
}

TEST_CASE("cross_entropy: huge logits stay finite and exact") {
    // Logits (1000, 0), label 1: -log softmax = 1000 + log(1 + e^-1000) = 1000, not inf.
    Var x(Tensor({1, 2}, {1000.0f, 0.0f}), true);
    CHECK(cross_entropy(x, {1}).item() == doctest::Approx(1000.0));
    CHECK(cross_entropy(x, {0}).item() == doctest::Approx(0.0));
}

TEST_CASE("gradcheck: cross_entropy with respect to the logits") {
    Rng rng(46);
    const std::vector<int> labels{2, 0, 4};
    gradcheck([&](const Vars& v) { return cross_entropy(v[0], labels); }, {randn({3, 5}, rng, 0.0f, 2.0f)}, {},
              "cross_entropy");
}

TEST_CASE("cross_entropy errors name the problem") {
    Var x(Tensor({2, 3}));
    CHECK(contains(thrown_message<std::invalid_argument>([&] { cross_entropy(x, {0}); }), "1 labels for 2 rows"));
    CHECK(contains(thrown_message<std::invalid_argument>([&] { cross_entropy(x, {0, 3}); }), "label 3 is outside 0..2"));
    CHECK(contains(thrown_message<std::invalid_argument>([&] { cross_entropy(Var(Tensor({6})), {0}); }), "(N, K)"));
}
