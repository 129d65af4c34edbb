// test_conv.cpp - conv.hpp: im2col/col2im, conv2d and conv_transpose2d. The GEMM forms
// (im2col + GEMM, on either path) are held to the naive loops over many geometries; tiny cases by hand; the
// two ops are each other's adjoint; gradient checks; clear errors for bad arguments.
// Run one case: ./test_conv -tc="conv2d matches*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/core.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::contains;
using gradcheck_util::gradcheck;
using gradcheck_util::thrown_message;
using V = std::vector<float>;
using Vars = std::vector<Var>;

static double dot(const Tensor& a, const Tensor& b) {
    REQUIRE(a.numel() == b.numel());
    double acc = 0.0;
    for (size_t i = 0; i < a.numel(); ++i) acc += static_cast<double>(a[i]) * b[i];
    return acc;
}

// Largest |a - b| relative to the largest |b| (1 at least): for comparing with a reference.
static double max_rel_diff(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape == b.shape);
    double worst = 0.0, scale = 1.0;
    for (size_t i = 0; i < a.numel(); ++i) {
        worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    }
    return worst / scale;
}

// ---- by hand -------------------------------------------------------------------------------

TEST_CASE("im2col by hand: one 3x3 image, 2x2 kernel, stride 1") {
    // image [[1, 2, 3], [4, 5, 6], [7, 8, 9]]; row r = (u, v) of col holds the pixel at offset
    // (u, v) of each of the 4 patches (top-left corners (0,0), (0,1), (1,0), (1,1)).
    V image{1, 2, 3, 4, 5, 6, 7, 8, 9};
    ConvGeometry g = conv_geometry(1, 3, 3, 2, 1, 0);
    CHECK(g.out_h == 2);
    CHECK(g.out_w == 2);
    V col(16, -1.0f);
    im2col(image.data(), g, col.data(), 4, 0);
    CHECK(col == V{1, 2, 4, 5,     // (u, v) = (0, 0)
                   2, 3, 5, 6,     // (0, 1)
                   4, 5, 7, 8,     // (1, 0)
                   5, 6, 8, 9});   // (1, 1)
    // col2im adds each entry back where it came from: the centre pixel 5 is in all 4 patches.
    V back(9, 0.0f);
    col2im(col.data(), 4, 0, g, back.data());
    CHECK(back == V{1, 4, 3, 8, 20, 12, 7, 16, 9});  // pixel * number of patches that read it
}

TEST_CASE("conv2d by hand: 1x1x3x3 input, one 2x2 kernel, bias 0.5") {
    Var x(Tensor({1, 1, 3, 3}, V{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    Var w(Tensor({1, 1, 2, 2}, V{1, 2, 3, 4}));
    Var b(Tensor({1}, V{0.5f}));
    // stride 1, padding 0: y[i, j] = 1 x[i, j] + 2 x[i, j+1] + 3 x[i+1, j] + 4 x[i+1, j+1] + 0.5
    //   y00 = 1*1 + 2*2 + 3*4 + 4*5 = 37, y01 = 2 + 6 + 15 + 24 = 47,
    //   y10 = 4 + 10 + 21 + 32 = 67,      y11 = 5 + 12 + 24 + 36 = 77
    Var y = conv2d(x, w, b, 1, 0);
    CHECK(y.shape() == Shape{1, 1, 2, 2});
    CHECK(y.value().data == V{37.5f, 47.5f, 67.5f, 77.5f});
    // stride 2, padding 1: output (3 + 2 - 2) / 2 + 1 = 2; patch (i, j) starts at (2i - 1, 2j - 1)
    //   y00 reads only x[0,0] (under w[1,1]): 1*4 = 4
    //   y01 reads x[0,1], x[0,2] under w[1,0], w[1,1]: 2*3 + 3*4 = 18
    //   y10 reads x[1,0], x[2,0] under w[0,1], w[1,1]: 4*2 + 7*4 = 36
    //   y11 reads x[1,1], x[1,2], x[2,1], x[2,2]: 5*1 + 6*2 + 8*3 + 9*4 = 77
    CHECK(conv2d(x, w, Var(), 2, 1).value().data == V{4, 18, 36, 77});
}

TEST_CASE("conv_transpose2d by hand: each input pixel stamps a scaled copy of the kernel") {
    Var x(Tensor({1, 1, 2, 2}, V{1, 2, 3, 4}));
    Var w(Tensor({1, 1, 2, 2}, V{1, 2, 3, 4}));
    // stride 1: output (2-1)*1 + 2 = 3; stamps x[i,j] * w at (i, j), overlapping:
    //   [[1*1,        1*2 + 2*1,              2*2],
    //    [1*3 + 3*1,  1*4 + 2*3 + 3*2 + 4*1,  2*4 + 4*2],
    //    [3*3,        3*4 + 4*3,              4*4]]
    Var y = conv_transpose2d(x, w, Var(), 1, 0);
    CHECK(y.shape() == Shape{1, 1, 3, 3});
    CHECK(y.value().data == V{1, 4, 4, 6, 20, 16, 9, 24, 16});
    // stride 2: output (2-1)*2 + 2 = 4, the stamps do not overlap: block (i, j) = x[i,j] * w
    Var y2 = conv_transpose2d(x, w, Var(Tensor({1}, V{0.5f})), 2, 0);
    CHECK(y2.value().data == V{1.5f, 2.5f, 2.5f, 4.5f,
                               3.5f, 4.5f, 6.5f, 8.5f,
                               3.5f, 6.5f, 4.5f, 8.5f,
                               9.5f, 12.5f, 12.5f, 16.5f});
    // stride 2, padding 1, output_padding 1: (2-1)*2 - 2 + 2 + 1 = 3. Padding 1 crops the first
    // row and column of the 4x4 picture above (without bias); output_padding 1 keeps its last ones:
    // rows/columns 1..3 of [[1, 2, 2, 4], [3, 4, 6, 8], [3, 6, 4, 8], [9, 12, 12, 16]].
    Var y3 = conv_transpose2d(x, w, Var(), 2, 1, 1);
    CHECK(y3.shape() == Shape{1, 1, 3, 3});
    CHECK(y3.value().data == V{4, 6, 8, 6, 4, 8, 12, 12, 16});
    CHECK(conv_transpose2d(x, w, Var(), 2, 1, 0).value().data == V{4, 6, 6, 4});  // without it: 2x2
}

// ---- fast paths against the naive loops ------------------------------------------------------

TEST_CASE("conv2d matches conv2d_naive: kernel 1..5, stride 1..3, padding 0..2, batch 1..3, bias or not") {
    Rng rng(31);
    int cases = 0;
    for (int k = 1; k <= 5; ++k)
        for (int s = 1; s <= 3; ++s)
            for (int p = 0; p <= 2; ++p) {
                const int N = 1 + cases % 3, C = 1 + (cases / 3) % 3, O = 1 + cases % 4;
                int H = std::max(1, k - 2 * p) + cases % 4, W = std::max(1, k - 2 * p) + (cases * 7 + 2) % 5;
                const bool with_bias = cases % 2 == 0;
                INFO("k = ", k, ", s = ", s, ", p = ", p, ", x (", N, ", ", C, ", ", H, ", ", W, "), O = ", O,
                     ", bias = ", with_bias);
                Tensor x = randn({N, C, H, W}, rng), w = randn({O, C, k, k}, rng), b = randn({O}, rng);
                Var y = conv2d(Var(x), Var(w), with_bias ? Var(b) : Var(), s, p);
                Tensor ref = conv2d_naive(x, w, with_bias ? &b : nullptr, s, p);
                CHECK(y.shape() == ref.shape);
                CHECK(max_rel_diff(y.value(), ref) < 1e-5);
                ++cases;
            }
    CHECK(cases == 45);
}

TEST_CASE("conv_transpose2d matches conv_transpose2d_naive: kernel 1..5, stride 1..3, padding 0..2, "
          "output_padding < stride") {
    Rng rng(32);
    int cases = 0;
    for (int k = 1; k <= 5; ++k)
        for (int s = 1; s <= 3; ++s)
            for (int p = 0; p <= 2; ++p)
                for (int op = 0; op < s; ++op) {
                    const int N = 1 + cases % 3, C = 1 + (cases / 3) % 3, O = 1 + cases % 4;
                    const int H = 1 + cases % 4, W = 1 + (cases * 7 + 2) % 5;
                    if ((H - 1) * s - 2 * p + k + op < 1 || (W - 1) * s - 2 * p + k + op < 1) continue;
                    const bool with_bias = cases % 2 == 1;
                    INFO("k = ", k, ", s = ", s, ", p = ", p, ", op = ", op, ", x (", N, ", ", C, ", ", H, ", ", W,
                         "), O = ", O, ", bias = ", with_bias);
                    Tensor x = randn({N, C, H, W}, rng), w = randn({C, O, k, k}, rng), b = randn({O}, rng);
                    Var y = conv_transpose2d(Var(x), Var(w), with_bias ? Var(b) : Var(), s, p, op);
                    Tensor ref = conv_transpose2d_naive(x, w, with_bias ? &b : nullptr, s, p, op);
                    CHECK(y.shape() == ref.shape);
                    CHECK(max_rel_diff(y.value(), ref) < 1e-5);
                    ++cases;
                }
    CHECK(cases > 70);  // 76 of the 90 combinations give an output of 1x1 or more
}

// ---- adjoint identities ---------------------------------------------------------------------

TEST_CASE("im2col and col2im are adjoint: <im2col(x), c> = <x, col2im(c)>") {
    Rng rng(33);
    struct G { int C, H, W, k, s, p; };
    for (G t : {G{1, 3, 3, 2, 1, 0}, G{2, 5, 4, 3, 2, 1}, G{3, 7, 6, 4, 2, 1}, G{1, 4, 9, 5, 3, 2}, G{2, 1, 1, 3, 1, 1},
                G{1, 6, 6, 1, 3, 0}}) {
        INFO("C H W = ", t.C, " ", t.H, " ", t.W, ", k = ", t.k, ", s = ", t.s, ", p = ", t.p);
        ConvGeometry g = conv_geometry(t.C, t.H, t.W, t.k, t.s, t.p);
        const size_t P = g.positions(), ld = 2 * P;  // as the second image of a batch of 2
        Tensor x = randn({t.C, t.H, t.W}, rng);
        Tensor c = randn({g.patch_size(), static_cast<int>(ld)}, rng);
        Tensor col({g.patch_size(), static_cast<int>(ld)});       // zeros outside this image's half
        im2col(x.ptr(), g, col.ptr(), ld, P);
        Tensor back({t.C, t.H, t.W});
        col2im(c.ptr(), ld, P, g, back.ptr());
        const double lhs = dot(col, c), rhs = dot(x, back);
        CHECK(lhs == doctest::Approx(rhs).epsilon(1e-5));
        CHECK(std::fabs(lhs) > 1e-3);  // not 0 = 0
    }
}

// For conv2d with stride s to be undone exactly by conv_transpose2d, output_padding must put
// back the rows the stride skipped: op = (H + 2p - k) mod s (the same for W, chosen so).
struct Geometry { int N, C, O, H, W, k, s, p; };
static const Geometry adjoint_cases[] = {
    {1, 1, 1, 3, 3, 2, 1, 0}, {2, 3, 4, 5, 7, 3, 1, 1}, {2, 2, 3, 6, 8, 4, 2, 1}, {3, 3, 2, 7, 5, 3, 2, 0},
    {1, 2, 2, 8, 5, 5, 3, 2}, {2, 1, 3, 5, 8, 1, 3, 0},
};

TEST_CASE("conv_transpose2d is the adjoint of conv2d: <conv(x), y> = <x, convT(y)> with the same weight") {
    Rng rng(34);
    for (const Geometry& t : adjoint_cases) {
        const int op = (t.H + 2 * t.p - t.k) % t.s;
        REQUIRE((t.W + 2 * t.p - t.k) % t.s == op);
        INFO("x (", t.N, ", ", t.C, ", ", t.H, ", ", t.W, "), O = ", t.O, ", k = ", t.k, ", s = ", t.s, ", p = ", t.p);
        Tensor x = randn({t.N, t.C, t.H, t.W}, rng), w = randn({t.O, t.C, t.k, t.k}, rng);
        Var cx = conv2d(Var(x), Var(w), Var(), t.s, t.p);
        Tensor y = randn(cx.shape(), rng);
        Var cty = conv_transpose2d(Var(y), Var(w), Var(), t.s, t.p, op);  // weight (O, C, k, k) = (in, out, k, k)
        REQUIRE(cty.shape() == x.shape);
        CHECK(dot(cx.value(), y) == doctest::Approx(dot(x, cty.value())).epsilon(1e-5));
    }
}

TEST_CASE("conv2d's input gradient is conv_transpose2d of its output gradient, and the other way round") {
    Rng rng(35);
    for (const Geometry& t : adjoint_cases) {
        const int op = (t.H + 2 * t.p - t.k) % t.s;
        REQUIRE((t.W + 2 * t.p - t.k) % t.s == op);
        INFO("x (", t.N, ", ", t.C, ", ", t.H, ", ", t.W, "), O = ", t.O, ", k = ", t.k, ", s = ", t.s, ", p = ", t.p);
        Var x(randn({t.N, t.C, t.H, t.W}, rng), true);
        Var w(randn({t.O, t.C, t.k, t.k}, rng));
        Var y = conv2d(x, w, Var(), t.s, t.p);
        Tensor dy = randn(y.shape(), rng);
        y.backward(dy);
        Var expected = conv_transpose2d(Var(dy), w, Var(), t.s, t.p, op);
        CHECK(max_rel_diff(x.grad(), expected.value()) < 1e-5);
        // conv_transpose2d's input gradient is conv2d of its output gradient.
        Var z(randn(y.shape(), rng), true);
        Var u = conv_transpose2d(z, w, Var(), t.s, t.p, op);
        Tensor du = randn(u.shape(), rng);
        u.backward(du);
        CHECK(max_rel_diff(z.grad(), conv2d(Var(du), w, Var(), t.s, t.p).value()) < 1e-5);
    }
}

// ---- gradient checks ------------------------------------------------------------------------

TEST_CASE("gradcheck: conv2d with respect to x, weight and bias") {
    Rng rng(36);
    struct Case { int N, C, O, H, W, k, s, p; };
    for (Case t : {Case{2, 3, 4, 5, 4, 3, 2, 1}, Case{1, 2, 3, 4, 5, 2, 1, 0}, Case{2, 1, 2, 6, 6, 4, 2, 1}}) {
        INFO("x (", t.N, ", ", t.C, ", ", t.H, ", ", t.W, "), O = ", t.O, ", k = ", t.k, ", s = ", t.s, ", p = ", t.p);
        gradcheck([=](const Vars& v) { return conv2d(v[0], v[1], v[2], t.s, t.p); },
                  {randn({t.N, t.C, t.H, t.W}, rng), randn({t.O, t.C, t.k, t.k}, rng), randn({t.O}, rng)}, {},
                  "conv2d");
    }
}

TEST_CASE("gradcheck: conv_transpose2d with respect to x, weight and bias") {
    Rng rng(37);
    struct Case { int N, C, O, H, W, k, s, p, op; };
    for (Case t : {Case{2, 3, 2, 3, 4, 3, 2, 1, 1}, Case{1, 2, 3, 4, 3, 2, 1, 0, 0}, Case{2, 2, 1, 3, 3, 4, 2, 1, 0}}) {
        INFO("x (", t.N, ", ", t.C, ", ", t.H, ", ", t.W, "), O = ", t.O, ", k = ", t.k, ", s = ", t.s, ", p = ", t.p,
             ", op = ", t.op);
        gradcheck([=](const Vars& v) { return conv_transpose2d(v[0], v[1], v[2], t.s, t.p, t.op); },
                  {randn({t.N, t.C, t.H, t.W}, rng), randn({t.C, t.O, t.k, t.k}, rng), randn({t.O}, rng)}, {},
                  "conv_transpose2d");
    }
}

TEST_CASE("gradcheck: convolutions of different sizes chained, and an input used by two convolutions") {
    // Two ops share the scratch buffers; the backward of one must not see the other's columns.
    Rng rng(38);
    gradcheck(
        [](const Vars& v) {
            Var up = conv_transpose2d(v[0], v[1], Var(), 2, 1);   // (2, 3, 3, 3) -> (2, 2, 5, 5)
            return conv2d(up, v[2], Var(), 1, 1);                // (2, 2, 5, 5) -> (2, 4, 5, 5)
        },
        {randn({2, 3, 3, 3}, rng), randn({3, 2, 3, 3}, rng), randn({4, 2, 3, 3}, rng)}, {}, "conv(convT(x))");
    gradcheck([](const Vars& v) { return conv2d(v[0], v[1], Var(), 1, 1) + conv2d(v[0], v[2], Var(), 1, 1); },
              {randn({1, 2, 4, 4}, rng), randn({3, 2, 3, 3}, rng), randn({3, 2, 3, 3}, rng)}, {}, "conv(x) + conv(x)");
}

// ---- errors ----------------------------------------------------------------------------------

TEST_CASE("conv2d refuses bad stride, padding, channels, shapes, with clear messages") {
    Var x(Tensor({1, 3, 5, 5})), w(Tensor({4, 3, 3, 3}));
    CHECK(thrown_message<std::invalid_argument>([&] { conv2d(x, w, Var(), 0, 0); }) ==
          "conv: invalid kernel 3, stride 0 or padding 0 (need kernel >= 1, stride >= 1, padding >= 0)");
    CHECK(contains(thrown_message<std::invalid_argument>([&] { conv2d(x, w, Var(), 1, -1); }), "padding -1"));
    CHECK(thrown_message<std::invalid_argument>([&] { conv2d(x, Var(Tensor({4, 2, 3, 3})), Var(), 1, 0); }) ==
          "conv2d: input has 3 channels but weight (4, 2, 3, 3) expects 2");
    CHECK(thrown_message<std::invalid_argument>([&] { conv2d(Var(Tensor({3, 5, 5})), w, Var(), 1, 0); }) ==
          "conv2d: input must be (N, C, H, W), got (3, 5, 5)");
    CHECK(contains(thrown_message<std::invalid_argument>([&] { conv2d(x, Var(Tensor({4, 3, 3, 2})), Var(), 1, 0); }),
                   "square kernel"));
    CHECK(thrown_message<std::invalid_argument>([&] { conv2d(x, w, Var(Tensor({3})), 1, 0); }) ==
          "conv2d: bias must be (4,), got (3,)");
    CHECK(thrown_message<std::invalid_argument>([&] { conv2d(Var(Tensor({1, 3, 2, 2})), w, Var(), 1, 0); }) ==
          "conv: kernel 3 larger than padded input 2x2");
}

TEST_CASE("conv_transpose2d refuses bad stride, padding, output_padding, channels, with clear messages") {
    Var x(Tensor({1, 3, 4, 4})), w(Tensor({3, 2, 4, 4}));
    CHECK(thrown_message<std::invalid_argument>([&] { conv_transpose2d(x, w, Var(), 2, 1, 2); }) ==
          "conv_transpose2d: invalid stride 2, padding 1 or output_padding 2 "
          "(need stride >= 1, padding >= 0, 0 <= output_padding < stride)");
    CHECK_THROWS_AS(conv_transpose2d(x, w, Var(), 0, 1), std::invalid_argument);
    CHECK_THROWS_AS(conv_transpose2d(x, w, Var(), 2, -1), std::invalid_argument);
    CHECK_THROWS_AS(conv_transpose2d(x, w, Var(), 1, 0, 1), std::invalid_argument);  // op must be < stride
    CHECK(thrown_message<std::invalid_argument>([&] { conv_transpose2d(x, Var(Tensor({2, 3, 4, 4})), Var(), 2, 1); }) ==
          "conv_transpose2d: input has 3 channels but weight (2, 3, 4, 4) expects 2");
    CHECK(contains(thrown_message<std::invalid_argument>([&] { conv_transpose2d(x, w, Var(Tensor({3})), 2, 1); }),
                   "bias must be (2,)"));
    CHECK(contains(thrown_message<std::invalid_argument>(
                       [&] { conv_transpose2d(Var(Tensor({1, 3, 1, 1})), Var(Tensor({3, 2, 1, 1})), Var(), 1, 1); }),
                   "output would be -1x-1"));
}
