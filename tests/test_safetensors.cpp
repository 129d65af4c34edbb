// test_safetensors.cpp - checkpoints: round trips, the exact byte layout, and every way a file
// or a model can fail to match.
//
// tests/test_examples.py also parses files the examples wrote with a plain Python reader
// (struct + json), an independent check of the layout.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <minigan/gan/models.hpp>
#include <minigan/io/safetensors.hpp>

using namespace minigan;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
    fs::path dir = fs::temp_directory_path() / ("minigan-safetensors-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return (dir / name).string();
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

// A file made by hand: header JSON + raw bytes, as another program would write it.
std::string handmade(const std::string& header, const std::string& data) {
    uint64_t n = header.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &n, 8);
    return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
    std::string out(values.size() * 4, '\0');
    size_t i = 0;
    for (float v : values) std::memcpy(out.data() + 4 * i++, &v, 4);
    return out;
}

}  // namespace

TEST_CASE("safetensors: the byte layout is 8-byte length, JSON header, raw little-endian float32") {
    StateDict sd{{"w", Tensor({2, 2}, {1, 2, 3, 4})}, {"b", Tensor({1}, std::vector<float>{-0.5f})}};
    std::string bytes = io::safetensors_bytes(sd, {{"epoch", "3"}});
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    REQUIRE(8 + n + 5 * 4 == bytes.size());
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    CHECK(header["w"]["dtype"] == "F32");
    CHECK(header["w"]["shape"] == nlohmann::json::array({2, 2}));
    CHECK(header["w"]["data_offsets"] == nlohmann::json::array({0, 16}));
    CHECK(header["b"]["data_offsets"] == nlohmann::json::array({16, 20}));
    CHECK(header["__metadata__"]["epoch"] == "3");
    float third;
    std::memcpy(&third, bytes.data() + 8 + n + 8, 4);
    CHECK(third == 3.0f);
}

TEST_CASE("safetensors: save + load gives back names, order, shapes, values and metadata") {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    StateDict sd;
    for (auto shape : {Shape{3, 4}, Shape{7}, Shape{2, 1, 5, 5}, Shape{}}) {
        Tensor t(shape);
        for (size_t i = 0; i < t.numel(); ++i) t[i] = normal(rng);
        sd.push_back({"t" + std::to_string(sd.size()), t});
    }
    const std::string path = temp_path("roundtrip.safetensors");
    io::save_safetensors(path, sd, {{"note", "hello"}});
    io::Metadata meta;
    StateDict back = io::load_safetensors(path, &meta);
    REQUIRE(back.size() == sd.size());
    for (size_t i = 0; i < sd.size(); ++i) {
        CHECK(back[i].first == sd[i].first);
        CHECK(back[i].second.shape == sd[i].second.shape);
        CHECK(back[i].second.data == sd[i].second.data);  // bit-exact
    }
    CHECK(meta.at("note") == "hello");
    CHECK(!fs::exists(path + ".tmp"));
}

TEST_CASE("safetensors: a whole module (BatchNorm buffers included) round trips into a fresh one") {
    manual_seed(5);
    auto G = gan::dcgan_generator(16, 0.125f);
    G->train();
    (*G)(Var(randn({4, 16})));  // moves BatchNorm's running statistics away from their defaults
    const std::string path = temp_path("generator.safetensors");
    io::save_module(path, *G);

    manual_seed(6);
    auto H = gan::dcgan_generator(16, 0.125f);
    io::load_module(path, *H);
    StateDict a = G->state_dict(), b = H->state_dict();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].first == b[i].first);
        CHECK(a[i].second.data == b[i].second.data);
    }
    // Same weights, same output in eval mode.
    G->eval();
    H->eval();
    Tensor z = randn({2, 16});
    NoGrad no_grad;
    CHECK((*G)(Var(z)).value().data == (*H)(Var(z)).value().data);
}

TEST_CASE("safetensors: a checkpoint of another architecture is refused, naming what differs") {
    const std::string path = temp_path("narrow.safetensors");
    io::save_module(path, *gan::dcgan_generator(16, 0.125f));
    auto wider = gan::dcgan_generator(16, 0.25f);
    std::string msg = error_of([&] { io::load_module(path, *wider); });
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("checkpoint has") != std::string::npos);
    CHECK(msg.find("model has") != std::string::npos);

    auto D = gan::dcgan_discriminator(0.125f);  // other names altogether
    msg = error_of([&] { io::load_module(path, *D); });
    CHECK(msg.find(path) != std::string::npos);
    CHECK_FALSE(msg.empty());
}

TEST_CASE("safetensors: files written by others: F64 / I64 are read, odd dtypes refused") {
    double d[2] = {1.5, -2.25};
    int64_t steps = 42;
    std::string data(24, '\0');
    std::memcpy(data.data(), d, 16);
    std::memcpy(data.data() + 16, &steps, 8);
    std::string bytes = handmade(
        R"({"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"n":{"dtype":"I64","shape":[],"data_offsets":[16,24]}})",
        data);
    StateDict sd = io::parse_safetensors(bytes, "f64.safetensors");
    REQUIRE(sd.size() == 2);
    CHECK(sd[0].second.data == std::vector<float>{1.5f, -2.25f});
    CHECK(sd[1].second.item() == 42.0f);

    std::string msg = error_of([&] {
        io::parse_safetensors(handmade(R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "abcd"), "f16");
    });
    CHECK(msg.find("F16") != std::string::npos);
}

TEST_CASE("safetensors: every broken file is an error naming the file and the problem") {
    const std::string good_header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    struct Case {
        const char* what;
        std::string bytes;
        const char* expected;
    };
    std::string huge_len(8, '\0');
    uint64_t big = 1ull << 40;
    std::memcpy(huge_len.data(), &big, 8);
    std::vector<Case> cases = {
        {"empty", "", "shorter than the 8-byte header"},
        {"header length beyond the file", huge_len + "{}", "exceeds the file size"},
        {"header not JSON", handmade("{nope", ""), "not a JSON object"},
        {"data cut short", handmade(good_header, floats({1})), "outside the file"},
        {"offsets do not match the shape", handmade(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", floats({1, 2})),
         "needs 12 bytes"},
        {"gap before a tensor", handmade(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", floats({1, 2})),
         "gap"},
        {"two tensors on the same bytes",
         handmade(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  floats({1})),
         "overlap"},
        {"bytes after the last tensor", handmade(good_header, floats({1, 2, 3})), "after the last tensor"},
        {"missing field", handmade(R"({"w":{"dtype":"F32","shape":[2]}})", floats({1, 2})), "malformed"},
        {"impossible shape", handmade(R"({"w":{"dtype":"F32","shape":[4294967296, 4294967296],"data_offsets":[0,8]}})",
                                      floats({1, 2})),
         "shape"},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.what));
        std::string msg = error_of([&] { io::parse_safetensors(c.bytes, "bad.safetensors"); });
        CHECK(msg.find("bad.safetensors") != std::string::npos);
        CAPTURE(msg);
        CHECK(msg.find(c.expected) != std::string::npos);
    }
    CHECK(error_of([] { io::load_safetensors(temp_path("does-not-exist.safetensors")); }).find("cannot open") !=
          std::string::npos);
}

TEST_CASE("safetensors fuzz: random byte flips and truncations never crash") {
    StateDict sd{{"w", Tensor({3, 3}, 0.5f)}, {"b", Tensor({3}, -1.0f)}};
    const std::string good = io::safetensors_bytes(sd, {{"epoch", "1"}});
    std::mt19937 rng(11);
    int refused = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        std::string bytes = good;
        if (trial % 3 == 0) {
            bytes.resize(rng() % bytes.size());
        } else {
            for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
                bytes[rng() % bytes.size()] = static_cast<char>(rng());
        }
        try {
            StateDict back = io::parse_safetensors(bytes, "fuzz");
            size_t total = 0;  // what parses must be self-consistent
            for (const auto& [name, t] : back) total += t.numel();
            CHECK(total * 4 <= bytes.size());
        } catch (const std::runtime_error&) {
            ++refused;
        }
    }
    CHECK(refused > 500);  // most damage is detected (flips inside float data are not damage)
}
