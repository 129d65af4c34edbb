// ops.hpp - differentiable arithmetic, matmul, reductions and reshapes on Vars.
//
// Read autograd.hpp first. Each op computes its value, then hands make_result() a backward
// function right below it: forward and backward side by side. Gradients are added with +=
// because a value used twice (x * x, a skip connection) receives one contribution per use.
// Activation functions are in activations.hpp, losses in loss.hpp.
#pragma once

#include "autograd.hpp"
#include "blas.hpp"

namespace minigan {

inline void check_same_shape(const char* op, const Var& a, const Var& b) {
    if (a.shape() != b.shape())
        throw std::invalid_argument(std::string(op) + ": shape mismatch " + shape_str(a.shape()) +
                                    " vs " + shape_str(b.shape()));
}

// ---- elementwise: a + b, a - b, a * b (same shapes) ------------------------------------

inline Var add(const Var& a, const Var& b) {
    check_same_shape("add", a, b);
    Tensor y = a.value();
    for (size_t i = 0; i < y.numel(); ++i) y[i] += b.value()[i];
    return make_result(std::move(y), {a, b}, [](Node& out) {
        // y = a + b: dy/da = 1, dy/db = 1
        for (size_t p = 0; p < 2; ++p)
            if (Tensor* dx = parent_grad(out, p))
                for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i];
    });
}

inline Var sub(const Var& a, const Var& b) {
    check_same_shape("sub", a, b);
    Tensor y = a.value();
    for (size_t i = 0; i < y.numel(); ++i) y[i] -= b.value()[i];
    return make_result(std::move(y), {a, b}, [](Node& out) {
        // y = a - b: dy/da = 1, dy/db = -1
        if (Tensor* da = parent_grad(out, 0))
            for (size_t i = 0; i < da->numel(); ++i) (*da)[i] += out.grad[i];
        if (Tensor* db = parent_grad(out, 1))
            for (size_t i = 0; i < db->numel(); ++i) (*db)[i] -= out.grad[i];
    });
}

inline Var mul(const Var& a, const Var& b) {
    check_same_shape("mul", a, b);
    Tensor y = a.value();
    for (size_t i = 0; i < y.numel(); ++i) y[i] *= b.value()[i];
    return make_result(std::move(y), {a, b}, [](Node& out) {
        // EXERCISE E02 begin
        // y = a * b: dy/da = b, dy/db = a
        const Tensor& a = out.parents[0]->value;
        const Tensor& b = out.parents[1]->value;
        if (Tensor* da = parent_grad(out, 0))
            for (size_t i = 0; i < da->numel(); ++i) (*da)[i] += out.grad[i] * b[i];
        if (Tensor* db = parent_grad(out, 1))
            for (size_t i = 0; i < db->numel(); ++i) (*db)[i] += out.grad[i] * a[i];
        // EXERCISE E02 end
    });
}

// y = scale * x + shift, with plain numbers scale and shift (x * 2, x + 1, -x, 1 - x).
inline Var affine(const Var& x, float scale, float shift) {
    Tensor y = x.value();
    for (float& v : y.data) v = scale * v + shift;
    return make_result(std::move(y), {x}, [scale](Node& out) {
        if (Tensor* dx = parent_grad(out, 0))  // dy/dx = scale
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += scale * out.grad[i];
    });
}

inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
inline Var operator*(const Var& a, const Var& b) { return mul(a, b); }
inline Var operator+(const Var& x, float c) { return affine(x, 1.0f, c); }
inline Var operator+(float c, const Var& x) { return affine(x, 1.0f, c); }
inline Var operator-(const Var& x, float c) { return affine(x, 1.0f, -c); }
inline Var operator-(float c, const Var& x) { return affine(x, -1.0f, c); }
inline Var operator*(const Var& x, float c) { return affine(x, c, 0.0f); }
inline Var operator*(float c, const Var& x) { return affine(x, c, 0.0f); }
inline Var operator-(const Var& x) { return affine(x, -1.0f, 0.0f); }

// |x|, used by AnoGAN's L1 residual. d|x|/dx = sign(x) (0 at x = 0, as PyTorch).
inline Var abs(const Var& x) {
    Tensor y = x.value();
    for (float& v : y.data) v = std::fabs(v);
    return make_result(std::move(y), {x}, [](Node& out) {
        const Tensor& x = out.parents[0]->value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i)
                (*dx)[i] += out.grad[i] * static_cast<float>((x[i] > 0.0f) - (x[i] < 0.0f));
    });
}

// x^2, elementwise (for squared errors). d(x^2)/dx = 2x.
inline Var square(const Var& x) {
    Tensor y = x.value();
    for (float& v : y.data) v = v * v;
    return make_result(std::move(y), {x}, [](Node& out) {
        const Tensor& x = out.parents[0]->value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += 2.0f * x[i] * out.grad[i];
    });
}

// ---- matmul: (M, K) x (K, N) -> (M, N) -----------------------------------------------

inline Var matmul(const Var& a, const Var& b) {
    // a: (M, K), b: (K, N)
    if (a.value().dim() != 2 || b.value().dim() != 2 || a.shape()[1] != b.shape()[0])
        throw std::invalid_argument("matmul: cannot multiply " + shape_str(a.shape()) + " by " +
                                    shape_str(b.shape()) + " (need (M, K) x (K, N))");
    int M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
    Tensor y({M, N});
    gemm(false, false, M, N, K, 1.0f, a.value().ptr(), K, b.value().ptr(), N, 0.0f, y.ptr(), N);
    return make_result(std::move(y), {a, b}, [M, N, K](Node& out) {
        const Tensor& a = out.parents[0]->value;
        const Tensor& b = out.parents[1]->value;
        // da = dy * b^T: (M, N) x (N, K);  db = a^T * dy: (K, M) x (M, N)
        if (Tensor* da = parent_grad(out, 0))
            gemm(false, true, M, K, N, 1.0f, out.grad.ptr(), N, b.ptr(), N, 1.0f, da->ptr(), K);
        if (Tensor* db = parent_grad(out, 1))
            gemm(true, false, K, N, M, 1.0f, a.ptr(), K, out.grad.ptr(), N, 1.0f, db->ptr(), N);
    });
}

// ---- reductions ------------------------------------------------------------------------

// Sum of all elements -> a scalar of shape (). Its gradient is 1 for every element.
inline Var sum(const Var& x) {
    double acc = 0.0;
    for (float v : x.value().data) acc += v;
    return make_result(Tensor({}, static_cast<float>(acc)), {x}, [](Node& out) {
        if (Tensor* dx = parent_grad(out, 0))
            for (float& g : dx->data) g += out.grad[0];
    });
}

inline Var mean(const Var& x) {
    if (x.numel() == 0) throw std::invalid_argument("mean of an empty tensor");
    return sum(x) * (1.0f / static_cast<float>(x.numel()));
}

// Sum over one dimension `dim` (negative counts from the end). View x as (outer, D, inner):
// y[o, i] = sum_d x[o, d, i]; keepdim keeps a dimension of size 1 in its place.
inline Var sum(const Var& x, int dim, bool keepdim = false) {
    const Shape& s = x.shape();
    int nd = static_cast<int>(s.size());
    if (dim < 0) dim += nd;
    if (dim < 0 || dim >= nd)
        throw std::invalid_argument("sum: dim out of range for shape " + shape_str(s));
    size_t outer = 1, inner = 1, D = static_cast<size_t>(s[dim]);
    for (int i = 0; i < dim; ++i) outer *= s[i];
    for (int i = dim + 1; i < nd; ++i) inner *= s[i];
    Shape ys = s;
    if (keepdim) ys[dim] = 1; else ys.erase(ys.begin() + dim);
    Tensor y(ys);
    for (size_t o = 0; o < outer; ++o)
        for (size_t d = 0; d < D; ++d)
            for (size_t i = 0; i < inner; ++i) y[o * inner + i] += x.value()[(o * D + d) * inner + i];
    return make_result(std::move(y), {x}, [outer, D, inner](Node& out) {
        // EXERCISE E03 begin
        if (Tensor* dx = parent_grad(out, 0))  // every x[o, d, i] gets dy[o, i]
            for (size_t o = 0; o < outer; ++o)
                for (size_t d = 0; d < D; ++d)
                    for (size_t i = 0; i < inner; ++i) (*dx)[(o * D + d) * inner + i] += out.grad[o * inner + i];
        // EXERCISE E03 end
    });
}

inline Var mean(const Var& x, int dim, bool keepdim = false) {
    int nd = x.value().dim();
    int d = dim < 0 ? dim + nd : dim;
    if (d < 0 || d >= nd) throw std::invalid_argument("mean: dim out of range for shape " + shape_str(x.shape()));
    if (x.shape()[d] == 0) throw std::invalid_argument("mean over an empty dimension");
    return sum(x, dim, keepdim) * (1.0f / static_cast<float>(x.shape()[d]));
}

// ---- shapes ----------------------------------------------------------------------------

// Same numbers, new shape (row-major order unchanged); the gradient is reshaped back.
inline Var reshape(const Var& x, Shape shape) {
    if (shape_numel(shape) != x.numel())
        throw std::invalid_argument("reshape: cannot view " + shape_str(x.shape()) + " (" +
                                    std::to_string(x.numel()) + " elements) as " + shape_str(shape));
    return make_result(x.value().reshaped(std::move(shape)), {x}, [](Node& out) {
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i];
    });
}

// Merge dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default.
inline Var flatten(const Var& x, int start_dim = 1, int end_dim = -1) {
    const Shape& s = x.shape();
    int nd = static_cast<int>(s.size());
    if (start_dim < 0) start_dim += nd;
    if (end_dim < 0) end_dim += nd;
    if (start_dim < 0 || end_dim >= nd || start_dim > end_dim)
        throw std::invalid_argument("flatten: bad dims for shape " + shape_str(s));
    Shape ys(s.begin(), s.begin() + start_dim);
    int merged = 1;
    for (int i = start_dim; i <= end_dim; ++i) merged *= s[i];
    ys.push_back(merged);
    ys.insert(ys.end(), s.begin() + end_dim + 1, s.end());
    return reshape(x, ys);
}

// Join a and b along dimension `dim` (negative counts from the end); all other sizes must agree.
// (N, 100) and (N, 10) along 1 -> (N, 110): a latent vector with a one-hot class appended.
// View a as (outer, A, inner) and b as (outer, B, inner): y[o, 0..A) = a[o], y[o, A..A+B) = b[o],
// where each row y[o] is a contiguous block of (A + B) * inner numbers. The backward cuts dy
// into the same two pieces: da = dy[o, 0..A), db = dy[o, A..A+B).
inline Var concat(const Var& a, const Var& b, int dim) {
    const Shape &sa = a.shape(), &sb = b.shape();
    const int nd = static_cast<int>(sa.size());
    if (dim < 0) dim += nd;
    bool ok = sb.size() == sa.size() && dim >= 0 && dim < nd;
    for (int i = 0; ok && i < nd; ++i) ok = (i == dim || sa[i] == sb[i]);
    if (!ok)
        throw std::invalid_argument("concat: cannot join " + shape_str(sa) + " and " + shape_str(sb) + " along dim " +
                                    std::to_string(dim) + " (every other size must agree)");
    size_t outer = 1, inner = 1;
    for (int i = 0; i < dim; ++i) outer *= sa[i];
    for (int i = dim + 1; i < nd; ++i) inner *= sa[i];
    const size_t a_row = sa[dim] * inner, b_row = sb[dim] * inner;  // numbers per row of a, of b
    Shape ys = sa;
    ys[dim] += sb[dim];
    Tensor y(ys);
    for (size_t o = 0; o < outer; ++o) {
        std::copy_n(a.value().data.begin() + o * a_row, a_row, y.data.begin() + o * (a_row + b_row));
        std::copy_n(b.value().data.begin() + o * b_row, b_row, y.data.begin() + o * (a_row + b_row) + a_row);
    }
    return make_result(std::move(y), {a, b}, [outer, a_row, b_row](Node& out) {
        const size_t row = a_row + b_row;
        if (Tensor* da = parent_grad(out, 0))  // da[o, k] += dy[o, k]
            for (size_t o = 0; o < outer; ++o)
                for (size_t k = 0; k < a_row; ++k) (*da)[o * a_row + k] += out.grad[o * row + k];
        if (Tensor* db = parent_grad(out, 1))  // db[o, k] += dy[o, a_row + k]
            for (size_t o = 0; o < outer; ++o)
                for (size_t k = 0; k < b_row; ++k) (*db)[o * b_row + k] += out.grad[o * row + a_row + k];
    });
}

// The inverse of concat: `length` entries of dimension `dim` from index `start` on. PyTorch:
// x.narrow(dim, start, length). (N, 11) -> columns 0..1 and 1..11: AC-GAN's D puts its
// real/fake logit and its 10 class scores in one output row (gan/conditional.hpp).
// View x as (outer, X, inner): y[o] = x[o, start..start+length); the backward puts dy back
// in that window and leaves the rest of dx alone (those entries did not reach y).
inline Var narrow(const Var& x, int dim, int start, int length) {
    const Shape& s = x.shape();
    const int nd = static_cast<int>(s.size());
    if (dim < 0) dim += nd;
    if (dim < 0 || dim >= nd || start < 0 || length < 1 || start + length > s[dim])
        throw std::invalid_argument("narrow: cannot take " + std::to_string(length) + " entries from index " +
                                    std::to_string(start) + " of dim " + std::to_string(dim) + " of " + shape_str(s));
    size_t outer = 1, inner = 1;
    for (int i = 0; i < dim; ++i) outer *= s[i];
    for (int i = dim + 1; i < nd; ++i) inner *= s[i];
    const size_t x_row = s[dim] * inner, y_row = length * inner, skip = start * inner;
    Shape ys = s;
    ys[dim] = length;
    Tensor y(ys);
    for (size_t o = 0; o < outer; ++o)
        std::copy_n(x.value().data.begin() + o * x_row + skip, y_row, y.data.begin() + o * y_row);
    return make_result(std::move(y), {x}, [outer, x_row, y_row, skip](Node& out) {
        if (Tensor* dx = parent_grad(out, 0))  // dx[o, skip + k] += dy[o, k]
            for (size_t o = 0; o < outer; ++o)
                for (size_t k = 0; k < y_row; ++k) (*dx)[o * x_row + skip + k] += out.grad[o * y_row + k];
    });
}

}  // namespace minigan
