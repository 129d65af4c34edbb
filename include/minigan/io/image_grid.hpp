// io/image_grid.hpp - images you can open: a batch of generated samples as one PNG grid.
//
// Read tensor.hpp and io/atomic_file.hpp first. Defines Image (8-bit gray or RGB pixels, the
// picture type shared with io/gif.hpp and io/plot.hpp), make_grid (a batch (N, C, H, W) in
// [-1, 1] -> one image, `nrow` per row, 1-pixel separators), and write_png / read_png /
// save_image_grid. PNG encoding and decoding are done by stb_image_write / stb_image.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "../tensor.hpp"
#include "atomic_file.hpp"

// --- stb, the single-file PNG codec (Debian/Ubuntu: libstb-dev; Homebrew: stb) ------------
// stb is a "define XXX_IMPLEMENTATION in exactly one .cpp" library. minigan is header-only,
// so we compile a private copy into every file that includes this header: STB_*_STATIC makes
// each function `static` (internal linkage), so a program of many .cpp files links without
// clashes and needs no extra -l flag. The cost is ~0.2 s of compile time per .cpp.
// Two ways to use stb yourself as well:
//  * include <stb/stb_image.h> / <stb/stb_image_write.h> (with their IMPLEMENTATION macros,
//    or linking -lstb) BEFORE minigan: we then use your copy and compile none of our own;
//  * or define MINIGAN_STB_EXTERNAL and link `pkg-config --libs stb` (-lstb, Debian's libstb).
#if !defined(STBI_INCLUDE_STB_IMAGE_H) || !defined(INCLUDE_STB_IMAGE_WRITE_H)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#if !defined(STBI_INCLUDE_STB_IMAGE_H)
#if !defined(MINIGAN_STB_EXTERNAL)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG  // the only format read_png needs
#define STBI_NO_STDIO  // we read files ourselves, to name them in errors
#endif
#include <stb/stb_image.h>
#undef STB_IMAGE_IMPLEMENTATION  // so that a later #include of stb does not compile it twice
#endif
#if !defined(INCLUDE_STB_IMAGE_WRITE_H)
#if !defined(MINIGAN_STB_EXTERNAL)
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO  // we write through write_file_atomic
#endif
#include <stb/stb_image_write.h>
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif

namespace minigan::io {

struct RGB {
    uint8_t r, g, b;
};

// An 8-bit picture. channels is 1 (gray) or 3 (RGB); pixels are row-major and interleaved:
// channel c of pixel (x, y) is pixels[(y * width + x) * channels + c]. (0, 0) is the top left.
struct Image {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;

    Image() = default;
    Image(int width_, int height_, int channels_, uint8_t fill = 0)
        : width(width_), height(height_), channels(channels_) {
        if (width <= 0 || height <= 0 || (channels != 1 && channels != 3))
            throw std::invalid_argument("Image: need width, height > 0 and 1 or 3 channels, got " +
                                        std::to_string(width) + "x" + std::to_string(height) + "x" +
                                        std::to_string(channels));
        pixels.assign(static_cast<size_t>(width) * height * channels, fill);
    }
    uint8_t* at(int x, int y) { return &pixels[(static_cast<size_t>(y) * width + x) * channels]; }
    const uint8_t* at(int x, int y) const { return &pixels[(static_cast<size_t>(y) * width + x) * channels]; }
};

// A generator's tanh output in [-1, 1] -> a byte: -1 -> 0 (black), +1 -> 255 (white),
// byte = round((v + 1) / 2 * 255). Out-of-range values are clamped; NaN becomes black.
inline uint8_t to_byte(float v) {
    if (!(v > -1.0f)) v = -1.0f;  // also catches NaN
    if (v > 1.0f) v = 1.0f;
    return static_cast<uint8_t>(std::lround((v + 1.0f) * 0.5f * 255.0f));
}

// images: (N, C, H, W) with C = 1 or 3 and values in [-1, 1]. Lays them out `nrow` per row
// (torchvision's name: it is the number of columns), row after row; each pixel becomes an
// upscale x upscale block, and a `padding`-pixel line of gray `separator` runs between
// neighbours (not around the border). Cells past the last image are black.
// Size: width = cols * W * upscale + (cols - 1) * padding with cols = min(nrow, N); the same
// for the height with rows = ceil(N / nrow).
inline Image make_grid(const Tensor& images, int nrow = 8, int upscale = 1, int padding = 1,
                       uint8_t separator = 128) {
    if (images.dim() != 4 || (images.shape[1] != 1 && images.shape[1] != 3) || images.shape[0] < 1)
        throw std::invalid_argument("make_grid: expected images of shape (N, 1 or 3, H, W), got " +
                                    shape_str(images.shape) + " (reshape flat samples, e.g. to (N, 1, 28, 28))");
    if (nrow < 1 || upscale < 1 || padding < 0)
        throw std::invalid_argument("make_grid: need nrow >= 1, upscale >= 1, padding >= 0");
    const int N = images.shape[0], C = images.shape[1], H = images.shape[2], W = images.shape[3];
    const int cols = std::min(nrow, N), rows = (N + nrow - 1) / nrow;
    const int cell_w = W * upscale, cell_h = H * upscale;
    Image grid(cols * cell_w + (cols - 1) * padding, rows * cell_h + (rows - 1) * padding, C, separator);

    for (int n = 0; n < rows * cols; ++n) {
        const int left = (n % nrow) * (cell_w + padding), top = (n / nrow) * (cell_h + padding);
        for (int c = 0; c < C; ++c)
            for (int y = 0; y < cell_h; ++y)
                for (int x = 0; x < cell_w; ++x) {
                    // Nearest-neighbour upscaling: output pixel (x, y) shows input (x/s, y/s).
                    float v = n >= N ? -1.0f  // an empty cell
                                     : images.data[((static_cast<size_t>(n) * C + c) * H + y / upscale) * W + x / upscale];
                    grid.at(left + x, top + y)[c] = to_byte(v);
                }
    }
    return grid;
}

// The PNG file's bytes, in memory.
inline std::string encode_png(const Image& image) {
    if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels || image.width <= 0)
        throw std::invalid_argument("encode_png: the image's pixels do not match its size");
    std::string png;
    auto append = [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
    };
    if (!stbi_write_png_to_func(append, &png, image.width, image.height, image.channels, image.pixels.data(),
                                image.width * image.channels))
        throw std::runtime_error("encode_png: stb_image_write failed");
    return png;
}

// Write `image` as a PNG file (atomically: see atomic_file.hpp).
inline void write_png(const std::string& path, const Image& image) { write_file_atomic(path, encode_png(image)); }

// Read a PNG file (e.g. an earlier samples/epoch_NNN.png). Gray and gray+alpha files give a
// 1-channel Image, everything else 3 channels (alpha is dropped).
inline Image read_png(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
    const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
    const int size = static_cast<int>(bytes.size());
    int w = 0, h = 0, file_channels = 0;
    if (!stbi_info_from_memory(data, size, &w, &h, &file_channels))
        throw std::runtime_error("cannot read '" + path + "': " + stbi_failure_reason());
    const int channels = file_channels <= 2 ? 1 : 3;
    stbi_uc* decoded = stbi_load_from_memory(data, size, &w, &h, &file_channels, channels);
    if (!decoded) throw std::runtime_error("cannot read '" + path + "': " + stbi_failure_reason());
    Image image(w, h, channels);
    std::copy(decoded, decoded + image.pixels.size(), image.pixels.begin());
    stbi_image_free(decoded);
    return image;
}

// The one-liner a training loop wants: samples (N, C, H, W) in [-1, 1] -> a PNG grid.
inline void save_image_grid(const std::string& path, const Tensor& images, int nrow = 8, int upscale = 1) {
    write_png(path, make_grid(images, nrow, upscale));
}

}  // namespace minigan::io
