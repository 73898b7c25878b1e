//! The 1D CNN on libtorch (through tch).
//!
//! This crate owns the network built from a config ([`NetConfig`], checked
//! by [`NetConfig::validate`] before any tensor exists), the training loop
//! ([`train()`]: optimisers, schedules, early stopping, augmentation,
//! checkpoints and resume), inference ([`Classifier`]) and the model bundle
//! on disk ([`Classifier::save`], [`Classifier::load`]), plus two small
//! training probes for diagnostics ([`overfit_one_batch`], [`linear_probe`]).
//!
//! Its input is plain data, [`Dataset`]: examples of shape
//! `[n_features, n_frames]` and class indices. It knows nothing of audio
//! files or feature extraction.
//!
//! ```no_run
//! use cochlea_model::{train, AugmentConfig, Control, Dataset, NetConfig, TrainConfig, TrainOptions};
//! # fn main() -> Result<(), cochlea_model::Error> {
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
//! ```

mod augment;
mod bundle;
mod checkpoint;
mod classifier;
mod config;
mod data;
mod error;
mod net;
mod optim;
mod probe;
mod rng;
mod schedule;
mod train;

pub use bundle::{BundleInfo, FORMAT_VERSION};
pub use classifier::Classifier;
pub use config::{
    Activation, AugmentConfig, BlockConfig, ClassWeights, DeviceChoice, Head, InitScheme, Monitor,
    NetConfig, Optimizer, Padding, PoolKind, Scheduler, TrainConfig,
};
pub use data::Dataset;
pub use error::Error;
pub use net::{LayerSummary, NetSummary};
pub use probe::{OVERFIT_BATCH, ProbeResult, linear_probe, overfit_one_batch};
pub use train::{
    BatchCallback, Control, EpochMetrics, TrainOptions, TrainOutcome, train, train_from,
};

pub use tch;
