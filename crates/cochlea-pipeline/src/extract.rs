//! Features for many files: read, hash, cache lookup, decode, compute, in
//! parallel with rayon. A file that fails is reported with its reason and
//! the others go on.

use std::io::Read;
use std::path::{Path, PathBuf};

use cochlea_features::{ClipInfo, Extractor, FeatureConfig, FeatureMatrix, decode};
use rayon::prelude::*;

use crate::cache::Cache;
use crate::progress;

/// One file's features.
#[derive(Clone, Debug)]
pub struct Extracted {
    /// What decoding learnt about the file.
    pub info: ClipInfo,
    /// `[n_rows x n_frames]` features.
    pub features: FeatureMatrix,
    /// BLAKE3 of the file's bytes.
    pub content_hash: String,
    /// Whether the features came from the cache.
    pub from_cache: bool,
}

/// A hash of everything that changes the features of a given file.
pub fn feature_key(cfg: &FeatureConfig, sample_rate: u32) -> String {
    let mut h = blake3::Hasher::new();
    h.update(serde_json::to_string(cfg).unwrap_or_default().as_bytes());
    h.update(&sample_rate.to_le_bytes());
    h.update(b"cochlea-features ");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.finalize().to_hex().to_string()
}

/// Features of one file; the error names the file.
pub fn extract_one(
    path: &Path,
    ex: &Extractor,
    cache: Option<&Cache>,
) -> Result<Extracted, String> {
    let cannot_read = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
    // A long recording is hashed and decoded as it is read, never held
    // whole; a clip is read once for both.
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    let len = file.metadata().map_err(cannot_read)?.len();
    let bytes = if len > decode::STREAM_ABOVE {
        None
    } else {
        let mut b = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
        file.read_to_end(&mut b).map_err(cannot_read)?;
        Some(b)
    };
    let content_hash = match &bytes {
        Some(b) => blake3::hash(b),
        None => blake3::Hasher::new()
            .update_reader(file)
            .map_err(cannot_read)?
            .finalize(),
    }
    .to_hex()
    .to_string();
    if let Some((mut info, features)) = cache.and_then(|c| c.get(&content_hash))
        && features.n_rows == ex.n_rows()
    {
        info.path = path.to_path_buf();
        return Ok(Extracted {
            info,
            features,
            content_hash,
            from_cache: true,
        });
    }
    let ext = path.extension().and_then(|e| e.to_str());
    let clip = match bytes {
        Some(b) => decode::decode_bytes(&b, ext, ex.sample_rate(), path),
        None => decode::decode_file(path, ex.sample_rate()),
    }
    .map_err(|e| e.to_string())?;
    let features = ex.compute(&clip.samples);
    if features.data.iter().any(|v| !v.is_finite()) {
        return Err(format!("{}: features are not finite", path.display()));
    }
    if let Some(c) = cache
        && let Err(e) = c.put(&content_hash, &clip.info, &features)
    {
        // A cache that cannot be written only costs time later.
        c.warn_once(&e);
    }
    Ok(Extracted {
        info: clip.info,
        features,
        content_hash,
        from_cache: false,
    })
}

/// Features of every file, in order, in parallel, with a progress bar.
pub fn extract_all(
    paths: &[PathBuf],
    ex: &Extractor,
    cache: Option<&Cache>,
    quiet: bool,
) -> Vec<Result<Extracted, String>> {
    let pb = progress::bar(paths.len() as u64, "features", quiet);
    let out = paths
        .par_iter()
        .map(|p| {
            let r = extract_one(p, ex, cache);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    out
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// Every feature setting, the pitch and chroma ones included, is part of
    /// the cache key.
    #[test]
    fn feature_key_changes_with_every_setting() {
        let base = FeatureConfig::default();
        let key = |c: &FeatureConfig| feature_key(c, 8000);
        type Edit = Box<dyn Fn(&mut FeatureConfig)>;
        let edits: Vec<Edit> = vec![
            Box::new(|c| c.f0_fmin = 80.0),
            Box::new(|c| c.f0_fmax = Some(1000.0)),
            Box::new(|c| c.f0_frame_length = 1024),
            Box::new(|c| c.f0_unvoiced = cochlea_features::F0Unvoiced::Hold),
            Box::new(|c| c.yin_threshold = 0.2),
            Box::new(|c| c.n_chroma = 24),
            Box::new(|c| c.chroma_tuning = Some(0.0)),
            Box::new(|c| c.kinds = vec![cochlea_features::FeatureKind::F0]),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut c = base.clone();
            edit(&mut c);
            assert_ne!(key(&c), key(&base), "edit {i}");
        }
        assert_eq!(key(&base.clone()), key(&base));
    }
}
