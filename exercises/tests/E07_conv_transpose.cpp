// E07 - ConvTranspose2d as the gradient of a convolution (include/minigan/conv.hpp: conv_transpose2d).
//   forward (scatter form): y[n, o, i*s - p + u, j*s - p + v] += x[n, c, i, j] * w[c, o, u, v]
//   Ho = (H - 1)*s - 2p + k + output_padding;  with GEMMs: y = col2im(W^T x)
//   backward: dW += x * im2col(dy)^T,  dx += W * im2col(dy)   (a convolution of dy)
// Oracles: the scatter form and its gradients as naive loops here; <conv2d(z, W), x> = <z, convT(x, W)>.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E07_conv_transpose.cpp -lopenblas -lz -o e07
#define EXERCISE "E07"
#define EXERCISE_TEST "E07_conv_transpose"
#include "exercise_test.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static const int N = 2, C = 3, H = 4, O = 2, K = 4, S = 2, P = 1, HO = 8;  // (H-1)*2 - 2 + 4 = 8

static V scatter(const V& x, const V& w) {
    V y(N * O * HO * HO, 0.0f);
    for (int n = 0; n < N; ++n)
        for (int c = 0; c < C; ++c)
            for (int o = 0; o < O; ++o)
                for (int i = 0; i < H; ++i)
                    for (int j = 0; j < H; ++j)
                        for (int u = 0; u < K; ++u)
                            for (int v = 0; v < K; ++v) {
                                const int h = i * S - P + u, ww = j * S - P + v;
                                if (h >= 0 && h < HO && ww >= 0 && ww < HO)
                                    y[((n * O + o) * HO + h) * HO + ww] +=
                                        x[((n * C + c) * H + i) * H + j] * w[((c * O + o) * K + u) * K + v];
                            }
    return y;
}

TEST_SUITE("E07 ConvTranspose2d") {

TEST_CASE("E07 conv_transpose2d forward: the scatter form, x (2, 3, 4, 4), W (3, 2, 4, 4), stride 2, padding 1") {
    const V x0 = exercise::numbers(N * C * H * H, 51), w0 = exercise::numbers(C * O * K * K, 52);
    Var x = exercise::leaf({N, C, H, H}, x0, false), w = exercise::leaf({C, O, K, K}, w0, false);
    Var y = conv_transpose2d(x, w, Var(), S, P);
    exercise::expect(y.shape() == Shape{N, O, HO, HO}, "formato errado: Ho = (H - 1)*s - 2p + k + output_padding",
                     "wrong shape: Ho = (H - 1)*s - 2p + k + output_padding", "got " + shape_str(y.shape()) + ", expected (2, 2, 8, 8)");
    if (y.shape() != Shape{N, O, HO, HO}) return;
    exercise::compare("y", y.value().data, scatter(x0, w0), {N, O, HO, HO});
    // the adjoint identity: conv_transpose2d is the transpose of conv2d with the same weight tensor
    const V z0 = exercise::numbers(N * O * HO * HO, 53);
    Var z = exercise::leaf({N, O, HO, HO}, z0, false);
    Var cz = conv2d(z, w, Var(), S, P);  // W read as a conv2d weight (out = 3, in = 2): (N, 3, 4, 4)
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < x0.size(); ++i) lhs += double(cz.value()[i]) * x0[i];
    for (size_t i = 0; i < z0.size(); ++i) rhs += double(z0[i]) * y.value()[i];
    exercise::compare("<conv2d(z, W), x> - <z, conv_transpose2d(x, W)>", lhs - rhs, 0.0, {}, 0.0, 1e-3);
}

TEST_CASE("E07 output_padding: (1, 2, 3, 3) -> (1, 1, 6, 6) with k = 3, stride 2, padding 1, output_padding 1") {
    Var x = exercise::leaf({1, 2, 3, 3}, exercise::numbers(18, 54), false);
    Var w = exercise::leaf({2, 1, 3, 3}, exercise::numbers(18, 55), false);
    Var y = conv_transpose2d(x, w, Var(), 2, 1, 1);
    exercise::expect(y.shape() == Shape{1, 1, 6, 6},
                     "o formato saiu sem output_padding: Ho = (H - 1)*s - 2p + k + output_padding = 2*2 - 2 + 3 + 1 = 6",
                     "the shape left output_padding out: Ho = (H - 1)*s - 2p + k + output_padding = 2*2 - 2 + 3 + 1 = 6",
                     "got " + shape_str(y.shape()) + ", expected (1, 1, 6, 6)");
}

TEST_CASE("E07 conv_transpose2d backward: dx and dW (two backward calls accumulate)") {
    const V x0 = exercise::numbers(N * C * H * H, 56), w0 = exercise::numbers(C * O * K * K, 57);
    const V R = exercise::numbers(N * O * HO * HO, 58);
    Var x = exercise::leaf({N, C, H, H}, x0), w = exercise::leaf({C, O, K, K}, w0);
    Var y = conv_transpose2d(x, w, Var(), S, P);
    REQUIRE(y.shape() == Shape{N, O, HO, HO});
    y.backward(Tensor(y.shape(), R));
    y.backward(Tensor(y.shape(), R));
    V dx(x0.size(), 0.0f), dw(w0.size(), 0.0f);
    for (int n = 0; n < N; ++n)
        for (int c = 0; c < C; ++c)
            for (int o = 0; o < O; ++o)
                for (int i = 0; i < H; ++i)
                    for (int j = 0; j < H; ++j)
                        for (int u = 0; u < K; ++u)
                            for (int v = 0; v < K; ++v) {
                                const int h = i * S - P + u, ww = j * S - P + v;
                                if (h < 0 || h >= HO || ww < 0 || ww >= HO) continue;
                                const float g = 2 * R[((n * O + o) * HO + h) * HO + ww];
                                dx[((n * C + c) * H + i) * H + j] += g * w0[((c * O + o) * K + u) * K + v];
                                dw[((c * O + o) * K + u) * K + v] += g * x0[((n * C + c) * H + i) * H + j];
                            }
    auto half = [](const char* what) {
        return Cause{std::string(what) + " não acumulou entre duas chamadas de backward: some ao gradiente que já existe (beta = 1, add_..., +=)",
                     std::string(what) + " did not accumulate over two backward calls: add into the existing gradient (beta = 1, add_..., +=)",
                     [](const V& g, const V& want) { return exercise::scaled(g, want, 0.5); }};
    };
    exercise::compare("dW", w.grad().data, dw, {C, O, K, K}, {half("dW")});
    exercise::compare("dx", x.grad().data, dx, {N, C, H, H}, {half("dx")});
}

}  // TEST_SUITE
