//! What the fuzz targets check, shared with the regression test
//! (`tests/robustness_fuzz.rs`) so a saved input replays the same code.
//!
//! A harness returns normally for any input the code handles, including
//! inputs it rejects with an error; it panics only when an invariant breaks.

#![allow(dead_code)] // Each fuzz target uses one of the harnesses.

use std::path::Path;
use std::sync::OnceLock;

use cochlea_features::{Extractor, FeatureConfig, FeatureKind, decode};

/// Container hints the first input byte chooses from.
const HINTS: [Option<&str>; 5] = [None, Some("wav"), Some("flac"), Some("mp3"), Some("ogg")];

/// Every kind of feature that can be combined, with deltas, at two rates:
/// the code paths a config can reach from decoded audio.
fn extractors() -> &'static [Extractor; 2] {
    static EX: OnceLock<[Extractor; 2]> = OnceLock::new();
    EX.get_or_init(|| {
        let cfg = FeatureConfig {
            kinds: FeatureKind::FRAME_KINDS.to_vec(),
            deltas: 2,
            contrast_bands: 3,
            ..FeatureConfig::default()
        };
        let make = |sr| Extractor::new(&cfg, sr).expect("the harness config is valid");
        [make(8000), make(16_000)]
    })
}

/// Arbitrary bytes as an audio file: the first byte picks the extension hint
/// and the target rate, the rest is the file. Decoding either fails with an
/// error or gives finite mono samples whose features are finite and have
/// the documented shape.
pub fn decode_features(data: &[u8]) {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let hint = HINTS[usize::from(selector) % HINTS.len()];
    let ex = &extractors()[usize::from(selector / 5) % 2];
    let name = Path::new("fuzz-input");
    let clip = match decode::decode_bytes(file, hint, ex.sample_rate(), name) {
        Ok(clip) => clip,
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("fuzz-input: "),
                "error without the path: {msg}"
            );
            return;
        }
    };
    assert!(!clip.samples.is_empty(), "a clip without samples decoded");
    assert!(
        clip.samples
            .iter()
            .all(|v| v.is_finite() && v.abs() <= 2.0 * decode::MAX_PEAK),
        "decoded samples out of range"
    );
    assert!(clip.info.duration_s.is_finite() && clip.info.duration_s > 0.0);
    let m = ex.compute(&clip.samples);
    assert_eq!(m.n_rows, ex.n_rows());
    assert_eq!(m.n_frames, ex.n_frames(clip.samples.len()));
    assert_eq!(m.data.len(), m.n_rows * m.n_frames);
    if let Some(i) = m.data.iter().position(|v| !v.is_finite()) {
        panic!(
            "non-finite feature {} ({}) at frame {} of {} samples",
            m.data[i],
            ex.row_names()[i / m.n_frames],
            i % m.n_frames,
            clip.samples.len()
        );
    }
}

/// Arbitrary text as a config file: parsing and validation either fail with
/// a message or accept a config whose feature extractor can be planned.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let cfg = match cochlea_pipeline::Config::parse(text) {
        Ok(cfg) => cfg,
        Err(msg) => {
            assert!(!msg.trim().is_empty(), "empty parse error");
            return;
        }
    };
    match cfg.validate() {
        Ok(()) => {
            if let Err(e) = Extractor::new(&cfg.features, cfg.data.sample_rate) {
                panic!("validated config, but the extractor refuses it: {e}");
            }
        }
        Err(msg) => assert!(!msg.trim().is_empty(), "empty validation error"),
    }
}
