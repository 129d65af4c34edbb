// fast/malloc_tuning.hpp - keep freed big blocks in the heap for the next training step.
//
// Replaces: nothing in the reference (plain malloc). A training step allocates and frees the same
// big tensors (MBs each) every step. By default glibc serves blocks over ~128 KB-32 MB with mmap
// and gives them back on free, so every step pays a page fault and a zeroing of every page
// touched again. Raising the mmap and trim thresholds keeps freed blocks in the heap for the
// next step (the peak memory is the same: it is set by what is alive at once). Defined once per
// program; define MINIGAN_NO_MALLOC_TUNING before including minigan to leave malloc as it is.
#pragma once

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

namespace minigan::fast {

#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD) && !defined(MINIGAN_NO_MALLOC_TUNING)
inline const bool malloc_tuned = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);   // blocks up to 32 MB (glibc's maximum) come from the heap
    mallopt(M_TRIM_THRESHOLD, 512 << 20);  // and stay there when freed (up to 512 MB free at the top)
    return true;
}();
#endif

}  // namespace minigan::fast
