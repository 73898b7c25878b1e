//! ONNX through the PyTorch of a Python environment: the traced TorchScript
//! module is converted by `torch.onnx.export` (TorchScript exporter,
//! `dynamo=False`) in `python/export_onnx.py`, embedded in the binary.
//!
//! The Python is `COCHLEA_ONNX_PYTHON`, else `COCHLEA_PYTHON` (the libtorch
//! environment's, set by `scripts/with-libtorch`), else `python3`. It needs
//! `torch` and `onnx`; with `onnxruntime` the ONNX model is also run
//! against the TorchScript module.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::error::Error;

/// The ONNX opset of exported models.
pub const OPSET: u32 = 17;

/// Largest probability difference accepted between onnxruntime and the
/// TorchScript module.
pub const ONNX_TOLERANCE: f64 = 1e-5;

const SCRIPT: &str = include_str!("../../../../python/export_onnx.py");

/// What the conversion reported.
#[derive(Debug, Deserialize)]
pub struct Converted {
    /// The opset written.
    pub opset: u32,
    /// onnxruntime against TorchScript, when onnxruntime is installed.
    pub onnxruntime_max_abs_diff: Option<f64>,
}

/// The Python used for the conversion.
pub fn python() -> PathBuf {
    ["COCHLEA_ONNX_PYTHON", "COCHLEA_PYTHON"]
        .iter()
        .find_map(|v| std::env::var_os(v).filter(|s| !s.is_empty()))
        .map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

/// Converts the saved TorchScript module `torchscript` (input rows `rows`)
/// to ONNX at `out`; errors name `shown`, the file the user asked for.
pub fn convert(
    torchscript: &Path,
    out: &Path,
    rows: i64,
    shown: &Path,
) -> Result<Converted, Error> {
    let py = python();
    let failed = |msg: String| Error::Bundle {
        path: shown.to_path_buf(),
        msg,
    };
    let o = Command::new(&py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(torchscript)
        .arg(out)
        .arg(rows.to_string())
        .arg(OPSET.to_string())
        .output()
        .map_err(|e| {
            failed(format!(
                "ONNX export runs {} (set COCHLEA_ONNX_PYTHON to a Python with torch and onnx): {e}",
                py.display()
            ))
        })?;
    if !o.status.success() {
        return Err(failed(format!(
            "ONNX export with {} failed: {}",
            py.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let c: Converted = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| failed(format!("ONNX export printed no result: {text}")))?;
    if let Some(d) = c.onnxruntime_max_abs_diff
        && d > ONNX_TOLERANCE
    {
        return Err(failed(format!(
            "onnxruntime differs from the TorchScript module by {d:.2e} in probability \
             (more than {ONNX_TOLERANCE:.0e}); not written"
        )));
    }
    Ok(c)
}
