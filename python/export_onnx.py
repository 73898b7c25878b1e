"""Convert a TorchScript module written by `pipeline export` to ONNX.

Run by `pipeline export --format onnx` with the Python that COCHLEA_ONNX_PYTHON
(or COCHLEA_PYTHON) names, which needs torch and onnx; with onnxruntime
present too, the ONNX model is run against the TorchScript module on a few
batch sizes and clip lengths.

    python export_onnx.py MODULE.pt OUT.onnx ROWS OPSET

Prints one JSON object: {"opset": ..., "onnxruntime_max_abs_diff": ... or null}.
"""

import json
import sys
import warnings


def main() -> None:
    module_path, out, rows, opset = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    try:
        import torch
    except ImportError:
        sys.exit(f"torch is not installed in {sys.executable}")
    try:
        import onnx  # noqa: F401  (torch.onnx.export writes through it)
    except ImportError:
        sys.exit(f"onnx is not installed in {sys.executable}; install it with:\n"
                 f"  {sys.executable} -m pip install onnx==1.23.2")
    module = torch.jit.load(module_path, map_location="cpu").eval()
    example = torch.linspace(-20.0, 20.0, 2 * rows * 97).reshape(2, rows, 97)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (example,), out, dynamo=False, opset_version=opset,
            input_names=["features"], output_names=["probabilities"],
            dynamic_axes={"features": {0: "batch", 2: "frames"},
                          "probabilities": {0: "batch"}})
    diff = None
    try:
        import numpy as np
        import onnxruntime
    except ImportError:
        pass
    else:
        session = onnxruntime.InferenceSession(out, providers=["CPUExecutionProvider"])
        gen = np.random.default_rng(0)
        diff = 0.0
        for batch, frames in [(1, 1), (1, 50), (3, 97), (5, 400)]:
            x = (gen.standard_normal((batch, rows, frames)) * 20).astype(np.float32)
            got = session.run(None, {"features": x})[0]
            with torch.no_grad():
                want = module(torch.from_numpy(x)).numpy()
            diff = max(diff, float(np.abs(got - want).max()))
    print(json.dumps({"opset": opset, "onnxruntime_max_abs_diff": diff}))


if __name__ == "__main__":
    main()
