#!/usr/bin/env python3
"""Golden file of the functionals (features.pooling = "functionals").

    $(bench/ref-venv.sh)/bin/python tests/golden/functionals/make_functionals.py

Writes functionals.json beside this script: seeded float32 feature rows of
several lengths (1, 2, 7, 100 and 333 frames; Gaussian, a ramp with noise,
a constant row, a row with repeated values) and, per row, numpy's mean,
std (population), percentile 10/50/90 (linear), max - min, and
polyfit(t, x, 1)[0] (0 for one frame), computed in float64 from the
float32 values. crates/cochlea-pipeline/src/functionals.rs checks its
values against it.
"""

import json
import os

import numpy as np


def functionals(x):
    x = x.astype(np.float64)
    t = np.arange(len(x), dtype=np.float64)
    slope = float(np.polyfit(t, x, 1)[0]) if len(x) > 1 else 0.0
    return [float(x.mean()), float(x.std()), float(np.percentile(x, 10)),
            float(np.percentile(x, 50)), float(np.percentile(x, 90)),
            float(x.max() - x.min()), slope]


def main():
    rng = np.random.default_rng(20261201)
    rows = []
    for n in (1, 2, 7, 100, 333):
        rows.append(rng.standard_normal(n).astype(np.float32) * 3 + 1)
        rows.append((np.linspace(-2, 5, n) + 0.1 * rng.standard_normal(n)).astype(np.float32))
    rows.append(np.full(50, 0.25, dtype=np.float32))
    rows.append(np.repeat(np.array([1, 2, 2, 9], dtype=np.float32), 5))
    out = {
        "numpy": np.__version__,
        "rows": [[float(v) for v in r] for r in rows],
        "functionals": [functionals(r) for r in rows],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "functionals.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(path + ".tmp", path)
    print("wrote %s: %d rows" % (path, len(rows)))


if __name__ == "__main__":
    main()
