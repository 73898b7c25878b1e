//! Audio in, feature matrices out.
//!
//! This crate owns decoding (symphonia), resampling (rubato), the STFT
//! (realfft), mel filterbanks, MFCCs, deltas, per-frame spectral features,
//! pitch (YIN, pYIN), onset strength, chroma and tonnetz, and batch extraction over many files with rayon. It knows nothing of
//! libtorch, models or datasets: its output is a `[n_features x n_frames]`
//! matrix of `f32` per clip.
//!
//! Every formula follows librosa 0.11 (the function is named where it is
//! implemented) and is checked against librosa and torchaudio golden files in
//! `tests/golden.rs`.
//!
//! ```no_run
//! use cochlea_features::{decode, Extractor, FeatureConfig};
//! # fn main() -> Result<(), cochlea_features::Error> {
//! let ex = Extractor::new(&FeatureConfig::default(), 8000)?;
//! let clip = decode::decode_file("0_jackson_0.wav".as_ref(), ex.sample_rate())?;
//! let features = ex.compute(&clip.samples);
//! assert_eq!(features.n_rows, 13); // mfcc_0 .. mfcc_12
//! assert_eq!(features.n_frames, 1 + clip.samples.len() / 80);
//! # Ok(()) }
//! ```

pub mod batch;
mod chroma;
pub mod config;
mod db;
pub mod decode;
mod delta;
mod error;
mod extract;
mod frame;
pub mod mel;
pub mod mfcc;
pub mod npy;
mod onset;
mod pitch;
pub mod resample;
mod spectral;
pub mod stft;
mod temporal;

pub use config::{
    F0Unvoiced, FeatureConfig, FeatureKind, MelNorm, MelScale, PadMode, Pooling, Preset, Window,
};
pub use decode::{Clip, ClipInfo};
pub use error::Error;
pub use extract::{Extractor, FeatureMatrix};
