// stb_image_decoder.hpp - stb_image's full decoder (PNG and GIF) for the tests that read back
// the pictures minigan writes: a reader we did not write. minigan's own copy (io/image_grid.hpp)
// reads PNG only; include this first, in one .cpp of a test program, and minigan uses this one.
#pragma once

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
