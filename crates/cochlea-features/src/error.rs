//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while decoding audio, checking a feature
/// configuration or reading and writing `.npy` files.
///
/// Every variant that concerns a file carries its path, so a batch can print
/// one line per bad file and carry on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The container or codec is not one this crate decodes.
    #[error("{}: unsupported audio: {reason}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What was not supported.
        reason: String,
    },
    /// The file is damaged: malformed headers or packets, or cut short.
    #[error("{}: malformed audio: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The file decoded to no samples at all.
    #[error("{}: no audio samples", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file's sample rate could not be converted to the requested one.
    #[error("{}: cannot resample from {from} Hz to {to} Hz: {reason}", path.display())]
    Resample {
        /// The file.
        path: PathBuf,
        /// The file's sample rate in Hz.
        from: u32,
        /// The requested sample rate in Hz.
        to: u32,
        /// Why it failed.
        reason: String,
    },
    /// A feature configuration value is out of range.
    #[error("{key}: {message}")]
    Config {
        /// The TOML key, e.g. `features.n_mfcc`.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A `.npy` file is not a little-endian float32 C-order array, or is
    /// damaged.
    #[error("{}: not a float32 .npy array: {reason}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl Error {
    /// A configuration error for `key` (given without the `features.`
    /// prefix, which is added here so every message names the full key).
    pub(crate) fn config(key: &str, message: impl Into<String>) -> Error {
        Error::Config {
            key: format!("features.{key}"),
            message: message.into(),
        }
    }
}

impl From<cochlea_io::Error> for Error {
    fn from(e: cochlea_io::Error) -> Self {
        Error::Io {
            path: e.path,
            source: e.source,
        }
    }
}
