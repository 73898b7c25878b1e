//! The pipeline: a TOML config drives decode -> features -> split ->
//! normalize -> train -> evaluate -> report, and a trained model classifies
//! new files with exactly the features and normalization it was trained on.
//!
//! This is the only crate that knows both the feature crate (audio) and the
//! model crate (libtorch). One module per stage: `config`, `dataset`,
//! `extract` (+ `cache`), `split`, `normalize`, `run`, `metrics`, `report`
//! (+ `svg`), `bundle`, `classify`, `detect`, `dump`, `init`, `tune`.

pub mod annotations;
pub mod atomic;
#[cfg(feature = "torch")]
pub mod bundle;
pub mod cache;
#[cfg(feature = "torch")]
pub mod classify;
pub mod config;
pub mod csv_rows;
pub mod dataset;
pub mod detect;
pub mod doctor;
pub mod dump;
#[cfg(feature = "torch")]
pub mod ensemble;
pub mod error;
#[cfg(feature = "torch")]
pub mod export;
pub mod extract;
#[cfg(feature = "torch")]
pub mod final_model;
pub mod finding;
pub mod functionals;
pub mod glob;
pub mod init;
pub mod layouts;
pub mod metrics;
pub mod noise;
pub mod normalize;
pub mod prepare;
pub mod progress;
pub mod report;
pub mod results;
#[cfg(feature = "torch")]
pub mod run;
pub mod rundir;
pub mod segments;
pub mod source;
pub mod spec;
pub mod split;
pub mod svg;
pub mod tune;

pub use config::Config;
pub use error::Error;
