#!/usr/bin/env python3
"""Python reference for the whole-pipeline benchmark (bench/pipeline.sh).

Does in one script the work `pipeline run pipelines/fsdd.toml` does, with
the usual Python tools, and writes a metrics JSON with per-stage seconds:

    python pipeline_ref.py --data DIR --out metrics.json [--model cnn|svm]
                           [--split official|speakers] [--epochs 40]
                           [--seed 0] [--threads 2] [--deltas 0]
                           [--no-val] [--crop center|start]
                           [--pools 2,2,2] [--init pytorch|he]

Stages, in the order of pipelines/fsdd.toml:
  decode     soundfile.read of every WAV (float32, 8 kHz mono).
  features   librosa.feature.mfcc(sr=8000, n_mfcc=13, n_fft=256,
             hop_length=80, n_mels=40): Slaney mels, power_to_db with
             top_db 80, orthonormal DCT-II, centred frames; with --deltas N
             their librosa.feature.delta (width 9) of orders 1..N below.
  split      official: takes 0-4 are the test set; speakers: leave one
             speaker out, 6 folds. A stratified 10 % (official) or one
             training speaker (speakers, as val_fraction 0.2 of 5 speakers
             draws one) is held out for validation, as Cochlea does;
             --no-val trains on all the rest (val_fraction 0).
  normalize  mean and standard deviation per MFCC row over the training
             clips' real frames; then crop (centre, or --crop start) / zero
             pad to 100 frames (zero after standardisation = the training
             mean).
  train      cnn: 3 x [Conv1d(same, no bias) -> BatchNorm1d -> ReLU ->
             MaxPool1d(2)] with 64/128/128 filters and kernels 5/3/3
             (--pools sets each block's pooling, 1 = none), mean over time,
             Dropout(0.3), Linear(128, 10); torch.nn's default init
             (--init he: He-uniform convolutions,
             kaiming_uniform_(nonlinearity="relu")); Adam(lr 1e-3,
             weight_decay 1e-4), batches of 64 from a fresh permutation, 40
             epochs, a validation pass after each (eval mode, no_grad;
             none with --no-val); final-epoch weights predict the test set.
             svm: sklearn SVC (RBF, C 10) on the mean and standard
             deviation of each MFCC over the clip, standardised on train.
  evaluate   test accuracy of the trained model.

torch.set_num_threads(--threads) bounds PyTorch's intra-op threads (2 = the
machine's cores); librosa runs in this one process.
"""

import argparse
import json
import os
import re
import sys
import time

T_START = time.perf_counter()

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soundfile  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

T_IMPORTS = time.perf_counter() - T_START

NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
CLIP_FRAMES = 100


def log(msg: str) -> None:
    print(f"pipeline_ref: {msg}", file=sys.stderr, flush=True)


def list_files(root: str) -> list[tuple[str, int, str, int]]:
    """(path, digit, speaker, take) for every FSDD file, sorted by name."""
    out = []
    for name in sorted(os.listdir(root)):
        m = NAME.match(name)
        if m:
            out.append((os.path.join(root, name), int(m.group(1)), m.group(2), int(m.group(3))))
    return out


def mfcc_matrices(signals: list[np.ndarray], deltas: int) -> list[np.ndarray]:
    """13 MFCCs, then their deltas up to order `deltas` (librosa.feature.delta,
    width 9), stacked as rows: what `[features] deltas = N` computes."""
    out = []
    for y in signals:
        m = librosa.feature.mfcc(y=y, sr=8000, n_mfcc=13, n_fft=256, hop_length=80, n_mels=40)
        rows = [m] + [librosa.feature.delta(m, width=9, order=o) for o in range(1, deltas + 1)]
        out.append(np.concatenate(rows).astype(np.float32))
    return out


def fit_length(m: np.ndarray, frames: int, crop: str = "center") -> np.ndarray:
    """Centre (or start) crop or zero pad on the right, as Cochlea's
    `fit_length`."""
    n = m.shape[1]
    if n > frames:
        start = (n - frames) // 2 if crop == "center" else 0
        return m[:, start : start + frames]
    out = np.zeros((m.shape[0], frames), dtype=np.float32)
    out[:, :n] = m
    return out


def folds(files, split: str, seed: int, with_val: bool = True):
    """Yields (name, train, val, test) index arrays."""
    rng = np.random.default_rng(seed)
    idx = np.arange(len(files))
    digits = np.array([f[1] for f in files])
    speakers = np.array([f[2] for f in files])
    if split == "official":
        takes = np.array([f[3] for f in files])
        test = idx[takes <= 4]
        rest = idx[takes > 4]
        val = []
        for d in range(10):
            pool = rest[digits[rest] == d]
            if with_val:
                val.extend(rng.choice(pool, size=round(0.1 * len(pool)), replace=False))
        val = np.sort(np.array(val, dtype=np.int64))
        train = np.setdiff1d(rest, val)
        yield "official", train, val, test
    else:
        for spk in sorted(set(speakers)):
            test = idx[speakers == spk]
            others = sorted(set(speakers) - {spk})
            val_spk = others[rng.integers(len(others))] if with_val else None
            val = idx[speakers == val_spk]
            train = idx[(speakers != spk) & (speakers != val_spk)]
            yield spk, train, val, test


def standardise(mats, train, crop: str = "center"):
    cat = np.concatenate([mats[i] for i in train], axis=1).astype(np.float64)
    mean = cat.mean(axis=1, keepdims=True)
    std = cat.std(axis=1, keepdims=True)
    std[std <= 1e-8] = 1.0
    x = np.stack([fit_length(((m - mean) / std).astype(np.float32), CLIP_FRAMES, crop) for m in mats])
    return x


def run_cnn(x, y, train, val, test, epochs: int, seed: int, threads: int, timings: dict,
            pools=(2, 2, 2), init: str = "pytorch"):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)

    def block(c_in, c_out, k, pool):
        conv = nn.Conv1d(c_in, c_out, k, padding="same", bias=False)
        if init == "he":
            nn.init.kaiming_uniform_(conv.weight, nonlinearity="relu")
        layers = [conv, nn.BatchNorm1d(c_out), nn.ReLU()]
        if pool > 1:
            layers.append(nn.MaxPool1d(pool))
        return nn.Sequential(*layers)

    model = nn.Sequential(
        block(x.shape[1], 64, 5, pools[0]),
        block(64, 128, 3, pools[1]),
        block(128, 128, 3, pools[2]),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    xv, yv = torch.from_numpy(x[val]), torch.from_numpy(y[val])
    xs, ys = torch.from_numpy(x[test]), torch.from_numpy(y[test])

    def accuracy(xe, ye):
        model.eval()
        correct = 0
        with torch.no_grad():
            for s in range(0, len(ye), 256):
                correct += (model(xe[s : s + 256]).argmax(1) == ye[s : s + 256]).sum().item()
        return correct / max(len(ye), 1)

    history = []
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        te = time.perf_counter()
        model.train()
        perm = torch.randperm(len(yt))
        total = 0.0
        for b in perm.split(64):
            if len(b) < 2:  # batch norm needs two examples
                continue
            xb, yb = xt.index_select(0, b), yt.index_select(0, b)
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        val_acc = accuracy(xv, yv) if len(yv) else None
        history.append(
            {"epoch": epoch, "train_loss": total / len(yt), "val_accuracy": val_acc, "seconds": time.perf_counter() - te}
        )
    timings["train"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    acc = accuracy(xs, ys)
    timings["evaluate"] += time.perf_counter() - t0
    return acc, history


def clip_stats(mats):
    return np.stack([np.concatenate([m.mean(axis=1), m.std(axis=1)]) for m in mats])


def run_svm(stats, y, train, test, timings: dict):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    t0 = time.perf_counter()
    clf = make_pipeline(StandardScaler(), SVC(C=10.0, kernel="rbf", gamma="scale"))
    clf.fit(stats[train], y[train])
    timings["train"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    acc = float((clf.predict(stats[test]) == y[test]).mean())
    timings["evaluate"] += time.perf_counter() - t0
    return acc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="FSDD recordings folder")
    p.add_argument("--out", required=True, help="metrics JSON to write")
    p.add_argument("--model", choices=["cnn", "svm"], default="cnn")
    p.add_argument("--split", choices=["official", "speakers"], default="official")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--deltas", type=int, choices=[0, 1, 2], default=0, help="delta orders added to the MFCCs")
    p.add_argument("--no-val", action="store_true", help="no validation set: train on everything but the test set")
    p.add_argument("--crop", choices=["center", "start"], default="center", help="which 100 frames of a longer clip")
    p.add_argument("--pools", default="2,2,2", help="max pooling after each of the 3 blocks, 1 = none")
    p.add_argument("--init", choices=["pytorch", "he"], default="pytorch", help="conv weight init")
    args = p.parse_args()
    pools = tuple(int(v) for v in args.pools.split(","))
    if len(pools) != 3 or min(pools) < 1:
        p.error("--pools takes three integers of at least 1, e.g. 2,2,1")

    timings = {"imports": T_IMPORTS}
    files = list_files(args.data)
    if not files:
        sys.exit(f"pipeline_ref: no FSDD WAV files in {args.data}")

    t0 = time.perf_counter()
    signals = [soundfile.read(f[0], dtype="float32")[0] for f in files]
    timings["decode"] = time.perf_counter() - t0
    log(f"decoded {len(files)} files in {timings['decode']:.2f} s")

    t0 = time.perf_counter()
    mats = mfcc_matrices(signals, args.deltas)
    timings["features"] = time.perf_counter() - t0
    log(f"MFCCs in {timings['features']:.2f} s")

    y = np.array([f[1] for f in files], dtype=np.int64)
    timings.update(normalize=0.0, train=0.0, evaluate=0.0)
    results = []
    stats = clip_stats(mats) if args.model == "svm" else None
    for name, train, val, test in folds(files, args.split, args.seed, with_val=not args.no_val):
        if args.model == "cnn":
            t0 = time.perf_counter()
            x = standardise(mats, train, args.crop)
            timings["normalize"] += time.perf_counter() - t0
            acc, history = run_cnn(
                x, y, train, val, test, args.epochs, args.seed, args.threads, timings, pools, args.init
            )
        else:
            # The SVM has no use for a validation set: train on all of it.
            acc, history = run_svm(stats, y, np.concatenate([train, val]), test, timings), []
        log(f"fold {name}: test accuracy {acc:.4f}")
        results.append({"fold": name, "test_accuracy": acc, "history": history})

    accs = [r["test_accuracy"] for r in results]
    timings["total"] = time.perf_counter() - T_START

    metrics = {
        "impl": f"python-librosa-{librosa.__version__}-torch-{torch.__version__}-{args.model}",
        "model": args.model,
        "split": args.split,
        "seed": args.seed,
        "threads": args.threads,
        "epochs": args.epochs if args.model == "cnn" else None,
        "deltas": args.deltas,
        "validation": not args.no_val,
        "crop": args.crop,
        "pools": list(pools),
        "init": args.init,
        "folds": results,
        "accuracy_mean": float(np.mean(accs)),
        "accuracy_std": float(np.std(accs)),
        "timings": timings,
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(metrics, fh, indent=1)
    os.replace(tmp, args.out)
    print(json.dumps({"accuracy_mean": metrics["accuracy_mean"], "timings": timings}))


if __name__ == "__main__":
    main()
