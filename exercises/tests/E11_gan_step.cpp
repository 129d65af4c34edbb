// E11 - one GAN training step (include/minigan/gan/train_step.hpp: train_step).
//   1. D: d_loss = bce(D(x), 1) + bce(D(G(z).detach()), 0); optD.zero_grad(); backward; optD.step()
//      detach(): D's step must not send gradients into G.
//   2. G: g_loss = bce(D(G(z)), 1) (the non-saturating loss) with D frozen: optG.zero_grad(); backward; optG.step()
// Tiny linear G (2 -> 3) and D (3 -> 1), and optimizers that look at the gradients when step() runs.
// Oracle: both steps' gradients written out by hand here (linear models: a few sums).
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E11_gan_step.cpp -lopenblas -lz -o e11
#define EXERCISE "E11"
#define EXERCISE_TEST "E11_gan_step"
#include "exercise_test.hpp"

#include <minigan/gan/train_step.hpp>

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static const int N = 4, Z = 2, X = 3;
static const float LR = 0.1f;

// SGD that records every parameter's gradient at the moment step() is called.
struct SpySGD : optim::SGD {
    using optim::SGD::SGD;
    std::vector<std::function<void()>> on_step;
    int steps = 0;
    void step() override {
        if (steps < static_cast<int>(on_step.size())) on_step[steps]();
        ++steps;
        optim::SGD::step();
    }
};

static double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST_SUITE("E11 GAN step") {

TEST_CASE("E11 train_step: detach in D's step, D frozen in G's step, the non-saturating G loss") {
    nn::Linear G(Z, X), D(X, 1);
    const V wg = exercise::numbers(X * Z, 71), bg = exercise::numbers(X, 72), wd = exercise::numbers(X, 73, -0.5f, 0.5f);
    G.weight.value().data = wg;
    G.bias.value().data = bg;
    D.weight.value().data = wd;
    D.bias.value().data = {-6.0f};  // D(G(z)) ~ sigmoid(-6) = 0.0025: D sees through G, G's loss saturates
    const V xr = exercise::numbers(N * X, 74), zv = exercise::numbers(N * Z, 75);

    // ---- the oracle: both steps by hand ----
    V fake(N * X);
    for (int n = 0; n < N; ++n)
        for (int j = 0; j < X; ++j) {
            double a = bg[j];
            for (int k = 0; k < Z; ++k) a += wg[j * Z + k] * zv[n * Z + k];
            fake[n * X + j] = static_cast<float>(a);
        }
    auto logit = [](const V& w, float b, const V& x, int n) {
        double a = b;
        for (int j = 0; j < X; ++j) a += w[j] * x[n * X + j];
        return a;
    };
    V dwd(X, 0.0f);
    float dbd = 0;
    for (int n = 0; n < N; ++n) {
        const double gr = (sig(logit(wd, -6.0f, xr, n)) - 1) / N, gf = sig(logit(wd, -6.0f, fake, n)) / N;
        dbd += static_cast<float>(gr + gf);
        for (int j = 0; j < X; ++j) dwd[j] += static_cast<float>(gr * xr[n * X + j] + gf * fake[n * X + j]);
    }
    V wd1(X);
    for (int j = 0; j < X; ++j) wd1[j] = wd[j] - LR * dwd[j];
    const float bd1 = -6.0f - LR * dbd;
    V dwg(X * Z, 0.0f), dwg_minimax(X * Z, 0.0f), dwg_old_d(X * Z, 0.0f);
    for (int n = 0; n < N; ++n) {
        const double s = sig(logit(wd1, bd1, fake, n)), s_old = sig(logit(wd, -6.0f, fake, n));
        const double ns = (s - 1) / N, mm = -s / N, old = (s_old - 1) / N;  // dloss/dlogit: non-saturating, minimax, old D
        for (int j = 0; j < X; ++j)
            for (int k = 0; k < Z; ++k) {
                dwg[j * Z + k] += static_cast<float>(ns * wd1[j] * zv[n * Z + k]);
                dwg_minimax[j * Z + k] += static_cast<float>(mm * wd1[j] * zv[n * Z + k]);
                dwg_old_d[j * Z + k] += static_cast<float>(old * wd[j] * zv[n * Z + k]);
            }
    }

    // ---- the step, watched ----
    SpySGD optG(G.parameters(), LR), optD(D.parameters(), LR);
    V g_grad_at_d_step, d_grad_at_d_step, d_grad_at_g_step, g_grad_at_g_step;
    optD.on_step.push_back([&] {
        g_grad_at_d_step = G.weight.grad().data;
        d_grad_at_d_step = D.weight.grad().data;
    });
    optG.on_step.push_back([&] {
        d_grad_at_g_step = D.weight.grad().data;
        g_grad_at_g_step = G.weight.grad().data;
    });
    gan::train_step(G, D, optG, optD, exercise::leaf({N, X}, xr, false), exercise::leaf({N, Z}, zv, false));
    REQUIRE_MESSAGE(optD.steps == 1, "E11: optD.step() must run once per train_step (it ran " << optD.steps << " times)");
    REQUIRE_MESSAGE(optG.steps == 1, "E11: optG.step() must run once per train_step (it ran " << optG.steps << " times)");

    exercise::compare("G.weight.grad at D's step", g_grad_at_d_step, V(X * Z, 0.0f), {X, Z},
                      {{"o passo de D mandou gradiente para G: use fake.detach() na perda de D (G fica fixo no passo de D)",
                        "D's step sent gradients into G: use fake.detach() in D's loss (G stays fixed in D's step)",
                        [](const V&, const V&) { return true; }}});
    exercise::compare("D.weight.grad at D's step", d_grad_at_d_step, dwd, {1, X});
    exercise::compare("D.weight.grad at G's step (must be what D's step left)", d_grad_at_g_step, d_grad_at_d_step, {1, X},
                      {{"os gradientes de D mudaram no passo de G: congele D (D.set_requires_grad(false)) antes de D(fake) "
                        "e descongele depois",
                        "D's gradients changed during G's step: freeze D (D.set_requires_grad(false)) before D(fake) "
                        "and unfreeze it afterwards",
                        [](const V&, const V&) { return true; }}});
    exercise::compare("G.weight.grad at G's step", g_grad_at_g_step, dwg, {X, Z},
                      {{"gradiente de G ~400x menor onde D(G(z)) ~ 0: é a perda minimax (saturante) log(1 - D(G(z))); "
                        "use a perda não saturante bce(D(G(z)), 1)",
                        "G's gradient ~400x too small where D(G(z)) ~ 0: that is the minimax (saturating) loss log(1 - D(G(z))); "
                        "use the non-saturating loss bce(D(G(z)), 1)",
                        [dwg_minimax](const V& g, const V&) { return exercise::all_close(g, dwg_minimax, 1e-3, 1e-7); }},
                       {"G foi atualizado contra o D antigo: o passo de G vem depois de optD.step(), com o D já atualizado",
                        "G was updated against the old D: G's step comes after optD.step(), with the updated D",
                        [dwg_old_d](const V& g, const V&) { return exercise::all_close(g, dwg_old_d, 1e-4, 1e-7); }}},
                      1e-3, 1e-7);
}

}  // TEST_SUITE
