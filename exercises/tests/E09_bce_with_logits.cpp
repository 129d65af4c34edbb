// E09 - BCE with logits, stable at +-1000 (include/minigan/loss.hpp: bce_with_logits).
//   loss = mean( -(t log p + (1 - t) log(1 - p)) ),  p = sigmoid(x)
//        = mean( max(x, 0) - x t + log(1 + e^-|x|) )        (the stable form: exp never sees x > 0)
//   dloss/dx = (sigmoid(x) - t) / n,   dloss/dt = -x / n
// Oracles: the formula in double precision here, and the exact values at +-1000.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E09_bce_with_logits.cpp -lopenblas -lz -o e09
#define EXERCISE "E09"
#define EXERCISE_TEST "E09_bce_with_logits"
#include "exercise_test.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static const Cause kStable{"NaN ou infinito com |x| = 1000: exp(1000) estoura em float; use a forma estável "
                           "max(x, 0) - x t + log(1 + e^-|x|) (log1p, exp só de -|x|)",
                           "NaN or infinity at |x| = 1000: exp(1000) overflows in float; use the stable form "
                           "max(x, 0) - x t + log(1 + e^-|x|) (log1p, exp of -|x| only)",
                           [](const V& g, const V&) { for (float v : g) if (!std::isfinite(v)) return true; return false; }};
static Cause times(double k, const char* pt, const char* en) {
    return {pt, en, [k](const V& g, const V& w) { return exercise::scaled(g, w, k); }};
}

TEST_SUITE("E09 BCE with logits") {

TEST_CASE("E09 loss, dloss/dx and dloss/dt on ordinary logits (3, 2)") {
    const V x0 = {-2.0f, -0.5f, 0.0f, 0.7f, 1.5f, 3.0f}, t0 = {0.0f, 1.0f, 0.5f, 1.0f, 0.0f, 0.9f};
    Var x = exercise::leaf({3, 2}, x0), t = exercise::leaf({3, 2}, t0);
    Var loss = bce_with_logits(x, t);
    loss.backward();
    double want = 0;
    V dx, dt;
    for (size_t i = 0; i < 6; ++i) {
        const double p = 1.0 / (1.0 + std::exp(-double(x0[i])));
        want += -(t0[i] * std::log(p) + (1 - t0[i]) * std::log(1 - p)) / 6;
        dx.push_back(static_cast<float>((p - t0[i]) / 6));
        dt.push_back(-x0[i] / 6);
    }
    exercise::compare("loss", loss.item(), want);
    const Cause no_mean = times(6.0, "gradiente 6x maior (n = 6): a perda é a MÉDIA, falta dividir por n",
                                "gradient 6x too large (n = 6): the loss is a MEAN, divide by n");
    exercise::compare("dloss/dx", x.grad().data, dx, {3, 2},
                      {no_mean, times(-1.0, "o sinal de dloss/dx está trocado: é sigmoid(x) - t, não t - sigmoid(x)",
                                      "dloss/dx has the wrong sign: it is sigmoid(x) - t, not t - sigmoid(x)")});
    exercise::compare("dloss/dt", t.grad().data, dt, {3, 2}, {no_mean});
}

TEST_CASE("E09 stable at +-1000: exact loss 500, gradient (sigmoid(x) - t) / n, no inf or NaN") {
    // x = 1000, t = 0 and x = -1000, t = 1: each costs 1000; the two right answers cost 0.
    Var x = exercise::leaf({4}, {1000.0f, -1000.0f, 1000.0f, -1000.0f}), t = exercise::leaf({4}, {0, 1, 1, 0}, false);
    Var loss = bce_with_logits(x, t);
    loss.backward();
    exercise::compare("loss at +-1000", std::vector<float>{loss.item()}, {500.0f}, {}, {kStable});
    exercise::compare("dloss/dx at +-1000", x.grad().data, {0.25f, -0.25f, 0.0f, 0.0f}, {4}, {kStable});
}

}  // TEST_SUITE
