#!/usr/bin/env python3
"""Smoke test of examples/06_sensor_anogan: the whole run with --quick (seconds), from nothing.

    python3 tests/test_sensor_example.py build        # build = the CMake (or Meson) build folder

Checked: it runs end to end on one thread and writes its pictures (PNG files) and results.json,
with an AUROC in [0, 1] for every fault type and both methods, a detection entry (a delay, or
"missed") for each, thresholds and settings; a second run in the same folder loads the GAN and
the encoder instead of training them and gives the same numbers; a bad flag gives a clear error.
Exit code 77 means "skipped": the example was not built.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_examples import FAILURES, check  # noqa: E402  (one way to record a failure)

FAULTS = ["drift", "stuck", "spike", "saturation", "gain_loss", "noise", "sluggish"]


def run(program, *args, expect_ok=True):
    proc = subprocess.run([program, *map(str, args)], capture_output=True, text=True, timeout=300)
    if expect_ok and proc.returncode != 0:
        raise SystemExit(f"{program} failed ({proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return proc


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    program = os.path.join(build, "examples", "06_sensor_anogan")
    if not os.path.isfile(program):
        print(f"SKIPPED: {program} was not built (configured without examples?)")
        return 77
    tmp = tempfile.mkdtemp(prefix="minigan-sensor-")
    try:
        out = os.path.join(tmp, "sensor")
        proc = run(program, "--quick", "--threads", 1, "--out", out)
        check("mean" in proc.stdout and "PCA" in proc.stdout, f"no results table in the output:\n{proc.stdout[-800:]}")
        pictures = ["roc.png"] + [f"signal_{f}.png" for f in FAULTS] + [f"window_{f}.png" for f in FAULTS]
        for name in pictures + ["results.json", "scores.csv", "encoder.safetensors", "gan/generator.safetensors"]:
            check(os.path.isfile(os.path.join(out, name)), f"{name} was not written")
        for name in pictures:
            path = os.path.join(out, name)
            check(not os.path.isfile(path) or is_png(path), f"{name} is not a PNG")
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
        check(sorted(results["faults"]) == sorted(FAULTS), f"results.json has faults {sorted(results['faults'])}")
        for fault, entry in results["faults"].items():
            for method in ("f_anogan", "pca"):
                auroc = entry[method]["auroc"]
                check(0.0 <= auroc <= 1.0, f"{fault}: {method} AUROC is {auroc}")
                d = entry[method]["detection"]
                check(d["detected"] == (d["delay_seconds"] is not None), f"{fault}: {method} detection {d} is inconsistent")
                check(d["delay_seconds"] is None or d["delay_seconds"] > 0, f"{fault}: {method} delay {d['delay_seconds']}")
                check(0.0 <= d["false_alarm_rate_before_onset"] <= 1.0, f"{fault}: {method} false-alarm rate {d}")
            check(entry["anogan"]["windows"] == 4, f"{fault}: AnoGAN searched {entry['anogan']['windows']} windows, not 4")
        for method in ("f_anogan", "pca"):
            mean = results["mean_auroc"][method]
            check(math.isfinite(mean), f"mean AUROC of {method} is {mean}")
        check(results["thresholds"]["false_alarm_rate"] == 0.01, "the default false-alarm rate is not 1%")
        with open(os.path.join(out, "scores.csv")) as f:
            rows = [line for line in f if line.strip()]
        expected = results["thresholds"]["validation_windows"] + (1 + len(FAULTS)) * results["windows"]["per_fault_run"]
        check(len(rows) == 1 + expected, f"scores.csv has {len(rows) - 1} rows, expected {expected}")

        # The same folder again: nothing is trained, the numbers repeat.
        proc = run(program, "--quick", "--threads", 1, "--out", out)
        check("loaded the GAN" in proc.stdout and "loaded the encoder" in proc.stdout,
              f"the second run did not load the GAN and the encoder:\n{proc.stdout[-800:]}")
        with open(os.path.join(out, "results.json")) as f:
            again = json.load(f)
        check(again["faults"] == results["faults"], "the second run changed the results although nothing was trained")

        proc = run(program, "--quick", "--window", 2, "--out", os.path.join(tmp, "bad"), expect_ok=False)
        check(proc.returncode == 2 and "--window" in proc.stderr, f"--window 2: no clear error:\n{proc.stderr[-400:]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("06_sensor_anogan smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
