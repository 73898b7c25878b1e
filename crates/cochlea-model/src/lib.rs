//! The 1D CNN on libtorch (through tch).
//!
//! This crate owns the network built from a config ([`NetConfig`], checked
//! by [`NetConfig::validate`] before any tensor exists), the training loop
//! ([`train()`]: optimisers, schedules, early stopping, augmentation,
//! checkpoints and resume), inference ([`Classifier`]) and the model bundle
//! on disk ([`Classifier::save`], [`Classifier::load`]), plus two small
//! training probes for diagnostics ([`overfit_one_batch`], [`linear_probe`]).
//!
//! Everything that holds a tensor needs the `torch` feature (on by
//! default). Without it the crate builds with no libtorch and offers the
//! configs ([`NetConfig`], [`TrainConfig`], [`AugmentConfig`]), their checks
//! and the shape arithmetic ([`NetConfig::validate`] -> [`NetSummary`]), the
//! epoch records ([`EpochMetrics`]) and the error type.
//!
//! Its input is plain data, [`Dataset`]: examples of shape
//! `[n_features, n_frames]` and class indices. It knows nothing of audio
//! files or feature extraction.
//!
//! ```no_run
//! # #[cfg(feature = "torch")]
//! # fn main() -> Result<(), cochlea_model::Error> {
//! use cochlea_model::{train, AugmentConfig, Control, Dataset, NetConfig, TrainConfig, TrainOptions};
//! // 4 examples of 13 features x 100 frames, 2 classes.
//! let data = Dataset::new(vec![0.0; 4 * 13 * 100], vec![0, 1, 0, 1], 13, 100)?;
//! let mut on_epoch = |m: &cochlea_model::EpochMetrics| {
//!     println!("epoch {} loss {:.3}", m.epoch, m.train_loss);
//!     Control::Continue
//! };
//! let out = train(&NetConfig::default(), &TrainConfig::default(), &AugmentConfig::default(),
//!                 2, &data, None, TrainOptions::new(&mut on_epoch))?;
//! let proba = out.model.predict_proba(&data.x, data.len())?; // 4 x 2, rows sum to 1
//! # let _ = proba; Ok(()) }
//! # #[cfg(not(feature = "torch"))]
//! # fn main() {}
//! ```

// Torch-free: configs, shape arithmetic, epoch records, errors, seeds.
mod config;
mod epoch;
mod error;
// Seed derivation is torch-free (member seeds are part of the config); the
// generator itself serves training only.
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
mod rng;
mod shape;

// Everything that holds a tensor.
#[cfg(feature = "torch")]
mod augment;
#[cfg(feature = "torch")]
mod bundle;
#[cfg(feature = "torch")]
mod checkpoint;
#[cfg(feature = "torch")]
mod classifier;
#[cfg(feature = "torch")]
mod data;
#[cfg(feature = "torch")]
mod export;
#[cfg(feature = "torch")]
mod mixup;
#[cfg(feature = "torch")]
mod net;
#[cfg(feature = "torch")]
mod optim;
#[cfg(feature = "torch")]
mod probe;
#[cfg(feature = "torch")]
mod schedule;
#[cfg(feature = "torch")]
mod train;

pub use config::{
    Activation, AugmentConfig, BlockConfig, ClassWeights, DeviceChoice, Head, InitScheme,
    MAX_NOISE_COPIES, Monitor, NetConfig, NetKind, Optimizer, Padding, PoolKind, Scheduler,
    TrainConfig,
};
pub use epoch::{Control, EpochMetrics};
pub use error::Error;
pub use shape::{LayerSummary, NetSummary};

#[cfg(feature = "torch")]
pub use bundle::{BundleInfo, FORMAT_VERSION};
#[cfg(feature = "torch")]
pub use classifier::Classifier;
#[cfg(feature = "torch")]
pub use data::{Dataset, LongExamples, mean_by_clip};
#[cfg(feature = "torch")]
pub use export::Preprocess;
#[cfg(feature = "torch")]
pub use probe::{
    OVERFIT_BATCH, ProbeLimits, ProbeResult, linear_probe, linear_probe_within, overfit_one_batch,
    overfit_one_batch_within,
};
#[cfg(feature = "torch")]
pub use train::{BatchCallback, TrainOptions, TrainOutcome, train, train_from};

#[cfg(feature = "torch")]
pub use tch;
