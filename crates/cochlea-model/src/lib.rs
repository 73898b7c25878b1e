//! The 1D CNN on libtorch (through tch).
//!
//! This crate owns the network built from a config, the training loop,
//! evaluation and the model bundle on disk. Its input is a tensor of shape
//! `[batch, n_features, n_frames]` and class indices; it knows nothing of
//! audio files or feature extraction.

pub use tch;
