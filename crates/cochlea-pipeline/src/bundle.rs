//! Loading a trained model with the exact input settings it was trained with.

use std::path::{Path, PathBuf};

use cochlea_features::Extractor;
use cochlea_model::Classifier;
use cochlea_model::tch::Device;

use crate::error::Error;
use crate::spec::{self, BundleMeta, InputSpec};

/// A model ready for inference: network, classes, and the input recipe.
pub struct LoadedModel {
    /// The bundle folder.
    pub dir: PathBuf,
    /// The network.
    pub model: Classifier,
    /// Class names in output order.
    pub classes: Vec<String>,
    /// Features, normalization and length, exactly as in training.
    pub input: InputSpec,
    /// Everything the pipeline recorded with the model.
    pub meta: BundleMeta,
    /// The extractor of `input.features`.
    pub extractor: Extractor,
}

/// Finds the bundle of a run directory or a bundle folder itself.
pub fn resolve(path: &Path) -> Result<PathBuf, Error> {
    if path.join("model.json").is_file() {
        return Ok(path.to_path_buf());
    }
    if path.join("model").join("model.json").is_file() {
        return Ok(path.join("model"));
    }
    if path.join("folds").is_dir() {
        let mut folds: Vec<String> = std::fs::read_dir(path.join("folds"))
            .map_err(|e| Error::io(path, e))?
            .flatten()
            .map(|e| format!("{}/model", e.path().display()))
            .collect();
        folds.sort();
        return Err(Error::Bundle {
            path: path.to_path_buf(),
            msg: format!(
                "this run has one model per fold and no final model (set [train] final_model = true \
                 to train one on all the data after the folds); pass one of: {}",
                folds.join(", ")
            ),
        });
    }
    Err(Error::Bundle {
        path: path.to_path_buf(),
        msg: "no model.json here nor in model/: pass a run directory or a model folder".into(),
    })
}

/// Loads the bundle of `path` (a run directory or a model folder) onto the
/// CPU.
pub fn load(path: &Path) -> Result<LoadedModel, Error> {
    load_on(path, Device::Cpu)
}

/// Loads the bundle of `path` with its weights on `device`.
pub fn load_on(path: &Path, device: Device) -> Result<LoadedModel, Error> {
    let dir = resolve(path)?;
    let (model, info) = Classifier::load_on(&dir, device)?;
    let meta: BundleMeta =
        serde_json::from_value(info.metadata.clone()).map_err(|e| Error::Bundle {
            path: dir.clone(),
            msg: format!("metadata: {e}"),
        })?;
    let input = meta.input.clone();
    let extractor = Extractor::new(&input.features, input.sample_rate)?;
    let (rows, frames) = spec::input_shape(
        input.features.pooling,
        extractor.n_rows(),
        input.clip_frames,
    );
    if rows != model.n_features() || frames != model.n_frames() {
        return Err(Error::Bundle {
            path: dir,
            msg: format!(
                "input shape mismatch: features give {} x {}, the network expects {} x {}",
                rows,
                frames,
                model.n_features(),
                model.n_frames()
            ),
        });
    }
    Ok(LoadedModel {
        dir,
        model,
        classes: info.classes,
        input,
        meta,
        extractor,
    })
}
