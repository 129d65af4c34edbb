// gan/ema.hpp - an exponential moving average (EMA) of the generator's weights, for sampling.
//
// Read nn/module.hpp and gan/train_step.hpp first. GAN training never settles: every step
// moves G to wherever D is weakest right now, so the weights circle around a good point.
// Averaging them over the last ~1/(1 - decay) steps lands nearer that point, and samples from the
// averaged G look cleaner at no extra training cost (Yazici et al. 2019, "The unusual
// effectiveness of averaging in GAN training"; StyleGAN and BigGAN sample this way).
//   avg = d avg + (1 - d) w,   d = min(decay, (1 + t) / (10 + t)) at update t
// The ramp (1 + t) / (10 + t) keeps the first steps from being averaged with the random init
// (TensorFlow's ExponentialMovingAverage with num_updates does the same).
// Only the parameters are averaged; BatchNorm's running statistics are copied from G as they are.
#pragma once

#include "../nn/module.hpp"

namespace minigan::gan {

class WeightAverage {
public:
    WeightAverage(const nn::Module& model, float decay) : decay_(decay) {
        if (!(decay >= 0.0f && decay < 1.0f))
            throw std::invalid_argument("WeightAverage: decay must be in [0, 1), got " + std::to_string(decay));
        for (const auto& [name, p] : model.named_parameters()) average_.push_back({name, p.value()});
    }

    // One step of the average, after each optimizer step of `model`.
    void update(const nn::Module& model) {
        ++updates_;
        const float d = std::min(decay_, static_cast<float>(1 + updates_) / static_cast<float>(10 + updates_));
        const auto params = model.named_parameters();
        if (params.size() != average_.size())
            throw std::invalid_argument("WeightAverage::update: the model has " + std::to_string(params.size()) +
                                        " parameters, the average " + std::to_string(average_.size()));
        for (size_t i = 0; i < params.size(); ++i) {
            const Tensor& w = params[i].second.value();
            Tensor& avg = average_[i].second;
            for (size_t j = 0; j < avg.numel(); ++j) avg[j] = d * avg[j] + (1.0f - d) * w[j];
        }
    }

    // Load the averaged weights (and `model`'s own buffers) into `target`, a module built like `model`.
    void copy_to(const nn::Module& model, nn::Module& target) const {
        StateDict state = model.state_dict();
        for (auto& [name, t] : state)
            for (const auto& [avg_name, avg] : average_)
                if (avg_name == name) t = avg;
        target.load_state_dict(state);
    }

    long updates() const { return updates_; }
    // For checkpoints: the averaged weights under the model's names, and the update count.
    const StateDict& state() const { return average_; }
    void load(const StateDict& state, long updates) {
        for (auto& entry : average_) {  // (not a structured binding: a C++17 lambda cannot capture one)
            const std::string& name = entry.first;
            Tensor& t = entry.second;
            auto it = std::find_if(state.begin(), state.end(), [&](const auto& e) { return e.first == name; });
            if (it == state.end() || it->second.shape != t.shape)
                throw std::invalid_argument("WeightAverage::load: no entry '" + name + "' of shape " + shape_str(t.shape));
            t = it->second;
        }
        updates_ = updates;
    }

private:
    float decay_;
    long updates_ = 0;
    StateDict average_;
};

}  // namespace minigan::gan
