// E02 - backward: mul's backward (a value used twice gets two contributions), the topological
// order, and the walk of Var::backward (include/minigan/ops.hpp, include/minigan/autograd.hpp).
// Oracles: the derivative by hand (2x + 1), central differences, the graph's own parent lists.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E02_backward_accumulation.cpp -lopenblas -lz -o e02
#define EXERCISE "E02"
#define EXERCISE_TEST "E02_backward_accumulation"
#include "exercise_test.hpp"

#include <algorithm>
#include <map>

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static Cause when(const char* pt, const char* en, V expected) {
    return {pt, en, [expected](const V& g, const V&) { return exercise::all_close(g, expected, 1e-4, 1e-6); }};
}

TEST_SUITE("E02 backward") {

TEST_CASE("E02 y = x*x + x: dy/dx = 2x + 1 (x is used three times)") {
    const V x0 = {-1.5f, 0.5f, 2.0f, 3.0f};
    Var x = exercise::leaf({4}, x0);
    Var y = sum(x * x + x);
    y.backward();
    V want, x_alone, x_plus_1, two_x, one;
    for (float v : x0) {
        want.push_back(2 * v + 1);
        x_alone.push_back(v);
        x_plus_1.push_back(v + 1);
        two_x.push_back(2 * v);
        one.push_back(1);
    }
    exercise::compare("dx", x.grad().data, want, {4},
                      {when("x*x deu só uma contribuição (x + 1 no lugar de 2x + 1): em mul, a e b são o mesmo x; "
                            "a segunda soma deve usar +=, não =",
                            "x*x gave only one contribution (x + 1 instead of 2x + 1): in mul, a and b are the same x; "
                            "the second update must use +=, not =", x_plus_1),
                       when("só x chegou (no lugar de 2x + 1): o backward de mul usou = e apagou o que já estava em x.grad; "
                            "a segunda soma deve usar +=, não =",
                            "only x arrived (instead of 2x + 1): mul's backward used = and erased what x.grad held; "
                            "the second update must use +=, not =", x_alone),
                       when("só o ramo + x chegou: o backward de mul não somou nada", "only the + x branch arrived: mul's backward added nothing", one),
                       when("o ramo + x se perdeu: a soma (add) foi sobrescrita", "the + x branch was lost: add's contribution was overwritten", two_x)});
}

TEST_CASE("E02 topological_order: every node once, after its parents") {
    Var a = exercise::leaf({3}, {1, 2, 3});
    Var b = a * a, c = b + a, d = c * b, root = sum(d);
    std::vector<Node*> order = topological_order(root.node());
    std::map<Node*, size_t> position;
    for (size_t i = 0; i < order.size(); ++i) {
        exercise::expect(!position.count(order[i]), "um nó aparece duas vezes na ordem: falta marcar os visitados (visited)",
                         "a node appears twice in the order: mark visited nodes", "duplicate node at position " + std::to_string(i));
        position[order[i]] = i;
    }
    exercise::expect(order.size() == 5, "a ordem deve ter os 5 nós a, b, c, d, root (os que exigem gradiente)",
                     "the order must hold the 5 nodes a, b, c, d, root (those that require grad)",
                     "got " + std::to_string(order.size()) + " nodes");
    exercise::expect(!order.empty() && order.back() == root.node(), "a raiz (a saída) deve vir por último",
                     "the root (the output) must come last");
    for (Node* n : order)
        for (auto& p : n->parents)
            if (position.count(p.get()))
                exercise::expect(position[p.get()] < position[n],
                                 "um nó veio antes de um dos seus pais: cada nó só entra na ordem depois de todos os pais",
                                 "a node came before one of its parents: a node enters the order only after all its parents");
}

TEST_CASE("E02 a diamond: d = (a*a + a) * (a*a), every path back to a adds up") {
    const V a0 = {0.5f, -1.0f, 1.5f};
    Var a = exercise::leaf({3}, a0);
    Var b = a * a, c = b + a, d = c * b;
    sum(d).backward();
    // d = a^4 + a^3 -> dd/da = 4a^3 + 3a^2
    V want;
    for (float v : a0) want.push_back(4 * v * v * v + 3 * v * v);
    exercise::compare("da", a.grad().data, want, {3},
                      {{"tudo zero: o percurso seguiu a ordem errada; percorra a ordem topológica de trás para frente "
                        "(da saída às entradas), para que cada nó tenha recebido tudo antes de repassar",
                        "all zero: the walk ran in the wrong order; walk the topological order from the back "
                        "(output to inputs), so each node has received everything before it passes it on",
                        [](const V& g, const V&) { for (float v : g) if (v != 0.0f) return false; return true; }}});
}

TEST_CASE("E02 backward twice: leaves accumulate, intermediate nodes start at zero") {
    Var x = exercise::leaf({2}, {1.0f, -2.0f});
    Var h = x * x;          // an intermediate node
    Var L = sum(h);
    L.backward();
    L.backward();            // leaves keep adding until zero_grad(), as in PyTorch
    exercise::compare("h.grad (intermediate node, after the second backward)", h.grad().data, {1.0f, 1.0f}, {2},
                      {{"o nó intermediário guardou o gradiente da chamada anterior: zere os gradientes dos nós "
                        "que não são folhas no início de cada backward",
                        "the intermediate node kept the previous call's gradient: zero the grads of non-leaf "
                        "nodes at the start of every backward",
                        [](const V& g, const V&) { return g.size() == 2 && g[0] > 1.5f && g[1] > 1.5f; }}});
    exercise::compare("x.grad (a leaf, after two backward calls)", x.grad().data, {4.0f, -8.0f}, {2});  // 2 * 2x
}

}  // TEST_SUITE
