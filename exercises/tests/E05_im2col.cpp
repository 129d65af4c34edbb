// E05 - im2col by hand: copy every k x k patch of an image into a column, with padding and stride
// (include/minigan/im2col.hpp: im2col).
//   col[r, offset + i*Wo + j] = image[c, i*s - p + u, j*s - p + v]   (0 outside),   r = (c*k + u)*k + v
// Oracle: that formula as a naive loop here, and one case written out by hand.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E05_im2col.cpp -lopenblas -lz -o e05
#define EXERCISE "E05"
#define EXERCISE_TEST "E05_im2col"
#include "exercise_test.hpp"

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static const float kUnwritten = 7777.0f;  // what col holds before im2col: every entry must be written

// The formula, entry by entry. swap_uv / stride1 reproduce two classic mistakes, to name them.
static V naive(const V& img, const ConvGeometry& g, size_t ld, size_t offset, bool swap_uv = false, bool stride1 = false) {
    const int k = g.kernel, s = g.stride, p = g.padding;
    V col(static_cast<size_t>(g.patch_size()) * ld, kUnwritten);
    for (int c = 0; c < g.channels; ++c)
        for (int u = 0; u < k; ++u)
            for (int v = 0; v < k; ++v) {
                const int r = swap_uv ? (c * k + v) * k + u : (c * k + u) * k + v;
                int j0 = 0;  // first column inside the image (for the stride-1 mistake)
                while (j0 * s - p + v < 0) ++j0;
                for (int i = 0; i < g.out_h; ++i)
                    for (int j = 0; j < g.out_w; ++j) {
                        const int h = i * s - p + u;
                        const int w = stride1 ? j0 * s - p + v + (j - j0) : j * s - p + v;
                        const bool inside = h >= 0 && h < g.height && w >= 0 && w < g.width && !(stride1 && j < j0);
                        col[r * ld + offset + i * g.out_w + j] = inside ? img[(c * g.height + h) * g.width + w] : 0.0f;
                    }
            }
    return col;
}

static Cause like(const char* pt, const char* en, V mistaken) {
    return {pt, en, [mistaken](const V& g, const V&) { return exercise::all_close(g, mistaken, 1e-6, 1e-6); }};
}

TEST_SUITE("E05 im2col") {

TEST_CASE("E05 im2col by hand: a 3x3 image, k = 2, stride 1, no padding") {
    const V img = {1, 2, 3,
                   4, 5, 6,
                   7, 8, 9};
    const ConvGeometry g = conv_geometry(1, 3, 3, 2, 1, 0);  // Ho = Wo = 2: four patches
    V col(4 * 4, kUnwritten);
    im2col(img.data(), g, col.data(), 4, 0);
    // row r = (u, v) of the kernel, column = patch (i, j):  patches [1 2; 4 5] [2 3; 5 6] [4 5; 7 8] [5 6; 8 9]
    const V want = {1, 2, 4, 5,   // (u, v) = (0, 0): the top-left pixel of each patch
                    2, 3, 5, 6,   // (0, 1)
                    4, 5, 7, 8,   // (1, 0)
                    5, 6, 8, 9};  // (1, 1)
    exercise::compare("col", col, want, {4, 4});
}

TEST_CASE("E05 im2col with padding 1 and stride 2: (2, 5, 4) image, k = 3, second image of a batch") {
    const ConvGeometry g = conv_geometry(2, 5, 4, 3, 2, 1);  // Ho = 3, Wo = 2
    const V img = exercise::numbers(2 * 5 * 4, 31, 1.0f, 2.0f);  // no zeros: a 0 in col is padding
    const size_t P = g.positions(), ld = 2 * P, offset = P;     // columns of image 1 in a batch of 2
    V col(static_cast<size_t>(g.patch_size()) * ld, kUnwritten);
    im2col(img.data(), g, col.data(), ld, offset);
    const V want = naive(img, g, ld, offset);
    INFO("geometry: C = 2, H = 5, W = 4, k = 3, stride 2, padding 1 -> Ho = 3, Wo = 2; col (18, " << ld << "), offset " << offset);
    exercise::compare("col", col, want, {g.patch_size(), static_cast<int>(ld)},
                      {{"as posições de preenchimento (padding) não foram escritas: fora da imagem, col deve valer 0",
                        "padding positions were left unwritten: outside the image, col must be 0",
                        [want](const V& got, const V&) {
                            for (size_t i = 0; i < got.size(); ++i)
                                if (want[i] == 0.0f && got[i] == kUnwritten) return true;
                            return false;
                        }},
                       {"escreveu nas colunas de outra imagem: as colunas desta imagem começam em offset",
                        "wrote into another image's columns: this image's columns start at offset",
                        [](const V& got, const V& w) {
                            for (size_t i = 0; i < got.size(); ++i)
                                if (w[i] == kUnwritten && got[i] != kUnwritten) return true;
                            return false;
                        }},
                       like("as linhas u e v estão trocadas: a linha de col é r = (c*k + u)*k + v",
                            "rows u and v are swapped: col's row is r = (c*k + u)*k + v", naive(img, g, ld, offset, true)),
                       like("o passo (stride) 2 foi ignorado ao andar pelas colunas: a coluna j lê w = j*s - p + v",
                            "stride 2 was ignored along the columns: column j reads w = j*s - p + v", naive(img, g, ld, offset, false, true))});
}

}  // TEST_SUITE
