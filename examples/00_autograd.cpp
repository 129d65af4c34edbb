// 00_autograd.cpp - the engine in three small steps: a graph, its gradients, a layer that learns.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/00_autograd.cpp -lopenblas -lz -o autograd && ./autograd
//
// 1. Build y = (a * b + a) * 2 from two numbers and let backward() compute dy/da and dy/db.
// 2. Check one gradient by hand with a finite difference.
// 3. Fit a line y = 3x - 1 with nn::Linear(1, 1), MSE and SGD: the weight goes to 3, the bias to -1.
#include <cstdio>

#include <minigan/minigan.hpp>

using namespace minigan;

constexpr int kSteps = 200;          // SGD steps for the line fit
constexpr float kLearningRate = 0.1f;
constexpr int kPoints = 32;          // training points on the line

int main() {
    manual_seed(0);
    std::printf("minigan %s\n\n", runtime_summary().c_str());

    // ---- 1. a graph and its gradients ----------------------------------------------------
    Var a(Tensor({}, 2.0f), /*requires_grad=*/true);
    Var b(Tensor({}, -3.0f), true);
    Var y = (a * b + a) * 2.0f;  // y = 2ab + 2a = 2*2*(-3) + 2*2 = -8
    y.backward();                 // dy/da = 2b + 2 = -4,  dy/db = 2a = 4
    std::printf("1. y = (a*b + a)*2 at a=2, b=-3:  y = %g,  dy/da = %g (expect -4),  dy/db = %g (expect 4)\n",
                y.item(), a.grad().item(), b.grad().item());

    // ---- 2. the same gradient by a central difference: (y(a+h) - y(a-h)) / 2h -------------
    auto f = [](float av, float bv) { return (av * bv + av) * 2.0f; };
    const float h = 1e-2f;
    std::printf("2. finite difference dy/da = %g\n\n", (f(2.0f + h, -3.0f) - f(2.0f - h, -3.0f)) / (2 * h));

    // ---- 3. a Linear layer fits y = 3x - 1 -------------------------------------------------
    Tensor xs({kPoints, 1}), ys({kPoints, 1});
    for (int i = 0; i < kPoints; ++i) {
        xs[i] = global_rng().uniform(-1.0f, 1.0f);
        ys[i] = 3.0f * xs[i] - 1.0f;
    }
    nn::Linear line(1, 1);
    optim::SGD opt(line.parameters(), kLearningRate);
    for (int step = 0; step <= kSteps; ++step) {
        Var loss = mse(line(Var(xs)), Var(ys));
        opt.zero_grad();
        loss.backward();
        opt.step();
        if (step % 50 == 0)
            std::printf("3. step %3d  loss %.6f  weight %.4f  bias %.4f\n", step, loss.item(), line.weight.value()[0],
                        line.bias.value()[0]);
    }
    return 0;
}
