// test_autograd.cpp - the engine: accumulation, leaves vs intermediates, NoGrad, detach,
// backward()'s errors, and graphs far deeper than the call stack.
// Run one case: ./test_autograd -tc="*detach*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/core.hpp>

#include "gradcheck.hpp"

using namespace minigan;
using gradcheck_util::contains;
using gradcheck_util::thrown_message;

TEST_CASE("a value used twice gets both contributions: d(x*x)/dx = 2x") {
    Var x(Tensor({3}, std::vector<float>{1.0f, -2.0f, 0.5f}), true);
    Var y = sum(x * x);
    CHECK(y.item() == 5.25f);  // 1 + 4 + 0.25
    y.backward();
    CHECK(x.grad().data == std::vector<float>{2.0f, -4.0f, 1.0f});  // 2x
}

TEST_CASE("a diamond graph: y = (2x) * (3x), dy/dx = 12x") {
    Var x(Tensor({2}, std::vector<float>{1.0f, -0.5f}), true);
    Var a = x * 2.0f, b = x * 3.0f;
    Var y = sum(a * b);  // 6 x^2 = 6 + 1.5
    CHECK(y.item() == 7.5f);
    y.backward();
    CHECK(x.grad().data == std::vector<float>{12.0f, -6.0f});
}

TEST_CASE("backward accumulates into leaves across calls until the gradient is zeroed") {
    Var x(Tensor({2}, std::vector<float>{1.0f, 2.0f}), true);
    Var y = sum(x * 3.0f);
    y.backward();
    CHECK(x.grad().data == std::vector<float>{3.0f, 3.0f});
    y.backward();  // a second call adds: the optimizer's zero_grad() is what resets
    CHECK(x.grad().data == std::vector<float>{6.0f, 6.0f});
    x.grad().fill(0.0f);
    y.backward();
    CHECK(x.grad().data == std::vector<float>{3.0f, 3.0f});
}

TEST_CASE("gradients of intermediate values restart from zero on every backward") {
    Var x(Tensor({2}, std::vector<float>{1.0f, 2.0f}), true);
    Var h = x * 2.0f;     // intermediate
    Var y = sum(h * h);   // dy/dh = 2h = (4, 8)
    y.backward();
    CHECK(h.grad().data == std::vector<float>{4.0f, 8.0f});
    y.backward();
    CHECK(h.grad().data == std::vector<float>{4.0f, 8.0f});      // reset, not doubled
    CHECK(x.grad().data == std::vector<float>{16.0f, 32.0f});    // leaf: 2 * (2 * 2h)
}

TEST_CASE("backward with a grad_output seeds the chain rule") {
    Var x(Tensor({2, 2}, std::vector<float>{1, 2, 3, 4}), true);
    Var y = x * 3.0f;
    y.backward(Tensor({2, 2}, std::vector<float>{1, 0, -1, 2}));
    CHECK(x.grad().data == std::vector<float>{3, 0, -3, 6});
}

TEST_CASE("backward on a leaf that requires grad adds grad_output to it") {
    Var x(Tensor({2}, std::vector<float>{1, 2}), true);
    x.backward(Tensor({2}, std::vector<float>{5, 6}));
    CHECK(x.grad().data == std::vector<float>{5, 6});
}

TEST_CASE("NoGrad builds no graph and restores the previous mode") {
    Var x(Tensor({2}, 1.0f), true);
    {
        NoGrad no_grad;
        CHECK_FALSE(grad_mode_enabled());
        Var y = x * x;
        CHECK_FALSE(y.requires_grad());
        CHECK(y.node()->parents.empty());    // nothing kept for backward
        CHECK_FALSE(y.node()->backward_fn);
        CHECK(y.value()[0] == 1.0f);         // the value is still computed
        {
            NoGrad nested;
        }
        CHECK_FALSE(grad_mode_enabled());    // the inner scope restores "off", not "on"
        CHECK_THROWS_AS(sum(y).backward(), std::logic_error);
    }
    CHECK(grad_mode_enabled());
    Var z = x * x;
    CHECK(z.requires_grad());
    CHECK(z.node()->parents.size() == 2);
}

TEST_CASE("results of ops on values that need no gradient need none either") {
    Var a(Tensor({2}, 1.0f)), b(Tensor({2}, 2.0f));
    Var c = a * b;
    CHECK_FALSE(c.requires_grad());
    CHECK(c.node()->parents.empty());
    Var w(Tensor({2}, 3.0f), true);
    CHECK((c * w).requires_grad());
}

TEST_CASE("detach stops gradients: only the undetached path contributes") {
    Var x(Tensor({2}, std::vector<float>{1.0f, -3.0f}), true);
    Var y = x * 2.0f;
    Var d = y.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.node() != y.node());
    CHECK(d.value().data == y.value().data);
    Var loss = sum(d * x);  // d/dx = d = 2x (treated as a constant), not 4x
    loss.backward();
    CHECK(x.grad().data == std::vector<float>{2.0f, -6.0f});
    // A graph that only reaches x through detach() has nothing to differentiate.
    CHECK_THROWS_AS(sum(d * d).backward(), std::logic_error);
}

TEST_CASE("a leaf with requires_grad off gets no gradient, the others still do") {
    Var x(Tensor({2}, 1.0f), true), w(Tensor({2}, 2.0f), true);
    w.set_requires_grad(false);
    sum(x * w).backward();
    CHECK(x.grad().data == std::vector<float>{2.0f, 2.0f});
    CHECK(w.node()->grad.numel() == 0);  // never allocated: its work was skipped
}

TEST_CASE("backward() on a non-scalar without a gradient explains what to do") {
    Var x(Tensor({2, 3}, 1.0f), true);
    Var y = x * 2.0f;
    std::string msg = thrown_message<std::invalid_argument>([&] { y.backward(); });
    CHECK(msg == "backward() without a gradient needs a scalar, got shape (2, 3); pass grad_output for a non-scalar");
}

TEST_CASE("backward() on a value that does not require grad throws") {
    Var x(Tensor({}, 1.0f));  // requires_grad false
    Var y = x * 2.0f;
    CHECK(contains(thrown_message<std::logic_error>([&] { y.backward(); }), "does not require grad"));
}

TEST_CASE("backward() with a grad_output of the wrong shape names both shapes") {
    Var x(Tensor({2, 3}, 1.0f), true);
    Var y = x * 2.0f;
    std::string msg = thrown_message<std::invalid_argument>([&] { y.backward(Tensor({3, 2})); });
    CHECK(msg == "backward(): gradient of shape (3, 2) for a value of shape (2, 3)");
}

TEST_CASE("an undefined Var throws instead of crashing") {
    Var v;
    CHECK_FALSE(v.defined());
    CHECK_THROWS_AS(v.shape(), std::logic_error);
    CHECK_THROWS_AS(v.backward(), std::logic_error);
}

TEST_CASE("a chain of 100000 ops: backward and freeing the graph do not overflow the stack") {
    Var x(Tensor({1}, 2.0f), true);
    {
        Var h = x;
        for (int i = 0; i < 100000; ++i) h = (i % 2 == 0) ? h * 1.5f : h * (1.0f / 1.5f);  // net factor 1
        Var y = sum(h);
        CHECK(y.item() == doctest::Approx(2.0f).epsilon(1e-3));
        y.backward();                         // topological order by an explicit stack
        CHECK(x.grad()[0] == doctest::Approx(1.0f).epsilon(1e-3));
    }                                         // 100000 nodes freed here, without recursion
    CHECK(x.grad()[0] == doctest::Approx(1.0f).epsilon(1e-3));
}
