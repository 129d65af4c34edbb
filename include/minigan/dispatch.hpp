// dispatch.hpp - the one switch between the reference path and the fast path.
//
// Read this before any op. include/minigan/ is the reference: every op in its plainest correct
// form, and the code that runs when a program is compiled with -DMINIGAN_REFERENCE (then no
// header of include/minigan/fast/ is even included). fast/ holds routines that exist only for
// speed; each names the reference it replaces, and tests/test_fast.cpp holds the two equal.
// By default (the fast path) an op with a fast routine calls it from one place, its dispatch
// point, which always reads:
//     #ifndef MINIGAN_REFERENCE
//         if (fast_path()) return fast::conv2d_taps(...);
//     #endif
// ReferencePath turns the fast routines off at run time too, for a scope: tests compare both.
#pragma once

namespace minigan {

#ifdef MINIGAN_REFERENCE
inline constexpr bool fast_path_compiled = false;
#else
inline constexpr bool fast_path_compiled = true;
#endif

// Run-time switch, on unless compiled out (a program-wide setting, not per thread).
inline bool& fast_path_enabled() {
    static bool enabled = fast_path_compiled;
    return enabled;
}
inline bool fast_path() { return fast_path_compiled && fast_path_enabled(); }

// The reference code only, inside a scope:  { ReferencePath ref; y = conv2d(...); }
struct ReferencePath {
    bool previous;
    ReferencePath() : previous(fast_path_enabled()) { fast_path_enabled() = false; }
    ~ReferencePath() { fast_path_enabled() = previous; }
    ReferencePath(const ReferencePath&) = delete;
    ReferencePath& operator=(const ReferencePath&) = delete;
};

// For the first line of every program's log (runtime_summary(), blas.hpp).
inline const char* path_name() { return fast_path() ? "fast path" : "reference path"; }

}  // namespace minigan
