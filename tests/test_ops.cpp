// test_ops.cpp - ops.hpp: + - * affine abs square matmul sum mean reshape flatten concat narrow.
// Forwards checkable by hand, a gradient check per op, and the shape errors.
// Run one case: ./test_ops -tc="matmul*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/core.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::away_from_zero;
using gradcheck_util::contains;
using gradcheck_util::gradcheck;
using gradcheck_util::thrown_message;
using V = std::vector<float>;
using Vars = std::vector<Var>;

static Var leaf(Shape s, V values) { return Var(Tensor(std::move(s), std::move(values)), true); }

// ---- forwards by hand ------------------------------------------------------------------

TEST_CASE("add, sub, mul are elementwise") {
    Var a = leaf({2, 2}, {1, 2, 3, 4}), b = leaf({2, 2}, {10, -1, 0.5f, 2});
    CHECK(add(a, b).value().data == V{11, 1, 3.5f, 6});   // 1+10, 2-1, 3+0.5, 4+2
    CHECK(sub(a, b).value().data == V{-9, 3, 2.5f, 2});   // 1-10, 2+1, 3-0.5, 4-2
    CHECK(mul(a, b).value().data == V{10, -2, 1.5f, 8});  // 1*10, 2*-1, 3*0.5, 4*2
    CHECK((a + b).value().data == add(a, b).value().data);
    CHECK((a - b).value().data == sub(a, b).value().data);
    CHECK((a * b).value().data == mul(a, b).value().data);
    CHECK(add(a, b).shape() == Shape{2, 2});
}

TEST_CASE("affine and the operators with a plain number") {
    Var x = leaf({3}, {1, -2, 0.5f});
    CHECK(affine(x, 2.0f, 1.0f).value().data == V{3, -3, 2});  // 2*1+1, 2*-2+1, 2*0.5+1
    CHECK((x + 1.0f).value().data == V{2, -1, 1.5f});
    CHECK((1.0f + x).value().data == V{2, -1, 1.5f});
    CHECK((x - 1.0f).value().data == V{0, -3, -0.5f});
    CHECK((1.0f - x).value().data == V{0, 3, 0.5f});
    CHECK((x * 3.0f).value().data == V{3, -6, 1.5f});
    CHECK((3.0f * x).value().data == V{3, -6, 1.5f});
    CHECK((-x).value().data == V{-1, 2, -0.5f});
}

TEST_CASE("abs and square") {
    Var x = leaf({4}, {-3, 0, 2, -0.5f});
    CHECK(minigan::abs(x).value().data == V{3, 0, 2, 0.5f});
    CHECK(square(x).value().data == V{9, 0, 4, 0.25f});
}

TEST_CASE("abs has gradient sign(x), and 0 at x = 0 as in PyTorch") {
    Var x = leaf({3}, {-3, 0, 2});
    sum(minigan::abs(x)).backward();
    CHECK(x.grad().data == V{-1, 0, 1});
}

TEST_CASE("matmul by hand: (2, 3) x (3, 2)") {
    Var a = leaf({2, 3}, {1, 2, 3, 4, 5, 6}), b = leaf({3, 2}, {1, 0, 0, 1, 2, -1});
    Var y = matmul(a, b);
    CHECK(y.shape() == Shape{2, 2});
    // row 0: (1*1 + 2*0 + 3*2, 1*0 + 2*1 + 3*-1) = (7, -1); row 1: (4 + 0 + 12, 0 + 5 - 6) = (16, -1)
    CHECK(y.value().data == V{7, -1, 16, -1});
    // dL/da = dy b^T, dL/db = a^T dy with dy = ones: da[i, k] = sum_j b[k, j], db[k, j] = sum_i a[i, k]
    sum(y).backward();
    CHECK(a.grad().data == V{1, 1, 1, 1, 1, 1});
    CHECK(b.grad().data == V{5, 5, 7, 7, 9, 9});
}

TEST_CASE("matmul of edge shapes: K = 1 (outer product), M = 1, N = 1, K = 0") {
    // K = 1: (3, 1) x (1, 2) is the outer product.
    CHECK(matmul(leaf({3, 1}, {1, 2, 3}), leaf({1, 2}, {10, 20})).value().data == V{10, 20, 20, 40, 30, 60});
    // M = 1: (1, 3) x (3, 2) = a row vector times a matrix: (1*1 + 2*3 + 3*5, 1*2 + 2*4 + 3*6)
    CHECK(matmul(leaf({1, 3}, {1, 2, 3}), leaf({3, 2}, {1, 2, 3, 4, 5, 6})).value().data == V{22, 28});
    // N = 1: (2, 3) x (3, 1) = a matrix times a column: (1 + 4 + 9, 4 + 10 + 18)
    CHECK(matmul(leaf({2, 3}, {1, 2, 3, 4, 5, 6}), leaf({3, 1}, {1, 2, 3})).value().data == V{14, 32});
    // K = 0: an empty sum, all zeros, and the backward is harmless.
    Var a(Tensor({2, 0}), true), b(Tensor({0, 3}), true);
    Var y = matmul(a, b);
    CHECK(y.shape() == Shape{2, 3});
    CHECK(y.value().data == V(6, 0.0f));
    sum(y).backward();
    CHECK(a.grad().numel() == 0);
}

TEST_CASE("sum and mean of all elements give a scalar of shape ()") {
    Var x = leaf({2, 3}, {0, 1, 2, 3, 0.5f, -1.5f});
    Var s = sum(x), m = mean(x);
    CHECK(s.shape() == Shape{});
    CHECK(s.item() == 5.0f);              // 0+1+2+3+0.5-1.5
    CHECK(m.item() == doctest::Approx(5.0 / 6.0));
    m.backward();
    for (float g : x.grad().data) CHECK(g == doctest::Approx(1.0 / 6.0));
}

TEST_CASE("sum and mean over one dimension, keepdim and negative dims") {
    Var x = leaf({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(sum(x, 0).value().data == V{5, 7, 9});   // column sums: 1+4, 2+5, 3+6
    CHECK(sum(x, 0).shape() == Shape{3});
    CHECK(sum(x, 1).value().data == V{6, 15});     // row sums: 1+2+3, 4+5+6
    CHECK(sum(x, -1).value().data == V{6, 15});    // -1 is the last dim
    CHECK(sum(x, 1, true).shape() == Shape{2, 1});
    CHECK(sum(x, 0, true).shape() == Shape{1, 3});
    CHECK(mean(x, 0).value().data == V{2.5f, 3.5f, 4.5f});
    CHECK(mean(x, -1, true).value().data == V{2, 5});
    CHECK(mean(x, -1, true).shape() == Shape{2, 1});
    // The middle dim of a (2, 3, 2): y[o, i] = sum_d x[o, d, i]
    Var z = leaf({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    CHECK(sum(z, 1).value().data == V{6, 9, 24, 27});  // 0+2+4, 1+3+5, 6+8+10, 7+9+11
    CHECK(sum(z, -2).shape() == Shape{2, 2});
}

TEST_CASE("reshape and flatten keep the row-major order") {
    Var x = leaf({2, 3, 2, 2}, V(24, 0.0f));
    for (int i = 0; i < 24; ++i) x.value()[i] = static_cast<float>(i);
    Var r = reshape(x, {6, 4});
    CHECK(r.shape() == Shape{6, 4});
    CHECK(r.value().data == x.value().data);
    CHECK(flatten(x).shape() == Shape{2, 12});          // (N, C*H*W)
    CHECK(flatten(x, 0).shape() == Shape{24});
    CHECK(flatten(x, 1, 2).shape() == Shape{2, 6, 2});
    CHECK(flatten(x, -2).shape() == Shape{2, 3, 4});
    CHECK(flatten(x).value().data == x.value().data);
}

// ---- errors ------------------------------------------------------------------------------

TEST_CASE("elementwise ops refuse different shapes, naming both") {
    Var a(Tensor({2, 3})), b(Tensor({3, 2}));
    CHECK(thrown_message<std::invalid_argument>([&] { add(a, b); }) == "add: shape mismatch (2, 3) vs (3, 2)");
    CHECK(thrown_message<std::invalid_argument>([&] { sub(a, b); }) == "sub: shape mismatch (2, 3) vs (3, 2)");
    CHECK(thrown_message<std::invalid_argument>([&] { mul(a, b); }) == "mul: shape mismatch (2, 3) vs (3, 2)");
    CHECK_THROWS_AS(a + Var(Tensor({6})), std::invalid_argument);  // same numel is not enough
}

TEST_CASE("matmul refuses shapes that do not chain, naming both") {
    Var a(Tensor({2, 3})), b(Tensor({2, 3})), v(Tensor({3}));
    CHECK(thrown_message<std::invalid_argument>([&] { matmul(a, b); }) ==
          "matmul: cannot multiply (2, 3) by (2, 3) (need (M, K) x (K, N))");
    CHECK(contains(thrown_message<std::invalid_argument>([&] { matmul(a, v); }), "(3,)"));
}

TEST_CASE("reshape, flatten, sum(dim) and mean refuse bad arguments") {
    Var x(Tensor({2, 3}));
    CHECK(thrown_message<std::invalid_argument>([&] { reshape(x, {4, 2}); }) ==
          "reshape: cannot view (2, 3) (6 elements) as (4, 2)");
    CHECK(contains(thrown_message<std::invalid_argument>([&] { sum(x, 2); }), "(2, 3)"));
    CHECK_THROWS_AS(sum(x, -3), std::invalid_argument);
    CHECK_THROWS_AS(mean(x, 5), std::invalid_argument);
    CHECK_THROWS_AS(flatten(x, 1, 0), std::invalid_argument);
    CHECK(thrown_message<std::invalid_argument>([&] { mean(Var(Tensor({0}))); }) == "mean of an empty tensor");
}

// ---- gradient checks ---------------------------------------------------------------------

TEST_CASE("gradcheck: add, sub, mul (both inputs)") {
    Rng rng(1);
    std::vector<Tensor> in{randn({3, 4}, rng), randn({3, 4}, rng)};
    gradcheck([](const Vars& v) { return add(v[0], v[1]); }, in, {}, "add");
    gradcheck([](const Vars& v) { return sub(v[0], v[1]); }, in, {}, "sub");
    gradcheck([](const Vars& v) { return mul(v[0], v[1]); }, in, {}, "mul");
    gradcheck([](const Vars& v) { return mul(v[0], v[0]); }, {in[0]}, {}, "x*x");  // used twice
}

TEST_CASE("gradcheck: affine and the operators") {
    Rng rng(2);
    std::vector<Tensor> in{randn({2, 5}, rng)};
    gradcheck([](const Vars& v) { return affine(v[0], -2.5f, 0.3f); }, in, {}, "affine");
    gradcheck([](const Vars& v) { return 1.0f - v[0] * 3.0f + 2.0f; }, in, {}, "1 - 3x + 2");
    gradcheck([](const Vars& v) { return -v[0]; }, in, {}, "-x");
}

TEST_CASE("gradcheck: abs (inputs away from 0) and square") {
    Rng rng(3);
    gradcheck([](const Vars& v) { return minigan::abs(v[0]); }, {away_from_zero({3, 4}, rng)}, {}, "abs");
    gradcheck([](const Vars& v) { return square(v[0]); }, {randn({3, 4}, rng)}, {}, "square");
}

TEST_CASE("gradcheck: matmul for general and edge shapes") {
    Rng rng(4);
    struct Case { int M, K, N; };
    for (Case c : {Case{3, 4, 5}, Case{3, 1, 2}, Case{1, 4, 3}, Case{4, 3, 1}, Case{1, 1, 1}}) {
        INFO("M = ", c.M, ", K = ", c.K, ", N = ", c.N);
        gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn({c.M, c.K}, rng), randn({c.K, c.N}, rng)}, {},
                  "matmul");
    }
}

TEST_CASE("gradcheck: sum and mean, of everything and over each dim") {
    Rng rng(5);
    std::vector<Tensor> in{randn({2, 3, 4}, rng)};
    gradcheck([](const Vars& v) { return sum(v[0]); }, in, {}, "sum");
    gradcheck([](const Vars& v) { return mean(v[0]); }, in, {}, "mean");
    for (int dim : {0, 1, 2, -1}) {
        for (bool keepdim : {false, true}) {
            INFO("dim = ", dim, ", keepdim = ", keepdim);
            gradcheck([=](const Vars& v) { return sum(v[0], dim, keepdim); }, in, {}, "sum(dim)");
            gradcheck([=](const Vars& v) { return mean(v[0], dim, keepdim); }, in, {}, "mean(dim)");
        }
    }
}

TEST_CASE("gradcheck: reshape and flatten") {
    Rng rng(6);
    std::vector<Tensor> in{randn({2, 3, 2}, rng)};
    gradcheck([](const Vars& v) { return reshape(v[0], {3, 4}); }, in, {}, "reshape");
    gradcheck([](const Vars& v) { return flatten(v[0]); }, in, {}, "flatten");
    // Reshaped twice and combined with the original: the gradient must land in the right places.
    gradcheck([](const Vars& v) { return mul(reshape(reshape(v[0], {6, 2}), {2, 3, 2}), v[0]); }, in, {},
              "reshape * x");
}

// ---- concat ------------------------------------------------------------------------------

TEST_CASE("concat by hand: along the last, the first and a middle dim") {
    Var a = leaf({2, 2}, {1, 2, 3, 4}), b = leaf({2, 1}, {10, 20});
    Var y = concat(a, b, 1);  // rows [1 2 | 10] and [3 4 | 20]
    CHECK(y.shape() == Shape{2, 3});
    CHECK(y.value().data == V{1, 2, 10, 3, 4, 20});
    CHECK(concat(a, b, -1).value().data == y.value().data);  // -1 is the last dim
    // dim 0: b's rows follow a's rows
    CHECK(concat(a, leaf({1, 2}, {7, 8}), 0).value().data == V{1, 2, 3, 4, 7, 8});
    // (2, 1, 2) and (2, 2, 2) along dim 1: per batch element o, a's one row then b's two rows
    Var c = leaf({2, 1, 2}, {1, 2, 3, 4}), d = leaf({2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
    Var e = concat(c, d, 1);
    CHECK(e.shape() == Shape{2, 3, 2});
    CHECK(e.value().data == V{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12});
    // The gradient is cut back into the two pieces: weight each output by its position 0..5.
    Var w = leaf({2, 3}, {0, 1, 2, 3, 4, 5});
    sum(mul(y, w)).backward();
    CHECK(a.grad().data == V{0, 1, 3, 4});  // a sat at positions 0, 1, 3, 4
    CHECK(b.grad().data == V{2, 5});        // b at positions 2 and 5
}

TEST_CASE("concat refuses shapes that do not fit, naming both") {
    Var a(Tensor({2, 3})), b(Tensor({3, 1})), c(Tensor({2, 3, 1}));
    CHECK(thrown_message<std::invalid_argument>([&] { concat(a, b, 1); }) ==
          "concat: cannot join (2, 3) and (3, 1) along dim 1 (every other size must agree)");
    CHECK_THROWS_AS(concat(a, c, 1), std::invalid_argument);  // different ranks
    CHECK_THROWS_AS(concat(a, a, 2), std::invalid_argument);  // no dim 2
    CHECK_THROWS_AS(concat(a, a, -3), std::invalid_argument);
}

TEST_CASE("gradcheck: concat along every dim, and with itself") {
    Rng rng(7);
    for (int dim : {0, 1, 2, -1}) {
        INFO("dim = ", dim);
        Shape sa{2, 3, 4}, sb{2, 3, 4};
        sb[dim < 0 ? dim + 3 : dim] = 2;
        gradcheck([=](const Vars& v) { return concat(v[0], v[1], dim); }, {randn(sa, rng), randn(sb, rng)}, {},
                  "concat");
    }
    // x used twice: both halves send their gradient to the same place.
    gradcheck([](const Vars& v) { return mul(concat(v[0], v[0], 1), concat(v[0], v[0], 1)); }, {randn({2, 3}, rng)}, {},
              "concat(x, x) squared");
}

// ---- narrow ------------------------------------------------------------------------------

TEST_CASE("narrow by hand: a window of one dim, the gradient back in that window") {
    Var x = leaf({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(narrow(x, 1, 0, 1).value().data == V{1, 4});        // the first column
    CHECK(narrow(x, 1, 1, 2).shape() == Shape{2, 2});
    CHECK(narrow(x, -1, 1, 2).value().data == V{2, 3, 5, 6});  // -1 is the last dim
    CHECK(narrow(x, 0, 1, 1).value().data == V{4, 5, 6});      // the second row
    // (2, 3, 2) along the middle dim: per batch element, rows 1 and 2
    Var c = leaf({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    CHECK(narrow(c, 1, 1, 2).value().data == V{3, 4, 5, 6, 9, 10, 11, 12});
    // concat undoes narrow
    CHECK(concat(narrow(x, 1, 0, 1), narrow(x, 1, 1, 2), 1).value().data == x.value().data);
    // The gradient lands in the window; the columns left out get zero.
    sum(mul(narrow(x, 1, 1, 2), leaf({2, 2}, {10, 20, 30, 40}))).backward();
    CHECK(x.grad().data == V{0, 10, 20, 0, 30, 40});
}

TEST_CASE("narrow refuses a window that does not fit, naming the shape") {
    Var x(Tensor({2, 3}));
    CHECK(thrown_message<std::invalid_argument>([&] { narrow(x, 1, 2, 2); }) ==
          "narrow: cannot take 2 entries from index 2 of dim 1 of (2, 3)");
    CHECK_THROWS_AS(narrow(x, 2, 0, 1), std::invalid_argument);   // no dim 2
    CHECK_THROWS_AS(narrow(x, 1, -1, 1), std::invalid_argument);  // negative start
    CHECK_THROWS_AS(narrow(x, 1, 0, 0), std::invalid_argument);   // empty window
}

TEST_CASE("gradcheck: narrow along every dim, and two windows of one x") {
    Rng rng(8);
    for (int dim : {0, 1, 2, -1}) {
        INFO("dim = ", dim);
        gradcheck([=](const Vars& v) { return narrow(v[0], dim, 1, 2); }, {randn({3, 4, 3}, rng)}, {}, "narrow");
    }
    // Overlapping windows of the same x: both send their gradient to the shared entries.
    gradcheck([](const Vars& v) { return mul(narrow(v[0], 1, 0, 2), narrow(v[0], 1, 1, 2)); }, {randn({2, 3}, rng)}, {},
              "narrow(x, 0..2) * narrow(x, 1..3)");
}
