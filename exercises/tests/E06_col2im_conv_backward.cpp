// E06 - col2im (the adjoint of im2col: every column entry added back at the pixel it came from) and
// the backward of conv2d, dW += dY im2col(x)^T and dx += col2im(W^T dY) (include/minigan/im2col.hpp,
// include/minigan/conv.hpp). Oracles: the adjoint identity <im2col x, C> = <x, col2im C>, and the
// gradients of the convolution's definition as naive loops here.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E06_col2im_conv_backward.cpp -lopenblas -lz -o e06
#define EXERCISE "E06"
#define EXERCISE_TEST "E06_col2im_conv_backward"
#include "exercise_test.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

TEST_SUITE("E06 col2im and conv2d backward") {

TEST_CASE("E06 col2im adds every column entry back at its pixel (the adjoint of im2col)") {
    const ConvGeometry g = conv_geometry(2, 5, 4, 3, 2, 1);  // C = 2, 5x4, k = 3, stride 2, padding 1
    const size_t R = g.patch_size(), P = g.positions();
    const V C = exercise::numbers(R * P, 41);
    V image(2 * 5 * 4, 1.0f);  // col2im adds into the image: the 1s must stay
    col2im(C.data(), P, 0, g, image.data());
    V want(2 * 5 * 4, 1.0f), overwritten(2 * 5 * 4, 1.0f);  // overwritten: what = instead of += leaves
    for (int c = 0; c < 2; ++c)
        for (int u = 0; u < 3; ++u)
            for (int v = 0; v < 3; ++v)
                for (int i = 0; i < g.out_h; ++i)
                    for (int j = 0; j < g.out_w; ++j) {
                        const int h = i * 2 - 1 + u, w = j * 2 - 1 + v;
                        if (h < 0 || h >= 5 || w < 0 || w >= 4) continue;  // padding: dropped
                        want[(c * 5 + h) * 4 + w] += C[((c * 3 + u) * 3 + v) * P + i * g.out_w + j];
                        overwritten[(c * 5 + h) * 4 + w] = C[((c * 3 + u) * 3 + v) * P + i * g.out_w + j];
                    }
    exercise::compare("image", image, want, {2, 5, 4},
                      {{"col2im sobrescreveu pixels: um pixel lido por vários patches recebe a SOMA de todos eles (+=, não =)",
                        "col2im overwrote pixels: a pixel read by several patches receives the SUM of them all (+=, not =)",
                        [overwritten](const V& got, const V&) { return exercise::all_close(got, overwritten, 1e-6, 1e-6); }}});
    // <im2col x, C> = <x, col2im C>: col2im is im2col's transpose
    const V x = exercise::numbers(2 * 5 * 4, 42);
    V col(R * P), back(2 * 5 * 4, 0.0f);
    im2col(x.data(), g, col.data(), P, 0);
    col2im(C.data(), P, 0, g, back.data());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < col.size(); ++i) lhs += double(col[i]) * C[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += double(x[i]) * back[i];
    exercise::compare("<im2col x, C> - <x, col2im C>", lhs - rhs, 0.0, {}, 0.0, 1e-4);
}

TEST_CASE("E06 conv2d backward: dW, dx, db of x (2, 2, 5, 5), W (3, 2, 3, 3), stride 2, padding 1") {
    const int N = 2, Ci = 2, H = 5, O = 3, k = 3, s = 2, p = 1, Ho = 3;
    const V x0 = exercise::numbers(N * Ci * H * H, 43), w0 = exercise::numbers(O * Ci * k * k, 44);
    const V R = exercise::numbers(N * O * Ho * Ho, 45);
    Var x = exercise::leaf({N, Ci, H, H}, x0), w = exercise::leaf({O, Ci, k, k}, w0), b = exercise::leaf({O}, {0, 0, 0});
    Var y = conv2d(x, w, b, s, p);
    REQUIRE(y.shape() == Shape{N, O, Ho, Ho});
    y.backward(Tensor(y.shape(), R));
    y.backward(Tensor(y.shape(), R));  // twice: leaves accumulate, so every gradient is 2x one pass
    V dx(x0.size(), 0.0f), dw(w0.size(), 0.0f), db(O, 0.0f);
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o)
            for (int i = 0; i < Ho; ++i)
                for (int j = 0; j < Ho; ++j) {
                    const float g = 2 * R[((n * O + o) * Ho + i) * Ho + j];
                    db[o] += g;
                    for (int c = 0; c < Ci; ++c)
                        for (int u = 0; u < k; ++u)
                            for (int v = 0; v < k; ++v) {
                                const int h = i * s - p + u, ww = j * s - p + v;
                                if (h < 0 || h >= H || ww < 0 || ww >= H) continue;
                                dw[((o * Ci + c) * k + u) * k + v] += g * x0[((n * Ci + c) * H + h) * H + ww];
                                dx[((n * Ci + c) * H + h) * H + ww] += g * w0[((o * Ci + c) * k + u) * k + v];
                            }
                }
    const Cause not_accumulated{"dW não acumulou entre duas chamadas de backward: o gemm de dW deve somar (beta = 1), não sobrescrever (beta = 0)",
                                "dW did not accumulate over two backward calls: dW's gemm must add (beta = 1), not overwrite (beta = 0)",
                                [](const V& g, const V& want) { return exercise::scaled(g, want, 0.5); }};
    exercise::compare("dW", w.grad().data, dw, {O, Ci, k, k}, {not_accumulated});
    exercise::compare("dx", x.grad().data, dx, {N, Ci, H, H});
    exercise::compare("db", b.grad().data, db, {O});
}

}  // TEST_SUITE
