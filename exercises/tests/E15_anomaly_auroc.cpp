// E15 - the f-AnoGAN anomaly score and the AUROC with ties (exercises/lab/anomaly.hpp).
//   score = ||x - G(E(x))||^2 / n + kappa ||f(x) - f(G(E(x)))||^2 / n_f
//   AUROC = P(anomaly scores higher than normal) + P(tie) / 2, over every (anomaly, normal) pair
// Oracles: the score by hand; the AUROC counted pair by pair here, ties and all.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E15_anomaly_auroc.cpp -lopenblas -lz -o e15
#define EXERCISE "E15"
#define EXERCISE_TEST "E15_anomaly_auroc"
#include "exercise_test.hpp"

#include "../lab/anomaly.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static Cause is(const char* pt, const char* en, double value) {
    return {pt, en, [value](const V& g, const V&) { return std::fabs(g[0] - value) < 1e-5; }};
}

TEST_SUITE("E15 anomaly score and AUROC") {

TEST_CASE("E15 izif_anomaly_score by hand, kappa = 2") {
    // image residuals 0, 0, 1, -2 -> squares 0, 0, 1, 4 -> mean 1.25; feature residuals 0, 1 -> mean 0.5
    const double got = lab::izif_anomaly_score({1, 2, 3, 4}, {1, 2, 2, 6}, {0.5f, 1.0f}, {0.5f, 0.0f}, 2.0);
    exercise::compare("score", got, 1.25 + 2.0 * 0.5,
                      {is("somou os quadrados sem dividir: o score usa a MÉDIA (/ n e / n_f), para que imagens e features pesem igual",
                          "summed the squares without dividing: the score uses the MEAN (/ n and / n_f), so images and features weigh alike",
                          5.0 + 2.0 * 1.0),
                       is("kappa multiplica o termo das features, não o da imagem", "kappa multiplies the feature term, not the image term",
                          2.0 * 1.25 + 0.5),
                       is("usou |resíduo| (L1): f-AnoGAN usa o quadrado do resíduo", "used |residual| (L1): f-AnoGAN squares the residual",
                          0.75 + 2.0 * 0.5)});
}

TEST_CASE("E15 AUROC with ties: each tied (anomaly, normal) pair counts 1/2") {
    const std::vector<float> scores = {0.1f, 0.4f, 0.4f, 0.8f, 0.4f, 0.9f, 0.2f};
    const std::vector<int> anomaly = {0, 0, 1, 1, 0, 1, 0};
    double wins = 0, ties = 0, pairs = 0;
    for (size_t a = 0; a < scores.size(); ++a)
        for (size_t n = 0; n < scores.size(); ++n)
            if (anomaly[a] && !anomaly[n]) {
                pairs += 1;
                wins += scores[a] > scores[n];
                ties += scores[a] == scores[n];
            }
    // 3 anomalies x 4 normals = 12 pairs: 9 wins, 2 ties (0.4 vs 0.4 twice), 1 loss
    exercise::compare("AUROC", lab::auroc_with_ties(scores, anomaly), (wins + ties / 2) / pairs,
                      {is("empates contaram 0: um empate entre anomalia e normal vale 1/2 (não sabemos separá-los)",
                          "ties counted 0: a tie between an anomaly and a normal item is worth 1/2 (we cannot tell them apart)",
                          wins / pairs),
                       is("empates contaram 1: um empate vale 1/2", "ties counted 1: a tie is worth 1/2", (wins + ties) / pairs),
                       is("AUROC = 1 - o esperado: as classes estão trocadas (anomalia = 1 deve pontuar MAIS alto)",
                          "AUROC = 1 - expected: the classes are swapped (anomaly = 1 should score HIGHER)",
                          1.0 - (wins + ties / 2) / pairs)});
    exercise::compare("AUROC when every score ties", lab::auroc_with_ties({1, 1, 1, 1}, {0, 1, 0, 1}), 0.5);
    exercise::compare("AUROC of a perfect detector", lab::auroc_with_ties({0.1f, 0.2f, 0.8f, 0.9f}, {0, 0, 1, 1}), 1.0);
}

}  // TEST_SUITE
