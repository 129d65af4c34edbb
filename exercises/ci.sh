#!/usr/bin/env bash
# exercises/ci.sh - the exercises' proof, as .ci/test runs it (about 3 minutes on 2 cores):
#   1. on the repository (every exercise solved): the exercise tests build with CMake on the reference
#      path (-DMINIGAN_REFERENCE=ON, warnings are errors), are registered with the label `exercises`,
#      and all pass                                                                   -> build-exercises/
#   2. a workspace with every exercise open (exercises/start): every exercise test builds warning-free
#      and fails with its own exercise_todo (a clean failure, exit code 1: not a crash, not a timeout)
#   3. every mutant (exercises/mutants/) fails its exercise with the diagnosis written for it
#   4. the capstone: 02_dcgan compiled with -DMINIGAN_REFERENCE trains (a few steps) on the reference path
#   5. the edit-build-run loop of one exercise, one core: rebuild E04's test after an edit, run it
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
export CMAKE_GENERATOR=${CMAKE_GENERATOR:-Ninja}
start=$SECONDS
step() { printf -- '---- exercises: %s  [%ds]\n' "$1" $((SECONDS - start)); }
scratch=$(mktemp -d /tmp/minigan-exercises.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
ids=()
for f in exercises/tests/E[0-9][0-9]_*.cpp; do ids+=("$(basename "$f" .cpp)"); done
((${#ids[@]} >= 15)) || { echo "ERROR: only ${#ids[@]} exercise tests in exercises/tests/"; exit 1; }

step "1. the solved repository: CMake build on the reference path, ctest -L exercises"
cmake -S . -B build-exercises -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DMINIGAN_REFERENCE=ON -DMINIGAN_BUILD_EXERCISES=ON \
  -DMINIGAN_BUILD_TESTS=ON -DMINIGAN_BUILD_EXAMPLES=OFF -DMINIGAN_WERROR=ON > "$scratch/cmake.log" ||
  { cat "$scratch/cmake.log"; exit 1; }
cmake --build build-exercises -j "$JOBS" --target exercises
ctest --test-dir build-exercises -L exercises -j "$JOBS" --output-on-failure
registered=$(ctest --test-dir build-exercises -L exercises -N | grep -c 'Test *#' || true)
((registered == ${#ids[@]})) || { echo "ERROR: $registered tests labelled exercises, ${#ids[@]} files"; exit 1; }

# build_workspace <dir>: doctest's main once, then every exercise test of that workspace (-Werror:
# a stub must compile without a warning), JOBS at a time
build_workspace() {
  local ws=$1
  printf '#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN\n#include <doctest/doctest.h>\n' > "$ws/main.cpp"
  g++ -std=c++17 -O1 -c "$ws/main.cpp" -o "$ws/main.o"
  printf '%s\n' "${ids[@]}" | xargs -P "$JOBS" -I{} sh -c \
    "g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -DEXERCISE_SEPARATE_MAIN -Wall -Wextra -Werror -I'$ws/include' \
       '$ws/exercises/tests/{}.cpp' '$ws/main.o' -lopenblas -lz -o '$ws/{}' || { echo 'ERROR: {} does not build in $ws'; exit 255; }"
}
# expect_todo <dir> <test> <pattern>: the test fails cleanly (exit 1, within 60 s) and prints pattern
expect_todo() {
  local ws=$1 t=$2 pattern=$3 rc=0
  (cd "$ws" && timeout 60 "./$t" > "$ws/$t.log" 2>&1) || rc=$?
  if ((rc != 1)); then echo "ERROR: $t in $ws exited with $rc (expected 1: a failing test, not a crash or a timeout)"; tail -20 "$ws/$t.log"; return 1; fi
  if ! grep -q "THREW exception: $pattern" "$ws/$t.log"; then
    echo "ERROR: $t in $ws does not fail with '$pattern'"; tail -20 "$ws/$t.log"; return 1
  fi
}

step "2. a workspace with every exercise open: every test fails with its own exercise_todo"
# Each test's first case calls its exercise directly (an op's backward function by hand where the
# graph walk of E02 would be needed), so even with every exercise open it names its own.
exercises/start "$scratch/all" > /dev/null
build_workspace "$scratch/all"
for t in "${ids[@]}"; do expect_todo "$scratch/all" "$t" "exercise_todo ${t%%_*}"; done
echo "ok: all ${#ids[@]} exercise tests fail with their own exercise_todo"
# the workspace's own CMake build is on the reference path by default, with the exercises registered
cmake -S "$scratch/all" -B "$scratch/all/build" -DMINIGAN_BUILD_EXAMPLES=OFF > "$scratch/all/cmake.log" 2>&1 ||
  { tail -20 "$scratch/all/cmake.log"; exit 1; }
grep -q "the reference path (-DMINIGAN_REFERENCE)" "$scratch/all/cmake.log" ||
  { echo "ERROR: the workspace's CMake build is not on the reference path by default"; exit 1; }
n=$(ctest --test-dir "$scratch/all/build" -L exercises -N | grep -c 'Test *#' || true)
((n == ${#ids[@]})) || { echo "ERROR: the workspace registers $n exercise tests, expected ${#ids[@]}"; exit 1; }
echo "ok: the workspace configures on the reference path, with ${#ids[@]} tests labelled exercises"

step "3. mutants: each known mistake fails its exercise with its diagnosis"
MUTANT_DIR=$scratch/mutants JOBS=$JOBS bash exercises/check_mutants.sh

step "4. capstone: 02_dcgan on the reference path (-DMINIGAN_REFERENCE) trains"
g++ -O2 -std=c++17 -fopenmp -DMINIGAN_REFERENCE -Iinclude examples/02_dcgan.cpp -lopenblas -lz -o "$scratch/dcgan"
if [[ -f data/mnist/train-images-idx3-ubyte.gz || -f data/mnist/train-images-idx3-ubyte ]]; then
  "$scratch/dcgan" --limit 512 --epochs 1 --batch 32 --threads "$JOBS" --out "$scratch/dcgan-run" > "$scratch/dcgan.log" 2>&1 ||
    { tail -20 "$scratch/dcgan.log"; exit 1; }
  grep -q "reference path" "$scratch/dcgan.log" || { echo "ERROR: 02_dcgan did not run on the reference path"; head -3 "$scratch/dcgan.log"; exit 1; }
  [[ -f $scratch/dcgan-run/samples/epoch_001.png ]] || { echo "ERROR: 02_dcgan wrote no samples"; exit 1; }
  if grep -Eqi 'nan|inf' "$scratch/dcgan-run/metrics.csv"; then echo "ERROR: 02_dcgan's losses are not finite"; exit 1; fi
  echo "ok: $(head -1 "$scratch/dcgan.log")"
else
  echo "skipped the training run: no data/mnist (data/fetch.sh); compiled only"
fi

step "5. the edit-build-run loop of one exercise (E04, one core)"
mtime=$(stat -c %Y include/minigan/nn/linear.hpp)
t0=$(date +%s.%N)
touch include/minigan/nn/linear.hpp
cmake --build build-exercises -j 1 --target E04_linear_backward > /dev/null
build-exercises/exercises/E04_linear_backward > /dev/null
t1=$(date +%s.%N)
printf 'edit -> rebuild -> run E04: %.1f s (one core, -O1)\n' "$(echo "$t1 - $t0" | bc)"
touch -d "@$mtime" include/minigan/nn/linear.hpp  # the "edit" undone: the next run rebuilds nothing

echo "exercises: all checks passed in $((SECONDS - start)) s"
