// E03 - a broadcast's backward: sum(x, dim)'s gradient copies dy back along the summed dimension,
// and the per-channel bias of a convolution, broadcast over the batch and every pixel, collects
// the sum of dy over them (include/minigan/ops.hpp, include/minigan/im2col.hpp: channel_bias_grad).
// Oracle: the same sums written as naive loops here.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E03_broadcast_backward.cpp -lopenblas -lz -o e03
#define EXERCISE "E03"
#define EXERCISE_TEST "E03_broadcast_backward"
#include "exercise_test.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

TEST_SUITE("E03 broadcast backward") {

TEST_CASE("E03 channel_bias_grad: db[o] += sum over the batch and every pixel of dy[n, o, q]") {
    const int N = 3, O = 2;
    const size_t plane = 5;
    const V dy = exercise::numbers(N * O * plane, 13);
    V db = {10.0f, 20.0f};  // gradients accumulate: what db held stays
    channel_bias_grad(dy.data(), N, O, plane, db.data());
    V want = {10.0f, 20.0f}, overwritten(2, 0.0f), one_image = {10.0f, 20.0f};
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o)
            for (size_t q = 0; q < plane; ++q) {
                want[o] += dy[(n * O + o) * plane + q];
                overwritten[o] += dy[(n * O + o) * plane + q];
                if (n == 0) one_image[o] += dy[(n * O + o) * plane + q];
            }
    exercise::compare("db", db, want, {2},
                      {{"db perdeu o que já tinha (10 e 20): use db[o] += ..., não db[o] = ... (gradientes acumulam)",
                        "db lost what it held (10 and 20): use db[o] += ..., not db[o] = ... (gradients accumulate)",
                        [overwritten](const V& g, const V&) { return exercise::all_close(g, overwritten, 1e-5, 1e-5); }},
                       {"somou só a primeira imagem do lote: o viés é o mesmo para todas as N imagens, some sobre n também",
                        "summed the first image of the batch only: the bias is shared by all N images, sum over n too",
                        [one_image](const V& g, const V&) { return exercise::all_close(g, one_image, 1e-5, 1e-5); }}});
}

TEST_CASE("E03 sum(x, 1) of a (2, 3, 4) tensor: every x[o, d, i] gets dy[o, i]") {
    const V x0 = exercise::numbers(24, 11), R = exercise::numbers(8, 12);
    for (bool keepdim : {false, true}) {
        Var x = exercise::leaf({2, 3, 4}, x0);
        Var y = sum(x, 1, keepdim);
        y.node()->grad = Tensor(keepdim ? Shape{2, 1, 4} : Shape{2, 4}, R);  // sum's backward function alone
        y.node()->backward_fn(*y.node());
        V want(24), first_of_row(24);
        for (int o = 0; o < 2; ++o)
            for (int d = 0; d < 3; ++d)
                for (int i = 0; i < 4; ++i) {
                    want[(o * 3 + d) * 4 + i] = R[o * 4 + i];
                    first_of_row[(o * 3 + d) * 4 + i] = R[o];
                }
        INFO("keepdim = " << keepdim);
        exercise::compare(std::string("dx (sum over dim 1, keepdim ") + (keepdim ? "true)" : "false)"), x.grad().data, want,
                          {2, 3, 4},
                          {{"dx não depende da posição interna i: o índice de dy é o*inner + i (a posição de x sem a dimensão somada)",
                            "dx does not follow the inner position i: dy's index is o*inner + i (x's position without the summed dimension)",
                            [first_of_row](const V& g, const V&) { return exercise::all_close(g, first_of_row, 1e-5, 1e-6); }}});
    }
}

TEST_CASE("E03 a conv2d bias through the engine: db = sum of dy over batch and pixels") {
    Var x = exercise::leaf({2, 1, 4, 4}, exercise::numbers(32, 14), false);
    Var w = exercise::leaf({3, 1, 3, 3}, exercise::numbers(27, 15));
    Var b = exercise::leaf({3}, {0.1f, 0.2f, 0.3f});
    Var y = conv2d(x, w, b, 1, 1);
    const V R = exercise::numbers(2 * 3 * 16, 16);
    y.backward(Tensor(y.shape(), R));
    V want(3, 0.0f);
    for (int n = 0; n < 2; ++n)
        for (int o = 0; o < 3; ++o)
            for (int q = 0; q < 16; ++q) want[o] += R[(n * 3 + o) * 16 + q];
    exercise::compare("db (conv2d bias)", b.grad().data, want, {3});
}

}  // TEST_SUITE
