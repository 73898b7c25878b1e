//! `pipeline export` and the Python loader: a model exported as TorchScript
//! (and ONNX where the exporter is present), fed with librosa features from
//! its `spec.json` by `python/cochlea_loader.py`, gives the probabilities of
//! `pipeline classify`; and a cross-validated run with `[train]
//! final_model` ends with one model that `classify --model RUN` uses.
//!
//! The Python is the reference environment's (`bench/ref-venv.sh`, which
//! creates it when missing: librosa, soundfile and torch 2.13), or
//! `COCHLEA_LOADER_PYTHON` when set; for ONNX it is that environment plus
//! onnx and onnxruntime from PyPI (`bench/onnx-venv.sh`, likewise created
//! when missing), so the ONNX round trip always runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod util;
use util::{DEMO_DATA, Small, ok, pipeline, project, small_config};

/// Largest probability difference between Python and `classify`.
const PARITY: f64 = 1e-4;

/// The environment of `script` (`bench/ref-venv.sh` or
/// `bench/onnx-venv.sh`), created when missing; its Python.
fn venv_python(script: &str) -> PathBuf {
    let out = Command::new(project().join(script))
        .output()
        .unwrap_or_else(|e| panic!("{script} starts: {e}"));
    ok(&out);
    let venv = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(venv.trim()).join("bin/python")
}

/// The Python with librosa and torch (and, for ONNX, onnx and onnxruntime).
fn python(format: &str) -> PathBuf {
    if format == "onnx" {
        return venv_python("bench/onnx-venv.sh");
    }
    match std::env::var_os("COCHLEA_LOADER_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => venv_python("bench/ref-venv.sh"),
    }
}

/// A small demo config in `dir`: `split` and `train_extra` are TOML lines
/// of `[split]` and `[train]`, `normalize` of `[normalize]`, `data_extra`
/// of `[data]`.
fn config(
    dir: &Path,
    split: &str,
    train_extra: &str,
    normalize: &str,
    data_extra: &str,
) -> PathBuf {
    small_config(
        dir,
        &Small {
            name: "export",
            root: &project().join("audio-samples/digits"),
            data: &format!("{DEMO_DATA}\n{data_extra}"),
            split: &format!("{split}\nval_fraction = 0.1"),
            normalize,
            train: "batch_size = 32\nepochs = 3",
            train_after: train_extra,
        },
    )
}

fn run(cfg: &Path) -> PathBuf {
    ok(&pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]));
    let runs = cfg.parent().unwrap().join("runs");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// Every 25th demo file: 20 files of all ten digits, shorter and longer
/// than the 80-frame clip length (so padding and cropping both happen).
fn some_files() -> Vec<String> {
    let mut files: Vec<String> = walk(&project().join("audio-samples/digits"));
    files.sort();
    files.into_iter().step_by(25).collect()
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "wav") {
            out.push(p.to_str().unwrap().to_string());
        }
    }
    out
}

/// Probabilities per file and class from `pipeline classify --format
/// jsonl`: its `proba` object (every class, in class order), checked
/// against its `top` list.
fn classify(model: &Path, files: &[String]) -> HashMap<String, Vec<(String, f64)>> {
    let mut args = vec![
        "classify",
        "--quiet",
        "--format",
        "jsonl",
        "--top-k",
        "2",
        "--model",
        model.to_str().unwrap(),
    ];
    args.extend(files.iter().map(String::as_str));
    let out = pipeline(&args);
    ok(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let proba: Vec<(String, f64)> = v["proba"]
                .as_object()
                .expect("proba")
                .iter()
                .map(|(c, p)| (c.clone(), p.as_f64().unwrap()))
                .collect();
            for t in v["top"].as_array().unwrap() {
                let c = t[0].as_str().unwrap();
                let p = proba.iter().find(|(k, _)| k == c).unwrap().1;
                assert_eq!(p, t[1].as_f64().unwrap(), "{l}");
            }
            (v["path"].as_str().unwrap().to_string(), proba)
        })
        .collect()
}

/// Exports `model` as `format` into `dir`; returns the model file.
fn export(model: &Path, format: &str, dir: &Path) -> PathBuf {
    let ext = if format == "onnx" { "onnx" } else { "pt" };
    let out = dir.join(format!("exported.{ext}"));
    let o = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args([
            "export",
            model.to_str().unwrap(),
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
            "--json",
        ])
        .env("COCHLEA_ONNX_PYTHON", python(format))
        .output()
        .expect("pipeline starts");
    ok(&o);
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(e["max_abs_diff"].as_f64().unwrap() <= 1e-5, "{e}");
    if format == "onnx" {
        assert_eq!(e["opset"], 17);
        // onnxruntime is in the ONNX environment: the conversion was run.
        assert!(e["onnx_max_abs_diff"].as_f64().unwrap() <= 1e-5, "{e}");
    }
    assert!(out.is_file());
    assert!(dir.join("exported.spec.json").is_file());
    out
}

/// Runs the Python loader on `files`; probabilities per file and class.
fn loader(
    model_file: &Path,
    format: &str,
    files: &[String],
    scratch: &Path,
) -> HashMap<String, HashMap<String, f64>> {
    let csv_path = scratch.join("python.csv");
    let out = Command::new(python(format))
        .arg(project().join("python/cochlea_loader.py"))
        .arg(model_file)
        .args(files)
        .arg("--out")
        .arg(&csv_path)
        .output()
        .expect("python starts");
    ok(&out);
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let probs = header
                .iter()
                .zip(rec.iter())
                .filter_map(|(h, v)| {
                    h.strip_prefix("p_")
                        .map(|c| (c.to_string(), v.parse::<f64>().unwrap()))
                })
                .collect();
            (rec[0].to_string(), probs)
        })
        .collect()
}

/// Exports the model of `model` as `format`, runs the Python loader and
/// `classify` on the same files, and requires the same probabilities.
fn python_matches_classify(model: &Path, format: &str, scratch: &Path) -> f64 {
    python_matches_classify_rows(model, format, scratch, 26)
}

/// As [`python_matches_classify`], for a model taking `rows` feature rows.
fn python_matches_classify_rows(model: &Path, format: &str, scratch: &Path, rows: usize) -> f64 {
    let files = some_files();
    let exported = export(model, format, scratch);
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scratch.join("exported.spec.json")).unwrap())
            .unwrap();
    assert_eq!(spec["schema_version"], 1);
    assert_eq!(spec["format"], format);
    assert_eq!(spec["input"]["rows"], rows);
    assert_eq!(spec["length"]["clip_frames"], 80);
    assert_eq!(spec["audio"]["sample_rate"], 8000);
    assert_eq!(spec["features"]["librosa"]["n_fft"], 256);
    let classes = spec["classes"].as_array().unwrap().len();
    assert_eq!(classes, 10);
    let want = classify(model, &files);
    let got = loader(&exported, format, &files, scratch);
    assert_eq!(want.len(), files.len());
    assert_eq!(got.len(), files.len());
    let mut worst = 0f64;
    for f in &files {
        let (w, g) = (&want[f], &got[f]);
        assert_eq!(w.len(), classes, "{f}: classify listed {} classes", w.len());
        for (class, p) in w {
            worst = worst.max((g[class] - p).abs());
        }
    }
    assert!(
        worst < PARITY,
        "{format}: Python differs from classify by {worst:e} in probability"
    );
    eprintln!(
        "{format}: max |Python - classify| = {worst:.2e} over {} files",
        files.len()
    );
    worst
}

#[test]
fn torchscript_of_a_single_model_gives_the_probabilities_of_classify_in_python() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "strategy = \"group\"\ntest_fraction = 0.2",
        "",
        "method = \"standard\"",
        "",
    );
    let run = run(&cfg);
    python_matches_classify(&run, "torchscript", tmp.path());
    classify_csv_has_the_probability_columns_of_predictions_csv(&run, tmp.path());
    devices_give_the_probabilities_of_the_cpu(&run);
}

/// `classify --device auto` (CUDA when there is one) and `--device cuda`
/// agree with the CPU; without a CUDA device, `cuda` is refused by name.
fn devices_give_the_probabilities_of_the_cpu(run: &Path) {
    let files = some_files();
    let cpu = classify(run, &files);
    for device in ["auto", "cuda"] {
        let mut args = vec![
            "classify",
            "--quiet",
            "--format",
            "jsonl",
            "--device",
            device,
            "--model",
            run.to_str().unwrap(),
        ];
        args.extend(files.iter().map(String::as_str));
        let out = pipeline(&args);
        if device == "cuda" && !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("no CUDA device"), "{err}");
            continue;
        }
        ok(&out);
        for l in String::from_utf8(out.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let want = &cpu[v["path"].as_str().unwrap()];
            for (c, p) in want {
                let got = v["proba"][c].as_f64().unwrap();
                assert!((got - p).abs() < 1e-4, "{device}: {c} {got} vs {p}");
            }
        }
    }
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// `classify` CSV on the run's test files: the `p_<class>` columns of
/// `predictions.csv`, same names, same order, same values.
fn classify_csv_has_the_probability_columns_of_predictions_csv(run: &Path, scratch: &Path) {
    let (ph, preds) = read_csv(&run.join("predictions.csv"));
    let out = scratch.join("classified.csv");
    let mut args = vec![
        "classify",
        "--quiet",
        "--model",
        run.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(preds.iter().map(|r| r[0].as_str()));
    ok(&pipeline(&args));
    let (ch, rows) = read_csv(&out);
    let p_cols = |h: &[String]| -> Vec<(usize, String)> {
        h.iter()
            .enumerate()
            .filter(|(_, n)| n.starts_with("p_"))
            .map(|(i, n)| (i, n.clone()))
            .collect()
    };
    let (pp, cp) = (p_cols(&ph), p_cols(&ch));
    assert_eq!(pp.len(), 10);
    assert_eq!(
        pp.iter().map(|x| &x.1).collect::<Vec<_>>(),
        cp.iter().map(|x| &x.1).collect::<Vec<_>>()
    );
    assert_eq!(rows.len(), preds.len());
    for (p, c) in preds.iter().zip(&rows) {
        assert_eq!(p[0], c[0]);
        for ((i, name), (j, _)) in pp.iter().zip(&cp) {
            let (a, b): (f64, f64) = (p[*i].parse().unwrap(), c[*j].parse().unwrap());
            assert!((a - b).abs() <= 1e-5, "{}: {name} {a} vs {b}", p[0]);
        }
    }
}

#[test]
fn an_ensemble_as_torchscript_and_as_onnx_averages_inside_and_matches_classify_in_python() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "strategy = \"group\"\ntest_fraction = 0.2",
        "ensemble = 2",
        "method = \"standard\"",
        "",
    );
    let run = run(&cfg);
    python_matches_classify(&run, "torchscript", tmp.path());
    // The same ensemble as ONNX, run by onnxruntime.
    python_matches_classify(&run, "onnx", tmp.path());
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("exported.spec.json")).unwrap())
            .unwrap();
    assert_eq!(spec["model"]["members"], 2);
}

#[test]
fn kfold_with_final_model_ends_with_one_model_that_classify_and_python_use() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "strategy = \"group-kfold\"\nfolds = 2",
        "final_model = true\nearly_stopping = 2",
        "method = \"standard\"",
        "",
    );
    let run = run(&cfg);
    assert!(
        run.join("model/model.json").is_file(),
        "no model/ after k-fold"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["schema_version"], 1);
    let f = &m["final_model"];
    assert_eq!(f["files"], 500, "{f}");
    assert_eq!(f["bundle"], "model");
    let best: Vec<u64> = f["fold_best_epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_u64().unwrap())
        .collect();
    assert_eq!(best.len(), 2);
    // The upper middle value of two: their maximum.
    assert_eq!(f["epochs"].as_u64().unwrap(), *best.iter().max().unwrap());
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("model/model.json")).unwrap()).unwrap();
    assert_eq!(bundle["metadata"]["fold"], "all");
    assert_eq!(bundle["metadata"]["schema_version"], 1);
    // No test set of its own: the estimate is the cross-validation's.
    assert!(bundle["metadata"]["test_metrics"].is_null());
    // The normalizer saw every file.
    assert_eq!(
        bundle["metadata"]["input"]["normalizer"]["fitted_clips"],
        500
    );
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("Deployable model"), "{md}");
    // `classify --model RUN` finds it; Python agrees with it.
    python_matches_classify(&run, "torchscript", tmp.path());
}

#[test]
fn a_kfold_run_without_final_model_says_how_to_get_one() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("run");
    std::fs::create_dir_all(runs.join("folds/fold1/model")).unwrap();
    let out = pipeline(&[
        "classify",
        "--model",
        runs.to_str().unwrap(),
        some_files()[0].as_str(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("final_model = true"), "{err}");
}

#[test]
fn export_of_per_utterance_normalization_with_repeat_and_start_crop_matches_in_python() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "strategy = \"group\"\ntest_fraction = 0.2",
        "",
        "method = \"utterance\"",
        "pad = \"repeat\"\ncrop = \"start\"",
    );
    let run = run(&cfg);
    python_matches_classify(&run, "torchscript", tmp.path());
}

#[test]
fn final_model_on_a_single_split_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "strategy = \"group\"\ntest_fraction = 0.2",
        "final_model = true",
        "method = \"standard\"",
        "",
    );
    let out = pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("train.final_model"), "{err}");
    assert!(
        !tmp.path().join("runs").exists(),
        "a run directory was made"
    );
}

/// Pitch, onset, chroma and tonnetz rows next to the MFCCs: the loader
/// computes them with librosa (pyin, yin, onset_strength, chroma_stft,
/// tonnetz) and gives classify's probabilities.
#[test]
fn export_of_pitch_onset_and_chroma_kinds_matches_in_python() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "strategy = \"group\"\ntest_fraction = 0.2",
        "",
        "method = \"standard\"",
        "",
    );
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "kinds = [\"mfcc\"]",
        "kinds = [\"mfcc\", \"f0\", \"voiced\", \"voiced_prob\", \"yin\", \"onset\", \"chroma\", \
         \"tonnetz\"]\nf0_unvoiced = \"interpolate\"\nf0_frame_length = 1024",
    );
    std::fs::write(&cfg, text).unwrap();
    let run = run(&cfg);
    // 13 MFCCs and their deltas, 5 single rows, 12 chroma, 6 tonnetz.
    python_matches_classify_rows(&run, "torchscript", tmp.path(), 26 + 5 + 12 + 6);
}
