// test_metrics.cpp - gan/metrics.hpp: ROC curve and AUROC on cases computed by hand (ties
// included), AUROC against its pairwise definition, the stratified subset, the histogram.
// Run one case: ./test_metrics -tc="AUROC*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/gan/metrics.hpp>
#include <minigan/tensor.hpp>

using namespace minigan;
using gan::auroc;
using gan::auroc_pairwise;
using gan::roc_curve;
using V = std::vector<float>;
using L = std::vector<int>;

TEST_CASE("ROC curve and AUROC by hand: no ties") {
    // scores 0.1 0.4 0.35 0.8, anomalies are the last two (scikit-learn's roc_curve example).
    // Thresholds from the top: 0.8 flags one anomaly -> (0, 1/2); 0.4 adds a normal -> (1/2, 1/2);
    // 0.35 adds the other anomaly -> (1/2, 1); 0.1 flags everything -> (1, 1).
    const V scores{0.1f, 0.4f, 0.35f, 0.8f};
    const L labels{0, 0, 1, 1};
    auto curve = roc_curve(scores, labels);
    REQUIRE(curve.size() == 5);
    const double fpr[] = {0, 0, 0.5, 0.5, 1}, tpr[] = {0, 0.5, 0.5, 1, 1};
    for (size_t i = 0; i < curve.size(); ++i) {
        CHECK(curve[i].fpr == doctest::Approx(fpr[i]));
        CHECK(curve[i].tpr == doctest::Approx(tpr[i]));
    }
    CHECK(curve[1].threshold == doctest::Approx(0.8));
    // Area: the box from fpr 0 to 0.5 at height 1/2, and from 0.5 to 1 at height 1: 0.25 + 0.5.
    CHECK(auroc(scores, labels) == doctest::Approx(0.75));
    CHECK(auroc_pairwise(scores, labels) == doctest::Approx(0.75));
}

TEST_CASE("AUROC by hand: perfect, reversed, and ties") {
    CHECK(auroc({1, 2, 3, 4}, {0, 0, 1, 1}) == doctest::Approx(1.0));
    CHECK(auroc({1, 2, 3, 4}, {1, 1, 0, 0}) == doctest::Approx(0.0));
    CHECK(auroc({5, 5, 5, 5, 5}, {0, 1, 0, 1, 1}) == doctest::Approx(0.5));  // nothing tells them apart
    // anomalies score 1 and 2, normals 1 and 0. Pairs (anomaly, normal): (1,1) a tie = 1/2,
    // (1,0) = 1, (2,1) = 1, (2,0) = 1 -> 3.5 / 4 = 0.875.
    const V scores{1, 2, 1, 0};
    const L labels{1, 1, 0, 0};
    CHECK(auroc(scores, labels) == doctest::Approx(0.875));
    // The tie at score 1 is ONE threshold: a diagonal step from (0, 1/2) to (1/2, 1), not a
    // staircase that would depend on which of the two equal scores is sorted first.
    auto curve = roc_curve(scores, labels);
    REQUIRE(curve.size() == 4);
    CHECK(curve[2].fpr == doctest::Approx(0.5));
    CHECK(curve[2].tpr == doctest::Approx(1.0));
    CHECK(curve[2].threshold == doctest::Approx(1.0));
    // Sort order must not matter: the same items in another order.
    CHECK(auroc({1, 0, 2, 1}, {0, 0, 1, 1}) == doctest::Approx(0.875));
}

TEST_CASE("AUROC equals its pairwise definition on random scores with many ties") {
    Rng rng(3);
    for (int trial = 0; trial < 20; ++trial) {
        V scores;
        L labels;
        for (int i = 0; i < 200; ++i) {
            scores.push_back(std::round(rng.normal() * 3.0f) / 3.0f);  // few distinct values: many ties
            labels.push_back(i % 3 == 0 ? 1 : 0);
        }
        const double a = auroc(scores, labels), p = auroc_pairwise(scores, labels);
        CHECK(a == doctest::Approx(p).epsilon(1e-12));
        CHECK(a > 0.2);
        CHECK(a < 0.8);  // random scores: near 1/2
    }
}

TEST_CASE("AUROC refuses what has no answer") {
    CHECK_THROWS_AS(auroc({1, 2}, {0, 1, 1}), std::invalid_argument);          // sizes differ
    CHECK_THROWS_AS(auroc({1, 2}, {1, 1}), std::invalid_argument);             // no normal item
    CHECK_THROWS_AS(auroc({1, 2}, {0, 0}), std::invalid_argument);             // no anomaly
    CHECK_THROWS_AS(auroc({1, 2}, {0, 2}), std::invalid_argument);             // a label that is not 0/1
    CHECK_THROWS_AS(auroc({1, NAN}, {0, 1}), std::invalid_argument);           // a broken score
    CHECK_THROWS_AS(auroc({1, INFINITY}, {0, 1}), std::invalid_argument);
}

TEST_CASE("stratified_subset keeps each class's share, is random, repeatable and sorted") {
    L labels;
    for (int i = 0; i < 1000; ++i) labels.push_back(i < 100 ? 0 : i < 400 ? 1 : 2);  // 10%, 30%, 60%
    auto pick = gan::stratified_subset(labels, 50, 7);
    REQUIRE(pick.size() == 50);
    int counts[3] = {0, 0, 0};
    for (size_t i : pick) counts[labels[i]] += 1;
    CHECK(counts[0] == 5);
    CHECK(counts[1] == 15);
    CHECK(counts[2] == 30);
    CHECK(std::is_sorted(pick.begin(), pick.end()));
    CHECK(std::adjacent_find(pick.begin(), pick.end()) == pick.end());  // no index twice
    CHECK(gan::stratified_subset(labels, 50, 7) == pick);
    CHECK(gan::stratified_subset(labels, 50, 8) != pick);
    // Rounding: 7 places over shares 0.7, 2.1, 4.2 -> floors 0, 2, 4; the largest remainder (0.7) gets the last.
    auto small = gan::stratified_subset(labels, 7, 1);
    int c0 = 0;
    for (size_t i : small) c0 += labels[i] == 0;
    CHECK(small.size() == 7);
    CHECK(c0 == 1);
    CHECK(gan::stratified_subset(labels, 5000, 1).size() == 1000);  // more than there are: all
}

TEST_CASE("histogram by hand") {
    // bins over [0, 4): [0,1) [1,2) [2,3) [3,4]; -1 goes to the first bin and 9 to the last.
    auto h = gan::histogram({0.5f, 1.0f, 1.5f, 3.9f, -1.0f, 9.0f, 4.0f}, 4, 0.0, 4.0);
    CHECK(h == V{2, 2, 0, 3});
    CHECK_THROWS_AS(gan::histogram({1}, 0, 0, 1), std::invalid_argument);
}
