//! ONNX through the PyTorch of the libtorch environment.

use std::path::Path;

use crate::error::Error;

/// Converts a saved TorchScript module to ONNX; returns the opset.
pub fn convert(_torchscript: &Path, out: &Path, _rows: i64) -> Result<u32, Error> {
    Err(Error::Data(format!(
        "{}: ONNX export is not available in this build",
        out.display()
    )))
}
