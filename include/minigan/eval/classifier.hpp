// eval/classifier.hpp - the small CNN that judges generated images, and a batched pass over it.
//
// Read nn/ and loss.hpp (cross_entropy) first. A GAN has no loss that says "these are good
// digits", so we train a classifier on the real data (examples/mnist_classifier.cpp) and ask it:
// which class is this sample, how sure are you, and do the features of generated images spread
// like those of real ones (eval/frechet.hpp, eval/quality.hpp)?
//   x (N, 1, 28, 28) -> Conv 5x5 s2 -> (32, 14, 14) -> Conv 5x5 s2 -> (64, 7, 7) -> Linear -> 128
//   features (the "penultimate layer") -> Linear -> 10 class scores (logits)
// Stride-2 convolutions halve the image where other CNNs use max-pooling.
#pragma once

#include <limits>

#include "../autograd.hpp"
#include "../nn/batchnorm.hpp"
#include "../nn/conv_layers.hpp"
#include "../nn/layers.hpp"
#include "../nn/linear.hpp"

namespace minigan::eval {

constexpr int kFeatureCount = 128;  // size of the penultimate layer: the features of classifier FID
constexpr size_t kFeatureLayers = 10;  // the first 10 layers of classifier_cnn() end at those features

// Conv layers have no bias: BatchNorm right after them would cancel it.
inline std::shared_ptr<nn::Sequential> classifier_cnn(int classes = 10, int in_channels = 1) {
    using namespace nn;
    return make<Sequential>(
        make<Conv2d>(in_channels, 32, 5, 2, 2, false), make<BatchNorm2d>(32), make<ReLU>(),   // 0-2: 14x14
        make<Conv2d>(32, 64, 5, 2, 2, false), make<BatchNorm2d>(64), make<ReLU>(),            // 3-5: 7x7
        make<Flatten>(), make<Dropout>(0.25f),                                                // 6-7
        make<Linear>(64 * 7 * 7, kFeatureCount), make<ReLU>(),                                // 8-9: features
        make<Dropout>(0.3f), make<Linear>(kFeatureCount, classes));                           // 10-11: logits
}

// What the classifier says about a set of images: features (N, 128) and logits (N, classes).
struct ClassifierOutput {
    Tensor features;
    Tensor logits;
};

// Runs `net` (in eval mode: no dropout, BatchNorm's running statistics) over images (N, 1, H, W)
// in chunks of `batch`, without building a graph. The network is left in eval mode.
inline ClassifierOutput classify(nn::Sequential& net, const Tensor& images, int batch = 500) {
    if (images.dim() != 4 || images.shape[0] < 1)
        throw std::invalid_argument("classify: images must be (N, C, H, W) with N >= 1, got " + shape_str(images.shape));
    if (net.size() <= kFeatureLayers)
        throw std::invalid_argument("classify: the network has " + std::to_string(net.size()) +
                                    " layers; expected classifier_cnn()'s " + std::to_string(kFeatureLayers + 2));
    net.eval();
    NoGrad no_grad;
    const int N = images.shape[0];
    const size_t per_image = images.numel() / static_cast<size_t>(N);
    ClassifierOutput out;
    for (int first = 0; first < N; first += batch) {
        const int count = std::min(batch, N - first);
        Shape s = images.shape;
        s[0] = count;
        Tensor chunk(s);
        std::copy(images.data.begin() + static_cast<std::ptrdiff_t>(first * per_image),
                  images.data.begin() + static_cast<std::ptrdiff_t>((first + count) * per_image), chunk.data.begin());
        Var h = net.forward_until(Var(chunk), kFeatureLayers);  // (count, 128)
        Var logits = h;
        for (size_t i = kFeatureLayers; i < net.size(); ++i) logits = net[i](logits);
        if (first == 0) {
            out.features = Tensor({N, h.shape()[1]});
            out.logits = Tensor({N, logits.shape()[1]});
        }
        std::copy(h.value().data.begin(), h.value().data.end(),
                  out.features.data.begin() + static_cast<std::ptrdiff_t>(first) * h.shape()[1]);
        std::copy(logits.value().data.begin(), logits.value().data.end(),
                  out.logits.data.begin() + static_cast<std::ptrdiff_t>(first) * logits.shape()[1]);
    }
    return out;
}

// The predicted class of each row of logits (N, K): the index of the largest score.
inline std::vector<int> predicted_classes(const Tensor& logits) {
    const int N = logits.shape.at(0), K = logits.shape.at(1);
    std::vector<int> out(static_cast<size_t>(N));
    for (int n = 0; n < N; ++n) {
        const float* row = logits.ptr() + static_cast<size_t>(n) * K;
        out[static_cast<size_t>(n)] = static_cast<int>(std::max_element(row, row + K) - row);
    }
    return out;
}

// Fraction of predictions equal to the labels.
inline double accuracy(const std::vector<int>& predicted, const std::vector<int>& labels) {
    if (predicted.size() != labels.size() || labels.empty())
        throw std::invalid_argument("accuracy: " + std::to_string(predicted.size()) + " predictions for " +
                                    std::to_string(labels.size()) + " labels");
    size_t right = 0;
    for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
    return static_cast<double>(right) / static_cast<double>(labels.size());
}

// The same, one class at a time: entry c is the share of the images labelled c that were
// predicted as c (a conditional GAN: which classes does G draw well?). NaN for a class that
// has no images.
inline std::vector<double> class_accuracy(const std::vector<int>& predicted, const std::vector<int>& labels,
                                          int classes) {
    if (predicted.size() != labels.size() || classes < 1)
        throw std::invalid_argument("class_accuracy: " + std::to_string(predicted.size()) + " predictions for " +
                                    std::to_string(labels.size()) + " labels");
    std::vector<size_t> right(classes, 0), seen(classes, 0);
    for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || labels[i] >= classes)
            throw std::invalid_argument("class_accuracy: label " + std::to_string(labels[i]) + " is not in [0, " +
                                        std::to_string(classes) + ")");
        ++seen[labels[i]];
        right[labels[i]] += predicted[i] == labels[i];
    }
    std::vector<double> share(classes);
    for (int c = 0; c < classes; ++c)
        share[c] = seen[c] ? static_cast<double>(right[c]) / seen[c] : std::numeric_limits<double>::quiet_NaN();
    return share;
}

}  // namespace minigan::eval
