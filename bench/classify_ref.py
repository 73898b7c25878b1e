#!/usr/bin/env python3
"""Files per second of the Python path that `pipeline classify` replaces:
librosa features from an export's spec.json + the TorchScript module
(torch.jit.load), through python/cochlea_loader.py.

    python bench/classify_ref.py MODEL.pt --files-from LIST --processes N

One torch thread per process; N processes share the files (N = 1 or 2).
Prints one JSON line: {"tool": ..., "processes": N, "files": n, "seconds": s}.
"""

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))


def work(args):
    model_file, files = args
    import torch
    torch.set_num_threads(1)
    from cochlea_loader import Model
    model = Model(model_file)
    for f in files:
        model.predict_file(f)
    return len(files)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--files-from", required=True)
    ap.add_argument("--processes", type=int, default=1)
    a = ap.parse_args()
    files = [l.strip() for l in open(a.files_from) if l.strip()]
    # Warm-up: imports, module load, librosa's first-call costs.
    work((a.model, files[:1]))
    t = time.perf_counter()
    if a.processes == 1:
        n = work((a.model, files))
    else:
        parts = [(a.model, files[i::a.processes]) for i in range(a.processes)]
        with multiprocessing.get_context("fork").Pool(a.processes) as pool:
            n = sum(pool.map(work, parts))
    s = time.perf_counter() - t
    print(json.dumps({"tool": "librosa + torch.jit.load", "processes": a.processes,
                      "files": n, "seconds": round(s, 3)}))


if __name__ == "__main__":
    main()
