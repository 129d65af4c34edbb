// exercises/tests/doctest_main.cpp - doctest's main(), built once for every exercise test (-DEXERCISE_SEPARATE_MAIN).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
