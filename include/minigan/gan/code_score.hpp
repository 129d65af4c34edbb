// gan/code_score.hpp - beyond the papers: the "f-AnoGAN + code" anomaly score.
//
// Read gan/anogan.hpp first: this scores the same single pass of E and G (encode_queries)
// differently, asking also WHERE E puts the query in z-space. Defines LatentGaussian
// (Mahalanobis distance, via a Cholesky factor), Standardizer and CodeResidualScorer.
#pragma once

#include <cmath>
#include <stdexcept>
#include <vector>

#include "../eval/gaussian.hpp"
#include "anogan.hpp"

namespace minigan::gan {

// izi_f only compares x with its redrawing G(E(x)). A generator of 8s redraws a thin "1" well
// (a narrow 8 is nearly a 1), so on MNIST class 8 the "1"s got the LOWEST scores of all test
// images. But to redraw it, E had to send the "1" to an unusual place of z-space. So we also
// ask how unusual E(x) is, compared with the codes of the normal training images:
//   code(x) = (e - mu)^T Sigma^-1 (e - mu),   e = E(x)       (Mahalanobis distance)
// mu and Sigma: the mean and covariance of E's codes of the normal training images (a
// Gaussian fitted to them: E's codes are not N(0, 1), so ||e||^2 would not do). The score
// adds it to the relative residual, each in units of its own spread on normal images:
//   score = (code - mean_code) / sd_code + (relative - mean_rel) / sd_rel
// Still one pass per query (plus a 100x100 triangular solve). docs/anomaly-detection.md has
// the measured effect of each part.

// A Gaussian fitted to codes (N, K) by eval::fit_gaussian (mean, and the unbiased covariance:
// eval/gaussian.hpp says why), kept as mu and the Cholesky factor L of the covariance
// Sigma + ridge * I = L L^T (the ridge keeps it invertible when some directions barely vary).
// The score below standardises the distance on normal images, so a common scale of Sigma
// (1/N or 1/(N - 1)) cancels there; only the ridge's relative size depends on it.
struct LatentGaussian {
    std::vector<double> mean;  // (K,)
    std::vector<double> L;     // (K, K) lower triangular, row-major
    int K = 0;

    static LatentGaussian fit(const Tensor& codes, double ridge = 1e-3) {
        if (codes.dim() != 2 || codes.shape[0] < 2)
            throw std::invalid_argument("LatentGaussian::fit: need codes (N >= 2, K), got " + shape_str(codes.shape));
        const eval::Gaussian fitted = eval::fit_gaussian(codes);
        LatentGaussian g;
        g.K = codes.shape[1];
        g.mean = fitted.mean;
        const int K = g.K;
        const std::vector<double>& cov = fitted.cov.a;  // (K, K), row-major
        // Cholesky: for each column j, L[j][j] = sqrt(S[j][j] - sum_k L[j][k]^2), and below it
        // L[i][j] = (S[i][j] - sum_k L[i][k] L[j][k]) / L[j][j].
        g.L.assign(static_cast<size_t>(K) * K, 0.0);
        for (int j = 0; j < K; ++j) {
            double diag = cov[j * K + j] + ridge;
            for (int k = 0; k < j; ++k) diag -= g.L[j * K + k] * g.L[j * K + k];
            if (!(diag > 0.0)) throw std::runtime_error("LatentGaussian::fit: the covariance is not positive definite");
            g.L[j * K + j] = std::sqrt(diag);
            for (int i = j + 1; i < K; ++i) {
                double v = cov[i * K + j];
                for (int k = 0; k < j; ++k) v -= g.L[i * K + k] * g.L[j * K + k];
                g.L[i * K + j] = v / g.L[j * K + j];
            }
        }
        return g;
    }

    // (e - mu)^T Sigma^-1 (e - mu) = ||y||^2 where L y = e - mu (forward substitution).
    float mahalanobis(const float* e) const {
        std::vector<double> y(K);
        double squared = 0.0;
        for (int i = 0; i < K; ++i) {
            double v = e[i] - mean[i];
            for (int k = 0; k < i; ++k) v -= L[i * K + k] * y[k];
            y[i] = v / L[i * K + i];
            squared += y[i] * y[i];
        }
        return static_cast<float>(squared);
    }
    std::vector<float> mahalanobis(const Tensor& codes) const {
        if (codes.dim() != 2 || codes.shape[1] != K)
            throw std::invalid_argument("LatentGaussian: codes of shape " + shape_str(codes.shape) + " for a Gaussian of " +
                                        std::to_string(K) + " dimensions");
        std::vector<float> out(static_cast<size_t>(codes.shape[0]));
        for (size_t i = 0; i < out.size(); ++i) out[i] = mahalanobis(codes.ptr() + i * static_cast<size_t>(K));
        return out;
    }
};

// (v - mean) / sd with the mean and standard deviation of `reference` values.
struct Standardizer {
    double mean = 0.0, sd = 1.0;
    static Standardizer fit(const std::vector<float>& reference) {
        if (reference.size() < 2) throw std::invalid_argument("Standardizer::fit: need at least 2 values");
        Standardizer s;
        double sum = 0.0, sum2 = 0.0;
        for (float v : reference) sum += v, sum2 += static_cast<double>(v) * v;
        s.mean = sum / reference.size();
        s.sd = std::sqrt(std::max(sum2 / reference.size() - s.mean * s.mean, 1e-24));
        return s;
    }
    float operator()(float v) const { return static_cast<float>((v - mean) / sd); }
};

// The "code + relative residual" score, calibrated on normal images: fit() once, then score().
struct CodeResidualScorer {
    LatentGaussian codes;
    Standardizer code_scale, relative_scale;

    // normal: E's view of normal training images (encode_queries), ideally a few thousand.
    static CodeResidualScorer fit(const EncodedQueries& normal) {
        CodeResidualScorer s;
        s.codes = LatentGaussian::fit(normal.codes);
        s.code_scale = Standardizer::fit(s.codes.mahalanobis(normal.codes));
        s.relative_scale = Standardizer::fit(normal.relative);
        return s;
    }
    std::vector<float> score(const EncodedQueries& q) const {
        const std::vector<float> code = codes.mahalanobis(q.codes);
        std::vector<float> out(code.size());
        for (size_t i = 0; i < out.size(); ++i) out[i] = code_scale(code[i]) + relative_scale(q.relative[i]);
        return out;
    }
};

}  // namespace minigan::gan
