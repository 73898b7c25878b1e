//! The model bundle on disk and the atomic file writing it shares with
//! checkpoints.
//!
//! A bundle is a directory with two files:
//! - `model.safetensors`: every variable (weights and batch-norm running
//!   statistics) under its network name, float32;
//! - `model.json`: format version, crate version, the [`NetConfig`], input
//!   shape, class names in output order, the network summary, and free-form
//!   metadata from the caller (feature config, normalisation statistics,
//!   hashes, metrics).
//!
//! An ensemble adds `member-2.safetensors`, `member-3.safetensors`, ... for
//! its other networks, and `"members": N` in `model.json`.
//!
//! It is written into a temporary sibling directory that is renamed into
//! place, so a reader never sees half a bundle.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::Error;
use crate::classifier::Classifier;
use crate::config::NetConfig;
use crate::shape::NetSummary;

/// Version of the bundle layout written by this crate. Loading refuses other
/// versions.
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "cochlea-model";
const WEIGHTS_FILE: &str = "model.safetensors";
const META_FILE: &str = "model.json";

/// What `model.json` holds besides the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleInfo {
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// The caller's metadata, as saved.
    pub metadata: serde_json::Value,
    /// Layout version of the bundle.
    pub format_version: u32,
    /// Version of this crate that wrote the bundle.
    pub crate_version: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelJson {
    format: String,
    format_version: u32,
    crate_version: String,
    net: NetConfig,
    n_features: usize,
    n_frames: usize,
    n_classes: usize,
    classes: Vec<String>,
    summary: NetSummary,
    metadata: serde_json::Value,
    /// Networks in the model; written only for an ensemble.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    members: usize,
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// Weights file of ensemble member `i` (0-based; 0 is the first network).
fn member_file(i: usize) -> String {
    if i == 0 {
        WEIGHTS_FILE.to_string()
    } else {
        format!("member-{}.safetensors", i + 1)
    }
}

impl Classifier {
    /// Writes the bundle to `dir` atomically (replacing an existing bundle
    /// there). `classes` names the outputs in order; `metadata` is stored
    /// as given.
    pub fn save(
        &self,
        dir: &Path,
        classes: &[String],
        metadata: &serde_json::Value,
    ) -> Result<(), Error> {
        if classes.len() != self.n_classes() {
            return Err(Error::Data(format!(
                "{} class names for a model with {} outputs",
                classes.len(),
                self.n_classes()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = classes.iter().find(|c| !seen.insert(c.as_str())) {
            return Err(Error::Data(format!("class name {dup:?} appears twice")));
        }
        let meta = ModelJson {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            crate_version: env!("CARGO_PKG_VERSION").into(),
            net: self.config().clone(),
            n_features: self.n_features(),
            n_frames: self.n_frames(),
            n_classes: self.n_classes(),
            classes: classes.to_vec(),
            summary: self.summary().clone(),
            metadata: metadata.clone(),
            members: self.n_members(),
        };
        write_dir_atomically(dir, |tmp| {
            save_tensors(&tmp.join(WEIGHTS_FILE), &self.named_variables())?;
            for (i, m) in self.members().iter().enumerate() {
                save_tensors(&tmp.join(member_file(i + 1)), &m.named_variables())?;
            }
            write_json(&tmp.join(META_FILE), &meta)
        })
    }

    /// Loads a bundle onto the CPU.
    pub fn load(dir: &Path) -> Result<(Classifier, BundleInfo), Error> {
        Self::load_on(dir, Device::Cpu)
    }

    /// Loads a bundle onto `device`. Fails with a message naming the file if
    /// either file is missing or corrupt, the version is not
    /// [`FORMAT_VERSION`], or a weight's name or shape does not match the
    /// network described in `model.json`.
    pub fn load_on(dir: &Path, device: Device) -> Result<(Classifier, BundleInfo), Error> {
        let meta_path = dir.join(META_FILE);
        let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let bad = |reason: String| Error::bundle(&meta_path, reason);
        let probe: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        if probe.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(bad(format!(
                "not a {FORMAT_NAME} bundle (no \"format\": \"{FORMAT_NAME}\")"
            )));
        }
        let version = probe.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(FORMAT_VERSION)) {
            return Err(bad(format!(
                "format_version {} is not supported by this build (cochlea-model {} reads version {FORMAT_VERSION})",
                version.map_or("missing".to_string(), |v| v.to_string()),
                env!("CARGO_PKG_VERSION")
            )));
        }
        let meta: ModelJson = serde_json::from_value(probe)
            .map_err(|e| bad(format!("invalid model description: {e}")))?;
        if meta.classes.len() != meta.n_classes {
            return Err(bad(format!(
                "{} class names for n_classes = {}",
                meta.classes.len(),
                meta.n_classes
            )));
        }
        if !(1..=crate::config::MAX_ENSEMBLE).contains(&meta.members) {
            return Err(bad(format!(
                "members = {}: must be 1 to {}",
                meta.members,
                crate::config::MAX_ENSEMBLE
            )));
        }
        let mut networks = Vec::with_capacity(meta.members);
        for i in 0..meta.members {
            let net = Classifier::build(
                &meta.net,
                meta.n_features,
                meta.n_frames,
                meta.n_classes,
                device,
            )
            .map_err(|e| bad(format!("describes an invalid network: {e}")))?;
            load_tensors(&dir.join(member_file(i)), &net.named_variables())?;
            networks.push(net);
        }
        let model = Classifier::ensemble(networks)?;
        let info = BundleInfo {
            classes: meta.classes,
            metadata: meta.metadata,
            format_version: meta.format_version,
            crate_version: meta.crate_version,
        };
        Ok((model, info))
    }
}

/// Writes `value` as pretty JSON.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::bundle(path, format!("cannot serialise: {e}")))?;
    // Inside a folder that `write_dir_atomically` flushes as a whole.
    Ok(cochlea_io::write(
        path,
        &bytes,
        cochlea_io::Durability::Unsynced,
    )?)
}

/// Saves named tensors as safetensors (copied to the CPU first).
pub(crate) fn save_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), Error> {
    let host = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), t.f_to_device(Device::Cpu)?.f_contiguous()?)))
        .collect::<Result<Vec<_>, Error>>()?;
    Tensor::write_safetensors(&host, path).map_err(|e| Error::bundle(path, e.to_string()))
}

/// Reads a safetensors file into a map, with errors naming the file.
pub(crate) fn read_tensors(path: &Path) -> Result<HashMap<String, Tensor>, Error> {
    if !path.is_file() {
        return Err(Error::bundle(path, "file is missing"));
    }
    let v = Tensor::read_safetensors(path)
        .map_err(|e| Error::bundle(path, format!("corrupt or unreadable weights: {e}")))?;
    Ok(v.into_iter().collect())
}

/// Copies the tensors of a safetensors file into `into` (same names, same
/// shapes, float32), failing on anything missing, extra or mismatched.
pub(crate) fn load_tensors(path: &Path, into: &[(String, Tensor)]) -> Result<(), Error> {
    let mut saved = read_tensors(path)?;
    copy_tensors(path, &mut saved, into)?;
    if let Some(extra) = saved.keys().min() {
        return Err(Error::bundle(
            path,
            format!(
                "holds {extra:?}, which the network does not have ({} extra tensor(s))",
                saved.len()
            ),
        ));
    }
    Ok(())
}

/// Moves the entries of `saved` named like `into` into those tensors.
pub(crate) fn copy_tensors(
    path: &Path,
    saved: &mut HashMap<String, Tensor>,
    into: &[(String, Tensor)],
) -> Result<(), Error> {
    for (name, dst) in into {
        let src = saved
            .remove(name)
            .ok_or_else(|| Error::bundle(path, format!("tensor {name:?} is missing")))?;
        if src.size() != dst.size() || src.kind() != Kind::Float {
            return Err(Error::bundle(
                path,
                format!(
                    "tensor {name:?} is {:?} {:?}, the network expects {:?} Float",
                    src.kind(),
                    src.size(),
                    dst.size()
                ),
            ));
        }
        let mut dst = dst.shallow_clone();
        tch::no_grad(|| dst.f_copy_(&src.f_to_device(dst.device())?))?;
    }
    Ok(())
}

/// Fills a temporary sibling of `dir` with `fill`, then renames it to `dir`,
/// durably (every file flushed before the rename, the parent after).
pub(crate) fn write_dir_atomically(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    cochlea_io::replace_dir(dir, cochlea_io::Durability::Durable, fill)
}

/// Writes a file through a temporary sibling and a rename, durably.
pub(crate) fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    Ok(cochlea_io::write(
        path,
        bytes,
        cochlea_io::Durability::Durable,
    )?)
}
