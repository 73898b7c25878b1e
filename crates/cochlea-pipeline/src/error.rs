//! Errors of the pipeline library; the binary adds context with anyhow.

use std::path::{Path, PathBuf};

/// Everything that can stop a pipeline stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The config file is invalid; `msg` names the key.
    #[error("config {}: {msg}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the key.
        msg: String,
    },
    /// The data cannot make a dataset (no files, one class, bad manifest...).
    #[error("data: {0}")]
    Data(String),
    /// A split cannot be made as configured.
    #[error("split: {0}")]
    Split(String),
    /// Feature extraction failed in a way that is not one file's fault.
    #[error(transparent)]
    Features(#[from] cochlea_features::Error),
    /// Training or inference failed.
    #[error(transparent)]
    Model(#[from] cochlea_model::Error),
    /// A model bundle lacks what the pipeline stored in it.
    #[error("model bundle {}: {msg}", path.display())]
    Bundle {
        /// The bundle folder.
        path: PathBuf,
        /// What is missing or inconsistent.
        msg: String,
    },
    /// The run was interrupted (Ctrl-C) at a safe point.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
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
