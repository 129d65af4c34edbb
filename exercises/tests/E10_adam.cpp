// E10 - Adam against PyTorch's steps (include/minigan/optim.hpp: Adam::step).
//   t += 1;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// Oracles: torch.optim.Adam's parameters after each of 5 steps (tests/data/vectors.json, written by
// tests/make_vectors.py), and the first step by hand (it moves every parameter by about lr).
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E10_adam.cpp -lopenblas -lz -o e10
#define EXERCISE "E10"
#define EXERCISE_TEST "E10_adam"
#include "exercise_test.hpp"

#include <fstream>
#include <sstream>

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

enum class Mistake { none, no_bias_correction, eps_inside_sqrt };

// Adam in double precision, with one of the classic mistakes on demand (to name it).
static std::vector<V> simulate(V p, const std::vector<V>& grads, double lr, double b1, double b2, double eps, Mistake mk) {
    std::vector<double> m(p.size(), 0.0), v(p.size(), 0.0);
    std::vector<V> after;
    for (size_t t = 1; t <= grads.size(); ++t) {
        const double bc1 = mk == Mistake::no_bias_correction ? 1.0 : 1.0 - std::pow(b1, double(t));
        const double bc2 = mk == Mistake::no_bias_correction ? 1.0 : 1.0 - std::pow(b2, double(t));
        for (size_t i = 0; i < p.size(); ++i) {
            const double g = grads[t - 1][i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            const double denom = mk == Mistake::eps_inside_sqrt ? std::sqrt(v[i] / bc2 + eps) : std::sqrt(v[i] / bc2) + eps;
            p[i] = static_cast<float>(p[i] - lr * (m[i] / bc1) / denom);
        }
        after.push_back(p);
    }
    return after;
}

// The adam cases of vectors.json, read with a few string searches (the file's schema is fixed, see
// tests/data/vectors-README.md); a full JSON parser would double this test's build time.
struct AdamCase {
    std::string name;
    float lr, b1, b2, eps;
    V param;
    std::vector<V> grads, after;
};
static V numbers_after(const std::string& s, size_t& pos) {  // the next "data": [ ... ] from pos
    pos = s.find("\"data\"", pos);
    const size_t open = s.find('[', pos), close = s.find(']', open);
    std::istringstream in(s.substr(open + 1, close - open - 1));
    V v;
    for (std::string tok; std::getline(in, tok, ',');) v.push_back(std::stof(tok));
    pos = close;
    return v;
}
static float attr(const std::string& s, size_t from, const std::string& key) {
    return std::stof(s.substr(s.find("\"" + key + "\":", from) + key.size() + 3));
}
static std::vector<AdamCase> load_adam_cases() {
    const char* dir = std::getenv("MINIGAN_TEST_DATA");
    const std::string path = std::string(dir ? dir : "tests/data") + "/vectors.json";
    std::ifstream f(path);
    REQUIRE_MESSAGE(f.good(), "E10: cannot open " << path << " (run from the repository root, or set MINIGAN_TEST_DATA)");
    std::stringstream buf;
    buf << f.rdbuf();
    const std::string s = buf.str();
    std::vector<AdamCase> cases;
    for (size_t at = s.find("\"op\": \"adam\""); at != std::string::npos; at = s.find("\"op\": \"adam\"", at + 1)) {
        AdamCase c;
        const size_t name = s.rfind("\"name\": \"", at) + 9;
        c.name = s.substr(name, s.find('"', name) - name);
        c.lr = attr(s, at, "lr"), c.b1 = attr(s, at, "beta1"), c.b2 = attr(s, at, "beta2"), c.eps = attr(s, at, "eps");
        const int steps = static_cast<int>(attr(s, at, "steps"));
        size_t pos = s.find("\"param\"", at);
        c.param = numbers_after(s, pos);
        pos = s.find("\"grad_sequence\"", at);
        for (int t = 0; t < steps; ++t) c.grads.push_back(numbers_after(s, pos));
        pos = s.find("\"param_after\"", at);
        for (int t = 0; t < steps; ++t) c.after.push_back(numbers_after(s, pos));
        cases.push_back(c);
    }
    return cases;
}

static Cause like(const char* pt, const char* en, V mistaken) {
    return {pt, en, [mistaken](const V& g, const V&) { return exercise::all_close(g, mistaken, 2e-5, 1e-7); }};
}

static const char* kBiasPt = "falta a correção de viés: m e v começam em zero, então divida m por (1 - b1^t) e v por (1 - b2^t)";
static const char* kBiasEn = "bias correction missing: m and v start at zero, so divide m by (1 - b1^t) and v by (1 - b2^t)";

TEST_SUITE("E10 Adam") {

TEST_CASE("E10 the first step moves every parameter by about lr, whatever the gradient's size") {
    // t = 1: m / (1 - b1) = g and v / (1 - b2) = g^2, so the step is lr * g / (|g| + eps) ~ lr * sign(g)
    Var p(zeros({5}), true);
    optim::Adam adam({p}, 0.01f, 0.9f, 0.999f, 1e-8f);
    p.grad() = Tensor({5}, V{1e-3f, -0.5f, 2.0f, -30.0f, 100.0f});
    adam.step();
    const V want = {-0.01f, 0.01f, -0.01f, 0.01f, -0.01f};
    V no_bc;
    for (float g : V{1e-3f, -0.5f, 2.0f, -30.0f, 100.0f})
        no_bc.push_back(static_cast<float>(-0.01 * 0.1 * g / (std::sqrt(0.001 * g * g) + 1e-8)));
    exercise::compare("p after step 1", p.value().data, want, {5},
                      {like("o primeiro passo não é lr (é ~3,16 lr): falta a correção de viés? m e v começam em zero, "
                            "divida m por (1 - b1^t) e v por (1 - b2^t)",
                            "the first step is not lr (it is ~3.16 lr): bias correction missing? m and v start at zero, "
                            "divide m by (1 - b1^t) and v by (1 - b2^t)", no_bc)},
                      1e-4, 1e-7);
}

TEST_CASE("E10 five steps against torch.optim.Adam (tests/data/vectors.json)") {
    int cases = 0;
    for (const AdamCase& c : load_adam_cases()) {
        ++cases;
        const V& p0 = c.param;
        const auto no_bc = simulate(p0, c.grads, c.lr, c.b1, c.b2, c.eps, Mistake::no_bias_correction);
        const auto eps_in = simulate(p0, c.grads, c.lr, c.b1, c.b2, c.eps, Mistake::eps_inside_sqrt);
        Var p(Tensor({static_cast<int>(p0.size())}, p0), true);
        optim::Adam adam({p}, c.lr, c.b1, c.b2, c.eps);
        INFO("case " << c.name << ": lr " << c.lr << ", betas (" << c.b1 << ", " << c.b2 << "), eps " << c.eps);
        for (size_t t = 0; t < c.grads.size(); ++t) {
            p.grad() = Tensor({static_cast<int>(p0.size())}, c.grads[t]);
            adam.step();
            const bool ok = exercise::compare(
                c.name + ": p after step " + std::to_string(t + 1), p.value().data, c.after[t], {static_cast<int>(p0.size())},
                {like(kBiasPt, kBiasEn, no_bc[t]),
                 like("eps entrou na raiz: o PyTorch soma o eps DEPOIS, sqrt(v / (1 - b2^t)) + eps (isso faz diferença com gradientes minúsculos)",
                      "eps went inside the square root: PyTorch adds it AFTER, sqrt(v / (1 - b2^t)) + eps (it matters for tiny gradients)",
                      eps_in[t]),
                 {"NaN: raiz de um número negativo? v acumula g^2 (sempre >= 0), não g",
                  "NaN: the square root of a negative number? v accumulates g^2 (never negative), not g",
                  [](const V& g, const V&) { for (float x : g) if (std::isnan(x)) return true; return false; }}},
                1e-5, 1e-7);
            if (!ok) break;  // one message per case: the first step that goes wrong
        }
    }
    CHECK(cases >= 3);
}

}  // TEST_SUITE
