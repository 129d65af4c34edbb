// eval/quality.hpp - three numbers that say how good a set of generated images is.
//
// Read eval/classifier.hpp and eval/frechet.hpp first. For images in [-1, 1] (N, 1, 28, 28):
//   classifier FID   Frechet distance between the classifier's features of these images and of
//                    the real test images: lower is better; real training images give the floor
//   class histogram  the fraction of images the classifier puts in each class: a GAN that has
//                    collapsed onto a few modes shows missing classes
//   mean confidence  the mean of max_k softmax(logits)_k: blurry or odd images get low values
#pragma once

#include <cmath>
#include <vector>

#include "classifier.hpp"
#include "frechet.hpp"

namespace minigan::eval {

// softmax of each row of logits (N, K): p_k = e^(x_k - m) / sum_j e^(x_j - m), m = max_j x_j.
inline Tensor softmax_rows(const Tensor& logits) {
    if (logits.dim() != 2) throw std::invalid_argument("softmax_rows: logits must be (N, K), got " + shape_str(logits.shape));
    const int N = logits.shape[0], K = logits.shape[1];
    Tensor p(logits.shape);
    for (int n = 0; n < N; ++n) {
        const float* x = logits.ptr() + static_cast<size_t>(n) * K;
        float* out = p.ptr() + static_cast<size_t>(n) * K;
        const float m = *std::max_element(x, x + K);
        double total = 0.0;
        for (int k = 0; k < K; ++k) total += std::exp(static_cast<double>(x[k]) - m);
        for (int k = 0; k < K; ++k) out[k] = static_cast<float>(std::exp(static_cast<double>(x[k]) - m) / total);
    }
    return p;
}

// mean_n max_k softmax(logits)_nk
inline double mean_confidence(const Tensor& logits) {
    const Tensor p = softmax_rows(logits);
    const int N = p.shape[0], K = p.shape[1];
    double acc = 0.0;
    for (int n = 0; n < N; ++n) {
        const float* row = p.ptr() + static_cast<size_t>(n) * K;
        acc += *std::max_element(row, row + K);
    }
    return acc / N;
}

// fraction[k] = (number of rows whose largest logit is class k) / N; the fractions sum to 1.
inline std::vector<double> class_histogram(const Tensor& logits) {
    const int K = logits.shape.at(1);
    std::vector<double> fraction(static_cast<size_t>(K), 0.0);
    const std::vector<int> predicted = predicted_classes(logits);
    for (int c : predicted) fraction[static_cast<size_t>(c)] += 1.0;
    for (double& f : fraction) f /= static_cast<double>(predicted.size());
    return fraction;
}

struct QualityReport {
    double fid = 0.0;                     // classifier FID against the reference (test) features
    std::vector<double> class_fraction;   // predicted-class histogram, sums to 1
    double mean_confidence = 0.0;         // mean max-softmax probability
};

// The report for `images` against a Gaussian fitted to the reference images' features
// (fit it once: fit_gaussian(classify(net, test_images).features)).
inline QualityReport quality_report(nn::Sequential& classifier, const Tensor& images, const Gaussian& reference) {
    const ClassifierOutput out = classify(classifier, images);
    return {frechet_distance(fit_gaussian(out.features), reference), class_histogram(out.logits),
            mean_confidence(out.logits)};
}

// How often the classifier agrees with the class each image was asked to be (a conditional GAN):
// over all images, and per requested class (class_accuracy in classifier.hpp).
struct RequestedClassReport {
    double accuracy;
    std::vector<double> per_class;
};
inline RequestedClassReport requested_class_accuracy(nn::Sequential& classifier, const Tensor& images,
                                                     const std::vector<int>& requested, int classes = 10) {
    const std::vector<int> predicted = predicted_classes(classify(classifier, images).logits);
    return {accuracy(predicted, requested), class_accuracy(predicted, requested, classes)};
}

}  // namespace minigan::eval
