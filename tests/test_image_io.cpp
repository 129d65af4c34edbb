// test_image_io.cpp - the pictures minigan writes, decoded again by an independent reader.
//
// PNG grids and GIFs are read back with stb_image (a decoder we did not write) and compared
// pixel by pixel; plots are checked for size, colours and the tick arithmetic; atomic writes
// for leftovers and for what a failed write leaves behind. Every file goes to a fresh
// temporary folder that is removed afterwards.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "stb_image_decoder.hpp"  // before minigan: the GIF reader too

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <minigan/io/atomic_file.hpp>
#include <minigan/io/gif.hpp>
#include <minigan/io/image_grid.hpp>
#include <minigan/io/plot.hpp>

using namespace minigan;
namespace fs = std::filesystem;

namespace {

// A fresh folder per test case, removed at the end.
struct TempDir {
    fs::path path;
    TempDir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("minigan_test_image_io_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::string read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    REQUIRE_MESSAGE(f.good(), "cannot open " << path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A PNG decoded by stb_image, with the channel count stored in the file.
struct Decoded {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;
    uint8_t at(int x, int y, int c = 0) const { return pixels[(size_t(y) * width + x) * channels + c]; }
};

Decoded decode_png(const std::string& path) {
    const std::string bytes = read_bytes(path);
    Decoded d;
    stbi_uc* p = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &d.width,
                                       &d.height, &d.channels, 0);
    REQUIRE_MESSAGE(p != nullptr, path << ": " << stbi_failure_reason());
    d.pixels.assign(p, p + size_t(d.width) * d.height * d.channels);
    stbi_image_free(p);
    return d;
}

// An animated GIF decoded by stb_image: RGBA frames, delays in milliseconds.
struct DecodedGif {
    int width = 0, height = 0, frames = 0;
    std::vector<uint8_t> rgba;  // frames * height * width * 4
    std::vector<int> delays_ms;
    const uint8_t* pixel(int frame, int x, int y) const {
        return &rgba[((size_t(frame) * height + y) * width + x) * 4];
    }
};

DecodedGif decode_gif(const std::string& path) {
    const std::string bytes = read_bytes(path);
    DecodedGif g;
    int* delays = nullptr;
    int comp = 0;
    stbi_uc* p = stbi_load_gif_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()),
                                           &delays, &g.width, &g.height, &g.frames, &comp, 4);
    REQUIRE_MESSAGE(p != nullptr, path << ": " << stbi_failure_reason());
    g.rgba.assign(p, p + size_t(g.frames) * g.height * g.width * 4);
    g.delays_ms.assign(delays, delays + g.frames);
    stbi_image_free(p);
    STBI_FREE(delays);
    return g;
}

// A strict GIF reader written from the spec (w3.org/Graphics/GIF/spec-gif89a.txt, appendix F):
// it returns each frame's palette indices and fails on anything off that forgiving decoders
// (browsers, stb) let pass, e.g. an END code of the wrong width or bytes after it.
std::vector<std::vector<uint8_t>> strict_gif_frames(const std::string& file) {
    size_t pos = 0;
    auto byte = [&]() -> int {
        REQUIRE_MESSAGE(pos < file.size(), "GIF ends early");
        return static_cast<uint8_t>(file[pos++]);
    };
    auto sub_blocks = [&]() {  // length-prefixed blocks up to a 0
        std::string data;
        for (int n = byte(); n != 0; n = byte())
            for (int i = 0; i < n; ++i) data += static_cast<char>(byte());
        return data;
    };
    REQUIRE(file.compare(0, 6, "GIF89a") == 0);
    pos = 10;
    const int flags = byte();
    pos += 2 + ((flags & 0x80) ? 3 * (2 << (flags & 7)) : 0);
    std::vector<std::vector<uint8_t>> frames;
    for (int block = byte(); block != 0x3B; block = byte()) {
        if (block == 0x21) {  // extension: label, then sub-blocks
            byte();
            sub_blocks();
            continue;
        }
        REQUIRE_MESSAGE(block == 0x2C, "unexpected block " << block);
        pos += 8;
        REQUIRE(byte() == 0);  // no local palette, not interlaced
        REQUIRE(byte() == 8);  // LZW minimum code size
        const std::string lzw = sub_blocks();

        size_t bit = 0;
        auto read_code = [&](int width) {
            REQUIRE_MESSAGE(bit + width <= lzw.size() * 8, "LZW data ends before END");
            int v = 0;
            for (int i = 0; i < width; ++i, ++bit) v |= ((static_cast<uint8_t>(lzw[bit / 8]) >> (bit % 8)) & 1) << i;
            return v;
        };
        std::vector<std::vector<uint8_t>> table;  // code -> its string
        int width = 9, prev = -1;
        auto clear = [&]() {
            table.assign(258, {});
            for (int i = 0; i < 256; ++i) table[i] = {uint8_t(i)};
            width = 9, prev = -1;
        };
        REQUIRE_MESSAGE(read_code(9) == 256, "LZW data must start with CLEAR");
        clear();
        std::vector<uint8_t> out;
        for (int code = read_code(width); code != 257; code = read_code(width)) {
            if (code == 256) {
                clear();
                continue;
            }
            std::vector<uint8_t> s;
            if (code < int(table.size()) && code != 256 && code != 257) s = table[code];
            else if (code == int(table.size()) && prev >= 0) s = table[prev], s.push_back(table[prev][0]);  // cScSc
            else FAIL("LZW code " << code << " is not in the table (size " << table.size() << ")");
            out.insert(out.end(), s.begin(), s.end());
            if (prev >= 0 && table.size() < 4096) {
                std::vector<uint8_t> added = table[prev];
                added.push_back(s[0]);
                table.push_back(added);
            }
            prev = code;
            if (table.size() == (1u << width) && width < 12) ++width;
        }
        REQUIRE_MESSAGE(lzw.size() == (bit + 7) / 8, "bytes after the END code");
        frames.push_back(out);
    }
    REQUIRE_MESSAGE(pos == file.size(), "bytes after the trailer");
    return frames;
}

// A value in [-1, 1] whose byte is exactly k: (v + 1) / 2 * 255 = k.
float value_of_byte(int k) { return -1.0f + 2.0f * float(k) / 255.0f; }

}  // namespace

// ---------------------------------------------------------------------------------------
TEST_CASE("to_byte: -1 -> 0, +1 -> 255, clamped, NaN -> 0") {
    CHECK(io::to_byte(-1.0f) == 0);
    CHECK(io::to_byte(1.0f) == 255);
    CHECK(io::to_byte(0.0f) == 128);  // 127.5 rounds up
    CHECK(io::to_byte(-3.0f) == 0);
    CHECK(io::to_byte(7.0f) == 255);
    CHECK(io::to_byte(std::nanf("")) == 0);
    for (int k = 0; k < 256; ++k) CHECK(io::to_byte(value_of_byte(k)) == k);
}

TEST_CASE("make_grid: gray batch, every pixel of the decoded PNG") {
    TempDir dir;
    // 10 images of 3x4, 4 per row -> 3 rows (the last with 2 images and 2 empty cells).
    const int N = 10, H = 3, W = 4, nrow = 4;
    Tensor images({N, 1, H, W});
    for (int n = 0; n < N; ++n)
        for (int i = 0; i < H * W; ++i) images.data[n * H * W + i] = value_of_byte((n * 25 + i * 7) % 256);
    images.data[0] = -1.0f;               // image 0, pixel (0, 0) -> 0
    images.data[1] = 1.0f;                // image 0, pixel (1, 0) -> 255
    images.data[2] = -5.0f;               // clamped -> 0
    images.data[3 * H * W + 5] = 9.0f;    // image 3, pixel (1, 1), clamped -> 255
    io::write_png(dir / "grid.png", io::make_grid(images, nrow));
    Decoded png = decode_png(dir / "grid.png");

    // width = 4 * 4 + 3 separators = 19, height = 3 * 3 + 2 = 11.
    REQUIRE(png.width == 19);
    REQUIRE(png.height == 11);
    REQUIRE(png.channels == 1);
    CHECK(png.at(0, 0) == 0);
    CHECK(png.at(1, 0) == 255);
    CHECK(png.at(2, 0) == 0);
    CHECK(png.at(3 * (W + 1) + 1, 1) == 255);
    for (int y = 0; y < png.height; ++y)
        for (int x = 0; x < png.width; ++x) {
            const int col = x / (W + 1), row = y / (H + 1), ix = x % (W + 1), iy = y % (H + 1);
            const int n = row * nrow + col;
            int expected;
            if (ix == W || iy == H) expected = 128;  // separator line
            else if (n >= N) expected = 0;          // empty cell
            else expected = io::to_byte(images.data[(n * H + iy) * W + ix]);
            CHECK_MESSAGE(png.at(x, y) == expected, "pixel (" << x << ", " << y << ")");
        }
}

TEST_CASE("make_grid: sizes for N, nrow, upscale, padding; 64 MNIST images make an 8x8 grid") {
    Tensor mnist({64, 1, 28, 28}, -1.0f);
    io::Image g = io::make_grid(mnist);  // nrow 8, upscale 1, padding 1
    CHECK(g.width == 8 * 28 + 7);
    CHECK(g.height == 8 * 28 + 7);
    io::Image up = io::make_grid(mnist, 8, 2, 3);  // upscale 2, padding 3
    CHECK(up.width == 8 * 56 + 7 * 3);
    io::Image one = io::make_grid(Tensor({1, 1, 5, 6}), 8);  // fewer images than nrow: no empty columns
    CHECK(one.width == 6);
    CHECK(one.height == 5);
    io::Image row = io::make_grid(Tensor({3, 1, 2, 2}), 3, 1, 0);  // no padding
    CHECK(row.width == 6);

    // Upscale: pixel (x, y) of the input becomes a 3x3 block.
    Tensor two({1, 1, 1, 2});
    two.data = {-1.0f, 1.0f};
    io::Image big = io::make_grid(two, 8, 3);
    REQUIRE(big.width == 6);
    REQUIRE(big.height == 3);
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 6; ++x) CHECK(big.at(x, y)[0] == (x < 3 ? 0 : 255));

    CHECK_THROWS_AS(io::make_grid(Tensor({4, 784})), std::invalid_argument);
    CHECK_THROWS_AS(io::make_grid(Tensor({4, 2, 3, 3})), std::invalid_argument);
    CHECK_THROWS_AS(io::make_grid(mnist, 0), std::invalid_argument);
}

TEST_CASE("make_grid: RGB batch") {
    TempDir dir;
    // 3 RGB images of 2x2, 2 per row: (2*2 + 1) x (2*2 + 1); channel c of image n is constant.
    Tensor images({3, 3, 2, 2});
    const int bytes[3][3] = {{255, 0, 0}, {0, 255, 0}, {10, 100, 200}};
    for (int n = 0; n < 3; ++n)
        for (int c = 0; c < 3; ++c)
            for (int i = 0; i < 4; ++i) images.data[(n * 3 + c) * 4 + i] = value_of_byte(bytes[n][c]);
    io::save_image_grid(dir / "rgb.png", images, 2);
    Decoded png = decode_png(dir / "rgb.png");
    REQUIRE(png.width == 5);
    REQUIRE(png.height == 5);
    REQUIRE(png.channels == 3);
    for (int c = 0; c < 3; ++c) {
        CHECK(png.at(0, 0, c) == bytes[0][c]);
        CHECK(png.at(4, 1, c) == bytes[1][c]);  // image 1: x 3..4
        CHECK(png.at(1, 4, c) == bytes[2][c]);  // image 2: y 3..4
        CHECK(png.at(2, 0, c) == 128);          // vertical separator
        CHECK(png.at(0, 2, c) == 128);          // horizontal separator
        CHECK(png.at(4, 4, c) == 0);            // empty cell
    }
}

TEST_CASE("read_png gives back what write_png wrote") {
    TempDir dir;
    io::Image gray(7, 3, 1), rgb(2, 5, 3);
    for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = uint8_t(i * 11);
    for (size_t i = 0; i < rgb.pixels.size(); ++i) rgb.pixels[i] = uint8_t(255 - i * 7);
    io::write_png(dir / "g.png", gray);
    io::write_png(dir / "c.png", rgb);
    io::Image g2 = io::read_png(dir / "g.png"), c2 = io::read_png(dir / "c.png");
    CHECK(g2.width == 7);
    CHECK(g2.channels == 1);
    CHECK(g2.pixels == gray.pixels);
    CHECK(c2.height == 5);
    CHECK(c2.channels == 3);
    CHECK(c2.pixels == rgb.pixels);

    CHECK_THROWS_WITH_AS(io::read_png(dir / "missing.png"), doctest::Contains("missing.png"), std::runtime_error);
    io::write_file_atomic(dir / "not_a.png", std::string("hello"));
    CHECK_THROWS_WITH_AS(io::read_png(dir / "not_a.png"), doctest::Contains("not_a.png"), std::runtime_error);
}

// ---------------------------------------------------------------------------------------
TEST_CASE("GIF: gray frames decode exactly, with frame count, size and delays") {
    TempDir dir;
    // 200 x 150 = 30000 pixels. A noise frame turns almost every pixel into a new LZW code, so
    // the table fills up (codes reach 12 bits) and is cleared about 8 times.
    const int W = 200, H = 150;
    Rng rng(7);
    std::vector<io::Image> frames;
    io::Image ramp(W, H, 1), noise(W, H, 1), flat(W, H, 1, 7), few(W, H, 1), pattern(W, H, 1);
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            ramp.at(x, y)[0] = uint8_t((x + y) % 256);
            noise.at(x, y)[0] = uint8_t(rng.engine() & 0xFF);
            few.at(x, y)[0] = uint8_t(rng.engine() % 3 * 100);  // long repeated strings
            pattern.at(x, y)[0] = uint8_t(x * y % 251);
        }
    frames = {ramp, noise, flat, few, pattern, noise};

    io::GifWriter gif(dir / "a.gif", W, H, 25);
    for (size_t i = 0; i < frames.size(); ++i) gif.add_frame(frames[i], i == 2 ? 100 : -1);
    CHECK(gif.frame_count() == 6);
    gif.close();
    CHECK_FALSE(fs::exists(dir / "a.gif.tmp"));

    DecodedGif d = decode_gif(dir / "a.gif");
    REQUIRE(d.frames == 6);
    REQUIRE(d.width == W);
    REQUIRE(d.height == H);
    CHECK(d.delays_ms == std::vector<int>{250, 250, 1000, 250, 250, 250});
    std::vector<std::vector<uint8_t>> strict = strict_gif_frames(read_bytes(dir / "a.gif"));
    REQUIRE(strict.size() == frames.size());
    for (size_t f = 0; f < frames.size(); ++f) CHECK_MESSAGE(strict[f] == frames[f].pixels, "frame " << f);
    for (int f = 0; f < d.frames; ++f) {
        long wrong = 0;
        for (int y = 0; y < H; ++y)
            for (int x = 0; x < W; ++x) {
                const uint8_t* p = d.pixel(f, x, y);
                const uint8_t v = frames[f].at(x, y)[0];
                wrong += p[0] != v || p[1] != v || p[2] != v || p[3] != 255;
            }
        CHECK_MESSAGE(wrong == 0, "frame " << f);
    }
}

// Bytes in which no two neighbours (a, b) repeat: 0, then d, 2d, ..., 256d (mod 256) for
// d = 1, 3, 5, ... Each step then misses the LZW table, so every pixel is one code.
std::vector<uint8_t> distinct_pairs(int length) {
    std::vector<uint8_t> s = {0};
    for (int d = 1; int(s.size()) < length; d += 2)
        for (int j = 1; j <= 256 && int(s.size()) < length; ++j) s.push_back(uint8_t(j * d % 256));
    return s;
}

TEST_CASE("GIF: LZW at the edges (1 pixel, widths changing on the last code, a full table)") {
    TempDir dir;
    // With one code per pixel, a frame of L pixels emits L codes after the first CLEAR; the
    // table is full (CLEAR) after 3838 codes. L = 255, 767, 1791: the last code is where the
    // decoder widens (to 10, 11, 12 bits), so END must be wider too. L = 3838 + 255: the same
    // after a CLEAR, and there END is the first code to cross into one more byte, so a
    // 9-bit END would make the reader run out of data.
    std::vector<int> lengths = {1, 2, 3};
    for (int edge : {255, 767, 1791, 3838, 3838 + 255, 2 * 3838, 2 * 3838 + 767})
        for (int L = edge - 2; L <= edge + 2; ++L) lengths.push_back(L);
    for (int L : lengths) {
        io::Image frame(L, 1, 1);
        frame.pixels = distinct_pairs(L);
        const std::string path = dir / ("edge_" + std::to_string(L) + ".gif");
        io::write_gif(path, {frame, frame}, 5);
        for (const auto& indices : strict_gif_frames(read_bytes(path))) CHECK_MESSAGE(indices == frame.pixels, "length " << L);
        DecodedGif d = decode_gif(path);
        REQUIRE(d.frames == 2);
        REQUIRE(d.width == L);
        long wrong = 0;
        for (int f = 0; f < 2; ++f)
            for (int x = 0; x < L; ++x) wrong += d.pixel(f, x, 0)[0] != frame.at(x, 0)[0];
        CHECK_MESSAGE(wrong == 0, "length " << L);
    }
}

TEST_CASE("GIF: RGB frames use the 6x7x6 colour cube") {
    TempDir dir;
    io::Image frame(4, 2, 3);
    const uint8_t colours[8][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255},
                                   {0, 0, 0},   {51, 85, 204}, {130, 128, 126}, {7, 250, 99}};
    for (int i = 0; i < 8; ++i) std::copy(colours[i], colours[i] + 3, frame.at(i % 4, i / 4));
    io::write_gif(dir / "rgb.gif", {frame}, 10);
    DecodedGif d = decode_gif(dir / "rgb.gif");
    REQUIRE(d.frames == 1);
    for (int i = 0; i < 8; ++i) {
        const uint8_t* p = d.pixel(0, i % 4, i / 4);
        for (int c = 0; c < 3; ++c) {
            // Cube levels are 255/5 = 51 apart for red and blue, 255/6 = 42.5 for green:
            // the nearest level is at most half a step away. The first six are cube colours.
            const int tolerance = i < 6 ? 0 : (c == 1 ? 22 : 26);
            CHECK_MESSAGE(std::abs(p[c] - colours[i][c]) <= tolerance, "colour " << i << " channel " << c);
        }
    }
}

TEST_CASE("GIF: misuse is reported") {
    TempDir dir;
    io::GifWriter gif(dir / "x.gif", 4, 4);
    CHECK_THROWS_AS(gif.add_frame(io::Image(5, 4, 1)), std::invalid_argument);  // wrong size
    gif.add_frame(io::Image(4, 4, 1));
    CHECK_THROWS_AS(gif.add_frame(io::Image(4, 4, 3)), std::invalid_argument);  // gray then RGB
    gif.save();  // a viewable file mid-way
    CHECK(decode_gif(dir / "x.gif").frames == 1);
    gif.add_frame(io::Image(4, 4, 1, 200));
    gif.close();
    CHECK(decode_gif(dir / "x.gif").frames == 2);
    CHECK_THROWS_AS(gif.add_frame(io::Image(4, 4, 1)), std::logic_error);
    CHECK_THROWS_AS(io::write_gif(dir / "y.gif", {}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------
TEST_CASE("plot: ticks, labels and smoothing arithmetic") {
    CHECK(io::nice_step(10, 5) == doctest::Approx(2));     // raw 2
    CHECK(io::nice_step(1, 5) == doctest::Approx(0.2));    // raw 0.2
    CHECK(io::nice_step(7, 6) == doctest::Approx(1));      // raw 1.17 -> 1
    CHECK(io::nice_step(3000, 8) == doctest::Approx(500)); // raw 375 -> 3.75 -> 5
    CHECK(io::nice_step(0.012, 6) == doctest::Approx(0.002));  // raw 0.002

    io::Axis a = io::make_axis(0.13, 2.71, NAN, NAN, 6);  // raw step 0.43 -> 0.5; ends widened to 0 and 3
    CHECK(a.step == doctest::Approx(0.5));
    CHECK(a.lo == doctest::Approx(0));
    CHECK(a.hi == doctest::Approx(3));
    CHECK(io::axis_ticks(a).size() == 7);
    io::Axis fixed = io::make_axis(0.13, 2.71, 0.0f, 1.0f, 5);  // fixed limits stay
    CHECK(fixed.lo == 0);
    CHECK(fixed.hi == 1);
    io::Axis flat = io::make_axis(0.7, 0.7, NAN, NAN, 6);  // one value: widened around it
    CHECK(flat.lo < 0.7);
    CHECK(flat.hi > 0.7);

    CHECK(io::tick_label(0.5, 0.5) == "0.5");
    CHECK(io::tick_label(1.0, 0.5) == "1.0");
    CHECK(io::tick_label(0.15, 0.05) == "0.15");
    CHECK(io::tick_label(-1e-17, 0.1) == "0.0");
    CHECK(io::tick_label(1500, 500) == "1500");
    CHECK(io::tick_label(20000, 5000) == "20k");
    CHECK(io::tick_label(0, 5000) == "0");
    CHECK(io::tick_label(3e6, 1e6) == "3M");

    // window 3: mean of the neighbours; ends use what exists; a NaN is skipped and stays a gap.
    std::vector<float> y = {1, 2, 3, NAN, 5};
    std::vector<float> m = io::moving_average(y, 3);
    CHECK(m[0] == doctest::Approx(1.5));  // (1 + 2) / 2
    CHECK(m[1] == doctest::Approx(2));    // (1 + 2 + 3) / 3
    CHECK(m[2] == doctest::Approx(2.5));  // (2 + 3) / 2
    CHECK(std::isnan(m[3]));
    CHECK(m[4] == doctest::Approx(5));
}

TEST_CASE("plot: the font has a distinct glyph for every printable character") {
    std::set<std::vector<uint8_t>> glyphs;
    for (int c = 33; c <= 126; ++c) {
        const uint8_t* g = io::font_5x7[c - 32];
        std::vector<uint8_t> rows(g, g + 8);
        CHECK_MESSAGE(std::any_of(rows.begin(), rows.end(), [](uint8_t r) { return r != 0; }), "'" << char(c) << "'");
        CHECK_MESSAGE(glyphs.insert(rows).second, "'" << char(c) << "' looks like another character");
    }
}

TEST_CASE("plot: losses.png decodes, has the right size and shows both series' colours") {
    TempDir dir;
    std::vector<float> x, d, g;
    Rng rng(1);
    for (int i = 1; i <= 500; ++i) {
        x.push_back(float(i));
        d.push_back(0.7f + 0.1f * rng.normal());
        g.push_back(i == 50 ? NAN : i == 60 ? INFINITY : 1.5f + 0.3f * rng.normal());  // gaps, not crashes
    }
    const io::RGB red{200, 40, 40}, blue{40, 80, 200};
    io::PlotOptions opt;
    opt.title = "GAN losses";
    opt.smooth = 10;
    io::plot_lines(dir / "losses.png", {{"D loss", x, d, red}, {"G loss", x, g, blue}}, opt);
    CHECK_FALSE(fs::exists(dir / "losses.png.tmp"));

    Decoded png = decode_png(dir / "losses.png");
    REQUIRE(png.width == 800);
    REQUIRE(png.height == 500);
    REQUIRE(png.channels == 3);
    long white = 0, black = 0, reds = 0, blues = 0;
    for (int y = 0; y < png.height; ++y)
        for (int x = 0; x < png.width; ++x) {
            const uint8_t r = png.at(x, y, 0), gr = png.at(x, y, 1), b = png.at(x, y, 2);
            white += r == 255 && gr == 255 && b == 255;
            black += r == 0 && gr == 0 && b == 0;
            reds += r == red.r && gr == red.g && b == red.b;
            blues += r == blue.r && gr == blue.g && b == blue.b;
        }
    const long total = long(png.width) * png.height;
    CHECK(white > total / 2);  // mostly background
    CHECK(white < total);
    CHECK(black > 1000);       // frame, ticks, text
    CHECK(reds > 500);         // a 2-pixel line across ~700 pixels, plus the legend sample
    CHECK(blues > 500);

    // Other sizes, one point, no data, x left empty: all draw without throwing.
    io::PlotOptions small;
    small.width = 320, small.height = 200;
    CHECK(io::draw_plot({{"one", {3}, {4}}}, small).width == 320);
    CHECK(io::draw_plot({}, small).height == 200);
    CHECK(io::draw_plot({{"all NaN", {}, {NAN, NAN}}}, small).height == 200);
    CHECK(io::draw_plot({{"indexed", {}, {1, 2, 3}}}, small).height == 200);
    CHECK_THROWS_AS(io::draw_plot({{"bad", {1, 2}, {1}}}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------
TEST_CASE("write_file_atomic: writes, replaces, leaves no .tmp") {
    TempDir dir;
    const std::string path = dir / "f.bin";
    io::write_file_atomic(path, std::string("first\0version", 13));
    CHECK(read_bytes(path) == std::string("first\0version", 13));
    io::write_file_atomic(path, [](std::ostream& out) { out << "second " << 2; });
    CHECK(read_bytes(path) == "second 2");
    CHECK_FALSE(fs::exists(path + ".tmp"));
    io::write_file_atomic(dir / "empty", std::string());
    CHECK(fs::file_size(dir / "empty") == 0);
}

TEST_CASE("write_file_atomic: a failed write throws with the path and keeps the old file") {
    TempDir dir;
    // 1. The folder does not exist.
    const std::string nowhere = dir / "no/such/folder/out.png";
    CHECK_THROWS_WITH_AS(io::write_file_atomic(nowhere, std::string("x")), doctest::Contains((nowhere).c_str()),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(io::write_png(nowhere, io::Image(2, 2, 1)), doctest::Contains("No such file"),
                         std::runtime_error);

    // 2. The temporary name cannot be created (here: a folder is in the way; this works even
    // as root, who may write into read-only folders). The old file is untouched.
    const std::string path = dir / "keep.txt";
    io::write_file_atomic(path, std::string("old"));
    fs::create_directory(path + ".tmp");
    CHECK_THROWS_WITH_AS(io::write_file_atomic(path, std::string("new")), doctest::Contains((path).c_str()), std::runtime_error);
    CHECK(read_bytes(path) == "old");
    fs::remove(path + ".tmp");

    // 3. The rename fails (the target is a non-empty folder): the .tmp is cleaned up.
    const std::string folder = dir / "a_folder";
    fs::create_directories(folder + "/inside");
    CHECK_THROWS_WITH_AS(io::write_file_atomic(folder, std::string("x")), doctest::Contains((folder).c_str()), std::runtime_error);
    CHECK_FALSE(fs::exists(folder + ".tmp"));
    CHECK(fs::is_directory(folder + "/inside"));

    // 4. A writer that throws leaves nothing behind, and the old file stays.
    CHECK_THROWS_AS(io::write_file_atomic(path, [](std::ostream& out) {
                        out << "half";
                        throw std::runtime_error("writer failed");
                    }),
                    std::runtime_error);
    CHECK(read_bytes(path) == "old");
    CHECK_FALSE(fs::exists(path + ".tmp"));

    // 5. A read-only folder (only meaningful when not running as root).
    if (geteuid() != 0) {
        const std::string ro = dir / "readonly";
        fs::create_directory(ro);
        io::write_file_atomic(ro + "/old.txt", std::string("old"));
        fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
        CHECK_THROWS_WITH_AS(io::write_file_atomic(ro + "/old.txt", std::string("new")),
                             doctest::Contains((ro + "/old.txt").c_str()), std::runtime_error);
        fs::permissions(ro, fs::perms::owner_all);
        CHECK(read_bytes(ro + "/old.txt") == "old");
        CHECK_FALSE(fs::exists(ro + "/old.txt.tmp"));
    } else {
        MESSAGE("running as root: the read-only folder case is skipped (root may write anywhere)");
    }
}
