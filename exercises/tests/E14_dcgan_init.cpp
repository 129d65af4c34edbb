// E14 - the DCGAN generator: its shapes layer by layer, and its initialisation (include/minigan/nn/init.hpp:
// dcgan_init). DCGAN (Radford et al. 2016): every Linear / Conv2d / ConvTranspose2d weight ~ N(0, 0.02),
// BatchNorm gamma ~ N(1, 0.02), biases and beta = 0, in every layer of the network (children too).
// Oracles: the sample mean and standard deviation of thousands of weights; the shapes of docs/models.md.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E14_dcgan_init.cpp -lopenblas -lz -o e14
#define EXERCISE "E14"
#define EXERCISE_TEST "E14_dcgan_init"
#include "exercise_test.hpp"

#include <minigan/gan/models.hpp>

using namespace minigan;
using V = std::vector<float>;

// mean and standard deviation of a weight tensor, checked against N(mean, 0.02) with a lesson.
static void check_normal(const std::string& what, const V& w, double want_mean, double default_bound) {
    double mean = 0, sq = 0;
    for (float v : w) mean += v;
    mean /= w.size();
    for (float v : w) sq += (v - mean) * (v - mean);
    const double sd = std::sqrt(sq / w.size());
    const bool ok = std::fabs(mean - want_mean) < 0.01 && sd > 0.017 && sd < 0.023;
    std::string pt, en;
    if (std::fabs(sd - default_bound / std::sqrt(3.0)) < 0.2 * default_bound / std::sqrt(3.0)) {
        pt = "parece a inicialização padrão (uniforme em +-1/sqrt(fan_in)): dcgan_init não chegou a esta camada; "
             "percorra os filhos (children()) recursivamente";
        en = "this looks like the default init (uniform in +-1/sqrt(fan_in)): dcgan_init never reached this layer; "
             "walk the children (children()) recursively";
    } else if (want_mean == 1.0 && std::fabs(mean) < 0.01) {
        pt = "o gamma da BatchNorm tem média 0: é N(1, 0.02) (a BatchNorm começa como a identidade), não N(0, 0.02)";
        en = "BatchNorm's gamma has mean 0: it is N(1, 0.02) (BatchNorm starts as the identity), not N(0, 0.02)";
    } else if (sd > 0.1) {
        pt = "desvio-padrão ~" + exercise::num(sd) + ": a DCGAN usa 0.02 (não 0.2)";
        en = "standard deviation ~" + exercise::num(sd) + ": DCGAN uses 0.02 (not 0.2)";
    } else {
        pt = "a média deve ser " + exercise::num(want_mean) + " e o desvio-padrão 0.02";
        en = "the mean must be " + exercise::num(want_mean) + " and the standard deviation 0.02";
    }
    exercise::expect(ok, pt, en, what + ": mean " + exercise::num(mean) + ", std " + exercise::num(sd) + " (expected mean " +
                                     exercise::num(want_mean) + ", std 0.02, over " + std::to_string(w.size()) + " numbers)");
}

TEST_SUITE("E14 DCGAN generator") {

TEST_CASE("E14 dcgan_init on a nested network: N(0, 0.02) weights, gamma N(1, 0.02), zero biases") {
    auto inner = nn::make<nn::Sequential>(nn::make<nn::Conv2d>(8, 16, 5), nn::make<nn::BatchNorm2d>(512));
    nn::Sequential net(nn::make<nn::Linear>(100, 256), nn::make<nn::ConvTranspose2d>(16, 8, 5), inner);
    Rng rng(14);
    nn::dcgan_init(net, rng);
    auto& lin = dynamic_cast<nn::Linear&>(net[0]);
    auto& convt = dynamic_cast<nn::ConvTranspose2d&>(net[1]);
    auto& conv = dynamic_cast<nn::Conv2d&>((*inner)[0]);
    auto& bn = dynamic_cast<nn::BatchNorm&>((*inner)[1]);
    check_normal("Linear(100, 256).weight", lin.weight.value().data, 0.0, 1.0 / std::sqrt(100.0));
    check_normal("ConvTranspose2d(16, 8, 5).weight", convt.weight.value().data, 0.0, 1.0 / std::sqrt(8 * 25.0));
    check_normal("Conv2d(8, 16, 5).weight (inside a child Sequential)", conv.weight.value().data, 0.0, 1.0 / std::sqrt(8 * 25.0));
    check_normal("BatchNorm2d(512).weight = gamma (inside a child Sequential)", bn.weight.value().data, 1.0, 0.0);
    exercise::compare("Linear.bias", lin.bias.value().data, V(256, 0.0f), {256});
    exercise::compare("Conv2d.bias", conv.bias.value().data, V(16, 0.0f), {16});
    exercise::compare("BatchNorm2d.bias = beta", bn.bias.value().data, V(512, 0.0f), {512});
}

TEST_CASE("E14 the DCGAN generator at width 0.25: every layer's output shape, ending at (N, 1, 28, 28) in [-1, 1]") {
    auto G = gan::dcgan_generator(100, 0.25f);  // c1, c2, c3 = 64, 32, 16
    const std::vector<Shape> want = {{4, 3136}, {4, 3136}, {4, 3136}, {4, 64, 7, 7},  // Linear, BN1d, LReLU, Reshape
                                     {4, 32, 7, 7}, {4, 32, 7, 7}, {4, 32, 7, 7},    // ConvT k5 s1 p2: 7 -> 7
                                     {4, 16, 14, 14}, {4, 16, 14, 14}, {4, 16, 14, 14}, // ConvT k5 s2 p2 op1: 7 -> 14
                                     {4, 1, 28, 28}, {4, 1, 28, 28}};                  // ConvT: 14 -> 28, Tanh
    REQUIRE(G->size() == want.size());
    Var h(randn({4, 100}));
    for (size_t i = 0; i < G->size(); ++i) {
        h = (*G)[i](h);
        exercise::expect(h.shape() == want[i], "formato errado depois desta camada (veja docs/models.md)",
                         "wrong shape after this layer (see docs/models.md)",
                         "layer " + std::to_string(i) + " " + (*G)[i].name() + ": got " + shape_str(h.shape()) +
                             ", expected " + shape_str(want[i]));
    }
    float lo = 0, hi = 0;
    for (float v : h.value().data) lo = std::min(lo, v), hi = std::max(hi, v);
    exercise::expect(lo >= -1.0f && hi <= 1.0f, "a saída do gerador deve estar em [-1, 1] (Tanh)",
                     "the generator's output must lie in [-1, 1] (Tanh)");
}

}  // TEST_SUITE
