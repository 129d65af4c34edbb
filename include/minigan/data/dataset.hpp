// data/dataset.hpp - a labelled image set in memory: MNIST, Fashion-MNIST, or your own IDX files.
//
// Read tensor.hpp and data/idx.hpp first. load_dataset("mnist", "train") gives 60000 images as
// one (N, 1, 28, 28) tensor scaled to [-1, 1] (the range of the generator's tanh) and their labels.
// only_classes() keeps some digits (AnoGAN trains on one "normal" class), subset() the first n;
// data/batches.hpp then deals the images out in shuffled mini-batches.
#pragma once

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "../tensor.hpp"
#include "idx.hpp"

namespace minigan::data {

constexpr int kNumClasses = 10;  // MNIST digits 0..9; Fashion-MNIST's 10 kinds of clothing

struct Dataset {
    Tensor images;            // (N, 1, H, W); a pixel p in 0..255 is stored as p / 127.5 - 1, in [-1, 1]
    std::vector<int> labels;  // (N,) class indices 0..9

    size_t size() const { return labels.size(); }
    int height() const { return images.dim() == 4 ? images.shape[2] : 0; }
    int width() const { return images.dim() == 4 ? images.shape[3] : 0; }
};

// Pixel bytes to the generator's range: 0 -> -1, 127.5 -> 0, 255 -> +1.
inline float pixel_to_unit(uint8_t p) { return static_cast<float>(p) / 127.5f - 1.0f; }

// A Dataset from an images file and a labels file, each raw or gzipped (data/idx.hpp checks the
// files themselves; here we check that they belong together).
inline Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path) {
    IdxArray images = read_idx_images(images_path);  // dims {N, rows, cols}
    IdxArray labels = read_idx_labels(labels_path);  // dims {N}
    const int n = images.dims[0], rows = images.dims[1], cols = images.dims[2];
    if (labels.dims[0] != n)
        throw std::runtime_error("images and labels do not match: " + images_path + " holds " + std::to_string(n) +
                                 " images but " + labels_path + " holds " + std::to_string(labels.dims[0]) + " labels");

    Dataset data;
    data.labels.resize(static_cast<size_t>(n));
    for (size_t i = 0; i < data.labels.size(); ++i) {
        const int label = labels.values[i];
        if (label >= kNumClasses)
            throw std::runtime_error(labels_path + ": label " + std::to_string(label) + " of image " + std::to_string(i) +
                                     " is outside 0.." + std::to_string(kNumClasses - 1));
        data.labels[i] = label;
    }
    data.images = Tensor({n, 1, rows, cols});
    for (size_t i = 0; i < images.values.size(); ++i) data.images.data[i] = pixel_to_unit(images.values[i]);
    return data;
}

// The path of an IDX file in `dir`, raw ("name") or gzipped ("name.gz"), whichever is there.
inline std::string find_idx_file(const std::string& dir, const std::string& name) {
    const std::string raw = (std::filesystem::path(dir) / name).string();
    std::error_code ec;
    if (std::filesystem::exists(raw, ec)) return raw;
    if (std::filesystem::exists(raw + ".gz", ec)) return raw + ".gz";
    throw std::runtime_error(raw + ": missing (nor is there " + raw + ".gz). Run `bash data/fetch.sh` to download "
                             "MNIST and Fashion-MNIST into data/.");
}

// A folder laid out like MNIST's: split "train" reads train-{images-idx3,labels-idx1}-ubyte[.gz],
// split "test" reads t10k-{images-idx3,labels-idx1}-ubyte[.gz].
inline Dataset load_mnist_like(const std::string& dir, const std::string& split) {
    if (split != "train" && split != "test")
        throw std::invalid_argument("split must be \"train\" or \"test\", not \"" + split + "\"");
    const std::string prefix = split == "train" ? "train" : "t10k";
    const std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte");  // images first: the
    const std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte");  // error names them first
    return load_idx_pair(images_path, labels_path);
}

// "mnist" -> <data_root>/mnist/, "fashion" -> <data_root>/fashion-mnist/ (where data/fetch.sh puts them).
inline Dataset load_dataset(const std::string& name, const std::string& split, const std::string& data_root = "data") {
    std::string folder;
    if (name == "mnist") folder = "mnist";
    else if (name == "fashion" || name == "fashion-mnist") folder = "fashion-mnist";
    else throw std::invalid_argument("unknown dataset \"" + name + "\": use \"mnist\" or \"fashion\"");
    const std::string dir = (std::filesystem::path(data_root) / folder).string();
    Dataset data = load_mnist_like(dir, split);
    // MNIST and Fashion-MNIST are 28x28, and every model of the examples is built for that: a
    // file of another geometry is named here rather than met as a shape error at the first step.
    if (data.height() != 28 || data.width() != 28)
        throw std::runtime_error(dir + ": " + split + " images are " + std::to_string(data.height()) + "x" +
                                 std::to_string(data.width()) + ", expected 28x28 (" + name + ")");
    return data;
}

// Images [first, first + count) as an (count, 1, H, W) tensor, in order (for evaluation passes).
inline Tensor image_range(const Dataset& data, size_t first, size_t count) {
    if (first > data.size() || count > data.size() - first)
        throw std::out_of_range("image_range(" + std::to_string(first) + ", " + std::to_string(count) +
                                ") of a dataset of " + std::to_string(data.size()) + " images");
    const size_t pixels = static_cast<size_t>(data.height()) * static_cast<size_t>(data.width());
    Tensor out({static_cast<int>(count), 1, data.height(), data.width()});
    std::copy(data.images.data.begin() + static_cast<std::ptrdiff_t>(first * pixels),
              data.images.data.begin() + static_cast<std::ptrdiff_t>((first + count) * pixels), out.data.begin());
    return out;
}

// The images at `indices`, in that order, with their labels.
inline Dataset select(const Dataset& data, const std::vector<size_t>& indices) {
    const size_t pixels = static_cast<size_t>(data.height()) * static_cast<size_t>(data.width());
    Dataset out;
    out.images = Tensor({static_cast<int>(indices.size()), 1, data.height(), data.width()});
    for (size_t k = 0; k < indices.size(); ++k) {
        const size_t i = indices[k];
        if (i >= data.size())
            throw std::out_of_range("select: index " + std::to_string(i) + " of a dataset of " +
                                    std::to_string(data.size()) + " images");
        std::copy(data.images.data.begin() + static_cast<std::ptrdiff_t>(i * pixels),
                  data.images.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * pixels),
                  out.images.data.begin() + static_cast<std::ptrdiff_t>(k * pixels));
        out.labels.push_back(data.labels[i]);
    }
    return out;
}

// Only the images whose label is one of `classes`, in their original order.
// only_classes(train, {3}) is the "normal" training set of a one-class anomaly detector.
inline Dataset only_classes(const Dataset& data, const std::vector<int>& classes) {
    std::vector<size_t> keep;
    for (size_t i = 0; i < data.size(); ++i)
        if (std::find(classes.begin(), classes.end(), data.labels[i]) != classes.end()) keep.push_back(i);
    return select(data, keep);
}

// The first n images (all of them if n >= size()): quick experiments.
inline Dataset subset(const Dataset& data, size_t n) {
    std::vector<size_t> first_n(std::min(n, data.size()));
    for (size_t i = 0; i < first_n.size(); ++i) first_n[i] = i;
    return select(data, first_n);
}

// How many images of each class: counts[c] for c in 0..9.
inline std::vector<size_t> class_counts(const Dataset& data) {
    std::vector<size_t> counts(kNumClasses, 0);
    for (int label : data.labels) {
        if (label < 0 || label >= kNumClasses)
            throw std::out_of_range("class_counts: label " + std::to_string(label) + " is outside 0..9");
        counts[static_cast<size_t>(label)] += 1;
    }
    return counts;
}

}  // namespace minigan::data

// Batcher, the shuffled mini-batches, comes with the Dataset: one include gives a training loop
// everything it needs. (batches.hpp includes this file too; #pragma once makes the cycle harmless.)
#include "batches.hpp"
