//! Network kinds, pooling heads, functionals and mixup through the
//! `pipeline` binary, on tones synthesised here (hound): three classes of
//! pitch (around 250, 500 and 1000 Hz, each clip at a random frequency of
//! its band, a random level and length, over noise). Every kind and head
//! trains for real and beats chance; `export` checks its traced module
//! against the Rust path (or refuses with the key named); functionals with
//! a network that convolves over time are refused naming the key; the
//! doctor raises no time-axis warning for functionals + dense.

use std::path::{Path, PathBuf};

mod util;
use util::{ok, pipeline};

const RATE: u32 = 8000;
const CENTRES: [f64; 3] = [250.0, 500.0, 1000.0];
const PER_CLASS: usize = 30;

/// A tiny linear congruential generator: the test data without a crate.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `<dir>/tones/<class>/<class>_<n>.wav`: a tone in its class's band
/// (centre x 0.85..1.15), level -30..-6 dBFS, 0.3..0.7 s, white noise 30 dB
/// below a full-scale sine.
fn make_tones(dir: &Path) -> PathBuf {
    let root = dir.join("tones");
    let mut rng = Lcg(7);
    for (c, centre) in CENTRES.iter().enumerate() {
        let class = format!("c{c}");
        std::fs::create_dir_all(root.join(&class)).unwrap();
        for n in 0..PER_CLASS {
            let f = centre * (0.85 + 0.3 * rng.uniform());
            let amp = 10f64.powf((-30.0 + 24.0 * rng.uniform()) / 20.0);
            let len = ((0.3 + 0.4 * rng.uniform()) * RATE as f64) as usize;
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: RATE,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let path = root.join(&class).join(format!("{class}_{n:02}.wav"));
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            for i in 0..len {
                let t = i as f64 / RATE as f64;
                let noise = 0.03 * (rng.uniform() - 0.5) * 2.0;
                let v = amp * (std::f64::consts::TAU * f * t).sin() + noise;
                w.write_sample((v * 32767.0).round() as i16).unwrap();
            }
            w.finalize().unwrap();
        }
    }
    root
}

/// A config over the tones: `features` and `model` are extra TOML lines of
/// those sections, `augment` of `[augment]`.
fn config(
    dir: &Path,
    root: &Path,
    name: &str,
    features: &str,
    model: &str,
    augment: &str,
) -> PathBuf {
    let text = format!(
        r#"name = "{name}"
[data]
root = "{root}"
label = "folder"
sample_rate = 8000
clip_frames = 0
[split]
strategy = "stratified"
test_fraction = 0.3
val_fraction = 0.0
seed = 0
[features]
n_fft = 256
hop_length = 80
n_mels = 32
{features}
[normalize]
method = "standard"
[model]
dropout = 0.0
{model}
[train]
lr = 0.003
batch_size = 16
epochs = 12
seed = 0
threads = 1
[augment]
{augment}
[cache]
dir = "{cache}"
[report]
dir = "{runs}"
"#,
        root = root.display(),
        cache = dir.join("cache").display(),
        runs = dir.join("runs").join(name).display(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `cfg`; returns the run directory and its test accuracy.
fn run(cfg: &Path) -> (PathBuf, f64) {
    ok(&pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]));
    let name = cfg.file_stem().unwrap().to_str().unwrap();
    let runs = cfg.parent().unwrap().join("runs").join(name);
    let dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dirs[0].join("metrics.json")).unwrap()).unwrap();
    let acc = metrics["folds"][0]["test"]["accuracy"].as_f64().unwrap();
    (dirs[0].clone(), acc)
}

/// `pipeline export` as TorchScript: the module was checked against the
/// Rust path before it was written.
fn export_checks(run: &Path, dir: &Path) {
    let out = dir.join(format!("{}.pt", run.file_name().unwrap().to_str().unwrap()));
    let o = pipeline(&[
        "export",
        run.to_str().unwrap(),
        "--format",
        "torchscript",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    ok(&o);
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(e["max_abs_diff"].as_f64().unwrap() <= 1e-5, "{e}");
    assert!(out.is_file());
}

/// Chance is 1/3 for three balanced classes; 27 test clips.
const BEATS_CHANCE: f64 = 0.6;

#[test]
fn kinds_and_heads_train_beat_chance_and_export() {
    let tmp = tempfile::tempdir().unwrap();
    let root = make_tones(tmp.path());
    let small = "blocks = [ { filters = 8, kernel = 3, pool = 2 }, { filters = 16, kernel = 3, pool = 2 } ]";
    // The 2D networks average the frequency axis before the head: three
    // blocks leave 4 of the 32 bands, each seeing most of the axis, so
    // where a tone sits in frequency reaches the head.
    let deep = "blocks = [ { filters = 8, kernel = 3, pool = 2 }, { filters = 16, kernel = 3, pool = 2 }, { filters = 16, kernel = 3, pool = 2 } ]";
    let cases = [
        ("cnn1d-stats", "kinds = [\"mfcc\"]", "head = \"stats\"", ""),
        (
            "cnn1d-attention",
            "kinds = [\"mfcc\"]",
            "head = \"attention\"\nattention_dim = 8",
            "mixup = 0.3",
        ),
        (
            "conv2d-attentive",
            "kinds = [\"logmel\"]",
            "kind = \"conv2d\"\nhead = \"attentive_stats\"\nattention_dim = 8",
            "",
        ),
        (
            "conv2d-avg",
            "kinds = [\"logmel\"]",
            "kind = \"conv2d\"",
            "",
        ),
        (
            "dense-stats",
            "kinds = [\"mfcc\"]",
            "kind = \"dense\"\nhead = \"stats\"\nhidden = [32]",
            "",
        ),
        (
            "functionals",
            "kinds = [\"mfcc\"]\npooling = \"functionals\"",
            "kind = \"dense\"\nhidden = [32]",
            "mixup = 0.2",
        ),
    ];
    let mut scores = Vec::new();
    for (name, features, model, augment) in cases {
        let blocks = if model.contains("conv2d") {
            deep
        } else {
            small
        };
        let model = format!("{blocks}\n{model}");
        let cfg = config(tmp.path(), &root, name, features, &model, augment);
        let (dir, acc) = run(&cfg);
        scores.push(format!("{name} {acc:.3}"));
        assert!(
            acc >= BEATS_CHANCE,
            "{name}: accuracy {acc:.3}; all: {scores:?}"
        );
        export_checks(&dir, tmp.path());
        if name == "functionals" {
            functionals_classify_and_refuse_onnx(&dir, &root, tmp.path());
        }
    }
    eprintln!("{scores:?}");
}

/// `classify` on a functionals model gives one row per file (windows have
/// no meaning there) with the probabilities of the run's predictions; ONNX
/// export is refused naming the key.
fn functionals_classify_and_refuse_onnx(run: &Path, root: &Path, dir: &Path) {
    let preds = std::fs::read_to_string(run.join("predictions.csv")).unwrap();
    let first: Vec<&str> = preds.lines().nth(1).unwrap().split(',').collect();
    let file = first[0];
    assert!(Path::new(file).starts_with(root) || Path::new(file).is_relative());
    let o = pipeline(&[
        "classify",
        "--quiet",
        "--windows",
        "--format",
        "jsonl",
        "--model",
        run.to_str().unwrap(),
        file,
    ]);
    ok(&o);
    let lines: Vec<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let o = pipeline(&[
        "export",
        run.to_str().unwrap(),
        "--format",
        "onnx",
        "--out",
        dir.join("f.onnx").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("features.pooling"), "{err}");
}

#[test]
fn functionals_with_a_convolution_are_refused_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let root = make_tones(tmp.path());
    let cfg = config(
        tmp.path(),
        &root,
        "refused",
        "pooling = \"functionals\"",
        "",
        "",
    );
    let o = pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("features.pooling") && err.contains("model.kind"),
        "{err}"
    );
}

#[test]
fn the_doctor_sees_no_lost_time_axis_in_functionals_with_dense() {
    let tmp = tempfile::tempdir().unwrap();
    let root = make_tones(tmp.path());
    let cfg = config(
        tmp.path(),
        &root,
        "doctor",
        "pooling = \"functionals\"",
        "kind = \"dense\"\nhidden = [16]",
        "",
    );
    let o = pipeline(&[
        "doctor",
        cfg.to_str().unwrap(),
        "--json",
        "--quiet",
        "--no-probes",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for f in report["findings"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        if id.starts_with("architecture.") && id != "architecture.parameters" {
            assert_eq!(f["verdict"], "ok", "{f}");
        }
    }
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"architecture.pooling"), "{ids:?}");
}
