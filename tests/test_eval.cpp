// test_eval.cpp - eval/: Jacobi eigenvalues, matrix square roots, the Frechet distance on cases
// solvable by hand, the confidence and class histogram, and the classifier's batched pass.
// Run one case: ./test_eval -tc="frechet*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include <minigan/eval/quality.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using namespace minigan::eval;
using gradcheck_util::contains;
using gradcheck_util::thrown_message;

static Matrix matrix(int n, std::vector<double> values) {
    Matrix m(n);
    m.a = std::move(values);
    return m;
}

TEST_CASE("jacobi_eigen: a matrix built from known eigenvectors and eigenvalues") {
    // A = Q diag(1, 2, 5) Q^T with Q a rotation by 30 degrees in the (0, 1) plane, then 45 in (1, 2).
    const double c1 = std::cos(0.5235988), s1 = std::sin(0.5235988), c2 = std::sqrt(0.5), s2 = std::sqrt(0.5);
    Matrix R1 = matrix(3, {c1, -s1, 0, s1, c1, 0, 0, 0, 1});
    Matrix R2 = matrix(3, {1, 0, 0, 0, c2, -s2, 0, s2, c2});
    Matrix Q = matrix_product(R1, R2);
    Matrix L = matrix(3, {1, 0, 0, 0, 2, 0, 0, 0, 5});
    Matrix Qt(3);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) Qt(i, j) = Q(j, i);
    Matrix A = matrix_product(matrix_product(Q, L), Qt);
    REQUIRE(A(0, 1) != doctest::Approx(0.0));  // really not diagonal

    std::vector<double> lambda;
    Matrix V;
    jacobi_eigen(A, lambda, V);
    std::vector<double> sorted = lambda;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted[0] == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(sorted[1] == doctest::Approx(2.0).epsilon(1e-12));
    CHECK(sorted[2] == doctest::Approx(5.0).epsilon(1e-12));
    // Each column v_k of V satisfies A v_k = lambda_k v_k and has length 1.
    for (int k = 0; k < 3; ++k) {
        double norm = 0.0;
        for (int i = 0; i < 3; ++i) {
            double Av = 0.0;
            for (int j = 0; j < 3; ++j) Av += A(i, j) * V(j, k);
            CHECK(Av == doctest::Approx(lambda[static_cast<size_t>(k)] * V(i, k)).epsilon(1e-10));
            norm += V(i, k) * V(i, k);
        }
        CHECK(norm == doctest::Approx(1.0));
    }
}

TEST_CASE("jacobi_eigen: [[2, 1], [1, 2]] has eigenvalues 1 and 3") {
    std::vector<double> lambda;
    Matrix V;
    jacobi_eigen(matrix(2, {2, 1, 1, 2}), lambda, V);
    std::sort(lambda.begin(), lambda.end());
    CHECK(lambda[0] == doctest::Approx(1.0));
    CHECK(lambda[1] == doctest::Approx(3.0));
}

TEST_CASE("sqrt_psd squared gives the matrix back") {
    Matrix S = matrix(3, {4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2});
    Matrix R = sqrt_psd(S);
    Matrix RR = matrix_product(R, R);
    for (size_t i = 0; i < S.a.size(); ++i) CHECK(RR.a[i] == doctest::Approx(S.a[i]).epsilon(1e-10));
    // sqrt of diag(4, 9) is diag(2, 3)
    Matrix D = sqrt_psd(matrix(2, {4, 0, 0, 9}));
    CHECK(D(0, 0) == doctest::Approx(2.0));
    CHECK(D(1, 1) == doctest::Approx(3.0));
    CHECK(D(0, 1) == doctest::Approx(0.0));
}

TEST_CASE("fit_gaussian: mean and unbiased covariance by hand") {
    // rows (1, 2), (3, 6): mean (2, 4); deviations (-1, -2), (1, 2); S = sum / (N - 1) = [[2, 4], [4, 8]]
    Gaussian g = fit_gaussian(Tensor({2, 2}, {1, 2, 3, 6}));
    CHECK(g.mean[0] == doctest::Approx(2.0));
    CHECK(g.mean[1] == doctest::Approx(4.0));
    CHECK(g.cov(0, 0) == doctest::Approx(2.0));
    CHECK(g.cov(0, 1) == doctest::Approx(4.0));
    CHECK(g.cov(1, 0) == doctest::Approx(4.0));
    CHECK(g.cov(1, 1) == doctest::Approx(8.0));
}

TEST_CASE("frechet_distance: identical feature sets are at distance 0") {
    Rng rng(7);
    Tensor f = randn({200, 6}, rng);
    for (size_t i = 0; i < f.numel(); i += 3) f[i] += 0.5f * f[i + 1];  // correlated columns
    CHECK(frechet_distance(f, f) == doctest::Approx(0.0).epsilon(1e-9).scale(1.0));
    // ...and a shifted copy is at ||shift||^2: shift every row by (1, 0, 0, 0, 0, 2) -> 1 + 4 = 5
    Tensor g = f;
    for (int n = 0; n < 200; ++n) g[static_cast<size_t>(n) * 6] += 1.0f, g[static_cast<size_t>(n) * 6 + 5] += 2.0f;
    CHECK(frechet_distance(f, g) == doctest::Approx(5.0).epsilon(1e-5));
}

TEST_CASE("frechet_distance: 1-D Gaussians give (m1 - m2)^2 + (s1 - s2)^2") {
    // z = (-a, -a, a, a) with a = sqrt(3)/2 has mean 0 and unbiased variance 4 a^2 / 3 = 1.
    const float a = std::sqrt(3.0f) / 2.0f;
    const float z[4] = {-a, -a, a, a};
    auto set = [&](float m, float s) {
        Tensor t({4, 1});
        for (int i = 0; i < 4; ++i) t[static_cast<size_t>(i)] = m + s * z[i];
        return t;
    };
    // (1 - 4)^2 + (2 - 0.5)^2 = 9 + 2.25 = 11.25
    CHECK(frechet_distance(set(1.0f, 2.0f), set(4.0f, 0.5f)) == doctest::Approx(11.25).epsilon(1e-5));
    CHECK(frechet_distance(set(0.0f, 3.0f), set(0.0f, 1.0f)) == doctest::Approx(4.0).epsilon(1e-5));
}

TEST_CASE("frechet_distance: diagonal covariances add up per dimension") {
    // Columns built from orthogonal zero-mean patterns: their sample covariance is exactly diagonal.
    // Pattern (+1, +1, -1, -1) etc. has unbiased variance 4 / 3; scaled by sqrt(3)/2 it is 1.
    const float a = std::sqrt(3.0f) / 2.0f;
    const float pattern[3][4] = {{a, a, -a, -a}, {a, -a, a, -a}, {a, -a, -a, a}};
    auto set = [&](const float m[3], const float s[3]) {
        Tensor t({4, 3});
        for (int n = 0; n < 4; ++n)
            for (int d = 0; d < 3; ++d) t[static_cast<size_t>(n) * 3 + d] = m[d] + s[d] * pattern[d][n];
        return t;
    };
    const float m1[3] = {0, 1, 2}, s1[3] = {1, 2, 3}, m2[3] = {1, 1, 0}, s2[3] = {2, 2, 1};
    // (0-1)^2 + (1-2)^2  +  (1-1)^2 + (2-2)^2  +  (2-0)^2 + (3-1)^2 = 2 + 0 + 8 = 10
    CHECK(frechet_distance(set(m1, s1), set(m2, s2)) == doctest::Approx(10.0).epsilon(1e-5));
}

TEST_CASE("frechet_distance: a non-diagonal case, S1 = I, S2 = [[2, 1], [1, 2]]") {
    // Tr (S1 S2)^(1/2) = Tr S2^(1/2) = sqrt(1) + sqrt(3); d^2 = 2 + 4 - 2 (1 + sqrt 3) = 0.5358984
    Gaussian g1{{0, 0}, matrix(2, {1, 0, 0, 1})}, g2{{0, 0}, matrix(2, {2, 1, 1, 2})};
    CHECK(frechet_distance(g1, g2) == doctest::Approx(0.5358984));
    CHECK(frechet_distance(g2, g1) == doctest::Approx(0.5358984));  // symmetric
    CHECK(contains(thrown_message<std::invalid_argument>([] { fit_gaussian(Tensor({1, 3})); }), "N >= 2"));
    Gaussian g3{{0}, matrix(1, {1})};
    CHECK(contains(thrown_message<std::invalid_argument>([&] { frechet_distance(g1, g3); }), "dimension 2 and 1"));
}

TEST_CASE("mean_confidence and class_histogram by hand") {
    // softmax rows: (0, ln 3) -> (1/4, 3/4); (ln 4, 0) -> (4/5, 1/5); (0, ln 9) -> (1/10, 9/10)
    Tensor logits({3, 2}, {0.0f, std::log(3.0f), std::log(4.0f), 0.0f, 0.0f, std::log(9.0f)});
    Tensor p = softmax_rows(logits);
    CHECK(p[0] == doctest::Approx(0.25));
    CHECK(p[3] == doctest::Approx(0.2));
    CHECK(mean_confidence(logits) == doctest::Approx((0.75 + 0.8 + 0.9) / 3));
    // predicted classes 1, 0, 1 -> fractions (1/3, 2/3)
    std::vector<double> h = class_histogram(logits);
    REQUIRE(h.size() == 2);
    CHECK(h[0] == doctest::Approx(1.0 / 3));
    CHECK(h[1] == doctest::Approx(2.0 / 3));
    CHECK(predicted_classes(logits) == std::vector<int>{1, 0, 1});
    CHECK(accuracy({1, 0, 1}, {1, 1, 1}) == doctest::Approx(2.0 / 3));
}

TEST_CASE("classify: features and logits in chunks equal one forward pass in eval mode") {
    manual_seed(3);
    auto net = classifier_cnn();
    Rng rng(5);
    Tensor images = rand_uniform({7, 1, 28, 28}, -1.0f, 1.0f, rng);
    ClassifierOutput out = classify(*net, images, 3);  // chunks of 3, 3, 1
    CHECK(out.features.shape == Shape{7, kFeatureCount});
    CHECK(out.logits.shape == Shape{7, 10});
    CHECK(!net->is_training());
    Tensor whole;
    {
        NoGrad no_grad;
        whole = (*net)(Var(images)).value();
    }
    for (size_t i = 0; i < whole.numel(); ++i) CHECK(out.logits[i] == doctest::Approx(whole[i]).epsilon(1e-5));
    bool any_positive = false;  // features come after a ReLU: >= 0, and not all zero
    for (float f : out.features.data) {
        CHECK(f >= 0.0f);
        any_positive = any_positive || f > 0.0f;
    }
    CHECK(any_positive);
    // The report puts the same images at FID 0 from themselves, and its histogram sums to 1.
    QualityReport r = quality_report(*net, images, fit_gaussian(out.features));
    CHECK(r.fid == doctest::Approx(0.0).scale(1.0).epsilon(1e-6));
    double total = 0.0;
    for (double f : r.class_fraction) total += f;
    CHECK(total == doctest::Approx(1.0));
    CHECK(r.mean_confidence >= 0.1);  // at least 1/K
    CHECK(r.mean_confidence <= 1.0);
}

TEST_CASE("class_accuracy: the share right within each class; NaN for a class with no images") {
    // labels 0 0 1 1 1, predictions 0 1 1 1 0: class 0 half right, class 1 two of three, class 2 unseen
    std::vector<double> share = class_accuracy({0, 1, 1, 1, 0}, {0, 0, 1, 1, 1}, 3);
    REQUIRE(share.size() == 3);
    CHECK(share[0] == doctest::Approx(0.5));
    CHECK(share[1] == doctest::Approx(2.0 / 3));
    CHECK(std::isnan(share[2]));
    CHECK_THROWS_AS(class_accuracy({0, 1}, {0}, 3), std::invalid_argument);
    CHECK(contains(thrown_message<std::invalid_argument>([] { class_accuracy({0}, {3}, 3); }),
                   "label 3 is not in [0, 3)"));
}
