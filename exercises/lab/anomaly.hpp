// exercises/lab/anomaly.hpp - the f-AnoGAN anomaly score and the AUROC with ties, written out.
//
// Read gan/anogan.hpp and gan/metrics.hpp first (the library's versions: izif_score, auroc).
// This lab has the same two numbers on plain vectors, small enough to write by hand:
//   score(x) = ||x - G(E(x))||^2 / n  +  kappa * ||f(x) - f(G(E(x)))||^2 / n_f      (Schlegl et al. 2019)
//   AUROC    = P(score of an anomaly > score of a normal) + P(tie) / 2               (Mann-Whitney U)
#pragma once

#include <stdexcept>
#include <vector>

namespace minigan::lab {

// x, gx: an image and its reconstruction (n numbers); fx, fgx: D's features of both (n_f numbers).
inline double izif_anomaly_score(const std::vector<float>& x, const std::vector<float>& gx,
                                 const std::vector<float>& fx, const std::vector<float>& fgx, double kappa) {
    if (x.size() != gx.size() || fx.size() != fgx.size() || x.empty() || fx.empty())
        throw std::invalid_argument("izif_anomaly_score: sizes do not match");
    // EXERCISE E15 begin
    // the mean squared residual of the image plus kappa times the mean squared residual of the features
    double image = 0.0, features = 0.0;
    for (size_t i = 0; i < x.size(); ++i) image += (x[i] - gx[i]) * static_cast<double>(x[i] - gx[i]);
    for (size_t i = 0; i < fx.size(); ++i) features += (fx[i] - fgx[i]) * static_cast<double>(fx[i] - fgx[i]);
    return image / x.size() + kappa * features / fx.size();
    // EXERCISE E15 end
}

// is_anomaly[i] = 1 for an anomaly, 0 for a normal item; at least one of each.
inline double auroc_with_ties(const std::vector<float>& scores, const std::vector<int>& is_anomaly) {
    if (scores.size() != is_anomaly.size()) throw std::invalid_argument("auroc_with_ties: sizes do not match");
    // EXERCISE E15 begin
    // over every (anomaly, normal) pair: 1 if the anomaly scores higher, 1/2 for a tie, 0 otherwise
    double wins = 0.0, pairs = 0.0;
    for (size_t a = 0; a < scores.size(); ++a) {
        if (!is_anomaly[a]) continue;
        for (size_t n = 0; n < scores.size(); ++n) {
            if (is_anomaly[n]) continue;
            wins += scores[a] > scores[n] ? 1.0 : scores[a] == scores[n] ? 0.5 : 0.0;
            pairs += 1.0;
        }
    }
    if (pairs == 0.0) throw std::invalid_argument("auroc_with_ties: need at least one normal and one anomalous item");
    return wins / pairs;
    // EXERCISE E15 end
}

}  // namespace minigan::lab
