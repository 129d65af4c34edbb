// test_tensor.cpp - Tensor shapes and errors, shape_str, and the seeded random generator.
// Run one case: ./test_tensor -tc="Rng*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/tensor.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::contains;
using gradcheck_util::thrown_message;

TEST_CASE("Tensor: shape, numel, dim and size(d)") {
    Tensor t({2, 3, 4});
    CHECK(t.numel() == 24);  // 2*3*4
    CHECK(t.dim() == 3);
    CHECK(t.size(0) == 2);
    CHECK(t.size(-1) == 4);  // negative counts from the end, as in PyTorch
    CHECK(t.size(-3) == 2);
    CHECK(thrown_message<std::out_of_range>([&] { t.size(3); }) == "size(3) of a tensor of shape (2, 3, 4)");
    CHECK_THROWS_AS(t.size(-4), std::out_of_range);
    for (float v : t.data) CHECK(v == 0.0f);  // zero-filled by default
}

TEST_CASE("Tensor: a scalar has shape () and one element; empty dimensions give no elements") {
    Tensor s({}, 5.0f);
    CHECK(s.numel() == 1);
    CHECK(s.dim() == 0);
    CHECK(s.item() == 5.0f);
    CHECK(shape_numel({}) == 1);
    CHECK(shape_numel({3, 0, 2}) == 0);
    CHECK(Tensor({3, 0}).numel() == 0);
}

TEST_CASE("Tensor: the values must fill the shape exactly") {
    Tensor t({2, 2}, std::vector<float>{1, 2, 3, 4});
    CHECK(t[3] == 4.0f);
    CHECK(thrown_message<std::invalid_argument>([] { Tensor({2, 2}, std::vector<float>{1, 2, 3}); }) ==
          "Tensor: 3 values do not fill shape (2, 2)");
    CHECK(contains(thrown_message<std::invalid_argument>([] { Tensor({2, -1}); }), "negative dimension"));
}

TEST_CASE("Tensor: a braced list is values, never a fill; a plain number is a fill") {
    Tensor one({1}, {-0.5f});
    CHECK(one[0] == -0.5f);
    Tensor four({2, 2}, {1, 2, 3, 4});
    CHECK(four[3] == 4.0f);
    // {2.0f} for three elements is one value too few, not "every element 2".
    CHECK(thrown_message<std::invalid_argument>([] { Tensor({3}, {2.0f}); }) == "Tensor: 1 values do not fill shape (3,)");
    Tensor filled({3}, 2.0f);
    CHECK(filled.data == std::vector<float>{2.0f, 2.0f, 2.0f});
}

TEST_CASE("Tensor: reshaped keeps the row-major order and refuses a wrong element count") {
    Tensor t({2, 3}, std::vector<float>{0, 1, 2, 3, 4, 5});
    Tensor r = t.reshaped({3, 2});
    CHECK(r.shape == Shape{3, 2});
    CHECK(r.data == t.data);  // row-major: (1, 0) of (3, 2) is element 2
    CHECK(r[2] == 2.0f);
    CHECK(thrown_message<std::invalid_argument>([&] { t.reshaped({4, 2}); }) == "cannot reshape (2, 3) to (4, 2)");
    CHECK(t.reshaped({6}).shape == Shape{6});
    CHECK(Tensor({1}, 7.0f).reshaped({}).item() == 7.0f);
}

TEST_CASE("Tensor: copies own their data (value semantics)") {
    Tensor a({2}, 1.0f);
    Tensor b = a;
    b[0] = 5.0f;
    CHECK(a[0] == 1.0f);
}

TEST_CASE("shape_str writes shapes as Python prints tuples") {
    CHECK(shape_str({}) == "()");
    CHECK(shape_str({3}) == "(3,)");
    CHECK(shape_str({2, 3}) == "(2, 3)");
    CHECK(shape_str({64, 1, 28, 28}) == "(64, 1, 28, 28)");
}

TEST_CASE("zeros, ones, full, fill and item") {
    CHECK(zeros({2})[1] == 0.0f);
    CHECK(ones({2, 2})[3] == 1.0f);
    CHECK(full({3}, 2.5f)[2] == 2.5f);
    Tensor t({2});
    t.fill(-1.0f);
    CHECK(t[0] == -1.0f);
    CHECK(t[1] == -1.0f);
    CHECK(thrown_message<std::invalid_argument>([&] { t.item(); }) == "item() on a tensor of shape (2,)");
}

TEST_CASE("Rng: the same seed gives the same stream, another seed another one") {
    Rng a(42), b(42), c(43);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        float x = a.normal(), y = b.normal(), z = c.normal();
        CHECK(x == y);
        differs = differs || x != z;
        CHECK(a.uniform() == b.uniform());
    }
    CHECK(differs);

    manual_seed(7);  // the global generator too
    Tensor first = randn({50});
    manual_seed(7);
    Tensor again = randn({50});
    CHECK(first.data == again.data);
}

TEST_CASE("Rng: the stream is mt19937's, the same on every platform") {
    // std::mt19937 with the default seed 5489 must give 3499211612 first (C++ standard, [rand.predef]);
    // uniform() keeps its top 24 bits: 3499211612 >> 8 = 13668795, / 2^24 = 0.81472003...
    Rng rng(5489);
    CHECK(rng.uniform() == doctest::Approx(13668795.0 / 16777216.0).epsilon(1e-7));
}

TEST_CASE("Rng: normal() has mean 0 and standard deviation 1 over many draws") {
    Rng rng(1);
    const int n = 200000;
    double sum = 0.0, sum2 = 0.0, within_one = 0.0;
    int not_finite = 0;
    for (int i = 0; i < n; ++i) {
        double z = rng.normal();
        not_finite += !std::isfinite(z);
        sum += z;
        sum2 += z * z;
        within_one += std::fabs(z) < 1.0;
    }
    CHECK(not_finite == 0);
    double mean = sum / n, stddev = std::sqrt(sum2 / n - mean * mean);
    // Standard errors: 1/sqrt(n) = 0.0022 for the mean, 1/sqrt(2n) = 0.0016 for the std.
    CHECK(std::fabs(mean) < 0.01);
    CHECK(std::fabs(stddev - 1.0) < 0.01);
    CHECK(within_one / n == doctest::Approx(0.6827).epsilon(0.01));  // P(|z| < 1)

    Tensor t = randn({100000}, rng, 3.0f, 2.0f);  // mean 3, std 2
    double s = 0.0, s2 = 0.0;
    for (float v : t.data) s += v, s2 += static_cast<double>(v) * v;
    double m = s / t.numel();
    CHECK(m == doctest::Approx(3.0).epsilon(0.01));
    CHECK(std::sqrt(s2 / t.numel() - m * m) == doctest::Approx(2.0).epsilon(0.01));
}

TEST_CASE("Rng: uniform() lies in [0, 1), uniform(lo, hi) in [lo, hi)") {
    Rng rng(3);
    double lo = 1.0, hi = 0.0, sum = 0.0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        float u = rng.uniform();
        lo = std::min<double>(lo, u);
        hi = std::max<double>(hi, u);
        sum += u;
    }
    CHECK(lo >= 0.0);
    CHECK(lo < 1e-3);
    CHECK(hi < 1.0);
    CHECK(hi > 1.0 - 1e-3);
    CHECK(sum / n == doctest::Approx(0.5).epsilon(0.01));  // standard error 0.29/sqrt(n) = 0.0009

    Tensor t = rand_uniform({10000}, -2.0f, 3.0f, rng);
    float tmin = *std::min_element(t.data.begin(), t.data.end());
    float tmax = *std::max_element(t.data.begin(), t.data.end());
    CHECK(tmin >= -2.0f);
    CHECK(tmin < -1.99f);
    CHECK(tmax < 3.0f);
    CHECK(tmax > 2.99f);
}
