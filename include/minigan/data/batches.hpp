// data/batches.hpp - shuffled mini-batches whose order depends only on (seed, epoch).
//
// Read data/dataset.hpp first. A Batcher deals a Dataset out in batches of (B, 1, H, W) images:
//   Batcher batches(train, 64, seed);
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//       batches.start_epoch(epoch);                       // a fresh shuffle for this epoch
//       while (batches.next(images, labels)) { ... }       // every image once per epoch
//   }
// The shuffle of epoch e is a pure function of (seed, e), so a run resumed at epoch e (even at
// batch k of it: start_epoch(e, k)) sees exactly the batches the uninterrupted run would have.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataset.hpp"

namespace minigan::data {

// A uniform integer in [0, bound), without the bias of engine() % bound: draws that fall in the
// last, incomplete block of `bound` values are thrown away and drawn again.
// (std::uniform_int_distribution would do, but its algorithm differs between standard libraries;
// ours gives the same batches with GCC, Clang and MSVC.)
inline uint32_t uniform_below(std::mt19937& engine, uint32_t bound) {
    const uint64_t range = uint64_t(1) << 32;           // engine() returns 32 random bits
    const uint64_t limit = range - range % bound;        // a whole number of blocks of `bound`
    uint64_t r;
    do r = engine(); while (r >= limit);
    return static_cast<uint32_t>(r % bound);
}

// The order in which epoch `epoch` visits the n images: a Fisher-Yates shuffle of 0..n-1
// driven by a generator seeded from (seed, epoch) alone.
// Fisher-Yates: for i = n-1 down to 1, swap element i with a uniformly chosen j in [0, i];
// each of the n! orders comes out with probability 1/n!.
inline std::vector<size_t> epoch_permutation(size_t n, uint32_t seed, int epoch) {
    std::seed_seq seeds{seed, static_cast<uint32_t>(epoch)};  // seed_seq's mixing is fixed by the C++ standard
    std::mt19937 engine(seeds);
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    for (size_t i = n; i > 1; --i) {
        const size_t j = uniform_below(engine, static_cast<uint32_t>(i));  // j in [0, i - 1]
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

class Batcher {
public:
    // drop_last: skip the last, smaller batch, so that every batch has exactly batch_size images
    // (BatchNorm and the fixed-size latent batch of a GAN step expect that).
    Batcher(const Dataset& data, int batch_size, uint32_t seed, bool drop_last = true)
        : data_(data), batch_size_(batch_size), seed_(seed), drop_last_(drop_last) {
        if (batch_size < 1) throw std::invalid_argument("Batcher: batch size must be >= 1, not " + std::to_string(batch_size));
        if (data.size() == 0) throw std::invalid_argument("Batcher: the dataset is empty");
        if (batches_per_epoch() == 0)
            throw std::invalid_argument("Batcher: batch size " + std::to_string(batch_size) + " is larger than the " +
                                        std::to_string(data.size()) + " images of the dataset (with drop_last)");
        start_epoch(0);
    }
    // A Batcher keeps a reference to its Dataset: a temporary would be gone before the first batch.
    Batcher(Dataset&&, int, uint32_t, bool = true) = delete;

    int batch_size() const { return batch_size_; }
    int epoch() const { return epoch_; }
    int batches_per_epoch() const {
        const size_t n = data_.size(), b = static_cast<size_t>(batch_size_);
        return static_cast<int>(drop_last_ ? n / b : (n + b - 1) / b);
    }
    // The order of this epoch: order()[k] is the dataset index of the k-th image dealt out.
    const std::vector<size_t>& order() const { return order_; }

    // Shuffles for `epoch` and rewinds to batch `first_batch` (0 = the start of the epoch).
    void start_epoch(int epoch, int first_batch = 0) {
        if (epoch < 0) throw std::invalid_argument("Batcher: epoch must be >= 0, not " + std::to_string(epoch));
        if (first_batch < 0 || first_batch > batches_per_epoch())
            throw std::invalid_argument("Batcher: batch " + std::to_string(first_batch) + " of an epoch of " +
                                        std::to_string(batches_per_epoch()) + " batches");
        epoch_ = epoch;
        next_batch_ = first_batch;
        order_ = epoch_permutation(data_.size(), seed_, epoch);
    }

    // Fills images (B, 1, H, W) and labels (B,) with the next batch; false when the epoch is over
    // (then images and labels are left as they were). The tensor's memory is reused across calls.
    bool next(Tensor& images, std::vector<int>& labels) {
        if (next_batch_ >= batches_per_epoch()) return false;
        const size_t first = static_cast<size_t>(next_batch_) * static_cast<size_t>(batch_size_);
        const size_t count = std::min(static_cast<size_t>(batch_size_), data_.size() - first);
        const size_t pixels = static_cast<size_t>(data_.height()) * static_cast<size_t>(data_.width());

        const Shape shape = {static_cast<int>(count), 1, data_.height(), data_.width()};
        if (images.shape != shape) images = Tensor(shape);
        labels.resize(count);
        for (size_t k = 0; k < count; ++k) {
            const size_t i = order_[first + k];
            const float* src = data_.images.data.data() + i * pixels;
            std::copy(src, src + pixels, images.data.data() + k * pixels);
            labels[k] = data_.labels[i];
        }
        ++next_batch_;
        return true;
    }

private:
    const Dataset& data_;
    int batch_size_;
    uint32_t seed_;
    bool drop_last_;
    int epoch_ = 0;
    int next_batch_ = 0;          // the batch next() hands out next
    std::vector<size_t> order_;   // epoch_permutation(N, seed_, epoch_)
};

}  // namespace minigan::data
