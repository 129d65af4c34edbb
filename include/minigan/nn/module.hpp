// nn/module.hpp - Module (a layer or a network) and Sequential.
//
// Read autograd.hpp first. A Module owns parameters (leaf Vars that the optimizer updates),
// buffers (tensors that are saved but not trained, e.g. BatchNorm's running mean) and child
// modules. Names follow PyTorch's state_dict exactly ("0.weight", "1.running_mean"), so a
// checkpoint written here loads into PyTorch and back. Modules are not copyable: they are
// held by shared_ptr, and a copy would silently share or lose parameters.
#pragma once

#include <memory>

#include "../autograd.hpp"

namespace minigan::nn {

class Module {
public:
    Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    virtual ~Module() = default;

    virtual Var forward(const Var& x) = 0;
    Var operator()(const Var& x) { return forward(x); }
    virtual std::string name() const = 0;  // "Linear(100, 256)": for printing a model

    // Parameters with their state_dict names, this module's first, then each child's.
    std::vector<std::pair<std::string, Var>> named_parameters(const std::string& prefix = "") const {
        std::vector<std::pair<std::string, Var>> out;
        for (const auto& [n, v] : params_) out.push_back({prefix + n, *v});
        for (const auto& [n, child] : children_) {
            auto sub = child->named_parameters(prefix + n + ".");
            out.insert(out.end(), sub.begin(), sub.end());
        }
        return out;
    }
    std::vector<Var> parameters() const {
        std::vector<Var> out;
        for (auto& [n, v] : named_parameters()) out.push_back(v);
        return out;
    }
    size_t parameter_count() const {
        size_t n = 0;
        for (const Var& p : parameters()) n += p.numel();
        return n;
    }

    // PyTorch's order: a module's parameters, then its buffers, then its children's entries.
    StateDict state_dict(const std::string& prefix = "") const {
        StateDict out;
        for (const auto& [n, v] : params_) out.push_back({prefix + n, v->value()});
        for (const auto& [n, t] : buffers_) out.push_back({prefix + n, *t});
        for (const auto& [n, child] : children_) {
            StateDict sub = child->state_dict(prefix + n + ".");
            out.insert(out.end(), sub.begin(), sub.end());
        }
        return out;
    }

    // Copy values in by name. Every entry must exist with the same shape, and every one of
    // ours must be given: a checkpoint of another architecture is refused, naming the problem.
    void load_state_dict(const StateDict& state) {
        std::vector<std::pair<std::string, Tensor*>> targets;
        collect_targets("", targets);
        std::string problems;
        // (name = entry.first, not a structured binding: C++17 lambdas cannot capture those, and Clang refuses.)
        for (const auto& entry : state) {
            const std::string& name = entry.first;
            const Tensor& t = entry.second;
            auto it = std::find_if(targets.begin(), targets.end(), [&](auto& e) { return e.first == name; });
            if (it == targets.end()) problems += "\n  unexpected entry '" + name + "' " + shape_str(t.shape);
            else if (it->second->shape != t.shape)
                problems += "\n  '" + name + "': checkpoint has " + shape_str(t.shape) + ", model has " +
                            shape_str(it->second->shape);
        }
        for (const auto& target : targets) {
            const std::string& name = target.first;
            if (std::none_of(state.begin(), state.end(), [&](auto& e) { return e.first == name; }))
                problems += "\n  missing entry '" + name + "' " + shape_str(target.second->shape);
        }
        if (!problems.empty())
            throw std::invalid_argument("load_state_dict: the checkpoint does not match this model:" + problems);
        for (const auto& [name, t] : state)
            for (auto& [n, target] : targets)
                if (n == name) *target = t;
    }

    // Training mode (BatchNorm uses batch statistics, Dropout drops) or evaluation mode.
    void train(bool on = true) {
        training_ = on;
        for (auto& [n, child] : children_) child->train(on);
    }
    void eval() { train(false); }
    bool is_training() const { return training_; }

    // Freeze (false) or unfreeze all parameters: a frozen network still passes gradients through
    // to its input, but spends no time on its own weight gradients (D during the G step).
    void set_requires_grad(bool on) {
        for (auto& [n, p] : named_parameters()) p.set_requires_grad(on);
    }

    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
    Var* find_parameter(const std::string& n) {
        for (auto& [name, v] : params_) if (name == n) return v;
        return nullptr;
    }

    // A readable listing, like printing a PyTorch model.
    std::string summary(const std::string& indent = "") const {
        std::string s = indent + name() + "\n";
        for (const auto& [n, child] : children_) s += child->summary(indent + "  (" + n + ") ");
        return s;
    }

protected:
    void register_parameter(const std::string& n, Var& v) {
        v.set_requires_grad(true);
        params_.push_back({n, &v});
    }
    void register_buffer(const std::string& n, Tensor& t) { buffers_.push_back({n, &t}); }
    void register_module(const std::string& n, std::shared_ptr<Module> m) { children_.push_back({n, std::move(m)}); }

private:
    void collect_targets(const std::string& prefix, std::vector<std::pair<std::string, Tensor*>>& out) {
        for (auto& [n, v] : params_) out.push_back({prefix + n, &v->value()});
        for (auto& [n, t] : buffers_) out.push_back({prefix + n, t});
        for (auto& [n, child] : children_) child->collect_targets(prefix + n + ".", out);
    }
    std::vector<std::pair<std::string, Var*>> params_;  // point at member Vars of the subclass
    std::vector<std::pair<std::string, Tensor*>> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
};

// make<Linear>(100, 256) is std::make_shared<Linear>(100, 256): modules live in shared_ptrs.
template <class M, class... Args>
std::shared_ptr<M> make(Args&&... args) {
    return std::make_shared<M>(std::forward<Args>(args)...);
}

// Layers applied one after the other; children are named "0", "1", ... as in PyTorch.
class Sequential : public Module {
public:
    Sequential() = default;
    // Sequential(make<Linear>(100, 256), make<LeakyReLU>(0.2f), ...)
    template <class... Layers>
    explicit Sequential(std::shared_ptr<Layers>... layers) {
        (add(std::move(layers)), ...);
    }
    Sequential& add(std::shared_ptr<Module> layer) {
        register_module(std::to_string(children().size()), std::move(layer));
        return *this;
    }
    Var forward(const Var& x) override {
        Var h = x;
        for (auto& [n, layer] : children()) h = layer->forward(h);
        return h;
    }
    // Run only the first `count` layers: an intermediate feature map (AnoGAN uses one of D's).
    Var forward_until(const Var& x, size_t count) {
        Var h = x;
        for (size_t i = 0; i < count && i < children().size(); ++i) h = children()[i].second->forward(h);
        return h;
    }
    size_t size() const { return children().size(); }
    Module& operator[](size_t i) { return *children().at(i).second; }
    std::string name() const override { return "Sequential"; }
};

}  // namespace minigan::nn
