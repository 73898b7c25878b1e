//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while building, training, saving or loading
/// a model. Messages are lowercase and name the key, file or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is out of range or inconsistent; the message
    /// names the key (`model.blocks[1].pool`, `train.lr`, ...).
    #[error("{0}")]
    Config(String),

    /// Input data does not fit: wrong lengths, labels out of range, shapes
    /// that differ from what the network was built for.
    #[error("{0}")]
    Data(String),

    /// The loss became NaN or infinite.
    #[error(
        "training diverged at epoch {epoch}, step {step}: loss is {loss} (learning rate {lr:e}); \
         try a lower learning rate (train.lr), gradient clipping (train.grad_clip) \
         or normalized input features"
    )]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step (batch) within the epoch.
        step: usize,
        /// The non-finite loss value.
        loss: f64,
        /// The learning rate in use at that step.
        lr: f64,
    },

    /// The requested device is not available.
    #[error("{0}")]
    Device(String),

    /// A model bundle or checkpoint is missing, corrupt, or does not match
    /// what it is loaded into.
    #[error("{path}: {reason}")]
    Bundle {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory at fault.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// libtorch reported an error.
    #[cfg(feature = "torch")]
    #[error("libtorch: {}", first_line(.0))]
    Torch(#[from] tch::TchError),
}

#[cfg(feature = "torch")]
/// libtorch appends its C++ stack (30-odd `frame #n` lines) to the message;
/// the first line says what went wrong.
fn first_line(e: &tch::TchError) -> String {
    let text = e.to_string();
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

#[cfg_attr(not(feature = "torch"), allow(dead_code))]
impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A bundle/checkpoint problem at `path`.
    pub(crate) fn bundle(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Bundle {
            path: path.into(),
            reason: reason.into(),
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
