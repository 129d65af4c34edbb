#!/usr/bin/env python3
"""Runs that lose nothing and accept nothing in silence: the example programs against bad input.

    python3 tests/test_robust_runs.py build        # build = the CMake (or Meson) build folder

On the tiny fixture data set of tests/test_examples.py (no real data needed). Checked here:
  - strict flags: a number is the whole token, finite and inside the range --help states; a flag is
    on or off, explicitly; an empty --out is refused; every refusal names the flag (exit code 2);
  - one run per folder: a new run in a used folder moves the old run aside (nothing lost, nothing
    mixed), and a run killed before its first checkpoint and resumed equals an uninterrupted run;
  - --resume refuses a checkpoint whose state is broken (metadata, JSON header, extra tensors,
    NaN weights, metrics.csv rows of another run), naming the file, the entry and the value;
  - evaluate refuses NaN weights; data of the wrong geometry is named; a diverging run names
    the checkpoint to go back to;
  - a full disk (a small tmpfs, where this machine lets the test mount one) stops the run with
    an error that names the file, and never exits 0 with rows missing;
  - a fuzz loop over flags and checkpoint metadata: every outcome is a clean exit (0, 1 or 2
    with a message), never a crash or a sanitizer report.
  - the benchmark's demo row (--model demo) times 02_dcgan's defaults: its recipe matches what
    02_dcgan --help states, and where torch imports, the PyTorch twin counts the same FLOPs;
    its vanilla rows end with g_forward_gemms, the generator's GEMMs alone, counted as g_forward.
Exit code 77 means "skipped" (CTest and Meson report it as such): only when examples were not built.
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_examples as ex  # noqa: E402  (the fixture writer and the run helpers)

check = ex.check
FAILURES = ex.FAILURES
SMALL = ["--batch", 16, "--limit", 32, "--threads", 1]  # 2 steps an epoch
BENCHMARK = "benchmark"  # Meson calls it minigan_benchmark ("benchmark" is a target name it reserves)


def crashed(text):
    return any(s in text for s in ("Sanitizer", "runtime error:", "Segmentation", "terminate called", "Aborted"))


def expect_refused(binary, args, needle, code=2, what=None):
    """The program exits with `code` and its message mentions `needle`; no crash."""
    proc = ex.run(binary, *args, expect_ok=False)
    text = proc.stdout + proc.stderr
    what = what or f"{os.path.basename(binary)} {' '.join(map(str, args))}"
    check(proc.returncode == code, f"{what}: exit code {proc.returncode}, expected {code}:\n{text[-600:]}")
    check(needle in text, f"{what}: the message does not mention {needle!r}:\n{text[-600:]}")
    check(not crashed(text), f"{what}: crashed:\n{text[-800:]}")
    return proc


# ---- safetensors files, edited by hand -------------------------------------------------------

def read_raw(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n].decode("utf-8")), blob[8 + n:]


def write_raw(path, header_text, data):
    text = header_text.encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def set_first_values(path, prefix, value):
    """Overwrite the first float of the first tensor whose name starts with `prefix`."""
    header, data = read_raw(path)
    name = sorted(n for n in header if n.startswith(prefix))[0]
    begin = header[name]["data_offsets"][0]
    data = data[:begin] + struct.pack("<f", value) + data[begin + 4:]
    write_raw(path, json.dumps(header), data)


def fill_tensor(path, prefix, value):
    """Every float of every tensor whose name starts with `prefix` set to `value`."""
    header, data = read_raw(path)
    data = bytearray(data)
    for name, info in header.items():
        if name.startswith(prefix) and info.get("dtype") == "F32":
            begin, end = info["data_offsets"]
            data[begin:end] = struct.pack("<f", value) * ((end - begin) // 4)
    write_raw(path, json.dumps(header), bytes(data))


def one_epoch_run(dcgan, data, out, *extra):
    ex.run(dcgan, "--data", data, *SMALL, "--epochs", 1, "--out", out, *extra)


# ---- the tests ------------------------------------------------------------------------------------

def test_strict_flags(examples, data, tmp):
    dcgan = os.path.join(examples, "02_dcgan")
    out = ["--data", data, "--out", os.path.join(tmp, "never")]
    for args, needle in [
        (["--width", "nan"], "--width"), (["--lr", "-1"], "(0, 1]"), (["--lr", "0"], "--lr"),
        (["--lr", "inf"], "--lr"), (["--beta1", "2"], "[0, 1)"), (["--ema", "nan"], "--ema"),
        (["--threads", "-1"], "--threads"), (["--limit", "-1"], "--limit"), (["--batch", "12abc"], "'12abc'"),
        (["--batch", "1"], "--batch"), (["--epochs", "1e3"], "--epochs"), (["--epochs", "99999999999"], "--epochs"),
        (["--seed", " 5"], "--seed"), (["--resume=yes"], "--resume=1"), (["--out="], "--out needs a non-empty value"),
        (["--pack", "3"], "--pack must divide --batch"), (["--real-label", "0"], "--real-label"),
        (["--minutes", "-1"], "--minutes"), (["--d-dropout", "1"], "--d-dropout"),
    ]:
        proc = expect_refused(dcgan, out + args, needle)
        check("usage:" in proc.stderr, f"02_dcgan {' '.join(args)}: the usage is not printed")
    check(not os.path.exists(os.path.join(tmp, "never")), "a refused flag still created the run folder")
    proc = ex.run(dcgan, "--help")
    check("--lr NUM" in proc.stdout and "[in (0, 1], default: 0.0005]" in proc.stdout,
          f"02_dcgan --help does not state --lr's range:\n{proc.stdout[:1500]}")
    # --resume=0 is a run without --resume (and --resume=1 one with it): nothing is turned on by "0".
    ran = os.path.join(tmp, "resume0")
    one_epoch_run(dcgan, data, ran)
    proc = ex.run(dcgan, "--data", data, *SMALL, "--epochs", 1, "--out", ran, "--resume=0")
    check("resumed" not in proc.stdout and os.path.isdir(ran + ".old-1"),
          f"--resume=0 resumed the run instead of starting a new one:\n{proc.stdout[-400:]}")
    for binary, args, needle in [
        (BENCHMARK, ["--batch", "12abc"], "'12abc'"), (BENCHMARK, ["--steps", "99999999"], "--steps"),
        (BENCHMARK, ["--warmup", "99999999"], "--warmup"), (BENCHMARK, ["--batch", "100000000"], "--batch"),
        ("03_anogan", ["--search-lr", "1e30"], "--search-lr"), ("03_anogan", ["--normal-class", "10"], "[0, 9]"),
        ("mnist_classifier", ["--lr", "nan"], "--lr"), ("01_vanilla_gan", ["--width", "nan"], "--width"),
        ("04_conditional_gan", ["--digit", "10"], "[-1, 9]"), ("evaluate", ["--samples", "1"], "--samples"),
        ("evaluate", ["--out", ""], "--out"),
    ]:
        expect_refused(os.path.join(examples, binary), args, needle)


def test_one_run_per_folder(examples, data, tmp):
    dcgan = os.path.join(examples, "02_dcgan")
    out = os.path.join(tmp, "folder")
    one_epoch_run(dcgan, data, out, "--seed", 1)
    first = ex.read_metrics(os.path.join(out, "metrics.csv"))
    # A second, new run: the first one is moved aside whole, the new one starts clean.
    proc = ex.run(dcgan, "--data", data, *SMALL, "--epochs", 1, "--out", out, "--seed", 2)
    check(f"moved it to {out}.old-1" in proc.stdout, f"a new run in a used folder did not say where the old one went:\n{proc.stdout[-500:]}")
    check(ex.read_metrics(os.path.join(out + ".old-1", "metrics.csv")) == first, "the moved-aside run lost its metrics.csv rows")
    check(os.path.isfile(os.path.join(out + ".old-1", "checkpoint.safetensors")), "the moved-aside run lost its checkpoint")
    check(len(ex.read_metrics(os.path.join(out, "metrics.csv"))) == 1 + 2, "the new run's metrics.csv holds old rows")

    # A new run killed before its first checkpoint, then --resume: no checkpoint of *this* run exists,
    # so the run starts over (the killed rows moved aside) and ends equal to an uninterrupted run.
    longer = ["--data", data, "--batch", 16, "--limit", 256, "--threads", 1, "--epochs", 2, "--seed", 4]  # 16 steps an epoch
    straight = os.path.join(tmp, "straight")
    ex.run(dcgan, *longer, "--out", straight)
    proc = subprocess.Popen([dcgan, *map(str, longer), "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60  # wait for the move aside, then for the new run's first rows
    while time.time() < deadline and proc.poll() is None and not (
            os.path.isdir(out + ".old-2") and os.path.exists(os.path.join(out, "metrics.csv"))):
        time.sleep(0.001)
    proc.kill()
    proc.wait()
    check(not os.path.exists(os.path.join(out, "checkpoint.safetensors")) or proc.returncode == 0,
          "the kill came after the first checkpoint (the test needs it before)")
    ex.run(dcgan, *longer, "--out", out, "--resume")
    check(ex.without_seconds(ex.read_metrics(os.path.join(out, "metrics.csv"))) ==
          ex.without_seconds(ex.read_metrics(os.path.join(straight, "metrics.csv"))),
          "killed before the first checkpoint and resumed: metrics.csv differs from an uninterrupted run")
    check(os.path.isdir(out + ".old-2"), "the second run was not kept aside when the third started")


def test_resume_refuses_broken_state(examples, data, tmp):
    dcgan = os.path.join(examples, "02_dcgan")
    good = os.path.join(tmp, "good")
    one_epoch_run(dcgan, data, good)
    ckpt = "checkpoint.safetensors"

    def meta(**changes):
        return lambda d: ex.set_safetensors_metadata(os.path.join(d, ckpt), **changes)

    def float_shape(d):
        header, blob = read_raw(os.path.join(d, ckpt))
        name = next(n for n in header if n.startswith("G."))
        text = json.dumps(header).replace(json.dumps(header[name]["shape"]),
                                          json.dumps([float(x) for x in header[name]["shape"]]), 1)
        write_raw(os.path.join(d, ckpt), text, blob)

    def duplicate_key(d):
        header, blob = read_raw(os.path.join(d, ckpt))
        text = json.dumps(header)
        write_raw(os.path.join(d, ckpt), text[:-1] + ', "__metadata__": {"epoch": "1"}}', blob)

    def extra_tensor(d):
        header, blob = read_raw(os.path.join(d, ckpt))
        header["junk"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(blob), len(blob) + 4]}
        write_raw(os.path.join(d, ckpt), json.dumps(header), blob + struct.pack("<f", 1.0))

    def nan_weight(d):
        set_first_values(os.path.join(d, ckpt), "G.", float("nan"))

    def metrics_of_another_run(d):
        path = os.path.join(d, "metrics.csv")
        rows = open(path).read().splitlines()
        with open(path, "w") as f:
            f.write("\n".join(rows[:2]) + "\n")  # the header and step 1 only; the checkpoint is at step 2

    cases = [
        ("rng garbage", meta(rng="garbage"), "'rng'"), ("step -5", meta(step="-5"), "'step' is '-5'"),
        ("epoch 999", meta(epoch="999"), "epoch 999"), ("epoch 1.5", meta(epoch="1.5"), "'epoch' is '1.5'"),
        ("seconds nan", meta(seconds="nan"), "'seconds' is 'nan'"), ("a float shape", float_shape, "not a list of integers"),
        ("a duplicate JSON key", duplicate_key, "twice"), ("an extra tensor", extra_tensor, "unexpected tensor 'junk'"),
        ("a NaN weight", nan_weight, "NaN"), ("metrics.csv of another run", metrics_of_another_run, "do not belong"),
        ("avg.updates -3", meta(**{"avg.updates": "-3"}), "'avg.updates' is '-3'"),
    ]
    for what, damage, needle in cases:
        d = os.path.join(tmp, "broken")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(good, d)
        damage(d)
        proc = expect_refused(dcgan, ["--data", data, *SMALL, "--epochs", 2, "--out", d, "--resume"], needle, code=1,
                              what=f"--resume with {what}")
        named = "metrics.csv" if "metrics" in what else ckpt
        check(named in proc.stderr, f"--resume with {what}: the message does not name {named}:\n{proc.stderr[-500:]}")
        check(ex.read_metrics(os.path.join(d, "metrics.csv")) == ex.read_metrics(os.path.join(good, "metrics.csv"))
              or "metrics" in what, f"--resume with {what}: the refused resume changed metrics.csv")


def test_broken_weights_and_data(examples, data, tmp):
    dcgan = os.path.join(examples, "02_dcgan")
    run_dir = os.path.join(tmp, "for-evaluate")
    one_epoch_run(dcgan, data, run_dir, "--ema", 0)
    set_first_values(os.path.join(run_dir, "generator.safetensors"), "0.", float("nan"))
    proc = expect_refused(os.path.join(examples, "evaluate"), ["--run", run_dir, "--data", data, "--samples", 10],
                          "NaN", code=1)
    check("generator.safetensors" in proc.stderr and not os.path.exists(os.path.join(run_dir, "evaluate.json")),
          f"evaluate of NaN weights: the file is not named, or a report was written:\n{proc.stderr[-400:]}")
    # A diverging run (D's weights blown up to 3e38, finite but overflowing) stops at the first step
    # and names the checkpoint to go back to.
    fill_tensor(os.path.join(run_dir, "checkpoint.safetensors"), "D.", 3e38)
    proc = expect_refused(dcgan, ["--data", data, *SMALL, "--epochs", 2, "--ema", 0, "--out", run_dir, "--resume"],
                          "not finite", code=1)
    check("checkpoint.safetensors" in proc.stderr and "--resume" in proc.stderr and "step 3" in proc.stderr,
          f"a diverged run does not name its step and point at its checkpoint:\n{proc.stderr[-400:]}")
    _, meta = ex.read_safetensors(os.path.join(run_dir, "checkpoint.safetensors"))
    check(meta.get("epoch") == "1", f"after the diverged run the checkpoint is at epoch {meta.get('epoch')}, not 1")
    # Images of another geometry: the data folder is named at load, not a shape error at step 1.
    small = os.path.join(tmp, "data-14")
    os.makedirs(os.path.join(small, "mnist"))
    ex.write_idx(os.path.join(small, "mnist", "train-images-idx3-ubyte"), [20, 14, 14], bytes(20 * 14 * 14))
    ex.write_idx(os.path.join(small, "mnist", "train-labels-idx1-ubyte"), [20], bytes(20))
    expect_refused(dcgan, ["--data", small, "--out", os.path.join(tmp, "g14"), "--threads", 1],
                   "expected 28x28", code=1)


def mount_tmpfs(path, size_kb):
    """A tmpfs of size_kb at path: as root, or in a user namespace. Returns a command prefix or None."""
    os.makedirs(path, exist_ok=True)
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", path],
                          capture_output=True).returncode == 0:
            return []
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size={size_kb}k tmpfs {path}"],
                           capture_output=True)
    if probe.returncode == 0:
        return ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size={size_kb}k tmpfs {path} && exec "$@"', "sh"]
    return None


def test_full_disk(examples, data, tmp):
    dcgan = os.path.join(examples, "02_dcgan")
    for size_kb, what in [(4, "a disk full from the start"), (160, "a disk that fills during the run")]:
        disk = os.path.join(tmp, f"disk{size_kb}")
        prefix = mount_tmpfs(disk, size_kb)
        if prefix is None:
            print(f"SKIP {what}: this machine lets the test mount no tmpfs (neither as root nor with unshare -rm)")
            return
        try:
            out = os.path.join(disk, "run")
            cmd = prefix + [dcgan, "--data", data, *map(str, SMALL), "--limit", "128", "--epochs", "3", "--out", out]
            if prefix == [] and size_kb == 4:  # fill the mounted tmpfs before the run
                try:
                    with open(os.path.join(disk, "filler"), "wb", buffering=0) as f:
                        f.write(b"x" * 4096 * 4)
                except OSError:  # No space left on device: full
                    pass
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            check(proc.returncode != 0, f"{what}: the run exited 0:\n{proc.stdout[-400:]}")
            if prefix == [] and size_kb == 4:
                check("metrics.csv" in proc.stderr, f"{what}: the first failed write is not metrics.csv's:\n{proc.stderr[-400:]}")
            check("cannot write" in proc.stderr or "No space left" in proc.stderr,
                  f"{what}: the error does not say what could not be written:\n{proc.stderr[-600:]}")
            check(not crashed(proc.stderr), f"{what}: crashed:\n{proc.stderr[-600:]}")
        finally:
            if prefix == []:
                subprocess.run(["umount", disk], capture_output=True)
    # A disk that fills for a moment (another program's file, written and deleted again) while the
    # run writes its rows: the run either stops with an error, or exits 0 with every row there.
    disk = os.path.join(tmp, "disk-moment")
    if mount_tmpfs(disk, 4096) != []:
        print("SKIP a disk full for a moment: needs root to mount a tmpfs the test can fill from outside")
        return
    try:
        out = os.path.join(disk, "run")
        proc = subprocess.Popen([dcgan, "--data", data, "--batch", "16", "--limit", "256", "--threads", "1",
                                 "--epochs", "2", "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        metrics = os.path.join(out, "metrics.csv")
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None and (
                not os.path.exists(metrics) or len(open(metrics).read().splitlines()) < 4):
            time.sleep(0.002)
        filler = os.path.join(disk, "filler")
        try:
            with open(filler, "wb", buffering=0) as f:
                while True:
                    f.write(b"x" * 65536)
        except OSError:  # No space left on device: full
            pass
        time.sleep(0.3)
        os.remove(filler)
        stdout, stderr = proc.communicate(timeout=300)
        rows = len(ex.read_metrics(metrics)) - 1 if os.path.exists(metrics) else 0
        print(f"  a disk full for a moment: exit code {proc.returncode}, {rows} of 32 rows, {stderr.strip()[-160:]}")
        check(proc.returncode != 0 or rows == 2 * 16,
              f"a disk full for a moment: exit 0 with {rows} of 32 metrics rows:\n{stdout[-300:]}")
        check(proc.returncode == 0 or "cannot write" in stderr, f"a disk full for a moment: unclear error:\n{stderr[-400:]}")
    finally:
        subprocess.run(["umount", disk], capture_output=True)


def test_fuzz(examples, data, tmp):
    """Random bad and good values for the flags, and random metadata in a checkpoint: clean exits only."""
    rng = random.Random(13)
    dcgan = os.path.join(examples, "02_dcgan")
    tokens = ["nan", "-nan", "inf", "-1", "0", "1", "2", "0.5", "1e309", "", " 3", "3 ", "12abc", "0x10", "1e-3",
              "99999999999", "-2147483649", "7", "1.5", "true"]
    flags = ["--epochs", "--batch", "--latent", "--lr", "--beta1", "--width", "--d-width", "--pack", "--real-label",
             "--lr-d", "--d-dropout", "--ema", "--seed", "--threads", "--limit", "--minutes", "--resume"]
    for i in range(25):
        flag, value = rng.choice(flags), rng.choice(tokens)
        args = ["--data", data, "--epochs", 1, *SMALL, "--latent", 8, "--out", os.path.join(tmp, f"fz{i}"), f"{flag}={value}"]
        proc = ex.run(dcgan, *args, expect_ok=False)
        text = proc.stdout + proc.stderr
        check(proc.returncode in (0, 1, 2) and not crashed(text), f"fuzz {flag}={value!r}: exit {proc.returncode}:\n{text[-600:]}")
        check(proc.returncode != 2 or "usage:" in proc.stderr, f"fuzz {flag}={value!r}: refused without the usage")
        check(proc.returncode != 1 or "error:" in proc.stderr, f"fuzz {flag}={value!r}: failed without a message")
    good = os.path.join(tmp, "fuzz-good")
    one_epoch_run(dcgan, data, good)
    keys = ["epoch", "step", "seconds", "rng", "avg.updates", "note"]  # "note": a key resume does not read
    values = ["-1", "0", "1", "2", "3", "1.5", "nan", "", "x", "1e400", "99999999999999999999", "2 3"]
    for i in range(25):
        d = os.path.join(tmp, "fuzz-state")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(good, d)
        changes = {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(1, 2))}
        ex.set_safetensors_metadata(os.path.join(d, "checkpoint.safetensors"), **changes)
        proc = ex.run(dcgan, "--data", data, *SMALL, "--epochs", 2, "--out", d, "--resume", expect_ok=False)
        text = proc.stdout + proc.stderr
        check(proc.returncode in (0, 1) and not crashed(text), f"fuzz metadata {changes}: exit {proc.returncode}:\n{text[-600:]}")
        if proc.returncode == 1:
            check("checkpoint.safetensors" in proc.stderr or "metrics.csv" in proc.stderr,
                  f"fuzz metadata {changes}: the error names no file:\n{proc.stderr[-400:]}")
        else:  # accepted: then the run is whole, steps 1..4 in order
            steps = [int(r[0]) for r in ex.read_metrics(os.path.join(d, "metrics.csv"))[1:]]
            check(steps == [1, 2, 3, 4], f"fuzz metadata {changes}: accepted, but metrics.csv steps are {steps}")


def test_benchmark_demo_is_the_demo(examples, data, tmp):
    proc = ex.run(os.path.join(examples, BENCHMARK), "--model", "demo", "--steps", 1, "--warmup", 0, "--threads", 1)
    recipe = [line for line in proc.stderr.splitlines() if line.startswith("demo recipe:")]
    check(len(recipe) == 1, f"benchmark --model demo printed no 'demo recipe:' line:\n{proc.stderr[-600:]}")
    words = recipe[0].split(":", 1)[1].split()
    ours = dict(zip(words[0::2], words[1::2]))
    helped = ex.run(os.path.join(examples, "02_dcgan"), "--help").stdout
    for flag, value in ours.items():
        line = [l for l in helped.splitlines() if l.strip().startswith(flag + " ")]
        check(len(line) == 1 and "default: " in line[0], f"02_dcgan --help does not state a default for {flag}")
        default = line[0].rsplit("default: ", 1)[1].rstrip("]")
        check(float(default) == float(value),
              f"benchmark --model demo runs {flag} {value}, but 02_dcgan's default is {default}: update DemoRecipe "
              f"in examples/benchmark.cpp (and benchmarks/torch_demo_bench.py)")
    rows = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    check([(r["model"], r["mode"], r["batch"]) for r in rows] == [("demo", "train_step", 32), ("demo", "g_forward", 32)],
          f"benchmark --model demo: unexpected rows {rows}")
    if subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode != 0:
        print("  (PyTorch does not import here: the check of torch_demo_bench.py's FLOPs was not run)")
        return
    twin = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "torch_demo_bench.py")
    theirs = [json.loads(l) for l in ex.run(sys.executable, twin, "--steps", 1, "--warmup", 0, "--threads", 1,
                                            "--forward-only-generator").stdout.splitlines() if l.startswith("{")]
    check([(r["mode"], r["batch"], r["flops_per_step"]) for r in theirs] ==
          [(r["mode"], r["batch"], int(r["flops_per_step"])) for r in rows],
          f"torch_demo_bench.py and benchmark --model demo count different FLOPs (different models?): {theirs} vs {rows}")


def test_benchmark_vanilla_gemms_row(examples, data, tmp):
    proc = ex.run(os.path.join(examples, BENCHMARK), "--model", "vanilla", "--batch", 8, "--steps", 2, "--warmup", 0,
                  "--threads", 1)
    rows = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    check([(r["model"], r["mode"]) for r in rows] == [("vanilla", "train_step"), ("vanilla", "g_forward"),
                                                     ("vanilla", "g_forward_gemms")],
          f"benchmark --model vanilla: unexpected rows {rows}")
    if len(rows) == 3:
        check(rows[1]["flops_per_step"] == rows[2]["flops_per_step"] and rows[2]["images_per_s"] > 0,
              f"benchmark --model vanilla: g_forward_gemms does not count g_forward's FLOPs: {rows[1:]}")


TESTS = [test_strict_flags, test_one_run_per_folder, test_resume_refuses_broken_state, test_broken_weights_and_data,
         test_full_disk, test_fuzz, test_benchmark_demo_is_the_demo, test_benchmark_vanilla_gemms_row]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    examples = os.path.join(build, "examples")
    global BENCHMARK
    if os.path.isfile(os.path.join(examples, "minigan_benchmark")):
        BENCHMARK = "minigan_benchmark"
    if not all(os.path.isfile(os.path.join(examples, p)) for p in ("02_dcgan", "evaluate", BENCHMARK)):
        print(f"SKIPPED: no example programs in {examples} (configured without examples?)")
        return 77
    return ex.run_suite(TESTS, examples, "robustness", train=256, test=32)


if __name__ == "__main__":
    sys.exit(main())
