// gan_game.cpp - the GAN game in numbers: why G uses the non-saturating loss, and why the order
// of the two players' steps matters. Runs in well under a second (docs/lessons/09-gan-game.md).
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/gan_game.cpp -lopenblas -lz -o gan_game && ./gan_game
//
// 1. One logit l, D(G(z)) = sigmoid(l). G's two candidate losses and their gradients, by backward():
//      minimax         log(1 - sigmoid(l)) = -bce_with_logits(l, 0)    d/dl = -sigmoid(l)
//      non-saturating  -log sigmoid(l)     =  bce_with_logits(l, 1)    d/dl = sigmoid(l) - 1
//    Where D rejects the fakes (l very negative) the first is ~0, the second ~-1.
// 2. The same through real networks: the vanilla G and D of gan/models.hpp, D's last bias set so
//    that D(G(z)) ~ 0.0025 (as early in training). The size of G's whole gradient under each loss.
// 3. The bilinear game V(a, b) = a * b (exercises/lab/bilinear_game.hpp): a minimises, b maximises.
//    Simultaneous steps spiral out; alternating steps (what train_step does) stay on an orbit.
#include <cmath>
#include <cstdio>

#include <minigan/gan/models.hpp>
#include <minigan/minigan.hpp>

#include "../exercises/lab/bilinear_game.hpp"

using namespace minigan;

constexpr int kBatch = 64;          // latent vectors in part 2
constexpr int kLatent = 100;        // G's input size
constexpr float kRejectBias = -6;   // D's last bias in part 2: D(G(z)) ~ sigmoid(-6) = 0.0025
constexpr float kGameLr = 0.1f;     // step size of the bilinear game
constexpr int kGameSteps = 100;     // steps of the bilinear game

// The Euclidean norm of all of G's parameter gradients together.
static double gradient_norm(nn::Module& G) {
    double total = 0.0;
    for (Var& p : G.parameters())
        for (float g : p.grad().data) total += static_cast<double>(g) * g;
    return std::sqrt(total);
}

int main() {
    manual_seed(1);
    std::printf("minigan %s\n\n", runtime_summary().c_str());

    // ---- 1. one logit: value and gradient of each G loss ------------------------------------
    std::printf("1. G's loss at one logit l, D(G(z)) = sigmoid(l); gradients by backward()\n");
    std::printf("   %6s %10s | %14s %12s | %14s %12s | %8s\n", "l", "D(G(z))", "minimax loss", "d/dl", "non-sat. loss",
                "d/dl", "ratio");
    for (float l : {-8.0f, -6.0f, -4.0f, -2.0f, 0.0f, 2.0f}) {
        Var minimax_logit(Tensor({1, 1}, l), true), nonsat_logit(Tensor({1, 1}, l), true);
        Var minimax = bce_with_logits(minimax_logit, constant_like(minimax_logit, 0.0f)) * -1.0f;  // log(1 - D)
        Var nonsat = bce_with_logits(nonsat_logit, constant_like(nonsat_logit, 1.0f));            // -log D
        minimax.backward();
        nonsat.backward();
        const float d_mm = minimax_logit.grad()[0], d_ns = nonsat_logit.grad()[0];
        std::printf("   %6.1f %10.5f | %14.5f %12.5f | %14.5f %12.5f | %7.1fx\n", l, stable_sigmoid(l), minimax.item(),
                    d_mm, nonsat.item(), d_ns, std::fabs(d_ns / d_mm));
    }

    // ---- 2. through the vanilla G and D: the size of G's gradient ---------------------------
    auto G = gan::vanilla_generator(kLatent);  // z (N, 100) -> (N, 784)
    auto D = gan::vanilla_discriminator();     // (N, 784) -> logit (N, 1)
    D->eval();                                 // no Dropout: both losses see the same D
    auto& last = dynamic_cast<nn::Linear&>((*D)[D->size() - 1]);
    last.bias.value().fill(kRejectBias);
    D->set_requires_grad(false);               // D frozen, as in train_step's G step
    const Var z(randn({kBatch, kLatent}));
    double norm[2] = {0, 0}, d_fake = 0;
    for (int which = 0; which < 2; ++which) {  // 0: minimax, 1: non-saturating
        for (Var& p : G->parameters()) p.grad().fill(0.0f);
        Var logits = (*D)(G->forward(z));
        d_fake = mean_probability(logits.value());
        Var loss = which == 0 ? bce_with_logits(logits, constant_like(logits, 0.0f)) * -1.0f
                              : bce_with_logits(logits, constant_like(logits, 1.0f));
        loss.backward();
        norm[which] = gradient_norm(*G);
    }
    std::printf("\n2. the vanilla G and D (gan/models.hpp), D's last bias %g: mean D(G(z)) = %.5f over %d samples\n",
                kRejectBias, d_fake, kBatch);
    std::printf("   ||dL/dtheta_G||, minimax loss        %.3e\n", norm[0]);
    std::printf("   ||dL/dtheta_G||, non-saturating loss %.3e   (%.0fx larger)\n", norm[1], norm[1] / norm[0]);

    // ---- 3. the bilinear game V(a, b) = a b -------------------------------------------------
    std::printf("\n3. the bilinear game V(a, b) = a*b from (1, 1), step %g: the distance sqrt(a^2 + b^2) from the equilibrium (0, 0)\n",
                kGameLr);
    std::printf("   %6s %14s %14s\n", "step", "simultaneous", "alternating");
    float sa = 1, sb = 1, aa = 1, ab = 1;
    for (int step = 0; step <= kGameSteps; ++step) {
        if (step % 20 == 0)
            std::printf("   %6d %14.4f %14.4f\n", step, std::sqrt(sa * sa + sb * sb), std::sqrt(aa * aa + ab * ab));
        lab::simultaneous_step(sa, sb, kGameLr);
        lab::alternating_step(aa, ab, kGameLr);
    }
    std::printf("   simultaneous: x sqrt(1 + lr^2) = %.5f per step, so %.4f after %d steps\n",
                std::sqrt(1 + kGameLr * kGameLr), std::sqrt(2.0) * std::pow(1 + kGameLr * kGameLr, kGameSteps / 2.0),
                kGameSteps);
    return 0;
}
