// E12 - the bilinear game V(a, b) = a b (exercises/lab/bilinear_game.hpp): a minimises, b maximises.
//   simultaneous: a' = a - lr b,  b' = b + lr a     -> the radius grows by sqrt(1 + lr^2) a step: spiral out
//   alternating:  a' = a - lr b,  b' = b + lr a'    -> det 1, trace 2 - lr^2: a bounded orbit
// Oracles: the first step by hand, the exact growth of the radius, a bound on the orbit.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E12_bilinear_game.cpp -lopenblas -lz -o e12
#define EXERCISE "E12"
#define EXERCISE_TEST "E12_bilinear_game"
#include "exercise_test.hpp"

#include "../lab/bilinear_game.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static Cause at_point(const char* pt, const char* en, float a, float b) {
    return {pt, en, [a, b](const V& g, const V&) { return exercise::all_close(g, {a, b}, 1e-5, 1e-6); }};
}
// From (1, 0.5) with lr 0.1, the mistakes land here after one step:
static std::vector<Cause> step_causes() {
    return {at_point("b usou o a antigo: nos passos alternados b responde ao a que acabou de mover (b += lr * a novo)",
                     "b used the old a: in alternating steps b answers the a that has just moved (b += lr * new a)", 0.95f, 0.6f),
            at_point("b usou o a novo: nos passos simultâneos os dois partem do mesmo ponto (guarde o a antigo)",
                     "b used the new a: in simultaneous steps both start from the same point (keep the old a)", 0.95f, 0.595f),
            {"a subiu o gradiente: a minimiza V, então a -= lr * dV/da = lr * b",
             "a climbed the gradient: a minimises V, so a -= lr * dV/da = lr * b",
             [](const V& g, const V&) { return std::fabs(g[0] - 1.05f) < 1e-5f; }},
            {"b desceu o gradiente: b maximiza V, então b += lr * dV/db = lr * a",
             "b went down the gradient: b maximises V, so b += lr * dV/db = lr * a",
             [](const V& g, const V&) { return g[1] < 0.5f; }}};
}

TEST_SUITE("E12 bilinear game") {

TEST_CASE("E12 simultaneous: one step by hand, then the radius grows by sqrt(1 + lr^2) every step") {
    float a = 1.0f, b = 0.5f;
    lab::simultaneous_step(a, b, 0.1f);
    // a' = 1 - 0.1 * 0.5 = 0.95;  b' = 0.5 + 0.1 * 1 = 0.6
    if (!exercise::compare("(a, b) after one simultaneous step", V{a, b}, {0.95f, 0.6f}, {2}, step_causes())) return;
    for (int t = 1; t < 200; ++t) lab::simultaneous_step(a, b, 0.1f);
    const double r = std::hypot(a, b), want = std::hypot(1.0, 0.5) * std::pow(1.01, 100.0);  // (1 + lr^2)^(200/2)
    exercise::compare("radius after 200 simultaneous steps (they spiral out)", r, want, {}, 1e-3);
}

TEST_CASE("E12 alternating: one step by hand, then the orbit stays bounded for 10,000 steps") {
    float a = 1.0f, b = 0.5f;
    lab::alternating_step(a, b, 0.1f);
    // a' = 0.95;  b' = 0.5 + 0.1 * 0.95 = 0.595
    if (!exercise::compare("(a, b) after one alternating step", V{a, b}, {0.95f, 0.595f}, {2}, step_causes())) return;
    double r_max = 0;
    for (int t = 1; t < 10000; ++t) {
        lab::alternating_step(a, b, 0.1f);
        r_max = std::max(r_max, double(std::hypot(a, b)));
    }
    exercise::expect(r_max < 2.0, "os passos alternados devem ficar numa órbita limitada (raio < 2): "
                                  "o b usou o a antigo e o jogo virou simultâneo?",
                     "alternating steps must stay on a bounded orbit (radius < 2): did b use the old a, making the game simultaneous?",
                     "max radius " + exercise::num(r_max));
}

}  // TEST_SUITE
