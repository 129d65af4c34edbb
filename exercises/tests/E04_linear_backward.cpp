// E04 - Linear backward: y = x W^T + b, so dx = dy W, dW = dy^T x, db = sum over the batch of dy
// (include/minigan/nn/linear.hpp). Shapes: x (N, in), W (out, in), b (out), dy (N, out).
// Oracle: the three products as naive loops here; non-square shapes so a transpose cannot hide.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E04_linear_backward.cpp -lopenblas -lz -o e04
#define EXERCISE "E04"
#define EXERCISE_TEST "E04_linear_backward"
#include "exercise_test.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static const int N = 4, IN = 5, OUT = 3;

TEST_SUITE("E04 Linear backward") {

TEST_CASE("E04 linear: dx = dy W, dW = dy^T x, db = sum_n dy (x (4, 5), W (3, 5))") {
    const V x0 = exercise::numbers(N * IN, 21), w0 = exercise::numbers(OUT * IN, 22), b0 = {0.1f, -0.2f, 0.3f};
    const V R = exercise::numbers(N * OUT, 23);
    Var x = exercise::leaf({N, IN}, x0), w = exercise::leaf({OUT, IN}, w0), b = exercise::leaf({OUT}, b0);
    Var y = linear(x, w, b);
    y.node()->grad = Tensor({N, OUT}, R);  // linear's own backward function, called by hand (no graph walk)
    y.node()->backward_fn(*y.node());
    V dx(N * IN, 0.0f), dw(OUT * IN, 0.0f), dw_t(IN * OUT, 0.0f), db(OUT, 0.0f), db_row0(OUT, 0.0f);
    for (int n = 0; n < N; ++n)
        for (int j = 0; j < OUT; ++j) {
            db[j] += R[n * OUT + j];
            if (n == 0) db_row0[j] += R[j];
            for (int k = 0; k < IN; ++k) {
                dx[n * IN + k] += R[n * OUT + j] * w0[j * IN + k];   // dx = dy W
                dw[j * IN + k] += R[n * OUT + j] * x0[n * IN + k];   // dW = dy^T x: (out, in), like W
                dw_t[k * OUT + j] += R[n * OUT + j] * x0[n * IN + k]; // x^T dy: (in, out), the transposed mistake
            }
        }
    exercise::compare("dx", x.grad().data, dx, {N, IN});
    exercise::compare("dW", w.grad().data, dw, {OUT, IN},
                      {{"dW saiu transposto: dW tem o formato de W, (out, in), e vale dy^T x, não x^T dy (in, out)",
                        "dW came out transposed: dW has W's shape, (out, in), and is dy^T x, not x^T dy (in, out)",
                        [dw_t](const V& g, const V&) { return exercise::all_close(g, dw_t, 1e-4, 1e-5); }}});
    exercise::compare("db", b.grad().data, db, {OUT},
                      {{"db é só a primeira linha de dy: o viés é somado a todas as N linhas, então db soma sobre n",
                        "db is only dy's first row: the bias is added to all N rows, so db sums over n",
                        [db_row0](const V& g, const V&) { return exercise::all_close(g, db_row0, 1e-5, 1e-6); }}});
}

TEST_CASE("E04 x used by two layers: dx collects both (+=, beta = 1 in the GEMM)") {
    const V x0 = exercise::numbers(N * IN, 24), w0 = exercise::numbers(OUT * IN, 25), w1 = exercise::numbers(OUT * IN, 26);
    Var x = exercise::leaf({N, IN}, x0);
    Var wa = exercise::leaf({OUT, IN}, w0, false), wb = exercise::leaf({OUT, IN}, w1, false);
    Var y = linear(x, wa, Var()) + linear(x, wb, Var());
    y.backward(Tensor({N, OUT}, V(N * OUT, 1.0f)));
    V want(N * IN, 0.0f), only_a(N * IN, 0.0f), only_b(N * IN, 0.0f);
    for (int n = 0; n < N; ++n)
        for (int k = 0; k < IN; ++k)
            for (int j = 0; j < OUT; ++j) {
                want[n * IN + k] += w0[j * IN + k] + w1[j * IN + k];
                only_a[n * IN + k] += w0[j * IN + k];
                only_b[n * IN + k] += w1[j * IN + k];
            }
    exercise::compare("dx (two layers read x)", x.grad().data, want, {N, IN},
                      {{"dx recebeu a contribuição de só uma das duas camadas: o backward sobrescreveu dx (beta = 0 no gemm, ou =) em vez de somar (beta = 1, +=)",
                        "dx holds only one of the two layers: the backward overwrote dx (beta = 0 in the gemm, or =) instead of adding (beta = 1, +=)",
                        [only_a, only_b](const V& g, const V&) {
                            return exercise::all_close(g, only_a, 1e-4, 1e-5) || exercise::all_close(g, only_b, 1e-4, 1e-5);
                        }}});
}

}  // TEST_SUITE
