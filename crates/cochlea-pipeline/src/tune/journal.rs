//! The journal: one JSON line per finished evaluation, appended as it
//! finishes, so `pipeline tune --resume` skips what is done and, the
//! schedule being seeded, reaches the same winner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::error::Error;

/// Which evaluation: an inner fold of a trial at a rung, or the outer
/// scoring of an outer fold's winner (`rung` and `fold` are `None`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitKey {
    /// Outer fold ("main" for a single split).
    pub outer: String,
    /// Trial number.
    pub trial: usize,
    /// Rung; `None` for the outer scoring.
    pub rung: Option<usize>,
    /// Inner fold (0-based); `None` for the outer scoring.
    pub fold: Option<usize>,
}

/// A finished evaluation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// What was evaluated.
    #[serde(flatten)]
    pub key: UnitKey,
    /// Accuracy on the held-out part (0 when training failed).
    pub accuracy: f64,
    /// Epochs trained (of the first network).
    pub epochs: usize,
    /// Seconds it took (features excluded).
    pub seconds: f64,
    /// Why training failed (diverged, ...), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The journal file of a tune directory (`shard` for worker processes).
pub fn path(dir: &Path, shard: Option<usize>) -> PathBuf {
    match shard {
        None => dir.join("journal.jsonl"),
        Some(s) => dir.join(format!("journal-{s}.jsonl")),
    }
}

/// Appends `e`: the file is rewritten whole through a durable atomic
/// write, so a crash leaves the old journal or the new one, never half a line.
pub fn append(file: &Path, e: &Entry) -> Result<(), Error> {
    let mut text = match std::fs::read(file) {
        Ok(t) => t,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(err) => return Err(Error::io(file, err)),
    };
    let line = serde_json::to_string(e).map_err(|x| Error::io(file, std::io::Error::other(x)))?;
    text.extend_from_slice(line.as_bytes());
    text.push(b'\n');
    atomic::write(file, &text)
}

/// Every finished evaluation in the journals of `dir`.
pub fn load(dir: &Path) -> Result<BTreeMap<UnitKey, Entry>, Error> {
    let mut out = BTreeMap::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("journal") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| Error::io(&f, e))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let e: Entry = serde_json::from_str(line)
                .map_err(|x| Error::Data(format!("{} line {}: {x}", f.display(), n + 1)))?;
            out.insert(e.key.clone(), e);
        }
    }
    Ok(out)
}
