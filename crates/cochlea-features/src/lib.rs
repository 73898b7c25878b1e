//! Audio in, feature matrices out.
//!
//! This crate owns decoding (symphonia, hound), resampling (rubato), the STFT
//! (realfft), mel filterbanks, MFCCs, deltas and per-frame spectral features,
//! and batch extraction over many files with rayon. It knows nothing of
//! libtorch, models or datasets: its output is a `[n_features x n_frames]`
//! matrix of `f32` per clip.
