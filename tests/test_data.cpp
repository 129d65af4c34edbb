// test_data.cpp - the data layer: IDX reading (raw and .gz), Dataset loading and filters, Batcher.
//
// Every test writes its own tiny IDX files into a fresh temporary folder, so the suite needs no
// download. Broken files must give a std::runtime_error naming the file and the problem, and a
// fuzz loop checks that no mangled file, raw or gzipped, can crash the reader.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <minigan/data/dataset.hpp>

using namespace minigan;
using namespace minigan::data;
namespace fs = std::filesystem;

namespace {

// A fresh folder under /tmp, removed with everything in it when the test ends.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "minigan_test_data_XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

using Bytes = std::vector<uint8_t>;

// An IDX file: 0, 0, type code, rank, the dimensions as big-endian uint32, then the payload.
Bytes idx_bytes(uint8_t type_code, const std::vector<uint32_t>& dims, const Bytes& payload) {
    Bytes out = {0, 0, type_code, static_cast<uint8_t>(dims.size())};
    for (uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

// n images of rows x cols whose pixel k of image i is (i * 31 + k * 7) % 256, and labels i % 10.
Bytes images_file(uint32_t n, uint32_t rows, uint32_t cols) {
    Bytes pixels(size_t(n) * rows * cols);
    for (size_t i = 0; i < n; ++i)
        for (size_t k = 0; k < size_t(rows) * cols; ++k) pixels[i * rows * cols + k] = uint8_t((i * 31 + k * 7) % 256);
    return idx_bytes(0x08, {n, rows, cols}, pixels);
}
Bytes labels_file(uint32_t n) {
    Bytes labels(n);
    for (size_t i = 0; i < n; ++i) labels[i] = uint8_t(i % 10);
    return idx_bytes(0x08, {n}, labels);
}

void write_raw(const std::string& path, const Bytes& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}
void write_gz(const std::string& path, const Bytes& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + path);
    if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
}
Bytes read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Runs f, which must throw a std::runtime_error, and returns the error's message.
template <class F>
std::string runtime_error_of(F f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    FAIL("expected a std::runtime_error, nothing was thrown");
    return "";
}
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A tiny dataset whose image i has every pixel equal to i (so a batch shows which images it holds).
Dataset numbered_dataset(int n, int side = 2) {
    Dataset d;
    d.images = Tensor({n, 1, side, side});
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < side * side; ++k) d.images.data[size_t(i * side * side + k)] = float(i);
    for (int i = 0; i < n; ++i) d.labels.push_back(i % 10);
    return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
TEST_CASE("idx: a good images file loads, raw and gzipped, with the same values") {
    TempDir dir;
    const Bytes file = images_file(3, 4, 5);
    write_raw(dir / "img", file);
    write_gz(dir / "img.gz", file);
    for (const std::string& path : {dir / "img", dir / "img.gz"}) {
        CAPTURE(path);
        IdxArray a = read_idx_images(path);
        CHECK(a.dims == std::vector<int>{3, 4, 5});
        REQUIRE(a.values.size() == 60);
        CHECK(a.values[0] == 0);
        CHECK(a.values[1] == 7);           // pixel k=1 of image 0: 1*7
        CHECK(a.values[20] == 31);         // pixel 0 of image 1: 1*31
        CHECK(a.values[59] == (2 * 31 + 19 * 7) % 256);
    }
    write_raw(dir / "lab", labels_file(12));
    IdxArray l = read_idx_labels(dir / "lab");
    CHECK(l.dims == std::vector<int>{12});
    CHECK(l.values[11] == 1);  // 11 % 10
}

TEST_CASE("idx: an empty set (N = 0) is a valid file") {
    TempDir dir;
    write_raw(dir / "img", images_file(0, 28, 28));
    IdxArray a = read_idx_images(dir / "img");
    CHECK(a.dims == std::vector<int>{0, 28, 28});
    CHECK(a.values.empty());
}

TEST_CASE("idx: every broken file names itself and its problem") {
    TempDir dir;
    const std::string path = dir / "train-images-idx3-ubyte";

    SUBCASE("missing file suggests data/fetch.sh") {
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path), msg);
        CHECK_MESSAGE(has(msg, "missing"), msg);
        CHECK_MESSAGE(has(msg, "bash data/fetch.sh"), msg);
    }
    SUBCASE("a directory") {
        fs::create_directory(path);
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, "is a directory"), msg);
    }
    SUBCASE("empty file") {
        write_raw(path, {});
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path + ": too short"), msg);
    }
    SUBCASE("bad magic: an HTML page") {
        const std::string html = "<!DOCTYPE html><html>404 Not Found</html>";
        write_raw(path, Bytes(html.begin(), html.end()));
        // doctest's Contains matcher does the same as the has() checks above, in one line.
        CHECK_THROWS_WITH_AS(read_idx_images(path), doctest::Contains("not an IDX file"), std::runtime_error);
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path), msg);
        CHECK_MESSAGE(has(msg, "0x3c 0x21"), msg);  // '<' '!'
    }
    SUBCASE("a type code other than unsigned byte") {
        write_raw(path, idx_bytes(0x0D, {1, 2, 2}, Bytes(16, 0)));  // float32
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path), msg);
        CHECK_MESSAGE(has(msg, "type code 0x0d (float32)"), msg);
        write_raw(path, idx_bytes(0x42, {1, 2, 2}, Bytes(4, 0)));
        msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, "not an IDX type"), msg);
    }
    SUBCASE("wrong rank: a labels file read as images, and the reverse") {
        write_raw(path, labels_file(5));
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path), msg);
        CHECK_MESSAGE(has(msg, "wrong rank: the header says 1 dimensions, but an images file has 3"), msg);
        write_raw(path, images_file(2, 2, 2));
        msg = runtime_error_of([&] { read_idx_labels(path); });
        CHECK_MESSAGE(has(msg, "but a labels file has 1"), msg);
    }
    SUBCASE("header cut off inside the dimensions") {
        Bytes b = images_file(2, 3, 3);
        b.resize(10);
        write_raw(path, b);
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path + ": truncated: the header of a rank-3 IDX file is 16 bytes, the file has 10"), msg);
    }
    SUBCASE("truncated pixels") {
        Bytes b = images_file(60, 28, 28);
        b.resize(16 + 1234);
        write_raw(path, b);
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path + ": truncated: header says 60x28x28 = 47040 bytes of pixels, file has 1234"), msg);
    }
    SUBCASE("trailing bytes") {
        Bytes b = images_file(2, 3, 3);
        b.push_back(0xAB);
        b.push_back(0xCD);
        write_raw(path, b);
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path + ": trailing bytes"), msg);
        CHECK_MESSAGE(has(msg, "2 too many"), msg);
    }
    SUBCASE("absurd dimensions: a product that would overflow 32 or 64 bits") {
        write_raw(path, idx_bytes(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, Bytes(8, 0)));
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path + ": absurd dimensions 4294967295x4294967295x4294967295"), msg);
        write_raw(path, idx_bytes(0x08, {70000, 1000, 1000}, Bytes(8, 0)));  // 70 GB of "pixels"
        msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, "absurd dimensions 70000x1000x1000"), msg);
    }
    SUBCASE("a huge dimension next to a zero one is absurd too (it must fit an int)") {
        write_raw(path, idx_bytes(0x08, {0, 0xFFFFFFFFu, 28}, {}));
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, "absurd dimensions 0x4294967295x28"), msg);
    }
}

TEST_CASE("idx: corrupted and truncated gzip files are errors, not garbage") {
    TempDir dir;
    const std::string path = dir / "t10k-images-idx3-ubyte.gz";
    write_gz(path, images_file(20, 8, 8));
    const Bytes good = read_bytes(path);
    REQUIRE(good.size() > 30);

    SUBCASE("a flipped byte in the compressed data or the CRC") {
        for (size_t at : {good.size() / 2, good.size() - 6}) {  // middle of the stream; the CRC-32 trailer
            Bytes bad = good;
            bad[at] ^= 0x55;
            write_raw(path, bad);
            std::string msg = runtime_error_of([&] { read_idx_images(path); });
            CHECK_MESSAGE(has(msg, path + ": corrupt or truncated gzip data (zlib: "), msg);
        }
    }
    SUBCASE("cut off in the middle") {
        write_raw(path, Bytes(good.begin(), good.begin() + static_cast<long>(good.size() / 2)));
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path + ": corrupt or truncated gzip data"), msg);
    }
    SUBCASE("a well-formed gzip of a truncated IDX file") {
        Bytes idx = images_file(20, 8, 8);
        idx.resize(idx.size() - 1);
        write_gz(path, idx);
        std::string msg = runtime_error_of([&] { read_idx_images(path); });
        CHECK_MESSAGE(has(msg, path + ": truncated: header says 20x8x8 = 1280 bytes of pixels, file has 1279"), msg);
    }
}

// ---------------------------------------------------------------------------------------------
TEST_CASE("dataset: loading scales pixels to [-1, 1] and keeps labels") {
    TempDir dir;
    // 2 images of 1x3: pixels 0, 255, 51 and 127, 128, 1.
    write_raw(dir / "train-images-idx3-ubyte", idx_bytes(0x08, {2, 1, 3}, {0, 255, 51, 127, 128, 1}));
    write_raw(dir / "train-labels-idx1-ubyte", idx_bytes(0x08, {2}, {7, 0}));
    Dataset d = load_mnist_like(dir.path.string(), "train");
    CHECK(d.size() == 2);
    CHECK(d.images.shape == Shape{2, 1, 1, 3});
    CHECK(d.height() == 1);
    CHECK(d.width() == 3);
    CHECK(d.labels == std::vector<int>{7, 0});
    CHECK(d.images[0] == -1.0f);                        // 0 / 127.5 - 1
    CHECK(d.images[1] == 1.0f);                         // 255 / 127.5 - 1 = 2 - 1, exact in float
    CHECK(d.images[2] == doctest::Approx(-0.6));        // 51 / 127.5 - 1 = 0.4 - 1
    CHECK(d.images[3] == doctest::Approx(-1.0 / 255));  // 127 / 127.5 - 1
    CHECK(d.images[4] == doctest::Approx(1.0 / 255));   // 128 / 127.5 - 1
    for (float v : d.images.data) CHECK((v >= -1.0f && v <= 1.0f));
}

TEST_CASE("dataset: raw or .gz files, train or test split, named data sets") {
    TempDir root;
    fs::create_directories(root.path / "mnist");
    fs::create_directories(root.path / "fashion-mnist");
    write_raw(root / "mnist/train-images-idx3-ubyte", images_file(12, 28, 28));
    write_raw(root / "mnist/train-labels-idx1-ubyte", labels_file(12));
    write_gz(root / "fashion-mnist/t10k-images-idx3-ubyte.gz", images_file(5, 28, 28));
    write_gz(root / "fashion-mnist/t10k-labels-idx1-ubyte.gz", labels_file(5));

    Dataset train = load_dataset("mnist", "train", root.path.string());
    CHECK(train.images.shape == Shape{12, 1, 28, 28});
    Dataset test = load_dataset("fashion", "test", root.path.string());
    CHECK(test.images.shape == Shape{5, 1, 28, 28});
    CHECK(test.labels == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(test.images[28 * 28 + 1] == doctest::Approx(pixel_to_unit(31 + 7)));  // image 1, pixel 1

    // The raw file wins when both are there (fetch.sh leaves one or the other).
    write_gz(root / "mnist/train-images-idx3-ubyte.gz", images_file(3, 28, 28));
    CHECK(load_dataset("mnist", "train", root.path.string()).size() == 12);

    std::string msg = runtime_error_of([&] { load_dataset("mnist", "test", root.path.string()); });
    CHECK_MESSAGE(has(msg, root / "mnist/t10k-images-idx3-ubyte: missing"), msg);
    CHECK_MESSAGE(has(msg, "t10k-images-idx3-ubyte.gz"), msg);
    CHECK_MESSAGE(has(msg, "bash data/fetch.sh"), msg);

    CHECK_THROWS_AS(load_dataset("cifar10", "train", root.path.string()), std::invalid_argument);
    CHECK_THROWS_AS(load_dataset("mnist", "validation", root.path.string()), std::invalid_argument);
}

TEST_CASE("dataset: images and labels that do not belong together") {
    TempDir dir;
    write_raw(dir / "train-images-idx3-ubyte", images_file(6, 2, 2));
    SUBCASE("count mismatch names both files and both counts") {
        write_raw(dir / "train-labels-idx1-ubyte", labels_file(5));
        std::string msg = runtime_error_of([&] { load_mnist_like(dir.path.string(), "train"); });
        CHECK_MESSAGE(has(msg, dir / "train-images-idx3-ubyte holds 6 images"), msg);
        CHECK_MESSAGE(has(msg, dir / "train-labels-idx1-ubyte holds 5 labels"), msg);
    }
    SUBCASE("a label outside 0..9") {
        write_raw(dir / "train-labels-idx1-ubyte", idx_bytes(0x08, {6}, {1, 2, 3, 10, 4, 5}));
        std::string msg = runtime_error_of([&] { load_mnist_like(dir.path.string(), "train"); });
        CHECK_MESSAGE(has(msg, dir / "train-labels-idx1-ubyte: label 10 of image 3 is outside 0..9"), msg);
    }
}

TEST_CASE("dataset: only_classes, subset, image_range, class_counts") {
    Dataset d = numbered_dataset(25);  // image i: pixels = i, label i % 10

    Dataset threes = only_classes(d, {3});
    CHECK(threes.labels == std::vector<int>{3, 3, 3});
    CHECK(threes.images.shape == Shape{3, 1, 2, 2});
    CHECK(threes.images[0] == 3.0f);   // images 3, 13, 23, in order
    CHECK(threes.images[4] == 13.0f);
    CHECK(threes.images[11] == 23.0f);

    Dataset some = only_classes(d, {9, 0});
    CHECK(some.labels == std::vector<int>{0, 9, 0, 9, 0});
    CHECK(only_classes(d, {}).size() == 0);

    Dataset first = subset(d, 4);
    CHECK(first.size() == 4);
    CHECK(first.images.shape == Shape{4, 1, 2, 2});
    CHECK(first.images[15] == 3.0f);
    CHECK(subset(d, 1000).size() == 25);  // more than there is: all of them

    Tensor middle = image_range(d, 10, 2);
    CHECK(middle.shape == Shape{2, 1, 2, 2});
    CHECK(middle[0] == 10.0f);
    CHECK(middle[7] == 11.0f);
    CHECK_THROWS_AS(image_range(d, 24, 2), std::out_of_range);

    CHECK(class_counts(d) == std::vector<size_t>{3, 3, 3, 3, 3, 2, 2, 2, 2, 2});
}

// ---------------------------------------------------------------------------------------------
// The images a Batcher dealt out in one epoch, identified by their pixel value (= their index).
static std::vector<int> one_epoch(Batcher& b, int epoch, int first_batch = 0) {
    b.start_epoch(epoch, first_batch);
    std::vector<int> seen;
    Tensor images;
    std::vector<int> labels;
    while (b.next(images, labels)) {
        const size_t pixels = 4;  // 2x2 images
        REQUIRE(images.shape[0] == static_cast<int>(labels.size()));
        for (size_t k = 0; k < labels.size(); ++k) {
            const int index = static_cast<int>(images[k * pixels]);
            CHECK(images[k * pixels + 3] == float(index));  // the whole image was copied
            CHECK(labels[k] == index % 10);                  // and its label goes with it
            seen.push_back(index);
        }
    }
    return seen;
}

TEST_CASE("batches: every image exactly once per epoch, with or without the last small batch") {
    Dataset d = numbered_dataset(10);
    Batcher keep_last(d, 3, 42, /*drop_last=*/false);
    CHECK(keep_last.batches_per_epoch() == 4);  // 3 + 3 + 3 + 1
    std::vector<int> seen = one_epoch(keep_last, 0);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

    Batcher drop_last(d, 3, 42);
    CHECK(drop_last.batches_per_epoch() == 3);  // the 10th image waits for another epoch
    Tensor images;
    std::vector<int> labels;
    int batches = 0;
    while (drop_last.next(images, labels)) {
        CHECK(images.shape == Shape{3, 1, 2, 2});
        ++batches;
    }
    CHECK(batches == 3);
    CHECK_FALSE(drop_last.next(images, labels));  // stays over until start_epoch()

    std::vector<size_t> perm = epoch_permutation(1000, 7, 3);
    std::sort(perm.begin(), perm.end());
    std::vector<size_t> all(1000);
    std::iota(all.begin(), all.end(), size_t(0));
    CHECK(perm == all);
}

TEST_CASE("batches: the order depends only on (seed, epoch), so a resumed run sees the same batches") {
    Dataset d = numbered_dataset(100);
    Batcher a(d, 10, 1234), b(d, 10, 1234), other_seed(d, 10, 99);
    const std::vector<int> a0 = one_epoch(a, 0), a1 = one_epoch(a, 1);
    CHECK(a0 == one_epoch(b, 0));           // same seed, same epoch: same batches
    CHECK(a1 == one_epoch(b, 1));
    CHECK(a0 != a1);                        // a new epoch, a new order
    CHECK(a0 != one_epoch(other_seed, 0));  // a new seed, a new order
    CHECK(one_epoch(b, 5) == one_epoch(a, 5));  // history does not matter: b never saw epochs 2-4 here

    // Resuming in the middle of epoch 1 at batch 4 gives the rest of the uninterrupted epoch.
    std::vector<int> rest = one_epoch(b, 1, 4);
    CHECK(rest == std::vector<int>(a1.begin() + 40, a1.end()));

    // Pinned: the shuffle is our own code (not std::shuffle), so this holds on every compiler.
    // If it changes, resumed runs of older checkpoints would see different batches.
    CHECK(epoch_permutation(10, 42, 0) == epoch_permutation(10, 42, 0));
    const std::vector<size_t> pinned = epoch_permutation(8, 2024, 3);
    CHECK(pinned == std::vector<size_t>{7, 5, 0, 1, 2, 4, 6, 3});
}

TEST_CASE("batches: Fisher-Yates is fair: each image leads an epoch about equally often") {
    // 4 images, 4000 epochs: each index should come first ~1000 times (std. dev. ~27).
    std::vector<int> first_count(4, 0);
    for (int epoch = 0; epoch < 4000; ++epoch) first_count[epoch_permutation(4, 5, epoch)[0]] += 1;
    for (int c : first_count) CHECK((c > 850 && c < 1150));
}

TEST_CASE("batches: bad arguments are refused") {
    Dataset d = numbered_dataset(5);
    CHECK_THROWS_AS(Batcher(d, 0, 1), std::invalid_argument);
    CHECK_THROWS_AS(Batcher(d, 6, 1), std::invalid_argument);  // no full batch with drop_last
    CHECK(Batcher(d, 6, 1, false).batches_per_epoch() == 1);
    Dataset empty;
    CHECK_THROWS_AS(Batcher(empty, 1, 1), std::invalid_argument);
    Batcher b(d, 2, 1);
    CHECK_THROWS_AS(b.start_epoch(-1), std::invalid_argument);
    CHECK_THROWS_AS(b.start_epoch(0, 3), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Mangled files must never crash the reader (run this under -fsanitize=address,undefined):
// each one either loads consistently or throws a std::runtime_error that names the file.
TEST_CASE("idx fuzz: random byte flips, truncations and appends, raw and gzipped") {
    TempDir dir;
    const Bytes images = images_file(3, 4, 5), labels = labels_file(3);
    write_gz(dir / "seed.gz", images);
    const Bytes images_gz = read_bytes(dir / "seed.gz");
    std::mt19937 rng(20240601);
    auto below = [&](size_t n) { return static_cast<size_t>(rng() % n); };

    auto mangle = [&](Bytes b) {
        switch (rng() % 4) {
            case 0:  // flip 1-3 bytes anywhere
                for (size_t k = 0, flips = 1 + below(3); k < flips; ++k) b[below(b.size())] ^= uint8_t(1 + below(255));
                break;
            case 1:  // set a header byte to anything: magic, type, rank and dimensions
                b[below(std::min<size_t>(16, b.size()))] = uint8_t(rng());
                break;
            case 2:  // cut off
                b.resize(below(b.size()));
                break;
            default:  // append 1-8 bytes
                for (size_t k = 0, extra = 1 + below(8); k < extra; ++k) b.push_back(uint8_t(rng()));
        }
        return b;
    };

    int loaded = 0, refused = 0;
    for (int trial = 0; trial < 6000; ++trial) {
        const int mode = trial % 3;  // 0: raw images, 1: mangled gzip bytes, 2: gzip of mangled IDX
        const std::string path = dir / (mode == 0 ? "img" : "img.gz");
        if (mode == 0) write_raw(path, mangle(images));
        if (mode == 1) write_raw(path, mangle(images_gz));
        if (mode == 2) write_gz(path, mangle(images));
        try {
            IdxArray a = read_idx_images(path);
            REQUIRE(a.dims.size() == 3);
            REQUIRE(a.values.size() == size_t(a.dims[0]) * size_t(a.dims[1]) * size_t(a.dims[2]));
            ++loaded;
        } catch (const std::runtime_error& e) {
            REQUIRE_MESSAGE(has(e.what(), path + ": "), e.what());
            ++refused;
        }
    }
    // Labels through the whole loader: mangled labels against good images.
    write_raw(dir / "train-images-idx3-ubyte", images);
    for (int trial = 0; trial < 1500; ++trial) {
        write_raw(dir / "train-labels-idx1-ubyte", mangle(labels));
        try {
            Dataset d = load_mnist_like(dir.path.string(), "train");
            REQUIRE(d.size() == 3);
            for (int label : d.labels) REQUIRE((label >= 0 && label <= 9));
            ++loaded;
        } catch (const std::runtime_error& e) {
            REQUIRE_MESSAGE(has(e.what(), "train-labels-idx1-ubyte"), e.what());
            ++refused;
        }
    }
    MESSAGE("fuzz: " << loaded << " mangled files loaded consistently, " << refused << " refused with a message");
    CHECK(refused > 0);
}
