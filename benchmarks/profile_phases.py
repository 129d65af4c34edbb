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
]
WHAT = [
    ("SGEMM kernel", r"sgemm_kernel"),
    ("SGEMM packing", r"sgemm_\w*copy|sgemm_beta"),
    ("layout copies (phases, im2col, col2im)", r"to_phases|from_phases|im2col|col2im|channel_major|batch_major"),
    ("memset / new tensors", r"memset|Tensor::Tensor|memmove|memcpy|_int_malloc|_int_free|malloc|free"),
    ("kernel (page faults, scheduling)", r"^\[k\]"),
]


def chains(perf_data):
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "ip,sym"], capture_output=True, text=True,
                         check=True).stdout
    chain = []
    for line in out.splitlines():
        line = line.strip()
        if not line:
            if chain:
                yield chain
            chain = []
            continue
        parts = line.split(None, 1)
        sym = parts[1] if len(parts) > 1 else "?"
        if sym.startswith("[unknown]") or sym == "?":
            sym = "[unknown]"
        chain.append(sym)
    if chain:
        yield chain


def main():
    perf_data = sys.argv[1] if len(sys.argv) > 1 else "perf.data"
    by_op, by_what, total = Counter(), Counter(), 0
    for chain in chains(perf_data):  # chain[0] is the leaf
        if not any("train_step" in s for s in chain):
            continue
        total += 1
        direction = "backward" if any("Var::backward" in s for s in chain) else "forward"
        op = "other (engine, graph, ...)"
        for sym in chain:
            hit = next((label for label, rx in OPS if re.search(rx, sym)), None)
            if hit:
                op = hit
                break
        leaf = chain[0]
        kernel_leaf = bool(re.search(r"^(clear_page|exc_page|do_|handle_|__handle|asm_|irqentry|_raw_spin|get_page)", leaf))
        what = "the op's own loops"
        for label, rx in WHAT:
            if re.search(rx, "[k]" if kernel_leaf else leaf):
                what = label
                break
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


if __name__ == "__main__":
    main()
