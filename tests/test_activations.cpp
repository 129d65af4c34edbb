// test_activations.cpp - relu, leaky_relu, tanh, sigmoid: values by hand, behaviour at
// extreme inputs (finite values, gradients ~0, never NaN), gradient checks.
// Run one case: ./test_activations -tc="*extreme*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/core.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::away_from_zero;
using gradcheck_util::gradcheck;
using V = std::vector<float>;
using Vars = std::vector<Var>;

static Var leaf(V values) {
    Shape s{static_cast<int>(values.size())};
    return Var(Tensor(s, std::move(values)), true);
}

TEST_CASE("relu and leaky_relu by hand") {
    Var x = leaf({-2, -0.5f, 0, 1.5f});
    CHECK(relu(x).value().data == V{0, 0, 0, 1.5f});
    CHECK(leaky_relu(x, 0.2f).value().data == V{-0.4f, -0.1f, 0, 1.5f});    // 0.2 * -2, 0.2 * -0.5
    CHECK(leaky_relu(x).value().data == V{-0.02f, -0.005f, 0, 1.5f});       // default slope 0.01
    sum(leaky_relu(x, 0.2f)).backward();
    CHECK(x.grad().data == V{0.2f, 0.2f, 0.2f, 1});  // slope for x <= 0, 1 for x > 0
    x.grad().fill(0.0f);
    sum(relu(x)).backward();
    CHECK(x.grad().data == V{0, 0, 0, 1});
}

TEST_CASE("tanh and sigmoid by hand") {
    Var x = leaf({0, 1, -2});
    Var t = minigan::tanh(x);
    CHECK(t.value()[0] == 0.0f);
    CHECK(t.value()[1] == doctest::Approx(0.7615942));   // (e - 1/e) / (e + 1/e)
    CHECK(t.value()[2] == doctest::Approx(-0.9640276));  // tanh is odd: -tanh(2)
    Var s = sigmoid(x);
    CHECK(s.value()[0] == 0.5f);                         // 1 / (1 + e^0)
    CHECK(s.value()[1] == doctest::Approx(0.7310586));   // 1 / (1 + 1/e)
    CHECK(s.value()[2] == doctest::Approx(0.1192029));   // 1 / (1 + e^2)
    sum(s).backward();                                   // y (1 - y): 0.25, 0.1966119, 0.1049936
    CHECK(x.grad()[0] == doctest::Approx(0.25));
    CHECK(x.grad()[1] == doctest::Approx(0.1966119));
    CHECK(x.grad()[2] == doctest::Approx(0.1049936));
    x.grad().fill(0.0f);
    sum(t).backward();                                   // 1 - y^2: 1, 0.4199743, 0.0706508
    CHECK(x.grad()[0] == doctest::Approx(1.0));
    CHECK(x.grad()[1] == doctest::Approx(0.4199743));
    CHECK(x.grad()[2] == doctest::Approx(0.0706508));
}

TEST_CASE("stable_sigmoid agrees with 1 / (1 + e^-x) where that is safe") {
    for (float x = -20.0f; x <= 20.0f; x += 0.25f)
        CHECK(stable_sigmoid(x) == doctest::Approx(1.0 / (1.0 + std::exp(-static_cast<double>(x)))).epsilon(1e-6));
}

TEST_CASE("extreme inputs +-40 and +-100: finite values, gradients ~0, no NaN") {
    Var x = leaf({-100, -40, 40, 100});
    Var s = sigmoid(x);
    CHECK(s.value()[0] >= 0.0f);
    CHECK(s.value()[0] < 1e-30f);  // e^-100 = 3.7e-44
    CHECK(s.value()[1] < 1e-15f);  // e^-40 = 4.2e-18
    CHECK(s.value()[2] == 1.0f);
    CHECK(s.value()[3] == 1.0f);
    Var t = minigan::tanh(x);
    CHECK(t.value().data == V{-1, -1, 1, 1});
    Var r = leaky_relu(x, 0.2f);
    CHECK(r.value().data == V{-20, -8, 40, 100});
    sum(s).backward();
    for (float g : x.grad().data) {
        CHECK(std::isfinite(g));
        CHECK(std::fabs(g) < 1e-15f);
    }
    x.grad().fill(0.0f);
    sum(t).backward();
    for (float g : x.grad().data) {
        CHECK(std::isfinite(g));
        CHECK(std::fabs(g) < 1e-15f);
    }
}

TEST_CASE("gradcheck: relu and leaky_relu (inputs away from the kink at 0)") {
    Rng rng(11);
    std::vector<Tensor> in{away_from_zero({4, 5}, rng)};
    gradcheck([](const Vars& v) { return relu(v[0]); }, in, {}, "relu");
    gradcheck([](const Vars& v) { return leaky_relu(v[0], 0.2f); }, in, {}, "leaky_relu(0.2)");
    gradcheck([](const Vars& v) { return leaky_relu(v[0]); }, in, {}, "leaky_relu(0.01)");
}

TEST_CASE("gradcheck: tanh and sigmoid") {
    Rng rng(12);
    std::vector<Tensor> in{randn({4, 5}, rng, 0.0f, 2.0f)};  // spread over the curved part
    gradcheck([](const Vars& v) { return minigan::tanh(v[0]); }, in, {}, "tanh");
    gradcheck([](const Vars& v) { return sigmoid(v[0]); }, in, {}, "sigmoid");
    gradcheck([](const Vars& v) { return sigmoid(minigan::tanh(v[0]) * 3.0f); }, in, {}, "sigmoid(3 tanh)");
}
