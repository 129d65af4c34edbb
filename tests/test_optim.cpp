// test_optim.cpp - SGD and Adam: steps by hand, Adam against a double-precision reference,
// zero_grad, and state_dict save/load (a resumed run must continue exactly).
// Run one case: ./test_optim -tc="Adam*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/core.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::contains;
using gradcheck_util::thrown_message;
using V = std::vector<float>;

static Var param(V values) {
    Shape s{static_cast<int>(values.size())};
    return Var(Tensor(s, std::move(values)), true);
}

// A quadratic loss sum((p - target)^2 * scale), so the gradient 2 scale (p - target) changes
// from step to step as p moves.
static void compute_grad(Var& p, const V& target, const V& scale) {
    Tensor& g = p.grad();
    for (size_t i = 0; i < g.numel(); ++i) g[i] = 2.0f * scale[i] * (p.value()[i] - target[i]);
}

TEST_CASE("SGD without momentum: p -= lr g") {
    Var p = param({1.0f, -2.0f});
    optim::SGD opt({p}, 0.1f);
    p.grad() = Tensor({2}, V{0.5f, -1.0f});
    opt.step();
    CHECK(p.value()[0] == doctest::Approx(0.95));   // 1 - 0.1 * 0.5
    CHECK(p.value()[1] == doctest::Approx(-1.9));   // -2 - 0.1 * -1
    opt.step();                                     // same gradient again: no memory of the last step
    CHECK(p.value()[0] == doctest::Approx(0.90));
    CHECK(p.value()[1] == doctest::Approx(-1.8));
}

TEST_CASE("SGD with momentum: buf = g at the first step, then buf = m buf + g; p -= lr buf") {
    Var p = param({1.0f});
    optim::SGD opt({p}, 0.1f, 0.9f);
    p.grad()[0] = 0.5f;
    opt.step();  // buf = 0.5,                 p = 1 - 0.1 * 0.5 = 0.95
    CHECK(p.value()[0] == doctest::Approx(0.95));
    opt.step();  // buf = 0.9 * 0.5 + 0.5 = 0.95, p = 0.95 - 0.095 = 0.855
    CHECK(p.value()[0] == doctest::Approx(0.855));
    p.grad()[0] = -1.0f;
    opt.step();  // buf = 0.9 * 0.95 - 1 = -0.145, p = 0.855 + 0.0145 = 0.8695
    CHECK(p.value()[0] == doctest::Approx(0.8695));
}

TEST_CASE("Adam's first step moves each parameter by ~lr * sign(g), whatever the size of g") {
    // t = 1: m = 0.1 g, v = 0.001 g^2; m / (1 - 0.9) = g, v / (1 - 0.999) = g^2: step lr g / (|g| + eps)
    Var p = param({1.0f, 1.0f, 1.0f, 1.0f});
    optim::Adam opt({p}, 0.01f);
    p.grad() = Tensor({4}, V{1e-3f, -5.0f, 300.0f, -0.2f});
    opt.step();
    CHECK(p.value()[0] == doctest::Approx(0.99).epsilon(1e-6));
    CHECK(p.value()[1] == doctest::Approx(1.01).epsilon(1e-6));
    CHECK(p.value()[2] == doctest::Approx(0.99).epsilon(1e-6));
    CHECK(p.value()[3] == doctest::Approx(1.01).epsilon(1e-6));
    CHECK(opt.steps_taken() == 1);
}

TEST_CASE("Adam matches a double-precision reference over several steps (PyTorch's update rule)") {
    const V target{0.5f, -1.0f, 2.0f}, scale{1.0f, 10.0f, 0.1f};
    const double lr = 0.05, b1 = 0.5, b2 = 0.9, eps = 1e-3;  // non-default everything, large eps
    Var p = param({1.0f, 1.0f, -1.0f});
    optim::Adam opt({p}, static_cast<float>(lr), static_cast<float>(b1), static_cast<float>(b2),
                    static_cast<float>(eps));
    std::vector<double> ref{1.0, 1.0, -1.0}, m(3, 0.0), v(3, 0.0);
    for (int t = 1; t <= 6; ++t) {
        compute_grad(p, target, scale);
        opt.step();
        for (int i = 0; i < 3; ++i) {
            // torch.optim.Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
            //                   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
            double g = 2.0 * scale[i] * (ref[i] - target[i]);
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            ref[i] -= lr / (1 - std::pow(b1, t)) * m[i] / (std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, t)) + eps);
        }
        INFO("step ", t);
        for (int i = 0; i < 3; ++i) CHECK(p.value()[i] == doctest::Approx(ref[i]).epsilon(1e-5));
    }
}

TEST_CASE("zero_grad sets every gradient to zero") {
    Var a = param({1, 2}), b = param({3});
    optim::Adam opt({a, b});
    a.grad() = Tensor({2}, V{1, 2});
    b.grad() = Tensor({1}, V{3});
    opt.zero_grad();
    CHECK(a.grad().data == V{0, 0});
    CHECK(b.grad().data == V{0});
}

TEST_CASE("an optimizer moves only its own parameters (separate optimizers for G and D)") {
    Var g = param({1}), d = param({1});
    optim::SGD opt_d({d}, 0.1f);
    g.grad()[0] = 1.0f;
    d.grad()[0] = 1.0f;
    opt_d.step();
    CHECK(g.value()[0] == 1.0f);
    CHECK(d.value()[0] == doctest::Approx(0.9));
}

// Runs `steps` steps of the quadratic problem on p with opt.
static void run(optim::Optimizer& opt, Var& p, int steps) {
    const V target{0.5f, -1.0f, 2.0f, 0.0f}, scale{1.0f, 3.0f, 0.5f, 2.0f};
    for (int s = 0; s < steps; ++s) {
        opt.zero_grad();
        compute_grad(p, target, scale);
        opt.step();
    }
}

TEST_CASE("state_dict round trip: a restored optimizer continues exactly like the original") {
    for (int which = 0; which < 2; ++which) {
        INFO((which == 0 ? "Adam" : "SGD with momentum"));
        auto make = [&](Var& p) -> std::unique_ptr<optim::Optimizer> {
            if (which == 0) return std::make_unique<optim::Adam>(std::vector<Var>{p}, 0.05f);
            return std::make_unique<optim::SGD>(std::vector<Var>{p}, 0.05f, 0.9f);
        };
        Var p = param({1, 1, 1, 1});
        auto opt = make(p);
        run(*opt, p, 3);
        StateDict saved = opt->state_dict();
        Tensor saved_p = p.value();
        run(*opt, p, 4);  // the original run goes on

        Var q(saved_p, true);  // the resumed run: parameters and optimizer state from the checkpoint
        auto resumed = make(q);
        resumed->load_state_dict(saved);
        run(*resumed, q, 4);
        CHECK(q.value().data == p.value().data);  // bit for bit
        // Without the state, the continuation differs (so the test above can fail).
        Var r(saved_p, true);
        auto fresh = make(r);
        run(*fresh, r, 4);
        CHECK(r.value().data != p.value().data);
    }
}

TEST_CASE("optimizer state_dict names follow PyTorch's per-parameter state") {
    Var a = param({1, 2}), b = param({3});
    optim::Adam adam({a, b});
    StateDict s = adam.state_dict();
    std::vector<std::string> names;
    for (auto& [n, t] : s) names.push_back(n);
    CHECK(names == std::vector<std::string>{"step", "0.exp_avg", "0.exp_avg_sq", "1.exp_avg", "1.exp_avg_sq"});
    optim::SGD sgd({a, b}, 0.1f, 0.9f);
    names.clear();
    for (auto& [n, t] : sgd.state_dict()) names.push_back(n);
    CHECK(names == std::vector<std::string>{"step", "0.momentum_buffer", "1.momentum_buffer"});
}

TEST_CASE("load_state_dict refuses a wrong shape or a missing entry, naming it") {
    Var a = param({1, 2});
    optim::Adam opt({a});
    StateDict s = opt.state_dict();
    s[1].second = Tensor({3});  // 0.exp_avg
    CHECK(thrown_message<std::invalid_argument>([&] { opt.load_state_dict(s); }) ==
          "optimizer state '0.exp_avg' has shape (3,), expected (2,)");
    StateDict missing{{"step", Tensor({}, 1.0f)}};
    CHECK(contains(thrown_message<std::invalid_argument>([&] { opt.load_state_dict(missing); }), "'0.exp_avg'"));
    optim::SGD sgd({a}, 0.1f, 0.9f);
    CHECK(contains(thrown_message<std::invalid_argument>([&] { sgd.load_state_dict(opt.state_dict()); }),
                   "no entry '0.momentum_buffer'"));
}

TEST_CASE("an optimizer refuses an undefined parameter") {
    CHECK_THROWS_AS(optim::SGD({Var()}, 0.1f), std::invalid_argument);
}
