#!/usr/bin/env bash
# Print the path of a Python virtual environment that can export and run ONNX
# models: the reference environment of bench/ref-venv.sh (torch 2.13.0,
# librosa, soundfile, numpy), seen through a .pth file, plus the two packages
# ONNX needs on top of PyTorch:
#
#   onnx==1.23.2          torch.onnx.export writes its model through it
#   onnxruntime==1.31.1   runs the exported model (python/cochlea_loader.py)
#
# tests/export.rs uses it for the ONNX round trip; `pipeline export --format
# onnx` uses whatever Python COCHLEA_ONNX_PYTHON names (docs/python.md).
#
# The environment lives outside the clone, at
#
#   ${COCHLEA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cochlea}/onnx-venv
#
# A stamp records the pins and the reference environment it extends, so a
# later call returns at once and a change rebuilds it. Progress goes to
# stderr; stdout carries the path only.
set -euo pipefail

ONNX_PINS=(onnx==1.23.2 onnxruntime==1.31.1)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ref="$("$here/ref-venv.sh")"
cache="${COCHLEA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cochlea}"
venv="$cache/onnx-venv"
stamp="$venv/.cochlea-onnx-installed"
ref_site="$("$ref/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
want="$( (echo "${ONNX_PINS[*]}"; echo "$ref_site"; cat "$ref/.cochlea-ref-installed") | sha256sum | cut -d' ' -f1)"

# Callers at the same time (tests run in parallel) wait for one install
# instead of deleting each other's half-built environment; the lock is
# released when this script exits.
mkdir -p "$cache"
exec 9>"$cache/onnx-venv.lock"
flock 9
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "onnx-venv: installing ${ONNX_PINS[*]} over $ref into $venv" >&2
    rm -rf "$venv"
    # The reference environment's interpreter, so its packages load here.
    "$ref/bin/python" -m venv --without-pip "$venv" 2>/dev/null || "$ref/bin/python" -m venv "$venv"
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$ref_site" >"$site/cochlea-ref-venv.pth"
    # pip of the reference environment, installing into this one.
    "$ref/bin/python" -m pip --python "$venv/bin/python" install --disable-pip-version-check \
        --no-input --progress-bar off "${ONNX_PINS[@]}" >&2
    "$venv/bin/python" -c 'import onnx, onnxruntime, torch, librosa, soundfile' >&2
    echo "$want" >"$stamp"
    echo "onnx-venv: ready" >&2
fi

echo "$venv"
