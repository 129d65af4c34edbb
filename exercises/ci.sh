#!/usr/bin/env bash
# exercises/ci.sh - the exercises' proof, as .ci/test runs it (221 s of CPU time with JOBS=1):
#   1. on the repository (every exercise solved): the exercise tests build with CMake on the reference
#      path (-DMINIGAN_REFERENCE=ON, warnings are errors), are registered with the label `exercises`,
#      and all pass                                                                   -> build-exercises/
#   2. a workspace with every exercise open (exercises/start): every exercise test builds warning-free
#      and fails with its own exercise_todo (a clean failure, exit code 1: not a crash, not a timeout)
#   3. every mutant (exercises/mutants/) fails its exercise with the diagnosis written for it
#   4. the capstone: the open workspace solved back with the repository's code (exercises/solve) is the
#      library again, and its own build (reference path) trains 02_dcgan on a tiny IDX fixture
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
# and its Meson build too: reference=true, exercises=true, every exercise a test of the suite 'exercises'
meson setup "$scratch/all/build-meson" "$scratch/all" -Dexamples=false > "$scratch/all/meson.log" 2>&1 ||
  { tail -20 "$scratch/all/meson.log"; exit 1; }
grep -q "the reference path (-DMINIGAN_REFERENCE)" "$scratch/all/meson.log" ||
  { echo "ERROR: the workspace's Meson build is not on the reference path by default"; exit 1; }
n=$(meson test -C "$scratch/all/build-meson" --list --suite exercises 2>/dev/null | grep -c 'exercises / E' || true)
((n == ${#ids[@]})) || { echo "ERROR: the workspace's Meson build registers $n tests in the suite exercises, expected ${#ids[@]}"; exit 1; }
echo "ok: its Meson build too (reference=true, exercises=true): ${#ids[@]} tests in the suite exercises"

step "3. mutants: each known mistake fails its exercise with its diagnosis"
MUTANT_DIR=$scratch/mutants JOBS=$JOBS bash exercises/check_mutants.sh

step "4. capstone: the open workspace, solved back (exercises/solve), builds 02_dcgan on the reference path and trains it"
# exercises/solve puts the repository's code into every stub: the "finished student library". It must
# be the repository's library again (only the exercise.hpp include that start added differs) ...
exercises/solve "$scratch/all" > /dev/null
diff -r -I 'exercise_todo (exercises/start)' include "$scratch/all/include" > "$scratch/solved.diff" &&
  diff -r -I 'exercise_todo (exercises/start)' exercises/lab "$scratch/all/exercises/lab" >> "$scratch/solved.diff" ||
  { echo "ERROR: the solved workspace differs from the repository's library:"; head -20 "$scratch/solved.diff"; exit 1; }
# ... and its own build (the reference path by default) trains the demo: no MNIST in CI, so the tiny
# IDX fixture of tests/test_examples.py (256 bars at 10 angles), 2 epochs of 8 steps
cmake -S "$scratch/all" -B "$scratch/all/build" -DMINIGAN_BUILD_EXAMPLES=ON > "$scratch/all/cmake.log" 2>&1 ||
  { tail -20 "$scratch/all/cmake.log"; exit 1; }
cmake --build "$scratch/all/build" -j "$JOBS" --target 02_dcgan > "$scratch/all/build.log" 2>&1 || { tail -30 "$scratch/all/build.log"; exit 1; }
python3 -B -c "import sys; sys.path.insert(0, 'tests'); import test_examples; test_examples.make_fixture(sys.argv[1], train=256, test=64)" "$scratch/fixture"
(cd "$scratch/all" && build/examples/02_dcgan --data "$scratch/fixture" --epochs 2 --batch 32 --threads "$JOBS" --out "$scratch/dcgan-run") \
  > "$scratch/dcgan.log" 2>&1 || { tail -20 "$scratch/dcgan.log"; exit 1; }
grep -q "reference path" "$scratch/dcgan.log" || { echo "ERROR: 02_dcgan did not run on the reference path"; head -3 "$scratch/dcgan.log"; exit 1; }
[[ -s $scratch/dcgan-run/samples/epoch_002.png ]] || { echo "ERROR: 02_dcgan wrote no sample grid"; exit 1; }
python3 - "$scratch/dcgan-run/metrics.csv" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 16, f"{len(rows)} steps in metrics.csv, expected 16 (2 epochs of 8)"
loss = {name: [float(r[name]) for r in rows] for name in ("d_loss", "g_loss")}
for name, v in loss.items():
    assert all(math.isfinite(x) for x in v), f"{name} is not finite"
    assert max(v) - min(v) > 0.05, f"{name} did not move: {min(v):.4f} to {max(v):.4f} over 16 steps"
d = loss["d_loss"]
assert sum(d[-4:]) < sum(d[:4]), f"D did not learn: d_loss {sum(d[:4]) / 4:.3f} (first 4 steps) -> {sum(d[-4:]) / 4:.3f} (last 4)"
print("ok: " + ", ".join(f"{n} {v[0]:.3f} -> {v[-1]:.3f} (range {min(v):.3f}..{max(v):.3f})" for n, v in loss.items()) + ", all finite")
PY
echo "ok: $(head -1 "$scratch/dcgan.log")"

step "5. the edit-build-run loop of one exercise (E04, one core)"
mtime=$(stat -c %Y include/minigan/nn/linear.hpp)
edit_build_run() {
  touch include/minigan/nn/linear.hpp
  cmake --build build-exercises -j 1 --target E04_linear_backward > /dev/null
  build-exercises/exercises/E04_linear_backward > /dev/null
}
# wall time, and the CPU time (user + sys: what it takes on an idle core; a busy CI machine inflates the wall)
TIMEFORMAT='edit -> rebuild -> run E04: %R s wall, %U s user + %S s sys (one core, -O1)'
time edit_build_run
touch -d "@$mtime" include/minigan/nn/linear.hpp  # the "edit" undone: the next run rebuilds nothing

echo "exercises: all checks passed in $((SECONDS - start)) s"
