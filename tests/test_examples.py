#!/usr/bin/env python3
"""Smoke tests of the example programs, and the promises of a training run folder.

    python3 tests/test_examples.py build        # build = the CMake (or Meson) build folder

Each example trains for a few batches on a tiny fixture data set that this script writes itself
(IDX files shaped like MNIST: a few hundred 28x28 images of simple strokes, labels 0-9), so the
suite needs neither the internet nor the real data sets. Checked here:
  - every example runs, its losses are finite, and it leaves the artifacts of a run;
  - --resume is exact: a run stopped after epoch 1 (or killed at a random moment) and resumed
    writes the same metrics.csv rows as an uninterrupted run (one thread, fixed seed);
  - a safetensors file is read back by this plain Python script (struct + json, no numpy);
  - bad flags, missing data and a checkpoint of another architecture give clear errors.
Exit code 77 means "skipped" (CTest and Meson report it as such): only when examples were not built.
"""
import gzip
import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL:", message)
    return condition


# ---- a tiny data set in MNIST's IDX format --------------------------------------------------

def write_idx(path, dims, payload, gz=False):
    """IDX: 0x00 0x00 <type 0x08 = ubyte> <rank>, then each dimension as big-endian uint32."""
    header = bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(header + payload)


def digit_like_image(label, rng):
    """A 28x28 image: a bright bar whose angle and position depend on the label, plus jitter."""
    img = bytearray(28 * 28)
    angle = math.pi * label / 10 + rng.uniform(-0.1, 0.1)
    cx, cy = 14 + rng.uniform(-2, 2), 14 + rng.uniform(-2, 2)
    for t in range(-9, 10):
        for w in (-1, 0, 1):
            x = int(round(cx + t * math.cos(angle) - w * math.sin(angle)))
            y = int(round(cy + t * math.sin(angle) + w * math.cos(angle)))
            if 0 <= x < 28 and 0 <= y < 28:
                img[y * 28 + x] = 255 if w == 0 else 128
    return bytes(img)


def make_fixture(root, train=256, test=64):
    """root/mnist/ raw IDX and root/fashion-mnist/ gzipped IDX, as data/fetch.sh lays them out."""
    rng = random.Random(7)
    for folder, gz in (("mnist", False), ("fashion-mnist", True)):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        for prefix, n in (("train", train), ("t10k", test)):
            labels = [i % 10 for i in range(n)]
            images = b"".join(digit_like_image(l, rng) for l in labels)
            suffix = ".gz" if gz else ""
            write_idx(os.path.join(root, folder, f"{prefix}-images-idx3-ubyte{suffix}"), [n, 28, 28], images, gz)
            write_idx(os.path.join(root, folder, f"{prefix}-labels-idx1-ubyte{suffix}"), [n], bytes(labels), gz)


# ---- running an example ---------------------------------------------------------------------

def run(binary, *args, expect_ok=True, timeout=300):
    cmd = [binary, *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if expect_ok and proc.returncode != 0:
        check(False, f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


def read_metrics(path):
    """metrics.csv rows as lists of strings, header first."""
    with open(path) as f:
        return [line.rstrip("\n").split(",") for line in f if line.strip()]


def without_seconds(rows):
    """The rows with the last column (wall-clock seconds) removed: the rest must repeat exactly."""
    return [row[:-1] for row in rows]


def read_safetensors(path):
    """Parse a .safetensors file with struct + json only: {name: (dtype, shape, [floats])}, metadata."""
    with open(path, "rb") as f:
        blob = f.read()
    check(len(blob) >= 8, f"{path}: shorter than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    data = blob[8 + header_len:]
    metadata = header.pop("__metadata__", {})
    tensors, covered = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        check(info["dtype"] == "F32", f"{path}: {name} has dtype {info['dtype']}, expected F32")
        check(begin == covered, f"{path}: {name} starts at {begin}, expected {covered} (gap or overlap)")
        check(end - begin == 4 * count, f"{path}: {name} holds {end - begin} bytes for shape {info['shape']}")
        tensors[name] = (info["dtype"], info["shape"], list(struct.unpack(f"<{count}f", data[begin:end])))
        covered = end
    check(covered == len(data), f"{path}: {len(data) - covered} bytes after the last tensor")
    return tensors, metadata


def set_safetensors_metadata(path, **changes):
    """Rewrite a .safetensors file with some __metadata__ entries changed (the tensors stay)."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    header.setdefault("__metadata__", {}).update(changes)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob[8 + header_len:])


def expect_artifacts(out, epochs, what):
    for name in ["metrics.csv", "losses.png", "progress.gif", "run.json", "checkpoint.safetensors",
                 "generator.safetensors", "discriminator.safetensors"] + \
                [f"samples/epoch_{e:03d}.png" for e in range(1, epochs + 1)]:
        path = os.path.join(out, name)
        check(os.path.isfile(path) and os.path.getsize(path) > 0, f"{what}: {path} was not written")
    for name in os.listdir(out):
        check(".tmp" not in name, f"{what}: a temporary file was left behind: {name}")


def expect_finite_metrics(out, steps, what):
    rows = read_metrics(os.path.join(out, "metrics.csv"))
    check(rows[0] == ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"],
          f"{what}: metrics.csv header is {rows[0]}")
    check(len(rows) - 1 == steps, f"{what}: metrics.csv has {len(rows) - 1} rows, expected {steps}")
    for row in rows[1:]:
        values = [float(v) for v in row[2:6]]
        if not check(all(math.isfinite(v) for v in values), f"{what}: non-finite loss in row {row}"):
            break
        check(0.0 <= values[2] <= 1.0 and 0.0 <= values[3] <= 1.0, f"{what}: D(x) or D(G(z)) outside [0,1]: {row}")
    return rows


# ---- the tests --------------------------------------------------------------------------------

def test_dcgan_smoke(examples, data, tmp):
    out = os.path.join(tmp, "dcgan")
    run(os.path.join(examples, "02_dcgan"), "--data", data, "--epochs", 2, "--batch", 16, "--limit", 128,
        "--threads", 1, "--out", out)
    expect_artifacts(out, 2, "02_dcgan")
    expect_finite_metrics(out, 2 * 128 // 16, "02_dcgan")
    with open(os.path.join(out, "run.json")) as f:
        state = json.load(f)
    check(state["epoch"] == 2 and state["step"] == 16, f"02_dcgan: run.json says epoch {state['epoch']}, "
                                                       f"step {state['step']}; expected 2 and 16")
    # The generator, read by plain Python: PyTorch state_dict names, F32, finite values.
    tensors, meta = read_safetensors(os.path.join(out, "generator.safetensors"))
    check("0.weight" in tensors, f"generator.safetensors: no '0.weight' (names: {sorted(tensors)[:5]}...)")
    check(any(n.endswith("running_mean") for n in tensors), "generator.safetensors: no BatchNorm running_mean")
    check(all(math.isfinite(v) for _, _, values in tensors.values() for v in values),
          "generator.safetensors: non-finite values")
    check(meta.get("step") == "16", f"generator.safetensors: metadata step is {meta.get('step')}")
    # Fashion-MNIST files are gzipped: the same program reads them.
    out_f = os.path.join(tmp, "dcgan-fashion")
    run(os.path.join(examples, "02_dcgan"), "--data", data, "--dataset", "fashion", "--epochs", 1, "--batch", 16,
        "--limit", 64, "--threads", 1, "--out", out_f)
    expect_finite_metrics(out_f, 4, "02_dcgan --dataset fashion")


def test_exact_resume(examples, data, tmp):
    """Interrupted + resumed == uninterrupted, row for row (seconds aside), on one thread."""
    dcgan = os.path.join(examples, "02_dcgan")
    common = ["--data", data, "--batch", 16, "--limit", 96, "--threads", 1, "--seed", 3]
    straight = os.path.join(tmp, "straight")
    run(dcgan, *common, "--epochs", 3, "--out", straight)
    reference = without_seconds(read_metrics(os.path.join(straight, "metrics.csv")))
    check(len(reference) == 1 + 3 * 6, f"uninterrupted run wrote {len(reference) - 1} rows, expected 18")

    # 1. Stopped cleanly after epoch 1, then resumed to epoch 3.
    stopped = os.path.join(tmp, "stopped")
    run(dcgan, *common, "--epochs", 1, "--out", stopped)
    run(dcgan, *common, "--epochs", 3, "--out", stopped, "--resume")
    check(without_seconds(read_metrics(os.path.join(stopped, "metrics.csv"))) == reference,
          "resume after epoch 1: metrics.csv differs from the uninterrupted run")
    a, _ = read_safetensors(os.path.join(straight, "generator.safetensors"))
    b, _ = read_safetensors(os.path.join(stopped, "generator.safetensors"))
    check(a == b, "resume after epoch 1: the final generator differs from the uninterrupted run's")
    a, _ = read_safetensors(os.path.join(straight, "generator_ema.safetensors"))
    b, _ = read_safetensors(os.path.join(stopped, "generator_ema.safetensors"))
    check(a == b, "resume after epoch 1: the weight average (--ema) differs from the uninterrupted run's")

    # 2. Killed (SIGKILL) at some moment after its first checkpoint, then resumed.
    killed = os.path.join(tmp, "killed")
    proc = subprocess.Popen([dcgan, *map(str, common), "--epochs", "3", "--out", killed],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(os.path.join(killed, "checkpoint.safetensors")):
            time.sleep(random.Random(1).uniform(0.0, 0.05))
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run(dcgan, *common, "--epochs", 3, "--out", killed, "--resume")
    check(without_seconds(read_metrics(os.path.join(killed, "metrics.csv"))) == reference,
          "resume after SIGKILL: metrics.csv differs from the uninterrupted run")
    a, _ = read_safetensors(os.path.join(straight, "generator_ema.safetensors"))
    b, _ = read_safetensors(os.path.join(killed, "generator_ema.safetensors"))
    check(a == b, "resume after SIGKILL: the weight average (--ema) differs from the uninterrupted run's")

    # 3. A new run (no --resume) in a used folder starts over: no rows or grids of the old run.
    run(dcgan, *common, "--epochs", 1, "--out", straight)
    check(len(read_metrics(os.path.join(straight, "metrics.csv"))) == 1 + 6,
          "a new run in an old folder kept the old metrics.csv rows")
    check(not os.path.exists(os.path.join(straight, "samples", "epoch_003.png")),
          "a new run in an old folder kept the old run's samples/epoch_003.png")


def test_sample_names_past_epoch_99(examples, data, tmp):
    """The end-of-epoch line names the grid that was written: epoch_100.png, not epoch_0100.png."""
    dcgan = os.path.join(examples, "02_dcgan")
    out = os.path.join(tmp, "epoch100")
    common = ["--data", data, "--batch", 16, "--limit", 16, "--threads", 1, "--out", out]
    run(dcgan, *common, "--epochs", 1)
    # As if 99 epochs had run (one step each): the checkpoint and metrics.csv say so, and --resume
    # trains epoch 100.
    set_safetensors_metadata(os.path.join(out, "checkpoint.safetensors"), epoch="99", step="99")
    rows = read_metrics(os.path.join(out, "metrics.csv"))
    with open(os.path.join(out, "metrics.csv"), "w") as f:
        f.write(",".join(rows[0]) + "\n")
        for e in range(1, 100):
            f.write(",".join([str(e), str(e)] + rows[1][2:]) + "\n")
    proc = run(dcgan, *common, "--epochs", 100, "--resume")
    grid = os.path.join(out, "samples", "epoch_100.png")
    check(os.path.isfile(grid), "02_dcgan after epoch 100: samples/epoch_100.png was not written")
    check(grid in proc.stdout, f"02_dcgan after epoch 100: the log does not name {grid}:\n{proc.stdout[-600:]}")
    check("epoch_0100" not in proc.stdout, f"02_dcgan after epoch 100: the log names epoch_0100:\n{proc.stdout[-600:]}")


def test_clear_errors(examples, data, tmp):
    dcgan = os.path.join(examples, "02_dcgan")
    cases = [
        (["--epochs", "abc"], "--epochs"),
        (["--dataset", "cifar"], "mnist"),
        (["--d-width", "-1"], "--d-width"),
        (["--no-such-flag"], "--no-such-flag"),
        (["--data", os.path.join(tmp, "nowhere"), "--out", os.path.join(tmp, "e")], "fetch.sh"),
    ]
    for args, needle in cases:
        proc = run(dcgan, *args, expect_ok=False)
        text = proc.stdout + proc.stderr
        check(proc.returncode != 0, f"02_dcgan {' '.join(args)}: exit code 0, expected an error")
        check(needle in text, f"02_dcgan {' '.join(args)}: the message does not mention {needle!r}:\n{text[-800:]}")
        check("Traceback" not in text and "Sanitizer" not in text, f"02_dcgan {' '.join(args)}: crashed:\n{text}")
    # A checkpoint of another architecture: --resume with another --width names the mismatch.
    out = os.path.join(tmp, "arch")
    run(dcgan, "--data", data, "--epochs", 1, "--batch", 16, "--limit", 32, "--threads", 1, "--out", out)
    proc = run(dcgan, "--data", data, "--epochs", 2, "--batch", 16, "--limit", 32, "--threads", 1, "--out", out,
               "--resume", "--width", 0.5, expect_ok=False)
    check(proc.returncode != 0, "--resume with another --width: exit code 0")
    check("cannot resume" in proc.stderr and "checkpoint has (" in proc.stderr,
          f"--resume with another --width: unclear message:\n{proc.stderr[-800:]}")
    # A loss that blows up: tests/test_robust_runs.py (test_broken_weights_and_data).


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, which always comes first: bytes 16-24."""
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG file")
    return struct.unpack(">II", head[16:24])


def test_vanilla_smoke(examples, data, tmp):
    out = os.path.join(tmp, "vanilla")
    run(os.path.join(examples, "01_vanilla_gan"), "--data", data, "--epochs", 2, "--batch", 16, "--limit", 64,
        "--width", 0.25, "--threads", 1, "--out", out)
    expect_artifacts(out, 2, "01_vanilla_gan")
    expect_finite_metrics(out, 2 * 64 // 16, "01_vanilla_gan")
    with open(os.path.join(out, "run.json")) as f:
        config = json.load(f)["config"]
    check(config.get("model") == "vanilla", f"01_vanilla_gan: run.json config model is {config.get('model')!r}")
    # The MLP generator at width 0.25: Linear(100, 64) first, Linear(256, 784) last (layer 6).
    tensors, _ = read_safetensors(os.path.join(out, "generator.safetensors"))
    check(tensors.get("0.weight", (0, None))[1] == [64, 100], "01_vanilla_gan: generator 0.weight is not (64, 100)")
    check(tensors.get("6.weight", (0, None))[1] == [784, 256], "01_vanilla_gan: generator 6.weight is not (784, 256)")
    # An 8x8 grid of 28x28 images with 1-pixel separators: 8 * 28 + 7 = 231 pixels square.
    check(png_size(os.path.join(out, "samples", "epoch_002.png")) == (231, 231), "01_vanilla_gan: grid is not 8x8")


def test_conditional_smoke(examples, data, tmp):
    cgan = os.path.join(examples, "04_conditional_gan")
    out = os.path.join(tmp, "conditional")
    common = ["--data", data, "--epochs", 2, "--batch", 16, "--limit", 64, "--width", 0.125, "--threads", 1,
              "--out", out]
    run(cgan, *common, "--digit", 3)
    expect_artifacts(out, 2, "04_conditional_gan")
    rows = expect_finite_metrics(out, 2 * 64 // 16, "04_conditional_gan")
    with open(os.path.join(out, "run.json")) as f:
        config = json.load(f)["config"]
    check(config.get("model") == "conditional", f"04_conditional_gan: run.json config model is {config.get('model')!r}")
    # One row per class: 10 rows of 8 columns -> 231 x (10 * 28 + 9) = 231 x 289 pixels.
    check(png_size(os.path.join(out, "samples", "epoch_002.png")) == (231, 289),
          "04_conditional_gan: the epoch grid is not 10 rows (one per class) of 8")
    check(png_size(os.path.join(out, "digit_3.png")) == (231, 231), "04_conditional_gan: digit_3.png is not 8x8")
    # G's first layer sees z and the one-hot class: 100 + 10 inputs.
    tensors, _ = read_safetensors(os.path.join(out, "generator.safetensors"))
    check(tensors.get("0.weight", (0, [0, 0]))[1][1] == 110, "04_conditional_gan: generator 0.weight has not 110 inputs")
    # --ema (the default): the weight average beside it, same names and shapes, other values.
    averaged, _ = read_safetensors(os.path.join(out, "generator_ema.safetensors"))
    check({k: v[1] for k, v in averaged.items()} == {k: v[1] for k, v in tensors.items()},
          "04_conditional_gan: generator_ema.safetensors does not hold the generator's tensors")
    check(averaged.get("0.weight") != tensors.get("0.weight"), "04_conditional_gan: the weight average equals G")
    # --resume --digit on a finished run only samples: no new training rows.
    run(cgan, *common, "--resume", "--digit", 5)
    check(os.path.isfile(os.path.join(out, "digit_5.png")), "04_conditional_gan --resume --digit 5: no digit_5.png")
    check(read_metrics(os.path.join(out, "metrics.csv")) == rows,
          "04_conditional_gan --resume --digit 5 on a finished run changed metrics.csv (it should only sample)")
    proc = run(cgan, "--digit", 10, "--out", os.path.join(tmp, "c-bad"), expect_ok=False)
    check(proc.returncode != 0 and "--digit" in proc.stderr, f"--digit 10: no clear error:\n{proc.stderr[-400:]}")
    # --conditioning acgan: the same G, a D that names the class; it trains and writes the same files.
    ac_out = os.path.join(tmp, "conditional-acgan")
    ac_common = ["--data", data, "--batch", 16, "--limit", 64, "--width", 0.125, "--threads", 1, "--out", ac_out]
    run(cgan, *ac_common, "--epochs", 1, "--conditioning", "acgan")
    expect_artifacts(ac_out, 1, "04_conditional_gan --conditioning acgan")
    expect_finite_metrics(ac_out, 64 // 16, "04_conditional_gan --conditioning acgan")
    # Its D does not fit the other recipe's D: resuming with the other --conditioning is refused.
    proc = run(cgan, *ac_common, "--epochs", 2, "--conditioning", "input", "--resume", expect_ok=False)
    check(proc.returncode != 0 and "cannot resume" in proc.stderr and "--conditioning acgan (now input)" in proc.stderr,
          f"resuming an acgan run with --conditioning input: no clear error naming the flag:\n{proc.stderr[-400:]}")


def test_anogan_smoke(examples, data, tmp):
    """03_anogan: GAN on one class, encoder, both scores, the pictures; a second run loads, not trains."""
    anogan = os.path.join(examples, "03_anogan")
    out = os.path.join(tmp, "anogan")
    common = ["--data", data, "--normal-class", 3, "--epochs", 1, "--batch", 8, "--width", 0.125, "--latent", 16,
              "--encoder-epochs", 1, "--search-queries", 16, "--search-steps", 3, "--threads", 1, "--out", out]
    run(anogan, *common)
    for name in ["results.json", "roc.png", "histogram.png", "histogram_code.png", "panel_f-anogan.png",
                 "panel_code.png", "panel_anogan.png", "scores.csv", "encoder.safetensors", "gan/generator.safetensors"]:
        check(os.path.isfile(os.path.join(out, name)), f"03_anogan: {name} was not written")
    if not os.path.isfile(os.path.join(out, "results.json")):
        return
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    for method in ("f_anogan", "f_anogan_code", "anogan"):
        auroc = results[method]["auroc"]
        check(auroc is not None and 0.0 <= auroc <= 1.0, f"03_anogan: {method} AUROC is {auroc}")
        check(results[method]["queries_per_second"] > 0, f"03_anogan: {method} has no scoring speed")
    check(results["anogan"]["queries"] == 16 and results["anogan"]["steps"] == 3,
          f"03_anogan: AnoGAN scored {results['anogan']['queries']} queries with {results['anogan']['steps']} steps")
    with open(os.path.join(out, "scores.csv")) as f:
        rows = [line for line in f if line.strip()]
    check(len(rows) == 1 + 64, f"03_anogan: scores.csv has {len(rows) - 1} rows, expected one per test image (64)")
    # Run again in the same folder: the GAN and the encoder are loaded, and the scores repeat.
    proc = run(anogan, *common)
    check("loaded the GAN" in proc.stdout and "loaded the encoder" in proc.stdout,
          f"03_anogan run twice: the second run did not load the GAN and the encoder:\n{proc.stdout[-800:]}")
    with open(os.path.join(out, "results.json")) as f:
        again = json.load(f)
    check(again["f_anogan"]["auroc"] == results["f_anogan"]["auroc"],
          "03_anogan run twice: the f-AnoGAN AUROC changed although nothing was trained")
    proc = run(anogan, "--normal-class", 10, "--out", os.path.join(tmp, "a-bad"), expect_ok=False)
    check(proc.returncode != 0 and "--normal-class" in proc.stderr, f"--normal-class 10: no clear error:\n{proc.stderr[-400:]}")


def test_classifier_and_evaluate(examples, data, tmp):
    """mnist_classifier trains and saves itself; evaluate scores the conditional run with it."""
    classifier_out = os.path.join(tmp, "classifier")
    run(os.path.join(examples, "mnist_classifier"), "--data", data, "--epochs", 1, "--batch", 32, "--threads", 1,
        "--out", classifier_out)
    weights = os.path.join(classifier_out, "classifier.safetensors")
    check(os.path.isfile(weights), "mnist_classifier: classifier.safetensors was not written")
    with open(os.path.join(classifier_out, "classifier.json")) as f:
        report = json.load(f)
    check(0.0 <= report.get("test_accuracy", -1) <= 1.0, f"mnist_classifier: test_accuracy is {report.get('test_accuracy')}")
    evaluate = os.path.join(examples, "evaluate")
    cgan_run = os.path.join(tmp, "conditional")  # left by test_conditional_smoke
    if not check(os.path.isfile(os.path.join(cgan_run, "run.json")), "evaluate: no conditional run to score"):
        return
    out = os.path.join(tmp, "evaluate.json")
    run(evaluate, "--run", cgan_run, "--classifier", weights, "--data", data, "--samples", 100, "--threads", 1,
        "--out", out)
    with open(out) as f:
        scores = json.load(f)
    check(math.isfinite(scores["generated"]["classifier_fid"]) and scores["generated"]["classifier_fid"] >= 0,
          f"evaluate: classifier FID is {scores['generated']['classifier_fid']}")
    check(abs(sum(scores["generated"]["class_fraction"]) - 1.0) < 1e-6, "evaluate: the class histogram does not sum to 1")
    check(0.0 <= scores.get("requested_class_accuracy", -1) <= 1.0,
          f"evaluate: requested_class_accuracy is {scores.get('requested_class_accuracy')}")
    per_class = scores.get("requested_class_accuracy_per_class", [])
    check(len(per_class) == 10 and all(0.0 <= a <= 1.0 for a in per_class),
          f"evaluate: requested_class_accuracy_per_class is {per_class}")
    # 100 samples ask for each class 10 times: the overall share is the mean of the ten.
    check(abs(sum(per_class) / 10 - scores["requested_class_accuracy"]) < 1e-9,
          "evaluate: the per-class accuracies do not average to the overall one")
    # A run folder that is not there: a clear error, not a crash.
    proc = run(evaluate, "--run", os.path.join(tmp, "no-such-run"), "--classifier", weights, "--data", data,
               expect_ok=False)
    check(proc.returncode == 1 and "evaluate: error:" in proc.stderr and "no-such-run" in proc.stderr,
          f"evaluate on a missing run: no clear error:\n{proc.stderr[-400:]}")


def test_toy_2d_smoke(examples, data, tmp):
    """05_toy_2d: a few steps on the ring with frames, and on the grid with every remedy; bad flags refused."""
    toy = os.path.join(examples, "05_toy_2d")
    out = os.path.join(tmp, "toy_2d")
    run(toy, "--steps", 60, "--frame-every", 30, "--log-every", 20, "--eval-samples", 500, "--out", out)
    for name in ["results.json", "losses.png", "progress.gif", "frames/step_00000.png", "frames/step_00060.png"]:
        check(os.path.isfile(os.path.join(out, name)), f"05_toy_2d: {name} was not written")
    check(png_size(os.path.join(out, "frames", "step_00030.png")) == (520, 480), "05_toy_2d: a frame is not 520x480")
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    steps = [row["step"] for row in results["history"]]
    check(steps == [0, 20, 30, 40, 60], f"05_toy_2d: measured at steps {steps}, expected 0 20 30 40 60")
    final = results["final"]
    check(0 <= final["modes_covered"] <= 8 and 0.0 <= final["high_quality"] <= 1.0 and final["reverse_kl"] >= 0,
          f"05_toy_2d: final measurements out of range: {final}")
    # Measuring and drawing use noise of their own: how often they happen never changes the training.
    quiet = os.path.join(tmp, "toy_2d_quiet")
    run(toy, "--steps", 60, "--frame-every", 0, "--log-every", 0, "--eval-samples", 500, "--out", quiet)
    with open(os.path.join(quiet, "results.json")) as f:
        quiet_final = json.load(f)["final"]
    check(quiet_final == final, f"05_toy_2d: --log-every / --frame-every changed the run: {quiet_final} against {final}")
    grid = os.path.join(tmp, "toy_2d_grid")
    run(toy, "--data", "grid", "--loss", "hinge", "--pack", 4, "--mbstd", "--spectral", "--d-steps", 2, "--decay",
        "--steps", 20, "--frame-every", 20, "--out", grid)
    with open(os.path.join(grid, "results.json")) as f:
        check(json.load(f)["final"]["modes_covered"] <= 25, "05_toy_2d --data grid: more than 25 modes covered")
    for loss in ["minimax", "ls", "wgan"]:
        run(toy, "--loss", loss, "--steps", 5, "--frame-every", 0, "--out", os.path.join(tmp, "toy_2d_" + loss))
    run(toy, "--data", "spiral", "--steps", 5, "--frame-every", 5, "--out", os.path.join(tmp, "toy_2d_spiral"))
    proc = run(toy, "--batch", 100, "--pack", 3, "--out", os.path.join(tmp, "toy-bad"), expect_ok=False)
    check(proc.returncode != 0 and "--pack" in proc.stderr, f"05_toy_2d --batch 100 --pack 3: no clear error:\n{proc.stderr[-400:]}")


TESTS = [test_toy_2d_smoke, test_dcgan_smoke, test_exact_resume, test_sample_names_past_epoch_99, test_clear_errors, test_vanilla_smoke, test_conditional_smoke, test_classifier_and_evaluate,
         test_anogan_smoke]


def run_suite(tests, examples, what, **fixture):
    """Each test(examples, data, tmp) on a fresh fixture in a temporary folder; its status and time."""
    tmp = tempfile.mkdtemp(prefix=f"minigan-{what}-")
    try:
        data = os.path.join(tmp, "data")
        make_fixture(data, **fixture)
        for test in tests:
            start = time.time()
            before = len(FAILURES)
            test(examples, data, tmp)
            status = "ok" if len(FAILURES) == before else "FAILED"
            print(f"{test.__name__}: {status} ({time.time() - start:.1f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILURES)} failure(s)" if FAILURES else f"all {what} checks passed")
    return 1 if FAILURES else 0


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    examples = os.path.join(build, "examples")
    if not os.path.isfile(os.path.join(examples, "02_dcgan")):
        print(f"SKIPPED: no example programs in {examples} (configured without examples?)")
        return 77
    return run_suite(TESTS, examples, "example")


if __name__ == "__main__":
    sys.exit(main())
