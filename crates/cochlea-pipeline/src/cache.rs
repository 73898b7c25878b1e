//! On-disk feature cache, keyed by file content and feature config.
//!
//! One file per (config, audio content) pair. An entry carries a BLAKE3 hash
//! of its own bytes, so a truncated or corrupted entry (a crash mid-write on
//! a filesystem without atomic rename, a bad disk) is detected, ignored and
//! recomputed rather than trusted. Entries are written to a temp file and
//! renamed into place.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cochlea_features::{ClipInfo, FeatureMatrix};

use crate::atomic;

const MAGIC: &[u8; 4] = b"CFC1";

/// A feature cache for one feature configuration.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    /// Set once a failed write has been reported: one warning per run.
    warned: Arc<AtomicBool>,
}

impl Cache {
    /// The cache for `config_key` (a hash of the feature config) under `root`.
    pub fn new(root: &Path, config_key: &str) -> Cache {
        Cache {
            dir: root.join(&config_key[..config_key.len().min(16)]),
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The default cache root: `$COCHLEA_CACHE_DIR/features`, else
    /// `$XDG_CACHE_HOME/cochlea/features`, else `~/.cache/cochlea/features`.
    pub fn default_root() -> PathBuf {
        if let Some(d) = std::env::var_os("COCHLEA_CACHE_DIR") {
            return PathBuf::from(d).join("features");
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("cochlea").join("features")
    }

    fn entry(&self, content_hash: &str) -> PathBuf {
        self.dir
            .join(&content_hash[..2])
            .join(format!("{content_hash}.cfc"))
    }

    /// The cached features of content `content_hash`, if present and intact.
    pub fn get(&self, content_hash: &str) -> Option<(ClipInfo, FeatureMatrix)> {
        let bytes = std::fs::read(self.entry(content_hash)).ok()?;
        decode_entry(&bytes)
    }

    /// Stores an entry; failures only cost a recomputation later, so they are
    /// returned for the caller to report but never stop a run.
    pub fn put(
        &self,
        content_hash: &str,
        info: &ClipInfo,
        m: &FeatureMatrix,
    ) -> Result<(), crate::error::Error> {
        atomic::write_unsynced(&self.entry(content_hash), &encode_entry(info, m))
    }

    /// Reports a failed [`Cache::put`] on stderr (level `warn`), the first
    /// time only (a
    /// full disk or read-only cache fails every entry alike).
    pub fn warn_once(&self, e: &crate::error::Error) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            crate::progress::warn(format_args!(
                "feature cache not written: {e}; features will be computed again"
            ));
        }
    }
}

fn encode_entry(info: &ClipInfo, m: &FeatureMatrix) -> Vec<u8> {
    let json = serde_json::to_vec(info).unwrap_or_default();
    let mut out = Vec::with_capacity(48 + json.len() + 4 * m.data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&(m.n_rows as u32).to_le_bytes());
    out.extend_from_slice(&(m.n_frames as u32).to_le_bytes());
    for v in &m.data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let digest = blake3::hash(&out);
    out.extend_from_slice(digest.as_bytes());
    out
}

fn decode_entry(bytes: &[u8]) -> Option<(ClipInfo, FeatureMatrix)> {
    let body_len = bytes.len().checked_sub(32)?;
    let (body, digest) = bytes.split_at(body_len);
    if blake3::hash(body).as_bytes() != digest || !body.starts_with(MAGIC) {
        return None;
    }
    let u32_at = |at: usize| -> Option<usize> {
        Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    let json_len = u32_at(4)?;
    let info: ClipInfo = serde_json::from_slice(body.get(8..8 + json_len)?).ok()?;
    let at = 8 + json_len;
    let (n_rows, n_frames) = (u32_at(at)?, u32_at(at + 4)?);
    let data_bytes = body.get(at + 8..)?;
    if data_bytes.len() != n_rows.checked_mul(n_frames)?.checked_mul(4)? {
        return None;
    }
    let data = data_bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Some((
        info,
        FeatureMatrix {
            n_rows,
            n_frames,
            data,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ClipInfo {
        ClipInfo {
            path: PathBuf::from("a.wav"),
            source_sample_rate: 8000,
            channels: 1,
            source_frames: 3,
            duration_s: 0.1,
            peak: 0.5,
            rms: 0.1,
            clipped_fraction: 0.0,
            silent_fraction: 0.0,
            samples_hash: 7,
            non_finite_replaced: 0,
        }
    }

    #[test]
    fn round_trip_and_corruption_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "0123456789abcdef0123");
        let m = FeatureMatrix {
            n_rows: 2,
            n_frames: 3,
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        let key = "ab".repeat(32);
        cache.put(&key, &info(), &m).unwrap();
        let (i, got) = cache.get(&key).unwrap();
        assert_eq!(got, m);
        assert_eq!(i.samples_hash, 7);
        // Flip one byte of the data: the entry must not be trusted.
        let path = cache.entry(&key);
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() - 40;
        bytes[mid] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.get(&key).is_none());
        // Truncated: also rejected.
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(cache.get(&key).is_none());
    }
}
