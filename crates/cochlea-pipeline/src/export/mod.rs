//! `pipeline export`: a trained model as one file that runs without Cochlea
//! (TorchScript, or ONNX through PyTorch), with its feature recipe in a
//! `spec.json` beside it.
//!
//! The module takes raw features `[batch, rows, frames]` of any length and
//! returns class probabilities `[batch, n_classes]`; normalization and
//! length fitting are inside ([`graph`]), an ensemble is averaged inside.
//! Every export is checked before it is kept: the saved module, run on
//! batches of several sizes and clip lengths, must give the probabilities
//! of the Rust path ([`crate::spec::InputSpec::prepare`] then the network).

pub mod graph;
pub mod onnx;
pub mod recipe;

use std::path::{Path, PathBuf};

use cochlea_features::FeatureMatrix;
use cochlea_model::tch::{CModule, Device, Kind, TchError, Tensor};
use serde::Serialize;

use crate::bundle::{self, LoadedModel};
use crate::error::Error;

/// Largest probability difference accepted between the exported module and
/// the Rust path in the export check.
pub const CHECK_TOLERANCE: f32 = 1e-5;

/// File format of `pipeline export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// TorchScript (`torch.jit.load`), written through libtorch.
    Torchscript,
    /// ONNX (onnxruntime), converted from the TorchScript by PyTorch.
    Onnx,
}

/// What an export wrote and how well it was checked.
#[derive(Clone, Debug, Serialize)]
pub struct Exported {
    /// The model file.
    pub model: PathBuf,
    /// The recipe beside it.
    pub spec: PathBuf,
    /// Format of the model file.
    pub format: ExportFormat,
    /// ONNX opset, for ONNX.
    pub opset: Option<u32>,
    /// Networks averaged inside.
    pub members: usize,
    /// Largest probability difference to the Rust path over the check inputs.
    pub max_abs_diff: f32,
    /// ONNX: largest difference of onnxruntime to the TorchScript module,
    /// when onnxruntime was there to run it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onnx_max_abs_diff: Option<f64>,
    /// (batch, frames) of the check inputs.
    pub checked: Vec<(i64, i64)>,
}

/// The `spec.json` path of a model file: `model.pt` -> `model.spec.json`.
pub fn spec_path(model_file: &Path) -> PathBuf {
    model_file.with_extension("spec.json")
}

/// Exports the model of `model_path` (a run directory or a model folder).
pub fn export(model_path: &Path, format: ExportFormat, out: &Path) -> Result<Exported, Error> {
    let m = bundle::load(model_path)?;
    if format == ExportFormat::Onnx && !m.input.features.pooling.is_none() {
        return Err(Error::Bundle {
            path: model_path.to_path_buf(),
            msg: "features.pooling = \"functionals\": ONNX has no quantile operator for its \
                  percentiles; export with --format torchscript"
                .into(),
        });
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::atomic::create_dir_all(parent)?;
    }
    let rows = m.input.row_names.len() as i64;
    let clip = m.input.clip_frames as i64;
    let prep = graph::Prepare::new(&m.input, m.model.device()).map_err(torch)?;
    let pre = |x: &Tensor| prep.apply(x);
    // Traced on a length that is neither the clip length nor a check length.
    let example = check_input(2, rows, clip + 3, 0).map_err(torch)?;
    let module = m.model.to_torchscript(&example, &pre)?;
    // The module is checked as saved: written to a private sibling, loaded
    // back, run; only then published (atomically) under `out`.
    let tmp = Scratch(sibling(out, "pt"));
    module.save(&tmp.0).map_err(torch)?;
    let saved = CModule::load(&tmp.0).map_err(torch)?;
    let (max_abs_diff, checked) = check(&m, &saved)?;
    if max_abs_diff > CHECK_TOLERANCE {
        return Err(Error::Bundle {
            path: out.to_path_buf(),
            msg: format!(
                "the exported module differs from the model by {max_abs_diff:.2e} in probability \
                 (more than {CHECK_TOLERANCE:.0e}); not written"
            ),
        });
    }
    let mut onnx_max_abs_diff = None;
    let opset = match format {
        ExportFormat::Torchscript => {
            let bytes = std::fs::read(&tmp.0).map_err(|e| Error::io(&tmp.0, e))?;
            crate::atomic::write(out, &bytes)?;
            None
        }
        ExportFormat::Onnx => {
            let converted = Scratch(sibling(out, "onnx"));
            let c = onnx::convert(&tmp.0, &converted.0, rows, out)?;
            let bytes = std::fs::read(&converted.0).map_err(|e| Error::io(&converted.0, e))?;
            crate::atomic::write(out, &bytes)?;
            onnx_max_abs_diff = c.onnxruntime_max_abs_diff;
            Some(c.opset)
        }
    };
    let spec = spec_path(out);
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fmt = match format {
        ExportFormat::Torchscript => "torchscript",
        ExportFormat::Onnx => "onnx",
    };
    let r = recipe::recipe(
        &m.meta,
        &m.classes,
        m.model.n_members(),
        fmt,
        &file_name,
        opset,
    );
    crate::atomic::write_json(&spec, &r)?;
    Ok(Exported {
        model: out.to_path_buf(),
        spec,
        format,
        opset,
        members: m.model.n_members(),
        max_abs_diff,
        onnx_max_abs_diff,
        checked,
    })
}

/// A private file beside `out`, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `.<name>.<pid>.<ext>` beside `out`.
fn sibling(out: &Path, ext: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    out.with_file_name(format!(".{name}.{}.{ext}", std::process::id()))
}

/// Deterministic raw-feature-like input `[batch, rows, frames]`: smooth
/// curves of a few tens of units, like MFCCs, different per clip.
fn check_input(batch: i64, rows: i64, frames: i64, salt: i64) -> Result<Tensor, TchError> {
    let n = batch * rows * frames;
    let t = Tensor::f_arange(n, (Kind::Float, Device::Cpu))?;
    let x = t
        .f_mul_scalar(0.37 + 0.01 * salt as f64)?
        .f_sin()?
        .f_mul_scalar(20.0)?
        .f_add(&t.f_mul_scalar(0.011)?.f_cos()?.f_mul_scalar(7.0)?)?;
    x.f_view([batch, rows, frames])
}

/// Runs the saved module on batches of 1, 3 and 5 clips shorter than, as
/// long as and longer than the clip length, and compares with the Rust path
/// clip by clip. Returns the largest difference and the shapes checked.
fn check(m: &LoadedModel, module: &CModule) -> Result<(f32, Vec<(i64, i64)>), Error> {
    let rows = m.input.row_names.len() as i64;
    let clip = m.input.clip_frames as i64;
    let shapes = [(1, clip), (3, (clip / 2).max(1)), (5, 2 * clip + 1), (1, 1)];
    let mut worst = 0f32;
    for (salt, &(batch, frames)) in shapes.iter().enumerate() {
        let x = check_input(batch, rows, frames, salt as i64 + 1).map_err(torch)?;
        let got = host(&module.forward_ts(&[&x]).map_err(torch)?)?;
        let data = host(&x)?;
        let per = (rows * frames) as usize;
        let mut inputs = Vec::new();
        for b in 0..batch as usize {
            let fm = FeatureMatrix {
                n_rows: rows as usize,
                n_frames: frames as usize,
                data: data[b * per..(b + 1) * per].to_vec(),
            };
            inputs.extend(m.input.prepare(&fm));
        }
        let want = m.model.predict_proba(&inputs, batch as usize)?;
        if got.len() != want.len() {
            return Err(Error::Data(format!(
                "the exported module gave {} values for a batch of {batch}, expected {}",
                got.len(),
                want.len()
            )));
        }
        for (a, b) in got.iter().zip(&want) {
            worst = worst.max((a - b).abs());
        }
    }
    Ok((worst, shapes.to_vec()))
}

fn torch(e: TchError) -> Error {
    Error::Model(e.into())
}

/// A tensor's values, flattened, on the host.
fn host(t: &Tensor) -> Result<Vec<f32>, Error> {
    let flat = t
        .f_to_device(Device::Cpu)
        .and_then(|t| t.f_flatten(0, -1))
        .map_err(torch)?;
    Vec::<f32>::try_from(flat).map_err(torch)
}
