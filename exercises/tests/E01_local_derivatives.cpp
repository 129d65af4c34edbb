// E01 - local derivatives: the backward of sigmoid, tanh and LeakyReLU (include/minigan/activations.hpp).
// The op's backward function is called by hand (the graph walk is E02). Oracle: the central difference of L = sum_i R_i f(x)_i, with R a fixed upstream gradient.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E01_local_derivatives.cpp -lopenblas -lz -o e01
#define EXERCISE "E01"
#define EXERCISE_TEST "E01_local_derivatives"
#include "exercise_test.hpp"

#include "../lab/central_difference.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

// Inputs away from LeakyReLU's kink at 0 (farther than the step h of the central difference).
static V inputs() {
    V x = exercise::numbers(12, 1, -3.0f, 3.0f);
    for (float& v : x) if (std::fabs(v) < 0.1f) v += 0.3f;
    return x;
}

// dL/dx by central difference, L = sum R_i f(x)_i, f computed by the forward alone.
static V numeric(const std::function<Var(const Var&)>& f, const V& x, const V& R) {
    return exercise::central_difference([&](const V& xv) {
        NoGrad ng;
        Var y = f(exercise::leaf({12}, xv, false));
        double L = 0;
        for (size_t i = 0; i < R.size(); ++i) L += double(R[i]) * y.value()[i];
        return L;
    }, x, 1e-3f);
}

// The op's own backward function alone, called by hand with out.grad = R: no graph walk (that is
// E02), just the local derivative times the upstream gradient, added into x's gradient.
static void run_backward(const Var& y, const V& R) {
    Node* n = y.node();
    n->grad = Tensor({12}, R);
    n->backward_fn(*n);
}

static V analytic(const std::function<Var(const Var&)>& f, const V& x, const V& R) {
    Var xv = exercise::leaf({12}, x);
    run_backward(f(xv), R);
    return xv.grad().data;
}

// got == the local derivative alone (the upstream gradient R never multiplied in)?
static Cause forgot_upstream(const V& local) {
    return {"o resultado é a derivada local sem o gradiente que chega: multiplique por out.grad[i] (regra da cadeia)",
            "the result is the local derivative without the upstream gradient: multiply by out.grad[i] (chain rule)",
            [local](const V& g, const V&) { return exercise::all_close(g, local, 1e-4, 1e-6); }};
}

TEST_SUITE("E01 local derivatives") {

TEST_CASE("E01 central_difference: (f(x + h) - f(x - h)) / 2h, error shrinking like h^2") {
    auto cube = [](double x) { return x * x * x; };  // f'(2) = 3 * 2^2 = 12
    const double d1 = lab::central_difference(cube, 2.0, 0.1), d2 = lab::central_difference(cube, 2.0, 0.01);
    // exactly: ((2.1)^3 - (1.9)^3) / 0.2 = 12 + h^2 = 12.01
    const std::vector<exercise::Cause> causes = {
        {"o resultado é o dobro: divida por 2h, não por h (a distância entre x - h e x + h é 2h)",
         "the result is twice too large: divide by 2h, not h (x - h and x + h are 2h apart)",
         [](const V& g, const V&) { return std::fabs(g[0] - 24.02f) < 1e-3f; }},
        {"parece a diferença de um lado só, (f(x + h) - f(x)) / h: use os dois lados, x + h e x - h",
         "this looks like the one-sided difference (f(x + h) - f(x)) / h: use both sides, x + h and x - h",
         [](const V& g, const V&) { return std::fabs(g[0] - 12.61f) < 1e-3f; }}};
    if (!exercise::compare("central_difference(x^3, x = 2, h = 0.1)", d1, 12.01, causes, 1e-6, 1e-9)) return;
    exercise::compare("central_difference(x^3, x = 2, h = 0.01)", d2, 12.0001, {}, 1e-6, 1e-9);
}

TEST_CASE("E01 sigmoid backward: y (1 - y) times the upstream gradient") {
    const V x = inputs(), R = exercise::numbers(12, 2, 0.5f, 2.0f);
    auto f = [](const Var& v) { return sigmoid(v); };
    const V got = analytic(f, x, R), want = numeric(f, x, R);
    V local, from_x;
    for (float v : x) {
        float y = 1.0f / (1.0f + std::exp(-v));
        local.push_back(y * (1 - y));
    }
    for (size_t i = 0; i < x.size(); ++i) from_x.push_back(R[i] * x[i] * (1 - x[i]));
    exercise::compare("dx (sigmoid)", got, want, {12},
                      {forgot_upstream(local),
                       {"usou x no lugar de y = sigmoid(x): a derivada é y (1 - y), com a saída y = out.value",
                        "used x instead of y = sigmoid(x): the derivative is y (1 - y), with the output y = out.value",
                        [from_x](const V& g, const V&) { return exercise::all_close(g, from_x, 1e-4, 1e-6); }}},
                      2e-3, 1e-4);
}

TEST_CASE("E01 tanh backward: 1 - y^2 times the upstream gradient") {
    const V x = inputs(), R = exercise::numbers(12, 3, 0.5f, 2.0f);
    auto f = [](const Var& v) { return minigan::tanh(v); };
    const V got = analytic(f, x, R), want = numeric(f, x, R);
    V local, one_minus_y;
    for (size_t i = 0; i < x.size(); ++i) {
        float y = std::tanh(x[i]);
        local.push_back(1 - y * y);
        one_minus_y.push_back(R[i] * (1 - y));
    }
    exercise::compare("dx (tanh)", got, want, {12},
                      {forgot_upstream(local),
                       {"usou 1 - y no lugar de 1 - y^2: d tanh/dx = 1 - tanh(x)^2",
                        "used 1 - y instead of 1 - y^2: d tanh/dx = 1 - tanh(x)^2",
                        [one_minus_y](const V& g, const V&) { return exercise::all_close(g, one_minus_y, 1e-4, 1e-6); }}},
                      2e-3, 1e-4);
}

TEST_CASE("E01 leaky_relu backward: 1 where x > 0, the slope elsewhere") {
    const V x = inputs(), R = exercise::numbers(12, 4, 0.5f, 2.0f);
    auto f = [](const Var& v) { return leaky_relu(v, 0.2f); };
    const V got = analytic(f, x, R), want = numeric(f, x, R);
    exercise::compare("dx (leaky_relu, slope 0.2)", got, want, {12},
                      {{"entradas negativas receberam gradiente 0: a inclinação (negative_slope) ficou de fora",
                        "negative inputs got gradient 0: the slope (negative_slope) was left out",
                        [x](const V& g, const V&) {
                            for (size_t i = 0; i < x.size(); ++i) if (x[i] < 0 && g[i] != 0.0f) return false;
                            return true;
                        }},
                       {"entradas positivas receberam a inclinação: os dois lados estão trocados",
                        "positive inputs got the slope: the two sides are swapped",
                        [x, R](const V& g, const V&) {
                            for (size_t i = 0; i < x.size(); ++i) if (x[i] > 0 && std::fabs(g[i] - 0.2f * R[i]) > 1e-5f) return false;
                            return true;
                        }}},
                      2e-3, 1e-4);
}

TEST_CASE("E01 one x feeds three activations: each backward adds (+=) its share") {
    const V x = inputs(), R = exercise::numbers(12, 5, 0.5f, 2.0f);
    auto f = [](const Var& v) { return sigmoid(v) + minigan::tanh(v) + leaky_relu(v, 0.2f); };
    Var xv = exercise::leaf({12}, x);
    Var y1 = sigmoid(xv), y2 = minigan::tanh(xv), y3 = leaky_relu(xv, 0.2f);
    run_backward(y2, R);  // three uses of x: three contributions into the same x.grad
    run_backward(y3, R);
    run_backward(y1, R);
    const V got = xv.grad().data, want = numeric(f, x, R);
    auto only = [&](std::function<Var(const Var&)> g1) { return numeric(g1, x, R); };
    const V s = only([](const Var& v) { return sigmoid(v); }), t = only([](const Var& v) { return minigan::tanh(v); }),
            l = only([](const Var& v) { return leaky_relu(v, 0.2f); });
    auto matches_one_term = [s, t, l](const V& g, const V&) {
        return exercise::all_close(g, s, 3e-3, 1e-4) || exercise::all_close(g, t, 3e-3, 1e-4) ||
               exercise::all_close(g, l, 3e-3, 1e-4);
    };
    exercise::compare("dx (sigmoid + tanh + leaky_relu)", got, want, {12},
                      {{"x recebeu só a contribuição de uma das três funções: um backward usou = no lugar de += "
                        "e apagou o que as outras já tinham somado",
                        "x got the contribution of only one of the three: a backward used = instead of += "
                        "and erased what the others had added",
                        matches_one_term}},
                      3e-3, 1e-4);
}

}  // TEST_SUITE
