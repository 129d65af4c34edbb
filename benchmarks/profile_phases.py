#!/usr/bin/env python3
"""Where a training step spends its time, by op and phase, from a `perf record -g` profile.

    perf record -F 999 -g -o perf.data build/examples/benchmark --model dcgan --threads 1 \\
        --steps 20 --warmup 3 --no-sampling
    python3 benchmarks/profile_phases.py perf.data

Every sample whose call chain passes through gan::train_step is attributed to
  - the op: the innermost minigan op on the chain (conv_transpose2d, conv2d, linear, batch_norm,
    leaky_relu, dropout, tanh, the losses, Adam, zero_grad, reshape, the autograd engine, ...),
    and forward or backward (whether Var::backward is on the chain);
  - what the CPU was doing there: the SGEMM kernel, SGEMM packing (OpenBLAS copies its operands
    into blocks before the kernel runs), layout copies (minigan's to_phases/from_phases, im2col,
    col2im), memset/allocation, page faults (kernel), or the op's own loops.
Prints two markdown tables (percent of the step's samples). Needs perf; sampling percentages
hold up under CPU load much better than wall-clock times do.

With more than one thread (--threads 2), the other OpenMP threads' stacks start in libgomp, not in
train_step; a third table then splits the CPU time by thread: the main thread outside any
parallel region (serial: the other threads wait), the main thread inside one, the other OpenMP
threads (inside a region), and any other thread of the process (OpenBLAS's own, idle ones), each
as a share of the main thread's samples, plus what the other threads did. Samples count CPU time
only: the main thread also sleeps at the end of a region while it waits for the others, so
samples / frequency falls short of the wall-clock time by that wait. The first two tables stay
the main thread's.
"""
import re
import subprocess
import sys
from collections import Counter

OPS = [  # (label, regex on a symbol); the innermost match on the chain wins
    ("conv_transpose2d", r"minigan::conv_transpose2d\b"),
    ("conv2d", r"minigan::conv2d\b"),
    ("linear", r"minigan::linear\b"),
    ("batch_norm", r"minigan::batch_norm\b"),
    ("leaky_relu", r"minigan::leaky_relu"),
    ("dropout", r"minigan::dropout\b"),
    ("tanh", r"minigan::tanh\b"),
    ("losses", r"minigan::(bce_with_logits|bce|mse)\b"),
    ("Adam step", r"Adam::step"),
    ("zero_grad", r"zero_grad"),
    ("reshape/flatten", r"minigan::(reshape|flatten)\b"),
    ("randn (z)", r"minigan::randn\b"),
    ("add/sub/affine", r"minigan::(add|sub|affine|mul)\b"),
    ("weight average (EMA)", r"WeightAverage::update"),
    ("concat (stacked D)", r"minigan::concat\b"),
]
# A tap-path convolution's backward runs from tap_conv's closure, below neither conv2d nor
# conv_transpose2d: named so when no op above matched.
TAP_CONV = ("conv2d / conv_transpose2d, tap path", r"minigan::fast::tap_conv\b")
WHAT = [
    ("SGEMM kernel", r"sgemm_kernel"),
    ("SGEMM packing", r"sgemm_\w*copy|sgemm_beta"),
    ("layout copies (phases, im2col, col2im)", r"to_phases|from_phases|im2col|col2im|channel_major|batch_major"),
    ("memset / new tensors", r"memset|Tensor::Tensor|memmove|memcpy|_int_malloc|_int_free|malloc|free"),
    ("kernel (page faults, scheduling)", r"^\[k\]"),
]


def chains(perf_data):
    """(thread id, [symbols, leaf first]) per sample."""
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "tid,ip,sym"], capture_output=True, text=True,
                         check=True).stdout
    chain, tid = [], None
    for raw in out.splitlines():
        line = raw.strip()
        if not line:
            if chain:
                yield tid, chain
            chain = []
            continue
        if not raw[0].isspace():  # the sample's header line: its thread id
            tid = line.split()[0]
            continue
        parts = line.split(None, 1)
        sym = parts[1] if len(parts) > 1 else "?"
        if sym.startswith("[unknown]") or sym == "?":
            sym = "[unknown]"
        chain.append(sym)
    if chain:
        yield tid, chain


def what_it_did(chain):
    leaf = chain[0]
    kernel_leaf = bool(re.search(r"^(clear_page|exc_page|do_|handle_|__handle|asm_|irqentry|_raw_spin|get_page)", leaf))
    for label, rx in WHAT:
        if re.search(rx, "[k]" if kernel_leaf else leaf):
            return label
    return "the op's own loops"


def main():
    perf_data = sys.argv[1] if len(sys.argv) > 1 else "perf.data"
    by_op, by_what, total = Counter(), Counter(), 0
    threads, others_did = Counter(), Counter()
    samples = list(chains(perf_data))
    main_tids = {tid for tid, chain in samples if any("train_step" in s for s in chain)}
    for tid, chain in samples:  # chain[0] is the leaf
        if not any("train_step" in s for s in chain):
            if tid in main_tids:
                continue  # the main thread outside the step (building the models, ...)
            if any("minigan::" in s for s in chain):  # an OpenMP worker, inside a parallel region
                threads["other OpenMP threads (inside parallel regions)"] += 1
                others_did[what_it_did(chain)] += 1
            else:
                threads["other threads, outside our code (OpenMP runtime, OpenBLAS's own)"] += 1
            continue
        in_region = any("GOMP_parallel" in s for s in chain)
        threads["main thread, inside parallel regions" if in_region else "main thread, serial (the others wait)"] += 1
        total += 1
        direction = "backward" if any("Var::backward" in s for s in chain) else "forward"
        op = "other (engine, graph, ...)"
        for sym in chain:
            hit = next((label for label, rx in OPS if re.search(rx, sym)), None)
            if hit:
                op = hit
                break
        else:
            if any(re.search(TAP_CONV[1], sym) for sym in chain):
                op = TAP_CONV[0]
        what = what_it_did(chain)
        by_op[(op, direction if op not in ("Adam step", "zero_grad", "randn (z)") else "-")] += 1
        by_what[what] += 1
    if total == 0:
        sys.exit("no samples inside train_step (was the benchmark built with symbols, and perf record -g used?)")
    print(f"{total} samples inside gan::train_step\n")
    print("| op | pass | share of the step |")
    print("|---|---|---|")
    for (op, direction), n in by_op.most_common():
        print(f"| {op} | {direction} | {100.0 * n / total:.1f} % |")
    print("\n| what the CPU did | share of the step |")
    print("|---|---|")
    for what, n in by_what.most_common():
        print(f"| {what} | {100.0 * n / total:.1f} % |")
    if not threads["other OpenMP threads (inside parallel regions)"]:
        return  # one thread: nothing to split
    rows = sorted(threads.items(), key=lambda kv: kv[0])
    print("\n| thread | CPU time, share of the main thread's |")
    print("|---|---|")
    for label, n in rows:
        print(f"| {label} | {100.0 * n / total:.1f} % |")
    others = sum(others_did.values())
    print("\n| what the other OpenMP threads did | share of their samples |")
    print("|---|---|")
    for what, n in others_did.most_common():
        print(f"| {what} | {100.0 * n / others:.1f} % |")


if __name__ == "__main__":
    main()
