// E15 - the f-AnoGAN anomaly score (gan::izif_score, include/minigan/gan/anogan.hpp) and the AUROC
// with ties (gan::roc_curve and gan::auroc, include/minigan/gan/metrics.hpp).
//   score = ||x - G(E(x))||^2 / n + kappa ||f(x) - f(G(E(x)))||^2 / n_f
//   AUROC = P(anomaly scores higher than normal) + P(tie) / 2, over every (anomaly, normal) pair
// Oracles: the score by hand, with an E, a G and a D whose outputs are written down; the AUROC
// counted pair by pair here, ties and all.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E15_anomaly_auroc.cpp -lopenblas -lz -o e15
#define EXERCISE "E15"
#define EXERCISE_TEST "E15_anomaly_auroc"
#include "exercise_test.hpp"

#include <minigan/gan/anogan.hpp>
#include <minigan/gan/metrics.hpp>

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static Cause is(const char* pt, const char* en, double value) {
    return {pt, en, [value](const V& g, const V&) { return std::fabs(g[0] - value) < 1e-5; }};
}

// A module whose outputs are written down: it maps each listed input to its listed output (the
// E, G and f of the hand computation below), so the score is the only thing under test.
class Table : public nn::Module {
public:
    Table(std::vector<std::pair<Tensor, Tensor>> rows, std::string label) : rows_(std::move(rows)), label_(std::move(label)) {}
    Var forward(const Var& x) override {
        for (const auto& [in, out] : rows_)
            if (in.data == x.value().data) return Var(out);
        throw std::logic_error("E15 test: " + label_ + " got an input that is not in its table");
    }
    std::string name() const override { return label_; }

private:
    std::vector<std::pair<Tensor, Tensor>> rows_;
    std::string label_;
};

TEST_SUITE("E15 anomaly score and AUROC") {

TEST_CASE("E15 izif_score by hand, kappa = 2") {
    // one query x (1, 1, 2, 2); E(x) = z; G(z) = its redrawing; D = f (2 features), then a logit
    const Tensor x({1, 1, 2, 2}, V{1, 2, 3, 4}), z({1, 1}, V{0.25f}), gz({1, 1, 2, 2}, V{1, 2, 2, 6});
    const Tensor fx({1, 2}, V{0.5f, 1.0f}), fgz({1, 2}, V{0.5f, 0.0f});
    Table E({{x, z}}, "E"), G({{z, gz}}, "G");
    nn::Sequential D(std::make_shared<Table>(std::vector<std::pair<Tensor, Tensor>>{{x, fx}, {gz, fgz}}, "f"),
                     std::make_shared<Table>(std::vector<std::pair<Tensor, Tensor>>{}, "logit"));
    // image residuals 0, 0, 1, -2 -> squares 0, 0, 1, 4 -> mean 1.25; feature residuals 0, 1 -> mean 0.5
    const Var score = gan::izif_score(G, D, E, 1, Var(x), 2.0f);
    REQUIRE(score.shape() == Shape{1});
    exercise::compare("score", static_cast<double>(score.value().data[0]), 1.25 + 2.0 * 0.5,
                      {is("somou os quadrados sem dividir: a pontuação usa a MÉDIA (/ n e / n_f), para que a imagem e as features tenham o mesmo peso",
                          "summed the squares without dividing: the score uses the MEAN (/ n and / n_f), so image and features weigh alike",
                          5.0 + 2.0 * 1.0),
                       is("kappa multiplica o termo das features, não o da imagem", "kappa multiplies the feature term, not the image term",
                          2.0 * 1.25 + 0.5),
                       is("usou |resíduo| (L1): o f-AnoGAN eleva o resíduo ao quadrado", "used |residual| (L1): f-AnoGAN squares the residual",
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
    exercise::compare("AUROC", gan::auroc(scores, anomaly), (wins + ties / 2) / pairs,
                      {is("empates contados como 0: um empate entre uma anomalia e um item normal vale 1/2 (não dá para separá-los)",
                          "ties counted 0: a tie between an anomaly and a normal item is worth 1/2 (we cannot tell them apart)",
                          wins / pairs),
                       is("empates contados como 1: um empate vale 1/2", "ties counted 1: a tie is worth 1/2", (wins + ties) / pairs),
                       is("AUROC = 1 - o esperado: as classes estão trocadas (uma anomalia, rótulo 1, deve ter pontuação MAIS alta)",
                          "AUROC = 1 - expected: the classes are swapped (anomaly = 1 should score HIGHER)",
                          1.0 - (wins + ties / 2) / pairs)});
    exercise::compare("AUROC when every score ties", gan::auroc({1, 1, 1, 1}, {0, 1, 0, 1}), 0.5);
    exercise::compare("AUROC of a perfect detector", gan::auroc({0.1f, 0.2f, 0.8f, 0.9f}, {0, 0, 1, 1}), 1.0);
}

}  // TEST_SUITE
