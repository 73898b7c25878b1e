//! End-of-epoch checkpoints: everything a run needs to continue as if it had
//! never stopped.
//!
//! `checkpoint_dir/epoch-NNNNN/` holds `weights.safetensors` (all variables),
//! `optimizer.safetensors` (optimiser state), `best.safetensors` (the best
//! weights so far, when early stopping keeps them) and `state.json` (epoch,
//! history, schedule and early-stopping state, and the fingerprint of the
//! configs and data shapes it belongs to). `checkpoint_dir/LATEST` names the
//! newest complete one. Each directory is written atomically, then `LATEST`
//! is replaced atomically, then older directories are removed: a crash at
//! any point leaves a usable checkpoint.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::Error;
use crate::bundle::{
    copy_tensors, load_tensors, read_tensors, save_tensors, write_dir_atomically,
    write_file_atomically, write_json,
};
use crate::classifier::Classifier;
use crate::epoch::EpochMetrics;
use crate::optim::Optim;
use crate::schedule::PlateauState;

const FORMAT_VERSION: u32 = 1;
const LATEST: &str = "LATEST";
const PREFIX: &str = "epoch-";

/// Variables by name, as in a weights file.
pub(crate) type NamedTensors = Vec<(String, Tensor)>;

/// Training progress after a completed epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Progress {
    /// Epochs completed.
    pub(crate) epoch: usize,
    pub(crate) history: Vec<EpochMetrics>,
    /// Best monitored validation value and its epoch.
    pub(crate) best_value: Option<f64>,
    pub(crate) best_epoch: usize,
    /// Epochs since the best one.
    pub(crate) bad_epochs: usize,
    pub(crate) stopped_early: bool,
    pub(crate) plateau: PlateauState,
    pub(crate) optimizer_steps: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct StateJson {
    format_version: u32,
    fingerprint: serde_json::Value,
    progress: Progress,
    has_best: bool,
}

/// Writes the checkpoint of `progress.epoch` and makes it the latest.
pub(crate) fn save(
    dir: &Path,
    fingerprint: &serde_json::Value,
    progress: &Progress,
    model: &Classifier,
    opt: &Optim,
    best: Option<&[(String, Tensor)]>,
) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = format!("{PREFIX}{:05}", progress.epoch);
    let state = StateJson {
        format_version: FORMAT_VERSION,
        fingerprint: fingerprint.clone(),
        progress: progress.clone(),
        has_best: best.is_some(),
    };
    write_dir_atomically(&dir.join(&name), |tmp| {
        save_tensors(&tmp.join("weights.safetensors"), &model.named_variables())?;
        save_tensors(&tmp.join("optimizer.safetensors"), &opt.state_tensors()?)?;
        if let Some(best) = best {
            save_tensors(&tmp.join("best.safetensors"), best)?;
        }
        write_json(&tmp.join("state.json"), &state)
    })?;
    write_file_atomically(&dir.join(LATEST), name.as_bytes())?;
    // Older checkpoints are superseded; a failure to remove one is harmless.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(PREFIX) && n != name {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// Names the first top-level key where two fingerprints differ.
fn difference(a: &serde_json::Value, b: &serde_json::Value) -> String {
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (k, va) in a {
            match b.get(k) {
                Some(vb) if vb == va => {}
                Some(vb) => {
                    if let (Some(oa), Some(ob)) = (va.as_object(), vb.as_object()) {
                        for (k2, x) in oa {
                            if ob.get(k2) != Some(x) {
                                return format!("{k}.{k2}");
                            }
                        }
                    }
                    return k.clone();
                }
                None => return k.clone(),
            }
        }
    }
    "configuration".into()
}

/// Loads the latest checkpoint in `dir` into `model` and `opt`; `None` when
/// the directory holds none. Fails if it was made for a different config or
/// data shape, or is corrupt.
pub(crate) fn load(
    dir: &Path,
    fingerprint: &serde_json::Value,
    model: &Classifier,
    opt: &mut Optim,
) -> Result<Option<(Progress, Option<NamedTensors>)>, Error> {
    let latest = dir.join(LATEST);
    if !latest.exists() {
        return Ok(None);
    }
    let name = std::fs::read_to_string(&latest).map_err(|e| Error::io(&latest, e))?;
    let name = name.trim();
    if !name.starts_with(PREFIX) || name.contains(['/', '\\']) {
        return Err(Error::bundle(
            &latest,
            format!("does not name a checkpoint ({name:?})"),
        ));
    }
    let ckpt = dir.join(name);
    let state_path = ckpt.join("state.json");
    let text = std::fs::read_to_string(&state_path).map_err(|e| Error::io(&state_path, e))?;
    let state: StateJson = serde_json::from_str(&text)
        .map_err(|e| Error::bundle(&state_path, format!("corrupt checkpoint state: {e}")))?;
    if state.format_version != FORMAT_VERSION {
        return Err(Error::bundle(
            &state_path,
            format!(
                "checkpoint format {} is not supported (expected {FORMAT_VERSION})",
                state.format_version
            ),
        ));
    }
    if &state.fingerprint != fingerprint {
        return Err(Error::bundle(
            &ckpt,
            format!(
                "checkpoint was made for a different run ({} differs); \
                 resume with the same config and data, or start without resuming",
                difference(fingerprint, &state.fingerprint)
            ),
        ));
    }
    load_tensors(&ckpt.join("weights.safetensors"), &model.named_variables())?;
    let opt_path = ckpt.join("optimizer.safetensors");
    opt.load_state(
        read_tensors(&opt_path)?,
        state.progress.optimizer_steps,
        &opt_path,
    )?;
    let best = if state.has_best {
        let path = ckpt.join("best.safetensors");
        let mut saved = read_tensors(&path)?;
        let copies = model
            .named_variables()
            .into_iter()
            .map(|(n, t)| Ok((n, t.f_zeros_like()?)))
            .collect::<Result<Vec<_>, Error>>()?;
        copy_tensors(&path, &mut saved, &copies)?;
        Some(copies)
    } else {
        None
    };
    Ok(Some((state.progress, best)))
}
