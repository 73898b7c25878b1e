//! What a run produced: predictions, per-fold results, the data summary and
//! the run's result (`metrics.json`). Plain data, shared by `run`, `doctor`
//! and `report`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cochlea_model::{EpochMetrics, NetSummary};
use serde::{Deserialize, Serialize};

use crate::detect::evaluate::Evaluation;
use crate::detect::held_out::RecordingEvents;
use crate::finding::Finding;
use crate::metrics::Metrics;
use crate::normalize::Normalizer;

/// One test prediction.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Prediction {
    /// The file.
    pub path: PathBuf,
    /// Fold that tested it.
    pub fold: String,
    /// True class.
    pub truth: String,
    /// Predicted class.
    pub predicted: String,
    /// Probability of the predicted class.
    pub confidence: f32,
    /// Probability of every class, in class order.
    pub proba: Vec<f32>,
    /// The segment of the file, `(start, end)` in seconds, when the example
    /// is an annotated segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<(f64, f64)>,
}

/// The result of one fold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoldResult {
    /// Fold name ("main", "fold1", or the held-out group).
    pub name: String,
    /// Files in train / validation / test.
    pub sizes: [usize; 3],
    /// Groups of each side (empty when groups are not used).
    pub groups: [Vec<String>; 3],
    /// Test metrics.
    pub test: Metrics,
    /// Per-epoch history.
    pub history: Vec<EpochMetrics>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Early stopping ended training.
    pub stopped_early: bool,
    /// The network.
    pub net: NetSummary,
    /// Model bundle folder, relative to the run directory.
    pub bundle: PathBuf,
    /// The fitted normalization.
    pub normalizer: Normalizer,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// With `train.ensemble` > 1: each member's test accuracy on its own
    /// (the fold's `test` metrics are the ensemble's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_accuracy: Vec<f64>,
    /// The held-out annotated recordings, with the events this fold's model
    /// detected in them (`[events]`); empty when no example is a segment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<RecordingEvents>,
    /// Annotated test recordings not scored because some of their
    /// examples trained (their group is not the file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events_skipped: Vec<PathBuf>,
}

/// Summary of the data as found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataSummary {
    /// Class names in order.
    pub classes: Vec<String>,
    /// Files per class (decoded).
    pub counts: Vec<usize>,
    /// Files found.
    pub files_found: usize,
    /// Files used.
    pub files_used: usize,
    /// Files left out, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// Files per source sample rate.
    pub sample_rates: BTreeMap<u32, usize>,
    /// Files per channel count.
    pub channels: BTreeMap<u16, usize>,
    /// Per class: min, mean, max duration in seconds.
    pub durations: Vec<[f64; 3]>,
    /// Number of distinct groups.
    pub n_groups: usize,
    /// Features computed now vs taken from the cache.
    pub cache_hits: usize,
    /// Feature row names.
    pub row_names: Vec<String>,
    /// Frames per model input.
    pub clip_frames: usize,
    /// Frame hop in seconds.
    pub hop_seconds: f64,
    /// Noisy copies of the clips, when background noise was mixed in;
    /// each fold trained on the copies of its training clips only.
    #[serde(default)]
    pub noise: Option<NoiseSummary>,
}

/// The background noise mixed into training clips
/// (`augment.background_noise_dir`, module `noise`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NoiseSummary {
    /// The folder of noise recordings.
    pub dir: PathBuf,
    /// Recordings that decoded.
    pub recordings: usize,
    /// Noisy copies per item.
    pub copies_per_clip: usize,
    /// Noisy copies made in all (training sets take those of their items).
    pub copies: usize,
    /// The SNR range in dB.
    pub snr_db: [f64; 2],
}

/// Version of the `metrics.json` layout (docs/formats.md); raised when a
/// field changes meaning or goes away. Files without the field predate it.
pub const METRICS_SCHEMA_VERSION: u32 = 1;

/// Everything a run produced; what `metrics.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// Layout version, [`METRICS_SCHEMA_VERSION`] when written by this build.
    #[serde(default)]
    pub schema_version: u32,
    /// Run name.
    pub name: String,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Split strategy.
    pub strategy: String,
    /// Data summary.
    pub data: DataSummary,
    /// Per fold.
    pub folds: Vec<FoldResult>,
    /// Mean and standard deviation of test accuracy over folds.
    pub accuracy_mean_std: [f64; 2],
    /// Mean and standard deviation of balanced accuracy over folds.
    pub balanced_accuracy_mean_std: [f64; 2],
    /// Seconds per stage.
    pub timings: BTreeMap<String, f64>,
    /// BLAKE3 of the resolved config.
    pub config_hash: String,
    /// BLAKE3 over (path, content hash, label) of every file used.
    pub data_hash: String,
    /// Training stopped early by an interruption.
    pub interrupted: bool,
    /// Where an interrupted run stopped; `pipeline run --resume` continues it.
    pub stopped_at: Option<String>,
    /// Diagnostics, most likely cause of a bad result first.
    pub findings: Vec<Finding>,
    /// The model trained on all the data after cross-validation
    /// (`[train] final_model`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_model: Option<FinalModel>,
    /// Event-based and segment-based scores of the held-out annotated
    /// recordings of every fold, pooled (`folds[].events` holds the
    /// events); absent when no example is a segment.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub events: Option<Evaluation>,
}

/// The deployable model of a cross-validated run, trained on all the data
/// after the folds (`[train] final_model = true`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FinalModel {
    /// Its bundle, relative to the run directory (`model`).
    pub bundle: PathBuf,
    /// Files it was trained on (all of them).
    pub files: usize,
    /// Epochs it was trained for.
    pub epochs: usize,
    /// How `epochs` was chosen, in words.
    pub epochs_rule: String,
    /// The folds' best epochs (first network of each), in fold order.
    pub fold_best_epochs: Vec<usize>,
    /// Networks averaged (`train.ensemble`).
    pub members: usize,
    /// Seconds spent training it.
    pub train_seconds: f64,
}

/// Mean and population standard deviation.
pub fn mean_std(v: &[f64]) -> [f64; 2] {
    if v.is_empty() {
        return [0.0, 0.0];
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    [
        m,
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt(),
    ]
}
