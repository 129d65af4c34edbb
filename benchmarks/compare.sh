#!/usr/bin/env bash
# benchmarks/compare.sh - minigan's benchmark and PyTorch's (../shared/peers/torch_bench.py) back
# to back, same models, batch and threads, several alternations; prints a markdown table of the
# medians and the ratios, then peak memory and the compile time of one example.
#
#   bash benchmarks/compare.sh                     # threads 1 and 2, 3 alternations, batch 64
#   MODELS="demo" THREADS="1 2" bash benchmarks/compare.sh
#       MODELS picks the rows (default "vanilla dcgan demo"); demo is 02_dcgan's defaults at
#       DEMO_BATCH (default 32, the demo's batch) beside its PyTorch twin, benchmarks/torch_demo_bench.py
#   ROUNDS=5 THREADS="2" bash benchmarks/compare.sh
#   SKIP_MEMORY=1 SKIP_COMPILE=1 bash benchmarks/compare.sh
#   EXTRA="pre=/tmp/old/benchmark reference=build-ref/examples/benchmark" bash benchmarks/compare.sh
#       also runs other builds of examples/benchmark in every round, right after minigan's (an
#       older commit, the reference path): one more column each, with its ratio to PyTorch
#
# Environment: OPENBLAS_CORETYPE is exported as Haswell for both programs unless already set
# (../shared/peers/README.md measured under it; it picks OpenBLAS's AVX2 kernel). torch_bench.py
# sets OMP_WAIT_POLICY=PASSIVE for itself; minigan gets the same (MINIGAN_OMP_WAIT_POLICY=ACTIVE
# to try the other, =env to leave the environment's; docs/performance.md, "Threads").
# BUILD (default build-perf, else build) must hold
# examples/benchmark; PYTHON (default /usr/bin/python3) must import torch (Debian's python3-torch).
# Raw JSON lines go to $OUT (default /tmp/minigan-compare), one file per run.
# PEAK_PER_CORE: the SGEMM GFLOP/s of one core for the "fraction of peak" column (117, README).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-"1 2"}
BATCH=${BATCH:-64}
STEPS=${STEPS:-20}
WARMUP=${WARMUP:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
PEER=${PEER:-$ROOT/../shared/peers/torch_bench.py}
DEMO_PEER=${DEMO_PEER:-$ROOT/benchmarks/torch_demo_bench.py}
MODELS=${MODELS:-"vanilla dcgan demo"}
DEMO_BATCH=${DEMO_BATCH:-32}
for m in $MODELS; do
  [[ $m == vanilla || $m == dcgan || $m == demo ]] || { echo "compare.sh: MODELS: '$m' is not vanilla, dcgan or demo" >&2; exit 1; }
done
batch_of() { if [[ $1 == demo ]]; then echo "$DEMO_BATCH"; else echo "$BATCH"; fi; }
OUT=${OUT:-/tmp/minigan-compare}
PEAK_PER_CORE=${PEAK_PER_CORE:-117}
BUILD=${BUILD:-}
if [[ -z $BUILD ]]; then
  for b in build-perf build; do [[ -x $b/examples/benchmark ]] && BUILD=$b && break; done
fi
BENCH=$ROOT/${BUILD:-build}/examples/benchmark
if [[ ! -x $BENCH ]]; then
  echo "compare.sh: no $BENCH; build it first:" >&2
  echo "  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build --target benchmark" >&2
  exit 1
fi
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "compare.sh: $PYTHON cannot import torch (apt-get install python3-torch)" >&2
  exit 1
fi
MINIGAN_OMP_WAIT_POLICY=${MINIGAN_OMP_WAIT_POLICY:-PASSIVE}
minigan_env=()
[[ $MINIGAN_OMP_WAIT_POLICY != env ]] && minigan_env=(env "OMP_WAIT_POLICY=$MINIGAN_OMP_WAIT_POLICY")
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl

echo "# compare.sh: $(date -u +%FT%TZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE OMP_WAIT_POLICY: minigan $MINIGAN_OMP_WAIT_POLICY, PyTorch PASSIVE (torch_bench.py's default); batch=$BATCH (demo: $DEMO_BATCH) steps=$STEPS warmup=$WARMUP rounds=$ROUNDS threads=($THREADS) models=($MODELS)"
echo "# minigan: $BENCH"
echo "# torch:   $PYTHON $PEER; demo: $PYTHON $DEMO_PEER"
extra_labels=()
for e in ${EXTRA:-}; do
  label=${e%%=*} path=${e#*=}
  [[ $label =~ ^[a-z][a-z0-9_]*$ && $label != minigan && $label != torch && -x $path ]] ||
    { echo "compare.sh: EXTRA entry '$e' is not label=executable (label: lower-case letters, digits, _)" >&2; exit 1; }
  extra_labels+=("$label")
  echo "# $label: $path"
done
for ((r = 1; r <= ROUNDS; ++r)); do
  for t in $THREADS; do
    for m in $MODELS; do
      b=$(batch_of "$m") run=$m-t$t-r$r
      "${minigan_env[@]}" "$BENCH" --model "$m" --batch "$b" --threads "$t" --steps "$STEPS" --warmup "$WARMUP" \
        >"$OUT/minigan-$run.jsonl" 2>"$OUT/minigan-$run.log"
      for e in ${EXTRA:-}; do  # an older build may not know --model demo: its cell stays empty
        "${minigan_env[@]}" "${e#*=}" --model "$m" --batch "$b" --threads "$t" --steps "$STEPS" --warmup "$WARMUP" \
          >"$OUT/${e%%=*}-$run.jsonl" 2>"$OUT/${e%%=*}-$run.log" || rm -f "$OUT/${e%%=*}-$run.jsonl"
      done
      if [[ $m == demo ]]; then
        "$PYTHON" "$DEMO_PEER" --batch "$b" --threads "$t" --steps "$STEPS" --warmup "$WARMUP" \
          --forward-only-generator >"$OUT/torch-$run.jsonl" 2>"$OUT/torch-$run.log"
      else
        "$PYTHON" "$PEER" --model "$m" --batch "$b" --threads "$t" --steps "$STEPS" --warmup "$WARMUP" \
          --forward-only-generator >"$OUT/torch-$run.jsonl" 2>"$OUT/torch-$run.log"
      fi
    done
    echo "# round $r, $t thread(s) done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done

"$PYTHON" - "$OUT" "$PEAK_PER_CORE" "${extra_labels[@]}" <<'EOF'
import glob, json, os, statistics, sys
out, peak, extras = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
runs = {}  # (framework, model, mode, threads) -> [images_per_s], and gflops
flops = {}
for path in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
    fw = os.path.basename(path).split("-", 1)[0]  # minigan, torch or an EXTRA label (no '-' in any)
    for line in open(path):
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        key = (fw, d["model"], d["mode"], int(d["threads"]))
        runs.setdefault(key, []).append(d["images_per_s"])
        flops[(d["model"], d["mode"], int(d["threads"]), d["batch"])] = d["flops_per_step"]
print()
print("| model | mode | threads | minigan images/s | PyTorch images/s | ratio | minigan GFLOP/s | fraction of SGEMM peak |"
      + "".join(f" {e} images/s | {e} ratio |" for e in extras))
print("|---|---|---|---|---|---|---|---|" + "---|---|" * len(extras))
for model in ("vanilla", "dcgan", "demo"):
    for mode in ("train_step", "g_forward"):
        for t in sorted({k[3] for k in runs}):
            ours, theirs = runs.get(("minigan", model, mode, t)), runs.get(("torch", model, mode, t))
            if not ours or not theirs:
                continue
            mo, mt = statistics.median(ours), statistics.median(theirs)
            fl = [v for (m, md, th, b), v in flops.items() if m == model and md == mode and th == t][0]
            batch = [b for (m, md, th, b) in flops if m == model and md == mode and th == t][0]
            gf = fl * mo / batch / 1e9
            spread = lambda xs: f"{statistics.median(xs):.0f} ({min(xs):.0f}-{max(xs):.0f})"
            cols = ""
            for e in extras:
                xs = runs.get((e, model, mode, t))
                cols += f" {spread(xs)} | {statistics.median(xs) / mt:.2f}x |" if xs else " - | - |"
            print(f"| {model} | {mode} | {t} | {spread(ours)} | {spread(theirs)} | **{mo / mt:.2f}x** | "
                  f"{gf:.0f} | {gf / (peak * t):.0%} |" + cols)
print()
print(f"images/s: median over rounds (min-max); ratio = median minigan / median PyTorch. GFLOP/s = the peer's "
      f"nominal FLOP model (README) / median step time; peak = {peak:.0f} GFLOP/s per thread (OpenBLAS SGEMM, "
      f"Haswell kernel). minigan skips work the nominal model counts (D's weight gradients in the G step, "
      f"products with padding), so its fraction can pass what its GEMMs really run at. demo: 02_dcgan's defaults "
      f"(G width 0.25, D width 0.75 on pairs, its batch), its step with the weight average's update, beside "
      f"benchmarks/torch_demo_bench.py.")
EOF

if [[ -z ${SKIP_MEMORY:-} ]]; then
  echo
  echo "Peak resident memory, dcgan training step at batch $BATCH (/usr/bin/time -v, 1 thread, 5 steps):"
  echo
  echo "| program | peak RSS (MiB) |"
  echo "|---|---|"
  rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident set size/ {printf "%.0f", $6 / 1024}'; }
  ours=$(rss "${minigan_env[@]}" "$BENCH" --model dcgan --batch "$BATCH" --threads 1 --steps 5 --warmup 1 --no-sampling)
  theirs=$(rss "$PYTHON" "$PEER" --model dcgan --batch "$BATCH" --threads 1 --steps 5 --warmup 1)
  echo "| minigan benchmark --model dcgan | $ours |"
  echo "| torch_bench.py --model dcgan | $theirs |"
  echo "| ratio minigan / PyTorch | $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }') |"
fi

if [[ -z ${SKIP_COMPILE:-} ]]; then
  echo
  cxx_line="g++ -O2 -std=c++17 -fopenmp -Iinclude examples/02_dcgan.cpp -lopenblas -lz -o $OUT/dcgan"
  start=$(date +%s.%N)
  $cxx_line
  end=$(date +%s.%N)
  echo "Compile time of one example (the README's line): \`$cxx_line\`: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
fi
