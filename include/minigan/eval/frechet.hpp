// eval/frechet.hpp - the Frechet distance between two Gaussians fitted to feature sets (FID's formula).
//
// Read eval/gaussian.hpp first (fit_gaussian: mean mu and covariance S of the rows of an (N, d)
// tensor); the rest is plain double-precision linear algebra on small matrices.
// The Frechet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2) is (Dowson & Landau 1982;
// Heusel et al. 2017 use it on Inception features as "FID"):
//   d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))
// S1 S2 is not symmetric, but it is similar to the symmetric A = S1^(1/2) S2 S1^(1/2):
//   S1 S2 = S1^(1/2) A S1^(-1/2), so Tr (S1 S2)^(1/2) = Tr A^(1/2) = sum_i sqrt(lambda_i(A)),
// and every step needs only the eigenvalues of symmetric matrices: jacobi_eigen() below.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gaussian.hpp"

namespace minigan::eval {

inline Matrix matrix_product(const Matrix& x, const Matrix& y) {
    Matrix z(x.n);
    for (int i = 0; i < x.n; ++i)
        for (int k = 0; k < x.n; ++k) {
            const double xik = x(i, k);
            for (int j = 0; j < x.n; ++j) z(i, j) += xik * y(k, j);
        }
    return z;
}

// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (Golub & Van Loan, 8.5):
// A = V diag(lambda) V^T, V's columns the eigenvectors. Each rotation in the (p, q) plane,
//   theta = (a_qq - a_pp) / (2 a_pq),  t = sign(theta) / (|theta| + sqrt(theta^2 + 1)),
//   c = 1 / sqrt(t^2 + 1), s = t c,
// zeroes a_pq; sweeping over all pairs until the off-diagonal mass is ~0 converges quadratically
// (5-10 sweeps for d = 128). Slower than LAPACK's methods, but twenty lines and exact enough.
inline void jacobi_eigen(Matrix A, std::vector<double>& values, Matrix& vectors, int max_sweeps = 100) {
    const int n = A.n;
    vectors = Matrix(n);
    for (int i = 0; i < n; ++i) vectors(i, i) = 1.0;
    double total = 0.0;
    for (double v : A.a) total += v * v;
    for (int sweep = 0; sweep < max_sweeps; ++sweep) {
        double off = 0.0;
        for (int p = 0; p < n; ++p)
            for (int q = p + 1; q < n; ++q) off += A(p, q) * A(p, q);
        if (off <= 1e-30 * total || off == 0.0) break;  // relative to ||A||^2: converged
        for (int p = 0; p < n; ++p)
            for (int q = p + 1; q < n; ++q) {
                if (A(p, q) == 0.0) continue;
                const double theta = (A(q, q) - A(p, p)) / (2.0 * A(p, q));
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
                // A <- J^T A J with J the rotation in the (p, q) plane: columns, then rows.
                for (int k = 0; k < n; ++k) {
                    const double akp = A(k, p), akq = A(k, q);
                    A(k, p) = c * akp - s * akq;
                    A(k, q) = s * akp + c * akq;
                }
                for (int k = 0; k < n; ++k) {
                    const double apk = A(p, k), aqk = A(q, k);
                    A(p, k) = c * apk - s * aqk;
                    A(q, k) = s * apk + c * aqk;
                }
                for (int k = 0; k < n; ++k) {  // V <- V J
                    const double vkp = vectors(k, p), vkq = vectors(k, q);
                    vectors(k, p) = c * vkp - s * vkq;
                    vectors(k, q) = s * vkp + c * vkq;
                }
            }
    }
    values.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) values[static_cast<size_t>(i)] = A(i, i);
}

// The square root of a symmetric positive semi-definite matrix: V diag(sqrt(lambda)) V^T.
// Eigenvalues a rounding error below 0 are taken as 0.
inline Matrix sqrt_psd(const Matrix& S) {
    std::vector<double> lambda;
    Matrix V;
    jacobi_eigen(S, lambda, V);
    Matrix R(S.n);
    for (int k = 0; k < S.n; ++k) {
        const double r = std::sqrt(std::max(lambda[static_cast<size_t>(k)], 0.0));
        for (int i = 0; i < S.n; ++i)
            for (int j = 0; j < S.n; ++j) R(i, j) += V(i, k) * r * V(j, k);
    }
    return R;
}

// d^2 = ||mu1 - mu2||^2 + Tr S1 + Tr S2 - 2 sum_i sqrt(lambda_i(S1^(1/2) S2 S1^(1/2)))
inline double frechet_distance(const Gaussian& g1, const Gaussian& g2) {
    const int d = g1.cov.n;
    if (g2.cov.n != d || g1.mean.size() != static_cast<size_t>(d) || g2.mean.size() != static_cast<size_t>(d))
        throw std::invalid_argument("frechet_distance: Gaussians of dimension " + std::to_string(d) + " and " +
                                    std::to_string(g2.cov.n));
    double mean_term = 0.0, trace = 0.0;
    for (int i = 0; i < d; ++i) {
        const double diff = g1.mean[static_cast<size_t>(i)] - g2.mean[static_cast<size_t>(i)];
        mean_term += diff * diff;
        trace += g1.cov(i, i) + g2.cov(i, i);
    }
    const Matrix root1 = sqrt_psd(g1.cov);
    const Matrix A = matrix_product(matrix_product(root1, g2.cov), root1);  // symmetric PSD, up to rounding
    Matrix sym(d);
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) sym(i, j) = 0.5 * (A(i, j) + A(j, i));
    std::vector<double> lambda;
    Matrix V;
    jacobi_eigen(sym, lambda, V);
    double trace_sqrt = 0.0;
    for (double l : lambda) trace_sqrt += std::sqrt(std::max(l, 0.0));
    return std::max(mean_term + trace - 2.0 * trace_sqrt, 0.0);  // >= 0 in exact arithmetic
}

// The distance between the Gaussians of two feature sets (N1, d) and (N2, d).
inline double frechet_distance(const Tensor& features1, const Tensor& features2) {
    return frechet_distance(fit_gaussian(features1), fit_gaussian(features2));
}

}  // namespace minigan::eval
