// test_nn.cpp - the nn/ modules: Linear, Conv2d, ConvTranspose2d, BatchNorm1d/2d, Dropout,
// the activation modules, Flatten, Reshape, Sequential; state_dict names (PyTorch's),
// load_state_dict errors, freezing, dcgan_init. Gradient checks go through each layer's
// forward with the layer's own parameters as inputs.
// Run one case: ./test_nn -tc="BatchNorm*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/gan/models.hpp>
#include <minigan/gan/train_step.hpp>
#include <minigan/core.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::contains;
using gradcheck_util::gradcheck_vars;
using gradcheck_util::thrown_message;
using V = std::vector<float>;
using Vars = std::vector<Var>;
using nn::make;

static std::vector<std::string> names_of(const StateDict& s) {
    std::vector<std::string> names;
    for (const auto& [n, t] : s) names.push_back(n);
    return names;
}

static std::pair<double, double> mean_std(const Tensor& t) {
    double s = 0.0, s2 = 0.0;
    for (float v : t.data) s += v, s2 += static_cast<double>(v) * v;
    double m = s / t.numel();
    return {m, std::sqrt(s2 / t.numel() - m * m)};
}

// ---- Linear --------------------------------------------------------------------------------

TEST_CASE("Linear by hand: y = x W^T + b") {
    nn::Linear lin(2, 3);
    lin.weight.value() = Tensor({3, 2}, V{1, 2, 3, 4, 5, 6});
    lin.bias.value() = Tensor({3}, V{0.5f, -1, 0});
    Var x(Tensor({2, 2}, V{1, 1, 2, -1}));
    Var y = lin(x);
    CHECK(y.shape() == Shape{2, 3});
    // row 0, x = (1, 1):  (1+2+0.5, 3+4-1, 5+6+0) = (3.5, 6, 11)
    // row 1, x = (2, -1): (2-2+0.5, 6-4-1, 10-6+0) = (0.5, 1, 4)
    CHECK(y.value().data == V{3.5f, 6, 11, 0.5f, 1, 4});
    nn::Linear no_bias(2, 3, false);
    no_bias.weight.value() = lin.weight.value();
    CHECK(no_bias(x).value().data == V{3, 7, 11, 0, 2, 4});
    CHECK_FALSE(no_bias.bias.defined());
    CHECK(names_of(no_bias.state_dict()) == std::vector<std::string>{"weight"});
    CHECK(lin.name() == "Linear(2, 3)");
    CHECK(no_bias.name() == "Linear(2, 3, bias=false)");
}

TEST_CASE("Linear starts with PyTorch's init: U(-1/sqrt(in), 1/sqrt(in))") {
    manual_seed(1);
    nn::Linear lin(16, 64);
    float bound = 0.25f;  // 1/sqrt(16)
    float wmax = 0.0f;
    for (float w : lin.weight.value().data) wmax = std::max(wmax, std::fabs(w));
    CHECK(wmax <= bound);
    CHECK(wmax > 0.95f * bound);
    for (float b : lin.bias.value().data) CHECK(std::fabs(b) <= bound);
    CHECK(lin.weight.requires_grad());
    CHECK(lin.parameter_count() == 16 * 64 + 64);
}

TEST_CASE("Linear refuses inputs that do not fit, and bad sizes") {
    nn::Linear lin(4, 3);
    CHECK(thrown_message<std::invalid_argument>([&] { lin(Var(Tensor({2, 5}))); }) ==
          "linear: input (2, 5) does not fit weight (3, 4) (need (N, in) and (out, in))");
    CHECK_THROWS_AS(lin(Var(Tensor({4}))), std::invalid_argument);
    CHECK_THROWS_AS(nn::Linear(0, 3), std::invalid_argument);
}

TEST_CASE("gradcheck: Linear with respect to x, weight and bias") {
    manual_seed(2);
    Rng rng(2);
    nn::Linear lin(4, 3);
    Var x(randn({5, 4}, rng));
    gradcheck_vars([&](const Vars& v) { return lin(v[0]); }, {x, lin.weight, lin.bias}, {}, "Linear");
    CHECK(lin.weight.requires_grad());  // restored afterwards
}

// ---- Conv2d, ConvTranspose2d ------------------------------------------------------------------

TEST_CASE("Conv2d and ConvTranspose2d modules: shapes, init bounds, names, argument errors") {
    manual_seed(3);
    nn::Conv2d conv(3, 8, 4, 2, 1);
    CHECK(conv.weight.shape() == Shape{8, 3, 4, 4});  // (out, in, k, k)
    CHECK(conv(Var(Tensor({2, 3, 16, 16}))).shape() == Shape{2, 8, 8, 8});  // (16 + 2 - 4) / 2 + 1
    float bound = 1.0f / std::sqrt(3.0f * 16.0f), wmax = 0.0f;
    for (float w : conv.weight.value().data) wmax = std::max(wmax, std::fabs(w));
    CHECK(wmax <= bound);
    CHECK(wmax > 0.9f * bound);
    CHECK(conv.name() == "Conv2d(3, 8, k=4, s=2, p=1)");

    nn::ConvTranspose2d up(8, 3, 4, 2, 1);
    CHECK(up.weight.shape() == Shape{8, 3, 4, 4});  // (in, out, k, k)
    CHECK(up(Var(Tensor({2, 8, 8, 8}))).shape() == Shape{2, 3, 16, 16});  // (8 - 1) * 2 - 2 + 4
    bound = 1.0f / std::sqrt(3.0f * 16.0f);  // PyTorch: fan_in from weight.size(1) = out
    wmax = 0.0f;
    for (float w : up.weight.value().data) wmax = std::max(wmax, std::fabs(w));
    CHECK(wmax <= bound);
    CHECK(wmax > 0.9f * bound);
    CHECK(nn::ConvTranspose2d(8, 3, 3, 2, 1, 1)(Var(Tensor({1, 8, 4, 4}))).shape() == Shape{1, 3, 8, 8});

    CHECK_THROWS_AS(nn::Conv2d(3, 8, 4, 0), std::invalid_argument);
    CHECK_THROWS_AS(nn::Conv2d(3, 8, 4, 1, -1), std::invalid_argument);
    CHECK(contains(thrown_message<std::invalid_argument>([] { nn::ConvTranspose2d(8, 3, 4, 2, 1, 2); }),
                   "output_padding must be < stride"));
    CHECK(contains(thrown_message<std::invalid_argument>([&] { conv(Var(Tensor({1, 4, 8, 8}))); }),
                   "input has 4 channels"));
}

TEST_CASE("gradcheck: Conv2d with respect to x, weight and bias") {
    manual_seed(4);
    Rng rng(4);
    nn::Conv2d conv(2, 3, 3, 2, 1);
    Var x(randn({2, 2, 5, 4}, rng));
    gradcheck_vars([&](const Vars& v) { return conv(v[0]); }, {x, conv.weight, conv.bias}, {}, "Conv2d");
}

TEST_CASE("gradcheck: ConvTranspose2d with respect to x, weight and bias") {
    manual_seed(5);
    Rng rng(5);
    nn::ConvTranspose2d up(3, 2, 4, 2, 1);
    Var x(randn({2, 3, 3, 2}, rng));
    gradcheck_vars([&](const Vars& v) { return up(v[0]); }, {x, up.weight, up.bias}, {}, "ConvTranspose2d");
}

// ---- BatchNorm -----------------------------------------------------------------------------

TEST_CASE("BatchNorm1d in training by hand: batch statistics, running stats, num_batches_tracked") {
    nn::BatchNorm1d bn(2);
    bn.weight.value() = Tensor({2}, V{2, 1});  // gamma
    bn.bias.value() = Tensor({2}, V{0, 1});    // beta
    Var x(Tensor({3, 2}, V{1, 0, 3, 4, 5, 8}));
    Var y = bn(x);
    // channel 0: (1, 3, 5), mean 3, biased var (4 + 0 + 4)/3 = 8/3, rstd = 1/sqrt(8/3 + 1e-5) = 0.6123713
    //   y = 2 (x - 3) rstd = (-2.4494851, 0, 2.4494851)
    // channel 1: (0, 4, 8), mean 4, var 32/3, rstd = 0.3061861; y = (x - 4) rstd + 1 = (-0.2247443, 1, 2.2247443)
    V want{-2.4494851f, -0.2247443f, 0.0f, 1.0f, 2.4494851f, 2.2247443f};
    for (int i = 0; i < 6; ++i) CHECK(y.value()[i] == doctest::Approx(want[i]).epsilon(1e-6));
    // running_mean = 0.9 * 0 + 0.1 * mean = (0.3, 0.4)
    // running_var  = 0.9 * 1 + 0.1 * unbiased var: (0.9 + 0.1 * 4, 0.9 + 0.1 * 16) = (1.3, 2.5)
    CHECK(bn.running_mean[0] == doctest::Approx(0.3));
    CHECK(bn.running_mean[1] == doctest::Approx(0.4));
    CHECK(bn.running_var[0] == doctest::Approx(1.3));
    CHECK(bn.running_var[1] == doctest::Approx(2.5));
    CHECK(bn.num_batches_tracked.item() == 1.0f);
}

TEST_CASE("BatchNorm2d in training by hand: statistics per channel over N, H and W") {
    nn::BatchNorm2d bn(1);
    Var x(Tensor({2, 1, 1, 2}, V{1, 2, 3, 4}));
    Var y = bn(x);
    // mean 2.5, biased var (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25, rstd = 1/sqrt(1.25 + 1e-5) = 0.8944236
    V want{-1.3416354f, -0.4472118f, 0.4472118f, 1.3416354f};
    for (int i = 0; i < 4; ++i) CHECK(y.value()[i] == doctest::Approx(want[i]).epsilon(1e-6));
    CHECK(bn.running_mean[0] == doctest::Approx(0.25));         // 0.1 * 2.5
    CHECK(bn.running_var[0] == doctest::Approx(0.9 + 0.1 * 5.0 / 3.0));  // unbiased: 5/3
}

TEST_CASE("BatchNorm2d in training matches a double-precision reference on a random batch") {
    Rng rng(6);
    const int N = 3, C = 4, H = 2, W = 3, L = H * W;
    nn::BatchNorm2d bn(C);
    bn.weight.value() = randn({C}, rng, 1.0f, 0.5f);
    bn.bias.value() = randn({C}, rng);
    Var x(randn({N, C, H, W}, rng, 2.0f, 3.0f));
    Var y = bn(x);
    for (int c = 0; c < C; ++c) {
        double s = 0.0, s2 = 0.0;
        for (int n = 0; n < N; ++n)
            for (int l = 0; l < L; ++l) s += x.value()[(n * C + c) * L + l];
        double mu = s / (N * L);
        for (int n = 0; n < N; ++n)
            for (int l = 0; l < L; ++l) s2 += std::pow(x.value()[(n * C + c) * L + l] - mu, 2);
        double var = s2 / (N * L);
        for (int n = 0; n < N; ++n)
            for (int l = 0; l < L; ++l) {
                int i = (n * C + c) * L + l;
                double want = (x.value()[i] - mu) / std::sqrt(var + 1e-5) * bn.weight.value()[c] + bn.bias.value()[c];
                CHECK(y.value()[i] == doctest::Approx(want).epsilon(1e-5));
            }
        CHECK(bn.running_mean[c] == doctest::Approx(0.1 * mu).epsilon(1e-5));
        CHECK(bn.running_var[c] == doctest::Approx(0.9 + 0.1 * var * (N * L) / (N * L - 1)).epsilon(1e-5));
    }
}

TEST_CASE("BatchNorm: momentum 0.1 over several batches; eval uses the running statistics and changes nothing") {
    nn::BatchNorm1d bn(2);
    bn.weight.value() = Tensor({2}, V{2, 1});
    bn.bias.value() = Tensor({2}, V{0, 1});
    Var x(Tensor({2, 2}, V{1, 2, 3, 2}));  // channel means (2, 2); variances: unbiased (2, 0)
    for (int i = 0; i < 3; ++i) bn(x);
    // running_mean after k batches of mean mu: mu (1 - 0.9^k) = 2 * 0.271 = 0.542
    CHECK(bn.running_mean[0] == doctest::Approx(0.542));
    CHECK(bn.running_mean[1] == doctest::Approx(0.542));
    // running_var: v_k = 0.9 v_{k-1} + 0.1 s^2, v_0 = 1: s^2 + (1 - s^2) 0.729 = 2 - 0.729 = 1.271 and 0.729
    CHECK(bn.running_var[0] == doctest::Approx(1.271));
    CHECK(bn.running_var[1] == doctest::Approx(0.729));
    CHECK(bn.num_batches_tracked.item() == 3.0f);

    bn.eval();
    CHECK_FALSE(bn.is_training());
    bn.running_mean = Tensor({2}, V{1, -1});
    bn.running_var = Tensor({2}, V{4, 0.25f});
    Var one(Tensor({1, 2}, V{3, 0}));  // a batch of one is fine in eval
    Var y = bn(one);
    // (3 - 1) / sqrt(4 + 1e-5) * 2 + 0 = 1.9999975;  (0 + 1) / sqrt(0.25 + 1e-5) * 1 + 1 = 2.99996
    CHECK(y.value()[0] == doctest::Approx(1.9999975).epsilon(1e-6));
    CHECK(y.value()[1] == doctest::Approx(2.99996).epsilon(1e-6));
    CHECK(bn.running_mean.data == V{1, -1});
    CHECK(bn.running_var.data == V{4, 0.25f});
    CHECK(bn.num_batches_tracked.item() == 3.0f);
}

TEST_CASE("BatchNorm refuses a wrong input rank, channel count, or a single value per channel in training") {
    nn::BatchNorm1d bn(3);
    CHECK(thrown_message<std::invalid_argument>([&] { bn(Var(Tensor({2, 3, 4, 4}))); }) ==
          "BatchNorm1d(3): expected a 2-d input, got (2, 3, 4, 4)");
    CHECK(thrown_message<std::invalid_argument>([&] { bn(Var(Tensor({2, 4}))); }) ==
          "batch_norm: input (2, 4) has 4 channels, the layer has (3,)");
    CHECK(contains(thrown_message<std::invalid_argument>([&] { bn(Var(Tensor({1, 3}))); }),
                   "training needs more than one value per channel"));
    nn::BatchNorm2d bn2(3);
    CHECK_THROWS_AS(bn2(Var(Tensor({2, 3}))), std::invalid_argument);
}

// BatchNorm's gradient in training couples every value of a channel (through mean and var):
// the classic place for a wrong gradient to hide behind a loose tolerance (mlpack #2549).
TEST_CASE("gradcheck: BatchNorm1d and BatchNorm2d in training, with respect to x, gamma and beta") {
    Rng rng(7);
    nn::BatchNorm1d bn1(3);
    bn1.weight.value() = randn({3}, rng, 1.0f, 0.5f);
    bn1.bias.value() = randn({3}, rng);
    Var x1(randn({6, 3}, rng, 0.5f, 2.0f));
    gradcheck_vars([&](const Vars& v) { return bn1(v[0]); }, {x1, bn1.weight, bn1.bias}, {}, "BatchNorm1d train");

    nn::BatchNorm2d bn2(2);
    bn2.weight.value() = randn({2}, rng, 1.0f, 0.5f);
    bn2.bias.value() = randn({2}, rng);
    Var x2(randn({2, 2, 3, 3}, rng, -1.0f, 2.0f));
    gradcheck_vars([&](const Vars& v) { return bn2(v[0]); }, {x2, bn2.weight, bn2.bias}, {}, "BatchNorm2d train");
}

TEST_CASE("gradcheck: BatchNorm1d and BatchNorm2d in eval mode, with respect to x, gamma and beta") {
    Rng rng(8);
    nn::BatchNorm1d bn1(3);
    bn1.weight.value() = randn({3}, rng, 1.0f, 0.5f);
    bn1.bias.value() = randn({3}, rng);
    bn1.running_mean = randn({3}, rng);
    bn1.running_var = rand_uniform({3}, 0.5f, 2.0f, rng);
    bn1.eval();
    Var x1(randn({4, 3}, rng));
    gradcheck_vars([&](const Vars& v) { return bn1(v[0]); }, {x1, bn1.weight, bn1.bias}, {}, "BatchNorm1d eval");

    nn::BatchNorm2d bn2(2);
    bn2.weight.value() = randn({2}, rng, 1.0f, 0.5f);
    bn2.bias.value() = randn({2}, rng);
    bn2.running_mean = randn({2}, rng);
    bn2.running_var = rand_uniform({2}, 0.5f, 2.0f, rng);
    bn2.eval();
    Var x2(randn({2, 2, 2, 3}, rng));
    gradcheck_vars([&](const Vars& v) { return bn2(v[0]); }, {x2, bn2.weight, bn2.bias}, {}, "BatchNorm2d eval");
}

// ---- Dropout -------------------------------------------------------------------------------

TEST_CASE("Dropout: identity in eval; in training drops a fraction ~p and scales survivors by 1/(1-p)") {
    nn::Dropout drop(0.3f);
    Var x(ones({100000}));
    drop.eval();
    Var same = drop(x);
    CHECK(same.node() == x.node());  // eval: the input itself, no copy, no graph
    drop.train();
    manual_seed(9);
    Var y = drop(x);
    const float keep = 1.0f / (1.0f - 0.3f);
    size_t dropped = 0, other = 0;
    for (float v : y.value().data) {
        if (v == 0.0f) ++dropped;
        else if (v != keep) ++other;
    }
    CHECK(other == 0);
    CHECK(static_cast<double>(dropped) / x.numel() == doctest::Approx(0.3).epsilon(0.03));  // se 0.0015
    CHECK(nn::Dropout(0.0f)(x).node() == x.node());  // p = 0: nothing to drop
    CHECK(drop.name() == "Dropout(0.30)");
}

TEST_CASE("Dropout: the gradient goes through the same mask as the forward") {
    Rng rng(10);
    Var x(randn({4, 5}, rng), true);
    Rng mask_rng(11);
    Var y = dropout(x, 0.5f, true, mask_rng);
    Tensor R = randn({4, 5}, rng);
    y.backward(R);
    int zeros = 0;
    for (size_t i = 0; i < x.numel(); ++i) {
        // y = x * m / (1 - p), dy/dx = m / (1 - p) = y / x
        CHECK(x.grad()[i] == doctest::Approx(R[i] * y.value()[i] / x.value()[i]));
        zeros += y.value()[i] == 0.0f;
    }
    CHECK(zeros > 0);
    CHECK(zeros < 20);
}

TEST_CASE("gradcheck: dropout with a fixed mask, and the Dropout module with a fixed seed") {
    Rng rng(12);
    gradcheck_util::gradcheck(
        [](const Vars& v) {
            Rng same_mask(13);  // every evaluation draws the same mask
            return dropout(v[0], 0.4f, true, same_mask);
        },
        {randn({3, 4}, rng)}, {}, "dropout");
    nn::Dropout drop(0.5f);
    Var x(randn({3, 4}, rng));
    gradcheck_vars([&](const Vars& v) { manual_seed(14); return drop(v[0]); }, {x}, {}, "Dropout module");
}

TEST_CASE("Dropout refuses p outside [0, 1)") {
    CHECK(thrown_message<std::invalid_argument>([] { nn::Dropout(1.0f); }) == "Dropout: p must be in [0, 1), got 1.000000");
    CHECK_THROWS_AS(nn::Dropout(-0.1f), std::invalid_argument);
    CHECK_THROWS_AS(dropout(Var(Tensor({2})), 1.5f, false), std::invalid_argument);
}

// ---- small modules and Sequential -----------------------------------------------------------

TEST_CASE("activation modules, Flatten and Reshape") {
    Var x(Tensor({1, 4}, V{-2, -0.5f, 0.5f, 2}));
    CHECK(nn::LeakyReLU(0.2f)(x).value().data == V{-0.4f, -0.1f, 0.5f, 2});
    CHECK(nn::ReLU()(x).value().data == V{0, 0, 0.5f, 2});
    CHECK(nn::Tanh()(x).value()[3] == doctest::Approx(0.9640276));
    CHECK(nn::Sigmoid()(x).value()[3] == doctest::Approx(0.8807971));
    CHECK(nn::LeakyReLU(0.2f).name() == "LeakyReLU(0.20)");

    Var img(Tensor({2, 3, 4, 5}), true);
    Var flat = nn::Flatten()(img);
    CHECK(flat.shape() == Shape{2, 60});
    Var back = nn::Reshape({3, 4, 5})(flat);  // the batch dim is kept
    CHECK(back.shape() == Shape{2, 3, 4, 5});
    CHECK(nn::Reshape({3, 4, 5}).name() == "Reshape(3, 4, 5)");
    CHECK_THROWS_AS(nn::Reshape({7})(flat), std::invalid_argument);
}

TEST_CASE("gradcheck: LeakyReLU, Flatten and Reshape modules") {
    Rng rng(15);
    Var x(gradcheck_util::away_from_zero({2, 3, 2, 2}, rng));
    nn::LeakyReLU act(0.2f);
    nn::Flatten flatten_;
    nn::Reshape reshape_({4, 3});
    gradcheck_vars([&](const Vars& v) { return reshape_(flatten_(act(v[0]))); }, {x}, {}, "Reshape(Flatten(LeakyReLU))");
}

TEST_CASE("Sequential applies its layers in order; forward_until stops early") {
    auto lin = make<nn::Linear>(2, 2, false);
    lin->weight.value() = Tensor({2, 2}, V{1, 0, 0, -1});  // (a, b) -> (a, -b)
    nn::Sequential seq(lin, make<nn::LeakyReLU>(0.5f), make<nn::Reshape>(Shape{1, 2}));
    Var x(Tensor({1, 2}, V{3, 4}));
    // Linear: (3, -4); LeakyReLU(0.5): (3, -2); Reshape: (1, 1, 2)
    Var y = seq(x);
    CHECK(y.shape() == Shape{1, 1, 2});
    CHECK(y.value().data == V{3, -2});
    CHECK(seq.forward_until(x, 1).value().data == V{3, -4});
    CHECK(seq.forward_until(x, 0).node() == x.node());
    CHECK(seq.size() == 3);
    CHECK(seq[0].name() == "Linear(2, 2, bias=false)");
    CHECK(seq.summary() == "Sequential\n  (0) Linear(2, 2, bias=false)\n  (1) LeakyReLU(0.50)\n  (2) Reshape(1, 2)\n");
}

TEST_CASE("gradcheck: through a whole Sequential(Linear, BatchNorm1d, Tanh, Linear), every parameter") {
    manual_seed(16);
    Rng rng(16);
    auto l0 = make<nn::Linear>(4, 5);
    auto bn = make<nn::BatchNorm1d>(5);
    auto l3 = make<nn::Linear>(5, 2);
    nn::Sequential net(l0, bn, make<nn::Tanh>(), l3);
    bn->weight.value() = randn({5}, rng, 1.0f, 0.3f);
    bn->bias.value() = randn({5}, rng, 0.0f, 0.3f);
    Var x(randn({6, 4}, rng));
    Vars inputs{x};
    for (const Var& p : net.parameters()) inputs.push_back(p);
    CHECK(inputs.size() == 7);
    // Not checked: the first Linear's bias. A training-mode BatchNorm subtracts the batch mean,
    // so a bias right before it has no effect: its gradient is exactly 0 (rounding noise only).
    gradcheck_util::Options opt;
    opt.check = {true, true, false, true, true, true, true};
    // The chain is strongly curved in the first weights (BatchNorm, then tanh): with eps = 1e-2
    // the truncation error reaches 2e-4; eps = 5e-3 brings every input below 6e-5.
    opt.eps = 5e-3;
    gradcheck_vars([&](const Vars& v) { return net(v[0]); }, inputs, opt, "Sequential");
    sum(net(x)).backward();
    for (float g : l0->bias.grad().data) CHECK(std::fabs(g) < 1e-5f);
}

// ---- state_dict ------------------------------------------------------------------------------

TEST_CASE("state_dict names and order are PyTorch's: Sequential(Linear, BatchNorm1d, LeakyReLU, Linear)") {
    nn::Sequential net(make<nn::Linear>(4, 3), make<nn::BatchNorm1d>(3), make<nn::LeakyReLU>(0.2f),
                       make<nn::Linear>(3, 2));
    StateDict s = net.state_dict();
    CHECK(names_of(s) == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                                  "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"});
    CHECK(s[0].second.shape == Shape{3, 4});
    CHECK(s[6].second.shape == Shape{});  // num_batches_tracked is a scalar
    std::vector<std::string> params;
    for (auto& [n, v] : net.named_parameters()) params.push_back(n);
    CHECK(params == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"});
    // Nested Sequentials prefix their children's names, as PyTorch does.
    nn::Sequential outer(std::make_shared<nn::Sequential>(make<nn::Linear>(2, 2)), make<nn::Linear>(2, 1, false));
    CHECK(names_of(outer.state_dict()) == std::vector<std::string>{"0.0.weight", "0.0.bias", "1.weight"});
}

TEST_CASE("load_state_dict copies every entry, and the copy is independent") {
    manual_seed(17);
    auto build = [] {
        return std::make_shared<nn::Sequential>(make<nn::Linear>(3, 4), make<nn::BatchNorm1d>(4), make<nn::Linear>(4, 1));
    };
    auto a = build(), b = build();
    Var x(randn({5, 3}));
    (*a)(x);  // moves a's running statistics
    b->load_state_dict(a->state_dict());
    StateDict sa = a->state_dict(), sb = b->state_dict();
    for (size_t i = 0; i < sa.size(); ++i) CHECK(sa[i].second.data == sb[i].second.data);
    a->eval();
    b->eval();
    CHECK((*a)(x).value().data == (*b)(x).value().data);
    b->parameters()[0].value()[0] += 1.0f;
    CHECK(a->parameters()[0].value()[0] != b->parameters()[0].value()[0]);
}

TEST_CASE("load_state_dict names missing, unexpected and mis-shaped entries, and changes nothing") {
    nn::Sequential net(make<nn::Linear>(4, 3), make<nn::BatchNorm1d>(3));
    StateDict s = net.state_dict();
    Tensor before = net.parameters()[0].value();
    s[0].second = Tensor({3, 5});                        // 0.weight: wrong shape
    s.erase(s.begin() + 1);                              // 0.bias: missing
    s.push_back({"2.weight", Tensor({7})});              // not in the model
    for (float& v : s[1].second.data) v = 42.0f;         // 1.weight: fine, but must not be applied
    CHECK(thrown_message<std::invalid_argument>([&] { net.load_state_dict(s); }) ==
          "load_state_dict: the checkpoint does not match this model:"
          "\n  '0.weight': checkpoint has (3, 5), model has (3, 4)"
          "\n  unexpected entry '2.weight' (7,)"
          "\n  missing entry '0.bias' (3,)");
    CHECK(net.parameters()[0].value().data == before.data);
    CHECK(net.parameters()[2].value().data == V{1, 1, 1});
}

// ---- freezing, init -------------------------------------------------------------------------

TEST_CASE("set_requires_grad(false) freezes the weights but still passes the gradient to the input") {
    manual_seed(18);
    nn::Sequential D(make<nn::Linear>(3, 4), make<nn::LeakyReLU>(0.2f), make<nn::Linear>(4, 1));
    Var x(randn({2, 3}), true);
    D.set_requires_grad(false);
    for (const Var& p : D.parameters()) CHECK_FALSE(p.requires_grad());
    sum(D(x)).backward();
    double norm = 0.0;
    for (float g : x.grad().data) norm += std::fabs(g);
    CHECK(norm > 0.0);                                        // the generator step still gets dL/dx
    for (const Var& p : D.parameters()) CHECK(p.node()->grad.numel() == 0);  // no weight gradients computed
    D.set_requires_grad(true);
    for (const Var& p : D.parameters()) CHECK(p.requires_grad());
    sum(D(x)).backward();
    for (Var p : D.parameters()) CHECK(p.grad().numel() == p.numel());
}

TEST_CASE("train() and eval() reach every child") {
    nn::Sequential net(make<nn::Linear>(2, 2), make<nn::BatchNorm1d>(2), make<nn::Dropout>(0.5f));
    net.eval();
    for (auto& [n, child] : net.children()) CHECK_FALSE(child->is_training());
    net.train();
    for (auto& [n, child] : net.children()) CHECK(child->is_training());
}

TEST_CASE("dcgan_init: conv and linear weights ~ N(0, 0.02), biases 0, BatchNorm gamma ~ N(1, 0.02), beta 0") {
    Rng rng(19);
    auto up = make<nn::ConvTranspose2d>(100, 64, 4);
    auto bn = make<nn::BatchNorm2d>(2048);
    auto conv = make<nn::Conv2d>(64, 64, 4);
    auto lin = make<nn::Linear>(256, 256);
    nn::Sequential net(up, bn, make<nn::ReLU>(), std::make_shared<nn::Sequential>(conv), lin);
    nn::dcgan_init(net, rng);
    // Standard errors: 0.02 / sqrt(65536) = 8e-5 for a mean of 65536 weights, 0.02 / sqrt(2 * 65536) for the std.
    for (const Tensor* w : {&up->weight.value(), &conv->weight.value(), &lin->weight.value()}) {
        auto [m, s] = mean_std(*w);
        CHECK(std::fabs(m) < 5e-4);
        CHECK(s == doctest::Approx(0.02).epsilon(0.02));
    }
    auto [gm, gs] = mean_std(bn->weight.value());  // 2048 values: se 4.4e-4 for the mean
    CHECK(gm == doctest::Approx(1.0).epsilon(2e-3));
    CHECK(gs == doctest::Approx(0.02).epsilon(0.1));
    for (const Tensor* b : {&up->bias.value(), &conv->bias.value(), &lin->bias.value(), &bn->bias.value()})
        for (float v : b->data) CHECK(v == 0.0f);
}

// ---- gan::train_step = the step written out (on the fast path: D on real and fake stacked) ----

// The step written out as in the DESIGN sketch: two D passes, then the G pass.
static gan::StepStats two_pass_step(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD,
                                    const Var& real, const Var& z, float real_label) {
    Var fake = G(z);
    Var lr = D(real), lf = D(fake.detach());
    Var d_loss = bce_with_logits(lr, constant_like(lr, real_label)) + bce_with_logits(lf, constant_like(lf, 0.0f));
    optD.zero_grad();
    d_loss.backward();
    optD.step();
    D.set_requires_grad(false);
    Var lg = D(fake);
    Var g_loss = bce_with_logits(lg, constant_like(lg, 1.0f));
    optG.zero_grad();
    g_loss.backward();
    optG.step();
    D.set_requires_grad(true);
    return {d_loss.item(), g_loss.item(), mean_probability(lr.value()), mean_probability(lf.value())};
}

// Three steps of train_step on (G1, D1) and of two_pass_step on (G2, D2), two copies of the same
// nets: the step statistics and the weights afterwards must agree.
static void check_stacked_equals_two_passes(nn::Sequential& G1, nn::Sequential& D1, nn::Sequential& G2,
                                            nn::Sequential& D2, const Shape& real_shape, const Shape& z_shape,
                                            float real_label) {
    optim::Adam oG1(G1.parameters(), 1e-2f, 0.5f), oD1(D1.parameters(), 1e-2f, 0.5f);
    optim::Adam oG2(G2.parameters(), 1e-2f, 0.5f), oD2(D2.parameters(), 1e-2f, 0.5f);
    Rng rng(15);
    for (int step = 0; step < 3; ++step) {
        Var real(rand_uniform(real_shape, -1.0f, 1.0f, rng)), z(randn(z_shape, rng));
        gan::StepStats a = gan::train_step(G1, D1, oG1, oD1, real, z, real_label);
        gan::StepStats b = two_pass_step(G2, D2, oG2, oD2, real, z, real_label);
        CHECK(a.d_loss == doctest::Approx(b.d_loss).epsilon(1e-5));
        CHECK(a.g_loss == doctest::Approx(b.g_loss).epsilon(1e-5));
        CHECK(a.d_real == doctest::Approx(b.d_real).epsilon(1e-5));
        CHECK(a.d_fake == doctest::Approx(b.d_fake).epsilon(1e-5));
    }
    for (auto [M1, M2] : {std::make_pair(&G1, &G2), std::make_pair(&D1, &D2)}) {
        StateDict s1 = M1->state_dict(), s2 = M2->state_dict();
        for (size_t i = 0; i < s1.size(); ++i)
            for (size_t j = 0; j < s1[i].second.numel(); ++j)
                CHECK(s1[i].second[j] == doctest::Approx(s2[i].second[j]).epsilon(1e-4));
    }
}

TEST_CASE("train_step: D on real + fake stacked in one batch = two passes; with BatchNorm in D, two passes") {
    for (bool with_bn : {false, true}) {
        INFO("BatchNorm in D: ", with_bn);
        auto make = [&](uint32_t seed) {
            manual_seed(seed);
            auto G = nn::make<nn::Sequential>(nn::make<nn::Linear>(3, 8), nn::make<nn::LeakyReLU>(0.2f),
                                              nn::make<nn::Linear>(8, 5), nn::make<nn::Tanh>());
            auto D = nn::make<nn::Sequential>(nn::make<nn::Linear>(5, 6));
            if (with_bn) D->add(nn::make<nn::BatchNorm1d>(6));
            D->add(nn::make<nn::LeakyReLU>(0.2f)).add(nn::make<nn::Linear>(6, 1));
            return std::make_pair(G, D);
        };
        auto [G1, D1] = make(4);
        auto [G2, D2] = make(4);
        check_stacked_equals_two_passes(*G1, *D1, *G2, *D2, {6, 5}, {4, 3}, 0.9f);  // 6 real, 4 fake
    }
}

TEST_CASE("gan::Pack: images k*i .. k*i+k-1 become the channels of input i; gradient passes back; errors") {
    Tensor x({4, 1, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8});  // four 1x2 images
    gan::Pack pack(2);
    Var y = pack(Var(x));
    CHECK(y.shape() == Shape{2, 2, 1, 2});
    CHECK(y.value().data == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});  // image 1 is channel 1 of input 0
    CHECK(pack.name() == "Pack(2)");
    Rng rng(21);
    nn::Conv2d conv(2, 3, 1, 1, 0);
    gradcheck_vars([&](const Vars& v) { return conv(pack(v[0])); }, {Var(randn({4, 1, 2, 2}, rng))}, {}, "Conv2d(Pack(2))");
    CHECK(contains(thrown_message([&] { pack(Var(Tensor({3, 1, 1, 2}))); }), "multiple of 2"));
    CHECK(contains(thrown_message([&] { pack(Var(Tensor({4, 2}))); }), "(N, C, H, W)"));
    CHECK_THROWS(gan::Pack(0));
    // The DCGAN D with pack 2: one logit per pair, every layer one index later.
    auto D = gan::dcgan_discriminator(0.25f, 1, 2);
    CHECK((*D)[0].name() == "Pack(2)");
    CHECK((*D)[1].name() == "Conv2d(2, 16, k=5, s=2, p=2)");
    NoGrad no_grad;
    CHECK((*D)(Var(Tensor({6, 1, 28, 28}))).shape() == Shape{3, 1});
}

TEST_CASE("train_step with a packed D (PacGAN) = two passes; a pack that would mix real and fake is refused") {
    auto make = [&](uint32_t seed) {
        manual_seed(seed);
        auto G = nn::make<nn::Sequential>(nn::make<nn::Linear>(3, 4), nn::make<nn::Tanh>(), nn::make<nn::Reshape>(Shape{1, 2, 2}));
        auto D = nn::make<nn::Sequential>(nn::make<gan::Pack>(2), nn::make<nn::Flatten>(), nn::make<nn::Linear>(8, 5),
                                          nn::make<nn::LeakyReLU>(0.2f), nn::make<nn::Linear>(5, 1));
        return std::make_pair(G, D);
    };
    auto [G1, D1] = make(8);
    auto [G2, D2] = make(8);
    check_stacked_equals_two_passes(*G1, *D1, *G2, *D2, {6, 1, 2, 2}, {4, 3}, 1.0f);  // 3 real pairs, 2 fake pairs
    optim::Adam oG1(G1->parameters(), 1e-2f, 0.5f), oD1(D1->parameters(), 1e-2f, 0.5f);
    Rng rng(16);
    // 5 real + 5 fake images in pairs: the third pair would hold a real and a fake image (the
    // fast path's stacked batch says so), and 5 is no multiple of the pack (the reference's two passes).
    Var real(rand_uniform({5, 1, 2, 2}, -1.0f, 1.0f, rng)), z(randn({5, 3}, rng));
    nn::Module &g1 = *G1, &d1 = *D1;  // (a lambda cannot capture the structured bindings G1, D1 in C++17)
    const std::string message = thrown_message([&] { gan::train_step(g1, d1, oG1, oD1, real, z); });
    CHECK(contains(message, fast_path() ? "would mix" : "multiple of 2"));
}
