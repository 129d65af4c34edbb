// eval/pca.hpp - principal component analysis, and its reconstruction error as an anomaly score.
//
// Read eval/gaussian.hpp (fit_gaussian: the mean and covariance) first. The classic detector
// of process monitoring: fit PCA on healthy data, keep the k directions of largest variance,
// and score a query by what those directions cannot explain, the squared prediction error
//   SPE(x) = || (x - mu) - P P^T (x - mu) ||^2          (the "Q statistic"; P: d x k, orthonormal)
// examples/06_sensor_anogan.cpp uses it as the baseline beside the GAN.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gaussian.hpp"

namespace minigan::eval {

struct Pca {
    std::vector<double> mean;                     // mu: (d,)
    std::vector<std::vector<double>> components;  // the columns of P: k unit vectors (d,), largest variance first
    std::vector<double> variances;                // the eigenvalue of each: the variance along it
    double total_variance = 0.0;                  // trace of the covariance: the variance of all d directions
    int dims = 0;

    // Share of the variance the kept components explain.
    double explained() const {
        double kept = 0.0;
        for (double v : variances) kept += v;
        return total_variance > 0 ? kept / total_variance : 1.0;
    }

    // The top k eigenvectors of the covariance S of the rows of x (N, ...; each row flattened),
    // by power iteration: v <- S v / ||S v|| converges to the eigenvector of the largest
    // eigenvalue; taking out the components already found (Gram-Schmidt) after each product
    // makes it converge to the next one. Stops when v moves less than `tolerance`.
    static Pca fit(const Tensor& x, int k, int max_iterations = 1000, double tolerance = 1e-9) {
        if (x.dim() < 2 || x.shape[0] < 2) throw std::invalid_argument("Pca::fit: need (N >= 2, ...) rows, got " + shape_str(x.shape));
        Tensor rows = x;
        rows.shape = {x.shape[0], static_cast<int>(x.numel() / static_cast<size_t>(x.shape[0]))};
        const int d = rows.shape[1];
        if (k < 1 || k > d) throw std::invalid_argument("Pca::fit: need 1 <= k <= " + std::to_string(d) + ", got " + std::to_string(k));
        const Gaussian g = fit_gaussian(rows);
        Pca p;
        p.mean = g.mean, p.dims = d;
        for (int i = 0; i < d; ++i) p.total_variance += g.cov(i, i);
        std::vector<double> v(static_cast<size_t>(d)), next(static_cast<size_t>(d));
        for (int j = 0; j < k; ++j) {
            for (int i = 0; i < d; ++i) v[i] = 1.0 + 0.01 * ((i * 7919 + j * 104729) % 101);  // a fixed, generic start
            double eigenvalue = 0.0;
            for (int it = 0; it < max_iterations; ++it) {
                for (int r = 0; r < d; ++r) {  // next = S v
                    double sum = 0.0;
                    for (int c = 0; c < d; ++c) sum += g.cov(r, c) * v[c];
                    next[r] = sum;
                }
                for (const std::vector<double>& found : p.components) {  // next -= (next . p_i) p_i
                    double dot = 0.0;
                    for (int i = 0; i < d; ++i) dot += next[i] * found[i];
                    for (int i = 0; i < d; ++i) next[i] -= dot * found[i];
                }
                double norm = 0.0;
                for (double e : next) norm += e * e;
                norm = std::sqrt(norm);
                if (norm < 1e-300) break;  // nothing left to explain
                double moved = 0.0;
                for (int i = 0; i < d; ++i) {
                    next[i] /= norm;
                    moved += (next[i] - v[i]) * (next[i] - v[i]);
                }
                v.swap(next);
                eigenvalue = norm;  // ||S v|| for a unit eigenvector v is its eigenvalue
                if (moved < tolerance * tolerance) break;
            }
            p.components.push_back(v);
            p.variances.push_back(eigenvalue);
        }
        return p;
    }

    // The reconstruction of one row: mu + P P^T (x - mu).
    std::vector<double> reconstruct(const float* x) const {
        std::vector<double> out = mean;
        for (const std::vector<double>& pc : components) {
            double coefficient = 0.0;
            for (int i = 0; i < dims; ++i) coefficient += (x[i] - mean[i]) * pc[i];
            for (int i = 0; i < dims; ++i) out[i] += coefficient * pc[i];
        }
        return out;
    }

    // SPE of every row of x (N, ...): the squared distance to its reconstruction.
    std::vector<float> spe(const Tensor& x) const {
        if (x.dim() < 2 || x.numel() != static_cast<size_t>(x.shape[0]) * dims)
            throw std::invalid_argument("Pca::spe: rows of " + std::to_string(dims) + " values expected, got " + shape_str(x.shape));
        std::vector<float> out(static_cast<size_t>(x.shape[0]));
        for (size_t n = 0; n < out.size(); ++n) {
            const float* row = x.ptr() + n * static_cast<size_t>(dims);
            const std::vector<double> r = reconstruct(row);
            double sum = 0.0;
            for (int i = 0; i < dims; ++i) sum += (row[i] - r[i]) * (row[i] - r[i]);
            out[n] = static_cast<float>(sum);
        }
        return out;
    }
};

}  // namespace minigan::eval
