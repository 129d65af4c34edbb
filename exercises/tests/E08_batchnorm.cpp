// E08 - BatchNorm, training vs evaluation, and the running statistics (include/minigan/nn/batchnorm.hpp).
//   training: mu, var = mean and BIASED variance (divide by n) over the batch and pixels of a channel;
//             y = (x - mu) / sqrt(var + eps) * gamma + beta
//             running_mean = (1 - m) running_mean + m mu;  running_var = (1 - m) running_var + m var n/(n-1)
//   eval:     y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta   (statistics untouched)
// Oracles: those formulas in double precision here; central differences for the backward.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E08_batchnorm.cpp -lopenblas -lz -o e08
#define EXERCISE "E08"
#define EXERCISE_TEST "E08_batchnorm"
#include "exercise_test.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static const int N = 4, C = 3, L = 4;  // x (4, 3, 2, 2): n = 16 numbers per channel
static const float EPS = 1e-5f, M = 0.1f;
static const V GAMMA = {1.5f, 0.5f, -1.0f}, BETA = {0.1f, -0.2f, 0.3f};

static size_t at(int b, int c, int l) { return (static_cast<size_t>(b) * C + c) * L + l; }

struct Stats { std::vector<double> mu, var; };
static Stats stats(const V& x) {
    Stats s{std::vector<double>(C, 0.0), std::vector<double>(C, 0.0)};
    for (int c = 0; c < C; ++c) {
        for (int b = 0; b < N; ++b) for (int l = 0; l < L; ++l) s.mu[c] += x[at(b, c, l)];
        s.mu[c] /= N * L;
        for (int b = 0; b < N; ++b) for (int l = 0; l < L; ++l) s.var[c] += std::pow(x[at(b, c, l)] - s.mu[c], 2);
        s.var[c] /= N * L;  // biased
    }
    return s;
}
static V normalise(const V& x, const std::vector<double>& mu, const std::vector<double>& var) {
    V y(x.size());
    for (int b = 0; b < N; ++b)
        for (int c = 0; c < C; ++c)
            for (int l = 0; l < L; ++l)
                y[at(b, c, l)] = static_cast<float>((x[at(b, c, l)] - mu[c]) / std::sqrt(var[c] + EPS) * GAMMA[c] + BETA[c]);
    return y;
}
static Var bn(const V& x, Tensor& rm, Tensor& rv, bool training, bool grad = true) {
    return batch_norm(exercise::leaf({N, C, 2, 2}, x, grad), exercise::leaf({C}, GAMMA, false), exercise::leaf({C}, BETA, false),
                      rm, rv, training, M, EPS);
}
static Cause like(const char* pt, const char* en, V mistaken, double rtol = 1e-4) {
    return {pt, en, [mistaken, rtol](const V& g, const V&) { return exercise::all_close(g, mistaken, rtol, 1e-5); }};
}

TEST_SUITE("E08 BatchNorm") {

TEST_CASE("E08 training forward: normalise with the batch mean and the biased variance") {
    const V x = exercise::numbers(N * C * L, 61, -2.0f, 3.0f);
    Tensor rm = zeros({C}), rv = ones({C});
    Var y = bn(x, rm, rv, true, false);
    const Stats s = stats(x);
    std::vector<double> unbiased = s.var;
    for (double& v : unbiased) v *= 16.0 / 15.0;
    exercise::compare("y", y.value().data, normalise(x, s.mu, s.var), {N, C, 2, 2},
                      {like("normalizou com a variância não viesada (divide por n - 1): no treinamento, y usa a variância viesada (divide por n)",
                            "normalised with the unbiased variance (divide by n - 1): in training, y uses the biased variance (divide by n)",
                            normalise(x, s.mu, unbiased))});
}

TEST_CASE("E08 running statistics after one training step (momentum 0.1, running_var unbiased)") {
    const V x = exercise::numbers(N * C * L, 62, -2.0f, 3.0f);
    Tensor rm = zeros({C}), rv = ones({C});
    bn(x, rm, rv, true, false);
    const Stats s = stats(x);
    V want_m, want_v, biased_v, reversed_m;
    for (int c = 0; c < C; ++c) {
        want_m.push_back(static_cast<float>(M * s.mu[c]));
        reversed_m.push_back(static_cast<float>((1 - M) * s.mu[c]));
        want_v.push_back(static_cast<float>((1 - M) + M * s.var[c] * 16.0 / 15.0));
        biased_v.push_back(static_cast<float>((1 - M) + M * s.var[c]));
    }
    exercise::compare("running_mean", rm.data, want_m, {C},
                      {like("o momentum está do lado errado: o PyTorch faz (1 - m) * antigo + m * novo, com m = 0.1 "
                            "(o momentum 0.9 do Keras é o outro lado da média)",
                            "the momentum is on the wrong side: PyTorch does (1 - m) * old + m * new, with m = 0.1 "
                            "(Keras' momentum 0.9 names the other side)", reversed_m)});
    exercise::compare("running_var", rv.data, want_v, {C},
                      {like("running_var guardou a variância viesada: a média móvel usa a não viesada, var * n/(n - 1), como o PyTorch",
                            "running_var stored the biased variance: the running average takes the unbiased one, var * n/(n - 1), as PyTorch does",
                            biased_v, 1e-6)});
}

TEST_CASE("E08 eval: normalise with the running statistics and leave them unchanged") {
    const V x = exercise::numbers(N * C * L, 63, -2.0f, 3.0f);
    Tensor rm({C}, V{0.5f, -0.5f, 1.0f}), rv({C}, V{2.0f, 0.5f, 1.5f});
    Var y = bn(x, rm, rv, false, false);
    const Stats s = stats(x);
    exercise::compare("y (eval)", y.value().data, normalise(x, {0.5, -0.5, 1.0}, {2.0, 0.5, 1.5}), {N, C, 2, 2},
                      {like("no modo de avaliação (eval) y deve usar running_mean e running_var, não as estatísticas do lote",
                            "in eval mode y must use running_mean and running_var, not the batch statistics",
                            normalise(x, s.mu, s.var))});
    exercise::compare("running_mean (after eval)", rm.data, {0.5f, -0.5f, 1.0f}, {C},
                      {{"eval mudou as estatísticas: só o treinamento atualiza running_mean / running_var",
                        "eval changed the statistics: only training updates running_mean / running_var",
                        [](const V&, const V&) { return true; }}});
    exercise::compare("running_var (after eval)", rv.data, {2.0f, 0.5f, 1.5f}, {C});
}

TEST_CASE("E08 training backward: dx against central differences (mu and var depend on x too)") {
    const V x = exercise::numbers(N * C * L, 64, -2.0f, 3.0f), R = exercise::numbers(N * C * L, 65);
    Tensor rm = zeros({C}), rv = ones({C});
    Var xv = exercise::leaf({N, C, 2, 2}, x);
    batch_norm(xv, exercise::leaf({C}, GAMMA, false), exercise::leaf({C}, BETA, false), rm, rv, true, M, EPS)
        .backward(Tensor({N, C, 2, 2}, R));
    const V want = exercise::central_difference([&](const V& xx) {
        NoGrad ng;
        Tensor m2 = zeros({C}), v2 = ones({C});
        Var y = bn(xx, m2, v2, true, false);
        double acc = 0;
        for (size_t i = 0; i < R.size(); ++i) acc += double(R[i]) * y.value()[i];
        return acc;
    }, x, 1e-2f);
    const Stats s = stats(x);
    V eval_formula(x.size());
    for (int b = 0; b < N; ++b)
        for (int c = 0; c < C; ++c)
            for (int l = 0; l < L; ++l) eval_formula[at(b, c, l)] = static_cast<float>(R[at(b, c, l)] * GAMMA[c] / std::sqrt(s.var[c] + EPS));
    exercise::compare("dx", xv.grad().data, want, {N, C, 2, 2},
                      {like("dx = dy * gamma * rstd é a fórmula do eval: no treinamento mu e var dependem de x, "
                            "dx = gamma rstd (dy - mean(dy) - xhat mean(dy xhat))",
                            "dx = dy * gamma * rstd is the eval formula: in training mu and var depend on x, "
                            "dx = gamma rstd (dy - mean(dy) - xhat mean(dy xhat))", eval_formula, 1e-3)},
                      5e-3, 2e-3);
}

}  // TEST_SUITE
