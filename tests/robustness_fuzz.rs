//! Replays the fuzz inputs worth keeping through the fuzz harness: the seeds
//! of `fuzz/seeds/` and every input that once crashed a target, saved in
//! `fuzz/regressions/<target>/` (see docs/robustness.md). The harness is the
//! same file the fuzz targets run, so a fixed crash stays fixed.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        files.extend(
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep")),
        );
    }
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no inputs for {target}");
    for f in &files {
        let data = std::fs::read(f).unwrap();
        // A panic names the input that caused it.
        eprintln!("{target}: {}", f.display());
        run(&data);
    }
}

#[test]
fn decode_features_inputs_replay_cleanly() {
    replay("decode_features", harness::decode_features);
}

#[test]
fn config_inputs_replay_cleanly() {
    replay("config", harness::config);
}
