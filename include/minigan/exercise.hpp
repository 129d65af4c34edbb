// exercise.hpp - minigan::exercise_todo, what an open exercise throws.
//
// Nothing to read first. In the repository every exercise is solved (the bodies between the
// `// EXERCISE ENN begin` / `// EXERCISE ENN end` markers of the reference headers). In a student
// workspace written by `exercises/start DIR`, each open exercise's body is a stub that throws this;
// its message names the exercise, the file:line to edit and the page to read (docs/exercises.md),
// in Portuguese, then English. A test that reaches a stub reports `THREW exception: <message>`.
// Stubs call exercise_todo::raise(): inside an OpenMP parallel loop (im2col, col2im run per image in
// parallel) an exception cannot get out (the program would abort), so there it prints the message
// and ends the program with exit code 1 instead.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minigan {

struct exercise_todo : std::logic_error {
    // id "E03", file "include/minigan/nn/linear.hpp", line: where the stub sits.
    exercise_todo(const std::string& id, const std::string& file, int line, const std::string& title_pt,
                  const std::string& title_en)
        : std::logic_error(message(id, file, line, title_pt, title_en)), id(id) {}
    std::string id;

    [[noreturn]] static void raise(const std::string& id, const std::string& file, int line, const std::string& title_pt,
                                   const std::string& title_en) {
#ifdef _OPENMP
        if (omp_get_level() > 0) {
            std::fprintf(stderr, "\nTHREW exception: %s\n  (inside an OpenMP parallel loop: the program stops here)\n",
                         message(id, file, line, title_pt, title_en).c_str());
            std::fflush(stdout);
            std::fflush(stderr);
            std::_Exit(1);
        }
#endif
        throw exercise_todo(id, file, line, title_pt, title_en);
    }

    static std::string message(const std::string& id, const std::string& file, int line, const std::string& title_pt,
                               const std::string& title_en) {
        std::string where = file + ":" + std::to_string(line), anchor = "#" + std::string(1, 'e') + id.substr(1);
        return "exercise_todo " + id + "\n"
               "  pt-BR: exercício " + id + " ainda não resolvido (" + title_pt + "): escreva o código em " + where +
               "\n         leia docs/pt-BR/exercises.md" + anchor + "; rode: ctest --test-dir build -L exercises -R " + id +
               " --output-on-failure\n"
               "  en:    exercise " + id + " to do (" + title_en + "): write the code at " + where +
               "\n         read docs/exercises.md" + anchor + "; run: ctest --test-dir build -L exercises -R " + id +
               " --output-on-failure";
    }
};

}  // namespace minigan
