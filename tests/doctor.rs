//! Every planted fault in `pipelines/broken/` is named first by
//! `pipeline doctor`, and the healthy baseline raises no warning.

use std::path::{Path, PathBuf};
use std::process::Command;

fn broken(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../pipelines/broken")
        .join(format!("{name}.toml"))
}

/// The id the config's comment says doctor must rank first.
fn expected(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("# Expected first finding: "))
        .map(|s| s.trim_end_matches('.').to_string())
}

fn doctor(path: &Path, probes: bool, cache: &Path) -> serde_json::Value {
    let mut args = vec!["doctor", path.to_str().unwrap(), "--json", "--quiet"];
    if !probes {
        args.push("--no-probes");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(&args)
        .env("COCHLEA_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: exit {:?}\n{}",
        path.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn problems(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] != "ok")
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn check(name: &str, probes: bool) {
    let cache = tempfile::tempdir().unwrap();
    let path = broken(name);
    let want =
        expected(&path).unwrap_or_else(|| panic!("{name}: no 'Expected first finding' comment"));
    let report = doctor(&path, probes, cache.path());
    let found = problems(&report);
    assert!(
        !found.is_empty(),
        "{name}: doctor found nothing, expected {want}"
    );
    assert_eq!(
        found[0].0, want,
        "{name}: ranked first {:?}; all: {found:?}",
        found[0]
    );
}

#[test]
fn healthy_baseline_raises_no_warning() {
    let cache = tempfile::tempdir().unwrap();
    let report = doctor(&broken("healthy"), true, cache.path());
    assert_eq!(problems(&report), Vec::<(String, String)>::new());
    // It did run the probes.
    assert!(report["probes"]["linear"].is_array());
    assert!(report["probes"]["overfit_batch"].is_array());
    assert_eq!(report["lr_sweep"].as_array().unwrap().len(), 3);
}

#[test]
fn unnormalized_features() {
    check("unnormalized", false);
}

#[test]
fn raw_samples() {
    check("raw-samples", false);
}

#[test]
fn speaker_leak() {
    check("speaker-leak", false);
}

#[test]
fn duplicate_audio() {
    check("duplicate-audio", false);
}

#[test]
fn too_much_pooling() {
    check("too-much-pooling", false);
}

#[test]
fn imbalanced_classes() {
    check("imbalanced", false);
}

#[test]
fn shuffled_labels() {
    check("shuffled-labels", true);
}

#[test]
fn label_regex_picks_the_take() {
    check("label-is-take", true);
}

#[test]
fn learning_rate_too_high() {
    check("lr-too-high", true);
}

#[test]
fn learning_rate_too_low() {
    check("lr-too-low", true);
}

#[test]
fn every_broken_config_is_tested_here() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines/broken");
    let this = include_str!("doctor.rs");
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
            assert!(
                this.contains(&format!("\"{stem}\"")),
                "{stem}.toml has no test"
            );
        }
    }
}
