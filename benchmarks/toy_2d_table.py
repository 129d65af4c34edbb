#!/usr/bin/env python3
"""benchmarks/toy_2d_table.py - every loss and remedy of examples/05_toy_2d on the ring of 8 and the
grid of 25, over 10 seeds: modes covered, high-quality share and reverse KL, beside the published
numbers (Lin et al. 2018, PacGAN, Table 1).

    python3 benchmarks/toy_2d_table.py                    # build/examples/05_toy_2d, 10 seeds, 2 jobs:
                                                          # ~310 CPU seconds, ~2.6 min on 2 cores
    SEEDS=3 JOBS=1 python3 benchmarks/toy_2d_table.py     # quicker
    ONLY=recipe python3 benchmarks/toy_2d_table.py        # one setting (a name of SETTINGS or EXTRA below)
    ONLY="recipe_1d recipe_long" python3 benchmarks/toy_2d_table.py   # the extra rows: ~3.5 min more
    DATA=ring python3 benchmarks/toy_2d_table.py          # the ring only
    HIDDEN=128 OUT=/tmp/toy-128 python3 benchmarks/toy_2d_table.py   # wider networks (~2.7x the time)
    TABLE_ONLY=1 python3 benchmarks/toy_2d_table.py       # the table of the runs done so far, running none

Each run is one line of OUT/runs.jsonl (default /tmp/minigan-toy-2d), appended as soon as it ends,
so a killed table resumes where it stopped (runs already in the file with the same flags are not
run again; delete the file to start over). At the end OUT/table.md holds the markdown table that
lesson 11 shows.
Each run is single-threaded (--threads 1): JOBS runs at a time use JOBS cores.
"""
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "build", "examples", "05_toy_2d"))
OUT = os.environ.get("OUT", "/tmp/minigan-toy-2d")
SEEDS = int(os.environ.get("SEEDS", "10"))
JOBS = int(os.environ.get("JOBS", "2"))
STEPS = os.environ.get("STEPS", "1000")  # G updates per run, except where STEPS_OF says otherwise
HIDDEN = os.environ.get("HIDDEN", "64")  # units per hidden layer of G and D (05_toy_2d's default)

# name: (what it is, flags). The plain settings first, then one remedy at a time, then the recipe.
SETTINGS = {
    "minimax": ("plain GAN, minimax loss (saturating)", "--loss minimax"),
    "ns": ("plain GAN, non-saturating loss", "--loss ns"),
    "ls": ("least squares (LSGAN)", "--loss ls"),
    "hinge": ("hinge", "--loss hinge"),
    "wgan": ("Wasserstein, weight clipping 0.01, 5 D steps", "--loss wgan --d-steps 5 --beta1 0"),
    "pack2": ("non-saturating + PacGAN2", "--loss ns --pack 2"),
    "mbstd": ("non-saturating + minibatch stddev", "--loss ns --mbstd"),
    "spectral": ("non-saturating + spectral norm", "--loss ns --spectral"),
    "recipe": ("the recipe: PacGAN2, 2 D steps, lr 3e-3 decaying to 0", "--loss ns --pack 2 --d-steps 2 --lr 3e-3 --decay"),
}
# Settings run only when named in ONLY, to answer questions about the recipe: what does its second
# D step buy, and what do more steps? (The table shows their rows when runs.jsonl has them.)
EXTRA = {
    "recipe_1d": ("the recipe with 1 D step (ONLY=recipe_1d)", "--loss ns --pack 2 --lr 3e-3 --decay"),
    "recipe_long": ("the recipe, twice the steps (ONLY=recipe_long)", "--loss ns --pack 2 --d-steps 2 --lr 3e-3 --decay"),
}
SETTINGS.update(EXTRA)
# The recipe anneals its learning rate: it needs the time to settle, the grid more than the ring.
STEPS_OF = {("recipe", "ring"): "8000", ("recipe", "grid"): "16000", ("recipe_1d", "ring"): "8000", ("recipe_1d", "grid"): "16000",
            ("recipe_long", "ring"): "16000", ("recipe_long", "grid"): "32000"}
DATA = os.environ.get("DATA", "ring grid").split()
# The published numbers: Lin et al. 2018 (PacGAN), Table 1, mean of 10 trials, 2,500 samples each, with
# their networks (G with hidden layers of 400 ReLU units, D of 200 maxout units with 5 pieces), batch 100,
# Adam at 1e-4, 400 epochs of 100,000 points: 400,000 steps. Their ring has radius 1 and standard
# deviation 0.01 (ours 2 and 0.02: the same shape at twice the scale); the grids are the same.
PUBLISHED = {
    "ring": "plain GAN 6.3 of 8 modes, 98.2 % high quality, reverse KL 0.45; PacGAN2 7.9, 95.6 %, 0.07; "
            "PacGAN3 7.8, 97.7 %, 0.10; PacGAN4 7.8, 95.9 %, 0.07 (Lin et al. 2018, Table 1, 400,000 steps)",
    "grid": "plain GAN 17.3 of 25 modes, 94.8 % high quality, reverse KL 0.70; PacGAN2 23.8, 91.3 %, 0.13; "
            "PacGAN3 24.6, 94.2 %, 0.06; PacGAN4 24.8, 93.6 %, 0.04 (Lin et al. 2018, Table 1, 400,000 steps)",
}


def command(name, data, seed):
    """The flags of one run (without --out): what a row of runs.jsonl is the result of."""
    return ["--data", data, "--seed", str(seed), "--steps", STEPS_OF.get((name, data), STEPS), "--hidden", HIDDEN,
            "--frame-every", "0", "--log-every", "0", "--threads", "1"] + SETTINGS[name][1].split()


def run(name, data, seed):
    out = os.path.join(OUT, "runs", f"{name}-{data}-{seed}")
    flags = command(name, data, seed)
    t0 = time.time()
    p = subprocess.Popen([BIN] + flags + ["--out", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = p.stdout.read()
    p.stdout.close()
    _, status, usage = os.wait4(p.pid, 0)  # the CPU time of the run itself, whatever else the machine does
    row = {"name": name, "data": data, "seed": seed, "flags": " ".join(flags)}
    if os.waitstatus_to_exitcode(status) != 0:
        return dict(row, error=log[-500:])
    with open(os.path.join(out, "results.json")) as f:
        final = json.load(f)["final"]
    return dict(row, modes=final["modes_covered"], hq=final["high_quality"], kl=final["reverse_kl"],
                seconds=round(time.time() - t0, 2), cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2))


def cpu_per_run(rows):
    """The mean CPU seconds of the runs, or - where runs.jsonl holds only their wall-clock time."""
    cpu = [r["cpu_seconds"] for r in rows if "cpu_seconds" in r]
    return f"{statistics.mean(cpu):.1f}" if len(cpu) == len(rows) else "-"


def table(rows):
    lines = ["| setting | data | modes covered (mean, min-max) | all modes | high quality | reverse KL | CPU s / run |",
             "|---|---|---|---|---|---|---|"]
    for data in DATA:
        k = 8 if data == "ring" else 25
        for name in SETTINGS:
            r = [x for x in rows if x["name"] == name and x["data"] == data and "error" not in x]
            if not r:
                continue
            modes = [x["modes"] for x in r]
            lines.append(f"| {SETTINGS[name][0]} | {data} | {statistics.mean(modes):.1f} / {k} ({min(modes)}-{max(modes)}) "
                         f"| {sum(m == k for m in modes)} of {len(r)} | {100 * statistics.mean(x['hq'] for x in r):.1f} % "
                         f"| {statistics.mean(x['kl'] for x in r):.3f} | {cpu_per_run(r)} |")
    lines.append("")
    for data in DATA:
        lines.append(f"Published, {data}: {PUBLISHED[data]}.")
    return "\n".join(lines) + "\n"


def main():
    if not os.access(BIN, os.X_OK) and not os.environ.get("TABLE_ONLY"):
        sys.exit(f"toy_2d_table: no {BIN} (cmake --build build --target 05_toy_2d; or BIN=path)")
    names = os.environ.get("ONLY", "").split() or [n for n in SETTINGS if n not in EXTRA]
    for n in names:
        if n not in SETTINGS:
            sys.exit(f"toy_2d_table: unknown setting {n} (one of {', '.join(SETTINGS)})")
    os.makedirs(OUT, exist_ok=True)
    log = os.path.join(OUT, "runs.jsonl")
    rows = [json.loads(l) for l in open(log)] if os.path.exists(log) else []
    # A row counts only for the setting's current flags: edit SETTINGS and its old rows are run again.
    rows = [r for r in rows if r.get("name") in SETTINGS and r.get("flags") == " ".join(command(r["name"], r["data"], r["seed"]))]
    done = {(r["name"], r["data"], r["seed"]) for r in rows if "error" not in r}
    if os.environ.get("TABLE_ONLY"):
        print(table(rows))
        return
    todo = [(n, d, s) for d in DATA for n in names for s in range(1, SEEDS + 1) if (n, d, s) not in done]
    todo.sort(key=lambda t: -int(STEPS_OF.get((t[0], t[1]), STEPS)))  # the long runs first: the jobs end together
    print(f"toy_2d_table: {len(todo)} runs to do ({len(done)} already in {log}), {JOBS} at a time", flush=True)
    t0 = time.time()
    with open(log, "a") as f, concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        for r in pool.map(lambda t: run(*t), todo):
            f.write(json.dumps(r) + "\n")
            f.flush()
            rows.append(r)
            print(json.dumps(r), flush=True)
    text = table(rows)
    tmp = os.path.join(OUT, "table.md.tmp")
    open(tmp, "w").write(text)
    os.replace(tmp, os.path.join(OUT, "table.md"))
    print(text)
    cpu = sum(r.get("cpu_seconds", 0) for r in rows if r["name"] not in EXTRA)
    print(f"toy_2d_table: {len(todo)} runs in {time.time() - t0:.0f} s of wall-clock time, {JOBS} at a time; "
          f"the table without EXTRA is {cpu:.0f} CPU seconds, {cpu / 120:.1f} minutes on 2 cores")
    bad = [r for r in rows if "error" in r]
    if bad:
        sys.exit(f"toy_2d_table: {len(bad)} runs failed, e.g. {bad[0]}")


if __name__ == "__main__":
    main()
