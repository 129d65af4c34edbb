// eval/gaussian.hpp - a Gaussian fitted to the rows of a matrix: mean and covariance.
//
// Read tensor.hpp first. The one Gaussian fit of the library: eval/frechet.hpp compares two of
// them (FID), gan/code_score.hpp measures how far an encoder's code lies from the normal codes
// (Mahalanobis distance). Defines Matrix (dense, square, double) and fit_gaussian().
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "../tensor.hpp"

namespace minigan::eval {

// A dense symmetric d x d matrix, row-major, in double.
struct Matrix {
    int n = 0;
    std::vector<double> a;
    explicit Matrix(int n = 0) : n(n), a(static_cast<size_t>(n) * n, 0.0) {}
    double& operator()(int i, int j) { return a[static_cast<size_t>(i) * n + j]; }
    double operator()(int i, int j) const { return a[static_cast<size_t>(i) * n + j]; }
};

// A Gaussian fitted to the rows of an (N, d) tensor: the mean and the unbiased covariance
//   mu = sum_n x_n / N,   S = sum_n (x_n - mu)(x_n - mu)^T / (N - 1)
// Why N - 1: mu is itself estimated from the same rows, which makes the spread around it
// smaller than around the true mean by a factor (N - 1) / N; dividing by N - 1 undoes that
// (Bessel's correction). It is numpy.cov's default, which the FID reference code
// (Heusel et al. 2017, TTUR's fid.py) calls, so our Frechet distances follow theirs. The biased
// estimate (divide by N) differs by the factor (N - 1) / N: nothing for FID's 10,000 rows,
// much for a handful.
struct Gaussian {
    std::vector<double> mean;
    Matrix cov;
};

inline Gaussian fit_gaussian(const Tensor& features) {
    if (features.dim() != 2 || features.shape[0] < 2 || features.shape[1] < 1)
        throw std::invalid_argument("fit_gaussian: need (N, d) features with N >= 2, got " + shape_str(features.shape));
    const int N = features.shape[0], d = features.shape[1];
    Gaussian g{std::vector<double>(static_cast<size_t>(d), 0.0), Matrix(d)};
    for (int n = 0; n < N; ++n)
        for (int i = 0; i < d; ++i) g.mean[static_cast<size_t>(i)] += features[static_cast<size_t>(n) * d + i];
    for (double& m : g.mean) m /= N;
    std::vector<double> centred(static_cast<size_t>(d));
    for (int n = 0; n < N; ++n) {
        for (int i = 0; i < d; ++i)
            centred[static_cast<size_t>(i)] = features[static_cast<size_t>(n) * d + i] - g.mean[static_cast<size_t>(i)];
        for (int i = 0; i < d; ++i)
            for (int j = i; j < d; ++j) g.cov(i, j) += centred[static_cast<size_t>(i)] * centred[static_cast<size_t>(j)];
    }
    for (int i = 0; i < d; ++i)
        for (int j = i; j < d; ++j) g.cov(j, i) = g.cov(i, j) /= (N - 1);
    return g;
}

}  // namespace minigan::eval
