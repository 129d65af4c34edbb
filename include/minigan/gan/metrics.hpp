// gan/metrics.hpp - how good is an anomaly score? ROC curve, AUROC, and a stratified subset.
//
// Nothing to read first (plain std::vector code; the stratified subset borrows data/batches.hpp's RNG). An anomaly detector gives every test image a
// score (higher = more anomalous) and we know which images are anomalies (label 1) and which are
// normal (label 0). Flag every image whose score is >= a threshold t:
//   TPR(t) = flagged anomalies / all anomalies     (recall: anomalies we catch)
//   FPR(t) = flagged normals   / all normals       (false alarms)
// Sweeping t from +inf down to -inf traces the ROC curve from (0, 0) to (1, 1). The area under
// it, AUROC, is the probability that a random anomaly scores higher than a random normal image
// (ties count 1/2): 1 is perfect, 0.5 is a coin toss, whatever the threshold.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../data/batches.hpp"  // uniform_below: the same random picks with every standard library

namespace minigan::gan {

struct RocPoint {
    double fpr, tpr;
    double threshold;  // flag score >= threshold (the first point, (0, 0), has +inf)
};

inline void check_scores(const char* what, const std::vector<float>& scores, const std::vector<int>& is_anomaly) {
    if (scores.size() != is_anomaly.size())
        throw std::invalid_argument(std::string(what) + ": " + std::to_string(scores.size()) + " scores but " +
                                    std::to_string(is_anomaly.size()) + " labels");
    size_t positives = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
        if (is_anomaly[i] != 0 && is_anomaly[i] != 1)
            throw std::invalid_argument(std::string(what) + ": label " + std::to_string(is_anomaly[i]) + " of item " +
                                        std::to_string(i) + " is not 0 (normal) or 1 (anomaly)");
        if (!std::isfinite(scores[i]))
            throw std::invalid_argument(std::string(what) + ": score of item " + std::to_string(i) + " is not finite");
        positives += static_cast<size_t>(is_anomaly[i]);
    }
    if (positives == 0 || positives == scores.size())
        throw std::invalid_argument(std::string(what) + ": needs at least one normal and one anomalous item (got " +
                                    std::to_string(positives) + " anomalies among " + std::to_string(scores.size()) + ")");
}

// The ROC curve: one point per distinct score, from (0, 0) to (1, 1). Equal scores are one
// threshold, so a tie between a normal and an anomalous image is a diagonal step (the ROC of
// "we cannot tell them apart"), never an arbitrary staircase that depends on sort order.
inline std::vector<RocPoint> roc_curve(const std::vector<float>& scores, const std::vector<int>& is_anomaly) {
    check_scores("roc_curve", scores, is_anomaly);
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    double positives = 0, negatives = 0;
    for (int y : is_anomaly) (y ? positives : negatives) += 1;

    std::vector<RocPoint> curve{{0.0, 0.0, INFINITY}};
    // EXERCISE E15 begin
    // Walk the scores from the highest down; at each distinct score t flag the whole tie at once
    // (tp anomalies, fp normals flagged so far) and add the point (fp / negatives, tp / positives, t).
    double tp = 0, fp = 0;
    for (size_t k = 0; k < order.size();) {
        const float t = scores[order[k]];
        for (; k < order.size() && scores[order[k]] == t; ++k) (is_anomaly[order[k]] ? tp : fp) += 1;  // the whole tie
        curve.push_back({fp / negatives, tp / positives, t});
    }
    // EXERCISE E15 end
    return curve;
}

// Area under the ROC curve by the trapezoid rule (a tie's diagonal step adds half its box).
inline double auroc(const std::vector<float>& scores, const std::vector<int>& is_anomaly) {
    const std::vector<RocPoint> curve = roc_curve(scores, is_anomaly);
    // EXERCISE E15 begin
    // area = sum over consecutive points of (fpr_i - fpr_{i-1}) * (tpr_i + tpr_{i-1}) / 2: a tie's
    // diagonal step gets half its box, which is "a tied (anomaly, normal) pair counts 1/2"
    double area = 0.0;
    for (size_t i = 1; i < curve.size(); ++i)
        area += (curve[i].fpr - curve[i - 1].fpr) * (curve[i].tpr + curve[i - 1].tpr) / 2.0;
    return area;
    // EXERCISE E15 end
}

// The same number by its definition, P(score of anomaly > score of normal) + P(tie) / 2, over
// all pairs: O(normals * anomalies), a reference for tests (the Mann-Whitney U statistic).
inline double auroc_pairwise(const std::vector<float>& scores, const std::vector<int>& is_anomaly) {
    check_scores("auroc_pairwise", scores, is_anomaly);
    double wins = 0.0, pairs = 0.0;
    for (size_t a = 0; a < scores.size(); ++a) {
        if (!is_anomaly[a]) continue;
        for (size_t n = 0; n < scores.size(); ++n) {
            if (is_anomaly[n]) continue;
            wins += scores[a] > scores[n] ? 1.0 : scores[a] == scores[n] ? 0.5 : 0.0;
            pairs += 1.0;
        }
    }
    return wins / pairs;
}

// `count` indices into `labels` with every class represented in proportion to its share
// (largest remainders decide the rounding), chosen at random with `seed`, returned sorted.
// AnoGAN's latent search is too slow for all 10,000 test images; a stratified 1,000 keeps the
// ratio of normal to anomalous images of the full test set.
inline std::vector<size_t> stratified_subset(const std::vector<int>& labels, size_t count, uint32_t seed) {
    if (count >= labels.size()) {
        std::vector<size_t> all(labels.size());
        std::iota(all.begin(), all.end(), size_t(0));
        return all;
    }
    int classes = 0;
    for (int y : labels) {
        if (y < 0) throw std::invalid_argument("stratified_subset: negative label " + std::to_string(y));
        classes = std::max(classes, y + 1);
    }
    std::vector<std::vector<size_t>> members(static_cast<size_t>(classes));
    for (size_t i = 0; i < labels.size(); ++i) members[static_cast<size_t>(labels[i])].push_back(i);

    // Class c gets floor(count * n_c / N) places, then the leftover places go to the largest remainders.
    std::vector<size_t> quota(members.size());
    std::vector<std::pair<double, size_t>> remainders;
    size_t given = 0;
    for (size_t c = 0; c < members.size(); ++c) {
        const double exact = static_cast<double>(count) * members[c].size() / labels.size();
        quota[c] = static_cast<size_t>(exact);
        given += quota[c];
        remainders.push_back({exact - quota[c], c});
    }
    std::sort(remainders.begin(), remainders.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (size_t k = 0; given < count; ++k, ++given) quota[remainders[k].second] += 1;

    std::mt19937 engine(seed);
    std::vector<size_t> chosen;
    for (size_t c = 0; c < members.size(); ++c) {
        std::vector<size_t>& m = members[c];
        for (size_t k = 0; k < quota[c]; ++k) {  // a partial Fisher-Yates shuffle: the first quota[c] are random
            const size_t j = k + data::uniform_below(engine, static_cast<uint32_t>(m.size() - k));  // in [k, size)
            std::swap(m[k], m[j]);
            chosen.push_back(m[k]);
        }
    }
    std::sort(chosen.begin(), chosen.end());
    return chosen;
}

// A histogram: counts of values in `bins` equal bins over [lo, hi] (values outside go to the
// first or last bin), for plotting the scores of normal vs anomalous images.
inline std::vector<float> histogram(const std::vector<float>& values, int bins, double lo, double hi) {
    if (bins < 1 || !(hi > lo)) throw std::invalid_argument("histogram: need bins >= 1 and hi > lo");
    std::vector<float> counts(static_cast<size_t>(bins), 0.0f);
    for (float v : values) {
        int b = static_cast<int>(std::floor((v - lo) / (hi - lo) * bins));
        counts[static_cast<size_t>(std::clamp(b, 0, bins - 1))] += 1.0f;
    }
    return counts;
}

}  // namespace minigan::gan
