// version.hpp - which minigan these headers are: MINIGAN_VERSION_MAJOR, _MINOR, _PATCH, _STRING.
//
// Nothing to read first. This is the one place the version is written: CMakeLists.txt takes its
// project() VERSION from the lines below and meson.build checks its own against them, so the
// installed CMake package (minigan-config-version.cmake) and minigan.pc say the same version.
#pragma once

#if __cplusplus < 201703L
#error "minigan needs C++17 or newer: compile with -std=c++17"
#endif

// tensor.hpp, which the engine's headers include, includes this file first. #pragma once keeps a
// second include of THIS file out; a second version.hpp means that the headers of two minigan
// copies (an old install and a newer clone, say) meet in one program, which would end in many
// "redefinition of ..." errors. Stop here instead, with a message that says what to look at.
#ifdef MINIGAN_VERSION_MAJOR
#error "minigan: headers from two minigan copies in one program (another copy's version.hpp came first). Check the -I flags, CMAKE_PREFIX_PATH or PKG_CONFIG_PATH: use one minigan."
#endif

#define MINIGAN_VERSION_MAJOR 0
#define MINIGAN_VERSION_MINOR 1
#define MINIGAN_VERSION_PATCH 0
#define MINIGAN_VERSION_STRING "0.1.0"
