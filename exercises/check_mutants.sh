#!/usr/bin/env bash
# exercises/check_mutants.sh [E01 E04 ...] - every known-wrong version of an exercise must fail its
# test with the diagnosis written for it (exercises/mutants/README.md). One scratch copy of include/
# per mutant, one exercise test rebuilt per mutant (-O0: they are tiny, -DMINIGAN_REFERENCE), JOBS at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
scratch=${MUTANT_DIR:-/tmp/minigan-mutants}
rm -rf "$scratch" && mkdir -p "$scratch"
CXX=${CXX:-g++}
flags=(-std=c++17 -O0 -fopenmp -DMINIGAN_REFERENCE -DEXERCISE_SEPARATE_MAIN)

# doctest's main, once for every mutant
printf '#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN\n#include <doctest/doctest.h>\n' > "$scratch/main.cpp"
$CXX -std=c++17 -O1 -c "$scratch/main.cpp" -o "$scratch/main.o"

ids=("$@")
if ((${#ids[@]} == 0)); then
  for f in exercises/mutants/E*.mutants; do ids+=("$(basename "$f" .mutants)"); done
fi

# one line per mutant: id<TAB>line
list=$scratch/list
: > "$list"
for id in "${ids[@]}"; do
  f=exercises/mutants/$id.mutants
  [[ -f $f ]] || { echo "ERROR: no $f"; exit 1; }
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    printf '%s\t%s\n' "$id" "$line" >> "$list"
  done < "$f"
done

run_one() {  # run_one <id> <line>
  local id=$1 line=$2 name file expr phrase dir test log
  name=$(awk -F' ;; ' '{print $1}' <<< "$line"); file=$(awk -F' ;; ' '{print $2}' <<< "$line")
  expr=$(awk -F' ;; ' '{print $3}' <<< "$line"); phrase=$(awk -F' ;; ' '{print $4}' <<< "$line")
  dir=$scratch/$id-$name
  mkdir -p "$dir/exercises"
  cp -r include "$dir/include"; cp -r exercises/lab exercises/tests "$dir/exercises/"
  sed -i -e "$expr" "$dir/$file"
  if cmp -s "$dir/$file" "$file"; then echo "BROKEN   $id $name: the sed expression changed nothing in $file"; return 1; fi
  test=$(ls "$dir"/exercises/tests/"$id"_*.cpp)
  log=$dir/log
  if ! $CXX "${flags[@]}" -I"$dir/include" "$test" "$scratch/main.o" -lopenblas -lz -o "$dir/test" > "$log" 2>&1; then
    echo "BROKEN   $id $name: does not compile (see $log)"; return 1
  fi
  if timeout 120 "$dir/test" >> "$log" 2>&1; then echo "SURVIVED $id $name: the test passed with this mistake"; return 1; fi
  if ! grep -qF -- "$phrase" "$log"; then
    echo "VAGUE    $id $name: the test failed but its output lacks the diagnosis \"$phrase\" (see $log)"; return 1
  fi
  echo "caught   $id $name: \"$phrase\""
  rm -rf "$dir/include" "$dir/test"
}
export -f run_one
export scratch CXX
export flags_str="${flags[*]}"
# bash cannot export arrays: rebuild it in the child
fails=0
while IFS=$'\t' read -r id line; do
  ( flags=($flags_str); run_one "$id" "$line" ) &
  while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n || fails=$((fails + 1)); done
done < "$list"
while (( $(jobs -rp | wc -l) > 0 )); do wait -n || fails=$((fails + 1)); done
total=$(wc -l < "$list")
echo "mutants: $((total - fails)) of $total caught with their diagnosis"
((fails == 0))
