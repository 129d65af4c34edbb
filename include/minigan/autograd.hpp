// autograd.hpp - reverse-mode automatic differentiation: Var, backward(), NoGrad, detach().
//
// Read tensor.hpp first. Every differentiable operation makes a new Node holding its value,
// the Nodes it was computed from (parents) and a backward function. backward() on a scalar
// visits the graph from the output back to the inputs (reverse topological order) and each
// node's backward function adds its contribution to its parents' gradients (chain rule).
// This is micrograd's engine, on tensors instead of single numbers.
#pragma once

#include <functional>
#include <memory>
#include <unordered_set>

#include "tensor.hpp"

namespace minigan {

struct Node {
    Tensor value;
    Tensor grad;                // d(loss)/d(value); allocated (zeros) when first needed
    bool requires_grad = false;
    bool is_leaf = true;        // parameters and inputs are leaves; op results are not
    std::vector<std::shared_ptr<Node>> parents;
    // Reads out.grad and adds into the parents' grads. Gets the node itself as an argument
    // (instead of capturing it) so a node never owns a pointer to itself: no reference cycles.
    std::function<void(Node& out)> backward_fn;

    // Freeing a long chain (100k ops) the default way recurses once per node through the
    // shared_ptr destructors and overflows the stack; instead take over the parents of every
    // node that dies with us and release them one by one, in a loop.
    ~Node() {
        std::vector<std::shared_ptr<Node>> pending = std::move(parents);
        while (!pending.empty()) {
            std::shared_ptr<Node> p = std::move(pending.back());
            pending.pop_back();
            if (p.use_count() == 1)  // the last owner: p dies at the end of this iteration
                for (auto& q : p->parents) pending.push_back(std::move(q));
        }
    }

    // The gradient buffer, created as zeros of the value's shape on first use.
    Tensor& grad_buffer() {
        if (grad.shape != value.shape || grad.numel() != value.numel()) grad = zeros(value.shape);
        return grad;
    }
};

// Gradient recording is on by default; NoGrad turns it off in a scope (sampling, evaluation,
// AnoGAN scoring): ops then build no graph and keep nothing for backward.
inline bool& grad_mode_enabled() {
    static thread_local bool enabled = true;
    return enabled;
}
struct NoGrad {
    bool previous;
    NoGrad() : previous(grad_mode_enabled()) { grad_mode_enabled() = false; }
    ~NoGrad() { grad_mode_enabled() = previous; }
    NoGrad(const NoGrad&) = delete;
    NoGrad& operator=(const NoGrad&) = delete;
};

// A Var is a handle to a Node: copying a Var shares the node (like a Python reference).
class Var {
public:
    Var() = default;
    explicit Var(Tensor value, bool requires_grad = false) : node_(std::make_shared<Node>()) {
        node_->value = std::move(value);
        node_->requires_grad = requires_grad;
    }
    explicit Var(std::shared_ptr<Node> node) : node_(std::move(node)) {}

    bool defined() const { return node_ != nullptr; }
    Tensor& value() { return checked().value; }
    const Tensor& value() const { return checked().value; }
    const Shape& shape() const { return checked().value.shape; }
    size_t numel() const { return checked().value.numel(); }
    float item() const { return checked().value.item(); }
    Tensor& grad() { return checked().grad_buffer(); }
    bool requires_grad() const { return checked().requires_grad; }
    // For leaves (parameters): switch gradient tracking on or off, as PyTorch's requires_grad_().
    void set_requires_grad(bool on) { checked().requires_grad = on; }
    Node* node() const { return node_.get(); }
    const std::shared_ptr<Node>& node_ptr() const { return node_; }

    // A new leaf with the same value and no history: gradients stop here.
    Var detach() const { return Var(checked().value, false); }

    // Back-propagate from a scalar (its gradient is 1) ...
    void backward();
    // ... or from any tensor given the upstream gradient d(loss)/d(this), same shape.
    void backward(const Tensor& grad_output);

private:
    Node& checked() const {
        if (!node_) throw std::logic_error("use of an undefined Var (default-constructed)");
        return *node_;
    }
    std::shared_ptr<Node> node_;
};

// Build the result of an operation. If gradients are on and any parent requires them, the
// result remembers its parents and how to send its gradient back to them.
inline Var make_result(Tensor value, std::vector<Var> parents, std::function<void(Node&)> backward_fn) {
    auto node = std::make_shared<Node>();
    node->value = std::move(value);
    node->is_leaf = false;
    bool any = false;
    for (const Var& p : parents) any = any || p.requires_grad();
    if (grad_mode_enabled() && any) {
        node->requires_grad = true;
        for (const Var& p : parents) node->parents.push_back(p.node_ptr());
        node->backward_fn = std::move(backward_fn);
    }
    return Var(std::move(node));
}

// Nodes in topological order (every node after its parents), by iterative depth-first search
// (no recursion, so a long graph cannot overflow the stack).
inline std::vector<Node*> topological_order(Node* root) {
    // EXERCISE E02 begin
    std::vector<Node*> order;
    std::unordered_set<Node*> visited;
    std::vector<std::pair<Node*, size_t>> stack{{root, 0}};  // (node, next parent to visit)
    visited.insert(root);
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->parents.size()) {
            Node* parent = node->parents[next++].get();
            if (parent->requires_grad && visited.insert(parent).second) stack.push_back({parent, 0});
        } else {
            order.push_back(node);
            stack.pop_back();
        }
    }
    return order;
    // EXERCISE E02 end
}

inline void Var::backward(const Tensor& grad_output) {
    Node& root = checked();
    if (!root.requires_grad)
        throw std::logic_error("backward() on a value that does not require grad "
                               "(no parameter or input with requires_grad led to it)");
    if (grad_output.shape != root.value.shape)
        throw std::invalid_argument("backward(): gradient of shape " + shape_str(grad_output.shape) +
                                    " for a value of shape " + shape_str(root.value.shape));
    // EXERCISE E02 begin
    std::vector<Node*> order = topological_order(&root);
    // Intermediate gradients start at zero on every backward; leaves (parameters) accumulate
    // across calls until the optimizer's zero_grad(), exactly as in PyTorch.
    for (Node* n : order)
        if (!n->is_leaf) n->grad = zeros(n->value.shape);
    Tensor& g = root.grad_buffer();
    for (size_t i = 0; i < g.numel(); ++i) g[i] += grad_output[i];
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node* n = *it;
        if (n->backward_fn) n->backward_fn(*n);
    }
    // EXERCISE E02 end
}

inline void Var::backward() {
    if (numel() != 1)
        throw std::invalid_argument("backward() without a gradient needs a scalar, got shape " +
                                    shape_str(shape()) + "; pass grad_output for a non-scalar");
    backward(ones(shape()));
}

// Helper for backward functions: the gradient buffer of parent i, or nullptr if that parent
// does not need a gradient (an input image, a frozen network): its work can be skipped.
inline Tensor* parent_grad(Node& out, size_t i) {
    Node* p = out.parents[i].get();
    return p->requires_grad ? &p->grad_buffer() : nullptr;
}

}  // namespace minigan
