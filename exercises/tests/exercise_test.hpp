// exercises/tests/exercise_test.hpp - what every exercise test shares: doctest, and failure messages
// that teach (expected, got, where, the likely cause, the command to rerun, the page to read),
// in Brazilian Portuguese, then English.
//
// A test file defines EXERCISE ("E03") and EXERCISE_TEST ("E03_broadcast_backward") and includes
// this. Built alone it has its own main (the one-line g++ of docs/exercises.md); CMake and the CI
// stage build doctest's main once and pass -DEXERCISE_SEPARATE_MAIN, which saves a second a test.
// The oracles (naive loops, finite differences, PyTorch's numbers) live in the test files, never
// in the code a student writes.
#pragma once

#ifndef EXERCISE_SEPARATE_MAIN
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#endif
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <minigan/core.hpp>
#include <minigan/exercise.hpp>

namespace exercise {

inline std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The last lines of every failure: how to rerun just this exercise, and where to read.
inline std::string footer() {
    const std::string id = EXERCISE, test = EXERCISE_TEST;
    return "  rode só este / rerun just this one: ctest --test-dir build -L exercises -R " + id +
           " --output-on-failure   (ou/or: ./build/exercises/" + test + ")\n"
           "  leia / read: docs/pt-BR/exercises.md#" + lower(id) + "  |  docs/exercises.md#" + lower(id) + "\n";
}

// A likely cause, in both languages, and when it applies (got, expected -> true).
struct Cause {
    std::string pt, en;
    std::function<bool(const std::vector<float>& got, const std::vector<float>& want)> applies;
};

inline bool all_close(const std::vector<float>& a, const std::vector<float>& b, double rtol, double atol) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!(std::fabs(double(a[i]) - b[i]) <= atol + rtol * std::fabs(double(b[i])))) return false;
    return true;
}

// got == factor * want everywhere (within 1e-4 relative): a missing or extra factor.
inline bool scaled(const std::vector<float>& got, const std::vector<float>& want, double factor) {
    std::vector<float> s(want);
    for (float& v : s) v = static_cast<float>(v * factor);
    bool any = false;
    for (float v : want) any = any || v != 0.0f;
    return any && all_close(got, s, 1e-4, 1e-6);
}

// The causes every comparison tries, after the specific ones a test passes.
inline std::vector<Cause> generic_causes() {
    return {
        {"aparece NaN ou infinito: uma conta estourou (exp de um número grande? divisão por zero?)",
         "NaN or infinity: something overflowed (exp of a large number? a division by zero?)",
         [](auto& g, auto&) { for (float v : g) if (!std::isfinite(v)) return true; return false; }},
        {"tudo zero: nada foi somado ao gradiente (esqueceu o += ? retornou antes de somar?)",
         "all zero: nothing reached the gradient (a missing += ? returned early?)",
         [](auto& g, auto& w) { bool z = true, wz = true; for (float v : g) z = z && v == 0.0f; for (float v : w) wz = wz && v == 0.0f; return z && !wz; }},
        {"exatamente 2x o esperado: acumulou duas vezes?", "exactly 2x the expected value: accumulated twice?",
         [](auto& g, auto& w) { return scaled(g, w, 2.0); }},
        {"exatamente a metade: uma das duas contribuições sumiu (= no lugar de += ?)",
         "exactly half: one of two contributions is missing (= instead of += ?)",
         [](auto& g, auto& w) { return scaled(g, w, 0.5); }},
        {"o sinal está trocado", "the sign is flipped", [](auto& g, auto& w) { return scaled(g, w, -1.0); }},
    };
}

inline std::string shape_of(const std::vector<int>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

// "[1, 0, 2]" for flat index i of a tensor of that shape.
inline std::string index_of(size_t i, const std::vector<int>& shape) {
    if (shape.empty()) return "[" + std::to_string(i) + "]";
    std::vector<size_t> idx(shape.size());
    for (size_t d = shape.size(); d-- > 0;) {
        idx[d] = i % static_cast<size_t>(shape[d]);
        i /= static_cast<size_t>(shape[d]);
    }
    std::string s = "[";
    for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
    return s + "]";
}

inline std::string num(double v) {
    std::ostringstream o;
    o.precision(7);
    o << v;
    return o.str();
}

// Compare `got` with the oracle `want`; on a mismatch one FAIL_CHECK with the whole lesson.
// Returns whether they matched.
inline bool compare(const std::string& what, const std::vector<float>& got, const std::vector<float>& want,
                    const std::vector<int>& shape, std::vector<Cause> causes = {}, double rtol = 1e-4,
                    double atol = 1e-5) {
    std::string msg;
    if (got.size() != want.size()) {
        msg = EXERCISE " " + what + ": " + std::to_string(got.size()) + " números, esperado " + std::to_string(want.size()) +
              " (shape " + shape_of(shape) + ") / " + std::to_string(got.size()) + " numbers, expected " +
              std::to_string(want.size()) + "\n" + footer();
        FAIL_CHECK(msg);
        return false;
    }
    if (all_close(got, want, rtol, atol)) {
        CHECK_MESSAGE(true, what);  // counted (and shown by -s) as one passing check
        return true;
    }
    size_t worst = 0;
    double worst_err = -1;
    for (size_t i = 0; i < got.size(); ++i) {
        double e = std::fabs(double(got[i]) - want[i]) / (atol + rtol * std::fabs(double(want[i])));
        if (!(e <= worst_err)) { worst_err = e; worst = i; }  // NaN counts as the worst
    }
    size_t wrong = 0;
    for (size_t i = 0; i < got.size(); ++i)
        if (!(std::fabs(double(got[i]) - want[i]) <= atol + rtol * std::fabs(double(want[i])))) ++wrong;
    msg = EXERCISE " " + what + ": errado / wrong (" + std::to_string(wrong) + " de/of " + std::to_string(got.size()) +
          " números, shape " + shape_of(shape) + ")\n"
          "  onde / where:        " + what + index_of(worst, shape) + "\n"
          "  esperado / expected: " + num(want[worst]) + "\n"
          "  obtido / got:        " + num(got[worst]) + "\n";
    for (auto& c : generic_causes()) causes.push_back(c);
    bool named = false;
    for (auto& c : causes)
        if (c.applies(got, want)) {
            msg += "  causa provável: " + c.pt + "\n  likely cause:   " + c.en + "\n";
            named = true;
            break;
        }
    if (!named) msg += "  (compare com a fórmula no comentário acima do código / compare with the formula in the comment above the code)\n";
    msg += footer();
    FAIL_CHECK(msg);
    return false;
}

// A single number (loss, AUROC...).
inline bool compare(const std::string& what, double got, double want, std::vector<Cause> causes = {},
                    double rtol = 1e-4, double atol = 1e-6) {
    return compare(what, std::vector<float>{static_cast<float>(got)}, std::vector<float>{static_cast<float>(want)},
                   std::vector<int>{}, std::move(causes), rtol, atol);
}

// A check with a lesson: FAIL_CHECK(lesson) unless ok.
inline bool expect(bool ok, const std::string& pt, const std::string& en, const std::string& detail = "") {
    if (ok) CHECK_MESSAGE(true, en);
    if (!ok) {
        const std::string msg = std::string(EXERCISE) + ": " + detail + "\n  pt-BR: " + pt + "\n  en:    " + en + "\n" + footer();
        FAIL_CHECK(msg);
    }
    return ok;
}

// Fixed pseudo-random numbers in [lo, hi) (no dependence on the library's generator).
inline std::vector<float> numbers(size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    unsigned s = seed * 2654435761u + 12345u;
    for (float& x : v) {
        s = s * 1664525u + 1013904223u;
        x = lo + (hi - lo) * static_cast<float>((s >> 8) & 0xFFFFFF) / 16777216.0f;
    }
    return v;
}

inline minigan::Var leaf(std::vector<int> shape, std::vector<float> values, bool grad = true) {
    return minigan::Var(minigan::Tensor(minigan::Shape(shape.begin(), shape.end()), std::move(values)), grad);
}

// Central difference of a scalar function f at x, component by component:
//   df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)      (error O(h^2))
inline std::vector<float> central_difference(const std::function<double(const std::vector<float>&)>& f,
                                             std::vector<float> x, float h = 1e-2f) {
    std::vector<float> d(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const float xi = x[i];
        x[i] = xi + h;
        const float up = x[i];
        const double fp = f(x);
        x[i] = xi - h;
        const float down = x[i];
        const double fm = f(x);
        x[i] = xi;
        d[i] = static_cast<float>((fp - fm) / (double(up) - down));
    }
    return d;
}

inline std::vector<int> shape_vec(const minigan::Shape& s) { return std::vector<int>(s.begin(), s.end()); }

}  // namespace exercise
