//! The input recipe a model carries in its bundle ([`InputSpec`]) and the
//! typed metadata the pipeline stores beside the network ([`BundleMeta`]).

use serde::{Deserialize, Serialize};

use cochlea_features::{FeatureMatrix, Pooling};

use crate::config::{CropMode, PadMode};
use crate::functionals;
use crate::metrics::Metrics;
use crate::normalize::{self, Normalizer};

/// What the model needs to turn a file into its input: stored in the bundle.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputSpec {
    /// Feature settings.
    pub features: cochlea_features::FeatureConfig,
    /// Sample rate the audio is resampled to.
    pub sample_rate: u32,
    /// Names of the feature rows.
    pub row_names: Vec<String>,
    /// Frames per model input (before functionals, which make one frame of
    /// any clip: see [`InputSpec::input_frames`]).
    pub clip_frames: usize,
    /// Padding of short clips.
    pub pad: PadMode,
    /// Cropping of long clips.
    pub crop: CropMode,
    /// The fitted normalization.
    pub normalizer: Normalizer,
}

pub use crate::functionals::input_shape;

impl InputSpec {
    /// Rows of the model input.
    pub fn input_rows(&self) -> usize {
        self.input_shape().0
    }

    /// Frames of the model input.
    pub fn input_frames(&self) -> usize {
        self.input_shape().1
    }

    fn input_shape(&self) -> (usize, usize) {
        functionals::input_shape(
            self.features.pooling,
            self.normalizer.offset.len(),
            self.clip_frames,
        )
    }

    /// Turns one clip's raw features into the model's input
    /// `[input_rows x input_frames]`: normalization, then length fitting
    /// or, with `features.pooling = "functionals"`, the functionals of the
    /// whole clip.
    pub fn prepare(&self, m: &FeatureMatrix) -> Vec<f32> {
        let normed = self.normalizer.apply(m);
        match self.features.pooling {
            Pooling::None => normalize::fit_length(&normed, self.clip_frames, self.pad, self.crop),
            Pooling::Functionals => functionals::of_matrix(&normed),
        }
    }
}

/// Version of the layout of [`BundleMeta`] (`metadata` in `model.json`,
/// docs/formats.md); raised when a field changes meaning or goes away.
/// Bundles without the field predate it.
pub const BUNDLE_META_SCHEMA_VERSION: u32 = 1;

/// What the pipeline writes under `metadata` in a bundle's `model.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BundleMeta {
    /// Layout version, [`BUNDLE_META_SCHEMA_VERSION`] when written by this build.
    #[serde(default)]
    pub schema_version: u32,
    /// The exact input recipe.
    pub input: InputSpec,
    /// Fold the model was trained in.
    pub fold: String,
    /// Run name.
    pub run: String,
    /// BLAKE3 of the resolved config.
    pub config_hash: String,
    /// BLAKE3 of the data used.
    pub data_hash: String,
    /// Test metrics of the fold; none for a final model trained on all the
    /// data (its estimate is the cross-validation's, in `metrics.json`).
    #[serde(default)]
    pub test_metrics: Option<Metrics>,
    /// Versions of the software that trained it.
    pub versions: Versions,
}

/// Versions recorded in a bundle.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Versions {
    /// This crate's version.
    pub cochlea: String,
}

impl Versions {
    /// The versions of this build.
    pub fn current() -> Self {
        Self {
            cochlea: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}
