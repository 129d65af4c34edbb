#!/usr/bin/env python3
"""The one-class anomaly-detection benchmark (Ruff et al. 2018) for examples/03_anogan.cpp.

For each data set and class c: train a DCGAN on class c's training images only, score the whole
test set with f-AnoGAN and a stratified subset with AnoGAN's latent search, and record the AUROCs
and timings. Every finished class is appended to <out>/results.jsonl at once, and
docs/anomaly-detection.md's tables are rewritten from that file, so a partial run is useful and
a stopped run resumes where it stopped (classes already in results.jsonl with the same recipe
are skipped). After each class, benchmarks/anomaly_score_ideas.cpp measures every score idea of
the docs page on the same trained networks (<out>/ideas.jsonl).

    python3 benchmarks/anomaly_detection.py                    # all 20 classes (hours on 2 cores)
    python3 benchmarks/anomaly_detection.py --datasets mnist --classes 8
    python3 benchmarks/anomaly_detection.py --report-only       # just rewrite the docs tables
    python3 benchmarks/anomaly_detection.py --ideas             # score ideas for classes that lack them

Arguments after `--` go to 03_anogan (they become part of the recipe, e.g. `-- --epochs 20`).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "anomaly-detection.md")
BEGIN, END = "<!-- results:begin (written by benchmarks/anomaly_detection.py) -->", "<!-- results:end -->"

# The benchmark recipe: 03_anogan's flags (a class takes a few minutes on 2 cores).
RECIPE = ["--epochs", "6", "--width", "0.25", "--encoder-epochs", "5",
          "--search-queries", "500", "--search-steps", "100", "--search-lr", "0.1"]

NAMES = {
    "mnist": ["" for _ in range(10)],  # the class is the digit
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                "Ankle boot"],
}
# Mean AUROC (%) over the 10 classes, as published: Ruff et al. 2018 (MNIST, Table 1) and
# Golan & El-Yaniv 2018 (Fashion-MNIST, Table 1).
PUBLISHED = {
    "mnist": [("AnoGAN (Schlegl et al. 2017), as run by Ruff et al.", 91.3), ("Deep SVDD (Ruff et al. 2018)", 94.8),
              ("OC-SVM (Ruff et al. 2018)", 91.3)],
    "fashion": [("ADGAN (Deecke et al. 2018), as run by Golan & El-Yaniv", 88.4),
                ("RAW-OC-SVM (Golan & El-Yaniv 2018)", 92.8), ("GEOM (Golan & El-Yaniv 2018)", 93.5)],
}
GOALS = {"mnist": 95.0, "fashion": 93.5}


def build(binary, source="examples/03_anogan.cpp"):
    """Compile `source` with the README's one-line g++ if the binary is missing or older than the sources."""
    sources = [os.path.join(ROOT, source)]
    for folder, _, files in os.walk(os.path.join(ROOT, "include")):
        sources += [os.path.join(folder, f) for f in files]
    if os.path.exists(binary) and os.path.getmtime(binary) >= max(os.path.getmtime(s) for s in sources):
        return
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    cmd = ["g++", "-O2", "-std=c++17", "-fopenmp", "-I" + os.path.join(ROOT, "include"), sources[0],
           "-lopenblas", "-lz", "-o", binary]
    print("building:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def run_ideas(binary, ideas_path, dataset, c, run_dir, data, threads):
    """benchmarks/anomaly_score_ideas on one finished class: one JSON line in ideas.jsonl."""
    cmd = [binary, "--run", run_dir, "--dataset", dataset, "--normal-class", str(c), "--data", data,
           "--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  score ideas failed: {done.stderr.strip()[-400:]}", flush=True)
        return None
    entry = json.loads(done.stdout)
    with open(ideas_path, "a") as f:
        f.write(json.dumps(entry) + "\n")
    return entry


def load_results(path):
    results = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    results.append(json.loads(line))
    return results


def pct(v):
    return "-" if v is None else f"{100 * v:.1f}"


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def tables(results, ideas=()):
    """The markdown of the results section: one table per data set, then the published means."""
    out = []
    for dataset in ("mnist", "fashion"):
        rows = {r["dataset_class"]: r for r in results if r["dataset"] == dataset}
        title = "MNIST" if dataset == "mnist" else "Fashion-MNIST"
        out.append(f"### {title}\n")
        if not rows:
            out.append("No class finished yet.\n")
            continue
        out.append("| normal class | f-AnoGAN (izi_f) | f-AnoGAN + code | AnoGAN | izi_f / + code on AnoGAN's subset "
                   "| GAN training | encoder training | queries/s: izi_f / + code / AnoGAN |")
        out.append("|---|---|---|---|---|---|---|---|")
        for c in range(10):
            r = rows.get(c)
            if r is None:
                out.append(f"| {c} {NAMES[dataset][c]}".rstrip() + " | (not run yet) | | | | | | |")
                continue
            j = r["results"]
            f, k, a = j["f_anogan"], j.get("f_anogan_code", {}), j["anogan"]
            out.append(f"| {c} {NAMES[dataset][c]}".rstrip() + f" | {pct(f['auroc'])} | {pct(k.get('auroc'))} | {pct(a['auroc'])} "
                       f"| {pct(f.get('auroc_on_search_subset'))} / {pct(k.get('auroc_on_search_subset'))} "
                       f"| {j['gan']['seconds']:.0f} s | {f['encoder_seconds']:.0f} s "
                       f"| {f['queries_per_second']:.0f} / {k.get('queries_per_second', 0):.0f} "
                       f"/ {a['queries_per_second'] or 0:.2f} |")
        done = [rows[c]["results"] for c in sorted(rows)]
        f_mean = mean([j["f_anogan"]["auroc"] for j in done])
        k_mean = mean([j.get("f_anogan_code", {}).get("auroc") for j in done])
        a_mean = mean([j["anogan"]["auroc"] for j in done])
        partial = "" if len(done) == 10 else f" ({len(done)} of 10 classes)"
        out.append(f"| **mean**{partial} | **{pct(f_mean)}** | **{pct(k_mean)}** | **{pct(a_mean)}** | | | | |")
        a0 = done[0]["anogan"]
        out.append("")
        out.append(f"AnoGAN scores a stratified subset of {a0['queries']} test images with {a0['steps']} Adam "
                   f"steps per query; f-AnoGAN scores all {done[0]['test_images']} test images.")
        out.append("")
        out.append("| method | mean AUROC |")
        out.append("|---|---|")
        for name, value in PUBLISHED[dataset]:
            out.append(f"| {name} (published) | {value} |")
        out.append(f"| **minigan f-AnoGAN, izi_f score** (measured{partial}) | **{pct(f_mean)}** |")
        out.append(f"| **minigan f-AnoGAN + code score** (measured{partial}) | **{pct(k_mean)}** |")
        out.append(f"| **minigan AnoGAN** (measured{partial}) | **{pct(a_mean)}** |")
        out.append(f"| goal of this project | {GOALS[dataset]} |")
        out.append("")
    out.append("### Goals (mean AUROC over the 10 classes)\n")
    out.append("| data set | goal | textbook f-AnoGAN (izi_f) | f-AnoGAN + code | AnoGAN | status |")
    out.append("|---|---|---|---|---|---|")
    for dataset in ("mnist", "fashion"):
        done = [r["results"] for r in results if r["dataset"] == dataset]
        means = [mean([j["f_anogan"]["auroc"] for j in done]) if done else None,
                 mean([j.get("f_anogan_code", {}).get("auroc") for j in done]) if done else None,
                 mean([j["anogan"]["auroc"] for j in done]) if done else None]
        best = max([m for m in means if m is not None], default=None)
        if len(done) < 10:
            status = f"open: {len(done)} of 10 classes measured"
        elif best is not None and 100 * best >= GOALS[dataset]:
            status = f"**reached** ({pct(best)})"
        else:
            status = f"**not reached**: best mean {pct(best)}"
        out.append(f"| {'MNIST' if dataset == 'mnist' else 'Fashion-MNIST'} | >= {GOALS[dataset]} | "
                   + " | ".join(pct(m) for m in means) + f" | {status} |")
    out.append("")
    if ideas:
        out.append("### Score ideas, mean AUROC over the classes (benchmarks/anomaly_score_ideas.cpp)\n")
        out.append("The same trained G, D and E of every class, scored in each way of \"What we tried\".\n")
        names = [k for k in ideas[0] if isinstance(ideas[0][k], float)]
        counts = {d: len({i["normal_class"] for i in ideas if i["dataset"] == d}) for d in ("mnist", "fashion")}
        out.append(f"| score | MNIST ({counts['mnist']} classes) | Fashion-MNIST ({counts['fashion']} classes) |")
        out.append("|---|---|---|")
        for name in names:
            cells = []
            for d in ("mnist", "fashion"):
                latest = {i["normal_class"]: i for i in ideas if i["dataset"] == d}  # the last entry of a class
                cells.append(pct(mean([i.get(name) for i in latest.values()])))
            out.append(f"| {name.replace('|', chr(92) + '|')} | " + " | ".join(cells) + " |")  # \| inside a table
        out.append("")
    recipes = sorted({r["recipe"] for r in results})
    threads = sorted({r["threads"] for r in results})
    loads = [r["load_before"] for r in results]
    out.append("Recipe (03_anogan flags): " + "; ".join(f"`{x}`" for x in recipes) + ".  ")
    out.append(f"Conditions: {', '.join(map(str, threads))} thread(s) per class; load average of the machine when a "
               f"class started: {min(loads):.1f} to {max(loads):.1f}.")
    return "\n".join(out) + "\n"


def write_doc(results, ideas=()):
    if not os.path.exists(DOC):
        raise SystemExit(f"{DOC} is missing: it holds the hand-written text around the generated tables")
    with open(DOC) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC}: the markers {BEGIN} and {END} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + tables(results, ideas) + END + tail
    tmp = DOC + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, DOC)  # atomic: a reader never sees half a page


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["mnist", "fashion"], choices=["mnist", "fashion"])
    p.add_argument("--classes", nargs="+", type=int, default=list(range(10)))
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "anomaly-benchmark"))
    p.add_argument("--binary", default=None, help="a built 03_anogan [default: compile one into --out]")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=os.path.join(ROOT, "data"))
    p.add_argument("--report-only", action="store_true", help="only rewrite the tables of docs/anomaly-detection.md")
    p.add_argument("--ideas", action="store_true",
                   help="only run benchmarks/anomaly_score_ideas on finished classes that have no entry yet")
    args = p.parse_args(argv)

    results_path = os.path.join(args.out, "results.jsonl")
    ideas_path = os.path.join(args.out, "ideas.jsonl")
    results = load_results(results_path)
    ideas = load_results(ideas_path)
    if args.report_only:
        write_doc(results, ideas)
        return
    ideas_binary = os.path.join(args.out, "anomaly_score_ideas")
    build(ideas_binary, "benchmarks/anomaly_score_ideas.cpp")
    if args.ideas:
        for r in results:
            if not any(i["dataset"] == r["dataset"] and i["normal_class"] == r["dataset_class"] for i in ideas):
                print(f"score ideas: {r['dataset']} class {r['dataset_class']}", flush=True)
                run_dir = os.path.join(args.out, f"{r['dataset']}_{r['dataset_class']}")
                entry = run_ideas(ideas_binary, ideas_path, r["dataset"], r["dataset_class"], run_dir, args.data,
                                  args.threads)
                if entry:
                    ideas.append(entry)
        write_doc(results, ideas)
        return
    binary = args.binary or os.path.join(args.out, "03_anogan")
    if args.binary is None:
        build(binary)
    recipe = " ".join(RECIPE + extra)
    os.makedirs(args.out, exist_ok=True)
    for dataset in args.datasets:
        for c in args.classes:
            if any(r["dataset"] == dataset and r["dataset_class"] == c and r["recipe"] == recipe for r in results):
                print(f"{dataset} class {c}: already in {results_path}, skipped", flush=True)
                continue
            run_dir = os.path.join(args.out, f"{dataset}_{c}")
            cmd = [binary, "--dataset", dataset, "--normal-class", str(c), "--threads", str(args.threads),
                   "--data", args.data, "--out", run_dir] + RECIPE + extra
            print(f"{dataset} class {c}: {' '.join(shlex.quote(x) for x in cmd)}", flush=True)
            load_before = os.getloadavg()[0]
            start = time.time()
            os.makedirs(run_dir, exist_ok=True)
            with open(os.path.join(run_dir, "log.txt"), "a") as log:  # a resumed class adds to its log
                done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                print(f"  failed (exit {done.returncode}); see {run_dir}/log.txt", flush=True)
                continue
            with open(os.path.join(run_dir, "results.json")) as f:
                j = json.load(f)
            entry = {"dataset": dataset, "dataset_class": c, "recipe": recipe, "threads": args.threads,
                     "load_before": load_before, "wall_seconds": time.time() - start, "results": j}
            with open(results_path, "a") as f:  # one line per class, written as soon as it is known
                f.write(json.dumps(entry) + "\n")
            results.append(entry)
            print(f"  f-AnoGAN AUROC {pct(j['f_anogan']['auroc'])}, + code {pct(j['f_anogan_code']['auroc'])}, "
                  f"AnoGAN AUROC {pct(j['anogan']['auroc'])}, {entry['wall_seconds']:.0f} s", flush=True)
            idea = run_ideas(ideas_binary, ideas_path, dataset, c, run_dir, args.data, args.threads)
            if idea:
                ideas.append(idea)
            write_doc(results, ideas)


if __name__ == "__main__":
    main()
