//! A run directory: the folder `pipeline run` writes, every path in it, and
//! whether an interrupted run there can be resumed.
//!
//! ```text
//! <report.dir>/<name>-<UTC stamp>/
//!   config.toml          the resolved config (written first)
//!   state/<fold>.json    a finished fold: its result and predictions
//!   model/               the bundle of a single-fold run
//!   checkpoints/         per-epoch checkpoints (checkpoints-member-K for
//!                        ensemble members after the first)
//!   folds/<fold>/model/  (and folds/<fold>/checkpoints/) with several folds
//!   model/               with several folds and `[train] final_model`: the
//!                        model trained on all data (final/ its checkpoints)
//!   metrics.json  report.md  report.html  predictions.csv
//! ```

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::results::{FoldResult, Prediction};
use crate::{atomic, rundir};

/// A run directory and every path in it.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
    /// Several folds: bundles and checkpoints go under `folds/<fold>/`.
    many_folds: bool,
}

impl RunDir {
    /// Creates a new `<root>/<name>-<UTC stamp>[-N]`, never reusing a folder.
    pub fn create(root: &Path, name: &str, many_folds: bool) -> Result<Self, Error> {
        Ok(Self {
            root: new_run_dir(root, name)?,
            many_folds,
        })
    }

    /// Opens an interrupted run directory to continue it; an error when it
    /// holds neither checkpoints nor finished folds.
    pub fn resume(dir: &Path, many_folds: bool) -> Result<Self, Error> {
        let d = Self {
            root: dir.to_path_buf(),
            many_folds,
        };
        if !d.is_resumable() {
            return Err(Error::Data(format!(
                "{}: not an interrupted run directory (no checkpoints or state)",
                dir.display()
            )));
        }
        Ok(d)
    }

    /// True when `dir` holds something `--resume` can continue from.
    pub fn is_resumable_dir(dir: &Path) -> bool {
        ["checkpoints", "folds", "state"]
            .iter()
            .any(|s| dir.join(s).is_dir())
    }

    fn is_resumable(&self) -> bool {
        Self::is_resumable_dir(&self.root)
    }

    /// The folder itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The resolved config of the run.
    pub fn config(&self) -> PathBuf {
        rundir::config_of(&self.root)
    }

    /// `metrics.json`.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.json")
    }

    /// `report.md`.
    pub fn report_md(&self) -> PathBuf {
        self.root.join("report.md")
    }

    /// `report.html`.
    pub fn report_html(&self) -> PathBuf {
        self.root.join("report.html")
    }

    /// `predictions.csv`.
    pub fn predictions_csv(&self) -> PathBuf {
        self.root.join("predictions.csv")
    }

    /// Where a finished fold is recorded.
    pub fn state(&self, fold: &str) -> PathBuf {
        self.root.join("state").join(format!("{fold}.json"))
    }

    /// The bundle of `fold`, relative to the run directory.
    pub fn bundle_rel(&self, fold: &str) -> PathBuf {
        self.fold_dir_rel(fold).join("model")
    }

    /// The bundle of `fold`.
    pub fn bundle(&self, fold: &str) -> PathBuf {
        self.root.join(self.bundle_rel(fold))
    }

    /// The bundle of the final model of a cross-validated run, relative to
    /// the run directory: `model`, where `classify --model RUN` looks.
    pub fn final_bundle_rel(&self) -> PathBuf {
        PathBuf::from("model")
    }

    /// The bundle of the final model.
    pub fn final_bundle(&self) -> PathBuf {
        self.root.join(self.final_bundle_rel())
    }

    /// The final model's summary once it is bundled (`final/state.json`).
    pub fn final_state(&self) -> PathBuf {
        self.root.join("final").join("state.json")
    }

    /// The final model's checkpoints of ensemble member `member` (0-based).
    pub fn final_checkpoints(&self, member: usize) -> PathBuf {
        let name = match member {
            0 => "checkpoints".to_string(),
            m => format!("checkpoints-member-{}", m + 1),
        };
        self.root.join("final").join(name)
    }

    /// The checkpoints of ensemble member `member` (0-based) of `fold`.
    pub fn checkpoints(&self, fold: &str, member: usize) -> PathBuf {
        let name = match member {
            0 => "checkpoints".to_string(),
            m => format!("checkpoints-member-{}", m + 1),
        };
        self.root.join(self.fold_dir_rel(fold)).join(name)
    }

    fn fold_dir_rel(&self, fold: &str) -> PathBuf {
        if self.many_folds {
            PathBuf::from("folds").join(fold)
        } else {
            PathBuf::new()
        }
    }

    /// A fold finished by an earlier (interrupted) invocation, if any.
    pub fn load_fold(&self, fold: &str) -> Option<(FoldResult, Vec<Prediction>)> {
        serde_json::from_slice(&std::fs::read(self.state(fold)).ok()?).ok()
    }

    /// Records a finished fold, durably.
    pub fn save_fold(&self, result: &FoldResult, preds: &[Prediction]) -> Result<(), Error> {
        atomic::write_json(&self.state(&result.name), &(result, preds))
    }
}

/// The resolved config inside a run directory (what `--resume` reads).
pub fn config_of(dir: &Path) -> PathBuf {
    dir.join("config.toml")
}

/// Creates `<root>/<name>-<UTC timestamp>[-N]`, never reusing an existing folder.
fn new_run_dir(root: &Path, name: &str) -> Result<PathBuf, Error> {
    std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    let stamp = utc_stamp();
    for n in 1..1000 {
        let dir = if n == 1 {
            root.join(format!("{name}-{stamp}"))
        } else {
            root.join(format!("{name}-{stamp}-{n}"))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
    Err(Error::Data(format!(
        "cannot create a new run directory in {}",
        root.display()
    )))
}

/// `YYYYmmdd-HHMMSS` in UTC.
fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
