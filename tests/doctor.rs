//! Every planted fault in `pipelines/broken/` is named first by
//! `pipeline doctor`, and the healthy baseline raises no warning. A small
//! two-class set written here checks that file formats are a finding only
//! when they predict the class, and `--budget 0` that the budget holds.

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

/// A two-class set of 96 synthetic clips (low against high tones, eight
/// sources of six clips per class, random lengths), each written at the
/// sample rate, bit depth and channel count `format(index, class)` picks.
fn two_class_set(dir: &Path, format: impl Fn(usize, usize) -> (u32, u16, u16)) -> PathBuf {
    let root = dir.join("data");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for class in 0..2 {
        std::fs::create_dir_all(root.join(format!("c{class}"))).unwrap();
        for i in 0..48 {
            let (rate, bits, channels) = format(i, class);
            let freq = if class == 0 { 300.0 } else { 1500.0 } * (1.0 + rand());
            let seconds = 0.5 + 0.5 * rand();
            let n = (seconds * f64::from(rate)) as usize;
            let spec = hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format: hound::SampleFormat::Int,
            };
            let path = root.join(format!("c{class}/c{class}_s{}_{i:02}.wav", i % 8));
            let mut w = hound::WavWriter::create(path, spec).unwrap();
            let full = f64::from((1i32 << (bits - 1)) - 1);
            for t in 0..n {
                let x = t as f64 / f64::from(rate);
                let fade = (x / 0.02).min((seconds - x) / 0.02).clamp(0.0, 1.0);
                let v = 0.3 * fade * (2.0 * std::f64::consts::PI * freq * x).sin()
                    + 0.01 * (rand() - 0.5);
                for _ in 0..channels {
                    w.write_sample((v * full) as i32).unwrap();
                }
            }
            w.finalize().unwrap();
        }
    }
    root
}

fn two_class_config(dir: &Path, root: &Path) -> PathBuf {
    let text = format!(
        r#"name = "two-class"
[data]
root = "{}"
label = "folder"
group = {{ regex = '_(s\d)_' }}
sample_rate = 8000
clip_frames = 80
[split]
strategy = "group"
test_fraction = 0.25
val_fraction = 0.125
[features]
kinds = ["mfcc"]
deltas = 1
[model]
blocks = [ {{ filters = 16, kernel = 5, pool = 2 }}, {{ filters = 32, kernel = 3, pool = 2 }} ]
[train]
lr = 0.003
batch_size = 16
epochs = 12
threads = 1
[report]
dir = "{}"
"#,
        root.display(),
        dir.join("runs").display()
    );
    let path = dir.join("two-class.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The formats of the mixed set, by file index and never by class.
fn mixed(i: usize, _class: usize) -> (u32, u16, u16) {
    [
        (8000, 16, 1),
        (16000, 24, 2),
        (22050, 16, 2),
        (16000, 16, 1),
    ][(i / 3) % 4]
}

/// Files mixing sample rates, bit depths and channel counts with no link to
/// the class are healthy: neither `doctor` nor a short `run` fires (the
/// mixed formats were once a warning on every call).
#[test]
fn formats_unrelated_to_the_class_raise_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = two_class_set(dir.path(), mixed);
    let config = two_class_config(dir.path(), &root);
    let report = doctor(&config, false, &dir.path().join("cache"));
    assert_eq!(problems(&report), Vec::<(String, String)>::new());
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["run", config.to_str().unwrap(), "--json", "--quiet"])
        .env("COCHLEA_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fired: Vec<&serde_json::Value> = run["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] == "fail" || f["verdict"] == "warn")
        .collect();
    assert!(fired.is_empty(), "{fired:#?}");
}

/// A format that gives the class away is a leak, ranked first.
#[test]
fn a_format_that_predicts_the_class_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let root = two_class_set(dir.path(), |_, class| {
        [(8000, 16, 1), (16000, 24, 2)][class]
    });
    let config = two_class_config(dir.path(), &root);
    let report = doctor(&config, false, &dir.path().join("cache"));
    let found = problems(&report);
    assert_eq!(
        found.first().map(|f| f.0.as_str()),
        Some("data.mixed_formats"),
        "{found:?}"
    );
    assert_eq!(report["findings"][0]["verdict"], "fail");
}

/// With no time left, `doctor` trains nothing and says what it left out.
#[test]
fn a_spent_budget_is_honoured() {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["doctor", broken("raw-samples").to_str().unwrap()])
        .args(["--budget", "0", "--json", "--quiet"])
        .env("COCHLEA_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["probes"]["linear"].is_null(), "{report:#}");
    assert!(report["probes"]["overfit_batch"].is_null());
    assert_eq!(report["lr_sweep"].as_array().unwrap().len(), 0);
    let notes = report["probes"]["notes"].to_string();
    assert!(notes.contains("budget"), "{notes}");
}
