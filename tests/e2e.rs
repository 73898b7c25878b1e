//! End-to-end tests of the `pipeline` binary, run as a user would, in
//! temporary folders, on the demo data in `audio-samples/`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod util;
use util::{DEMO_DATA, Small, interrupt, ok, pipeline, project, small_config};

/// A demo config in `dir` with absolute paths and a private cache.
fn demo_config(dir: &Path, root: &Path, split: &str, epochs: usize) -> PathBuf {
    small_config(
        dir,
        &Small {
            name: "e2e",
            root,
            data: DEMO_DATA,
            split: &format!("{split}\nval_fraction = 0.1"),
            train: &format!("batch_size = 32\nepochs = {epochs}"),
            ..Small::default()
        },
    )
}

/// Sets `[train] ensemble` in a config written by `demo_config`.
fn set_ensemble(cfg: &Path, n: usize) {
    let text = std::fs::read_to_string(cfg).unwrap();
    assert!(text.contains("seed = 0\n[cache]"));
    let text = text.replace(
        "seed = 0\n[cache]",
        &format!("seed = 0\nensemble = {n}\n[cache]"),
    );
    std::fs::write(cfg, text).unwrap();
}

fn only_run_dir(runs: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect()
}

/// `pipeline classify` with the model of `run` on its test files gives the
/// labels and confidences of the run's `predictions.csv`.
fn classify_agrees_with_the_run(run: &Path, scratch: &Path) {
    let preds = read_csv(&run.join("predictions.csv"));
    let out_csv = scratch.join("classified.csv");
    let mut args = vec![
        "classify",
        "--quiet",
        "--model",
        run.to_str().unwrap(),
        "--out",
        out_csv.to_str().unwrap(),
    ];
    args.extend(preds.iter().map(|r| r[0].as_str()));
    ok(&pipeline(&args));
    let classified = read_csv(&out_csv);
    assert_eq!(classified.len(), preds.len());
    for (p, c) in preds.iter().zip(&classified) {
        assert_eq!(p[0], c[0]);
        assert_eq!(
            p[3], c[2],
            "{}: run said {}, classify said {}",
            p[0], p[3], c[2]
        );
        let (a, b): (f64, f64) = (p[4].parse().unwrap(), c[3].parse().unwrap());
        assert!((a - b).abs() < 1e-4, "{}: confidence {a} vs {b}", p[0]);
    }
}

#[test]
fn run_writes_every_output_and_classify_agrees_with_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let cfg = demo_config(
        tmp.path(),
        &digits,
        "strategy = \"group\"\ntest_fraction = 0.2",
        12,
    );
    let out = pipeline(&["run", cfg.to_str().unwrap(), "--quiet", "--json"]);
    ok(&out);
    let run = only_run_dir(&tmp.path().join("runs"));
    for f in [
        "metrics.json",
        "report.html",
        "report.md",
        "predictions.csv",
        "config.toml",
        "model/model.json",
        "model/model.safetensors",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    let acc = metrics["folds"][0]["test"]["accuracy"].as_f64().unwrap();
    // Unseen voices, 12 short epochs: far above the 10 % chance level.
    assert!(acc > 0.6, "test accuracy {acc}");
    // No test voice was in training.
    let groups = &metrics["folds"][0]["groups"];
    for g in groups[2].as_array().unwrap() {
        assert!(
            !groups[0].as_array().unwrap().contains(g),
            "voice {g} on both sides"
        );
    }

    // Classify the test files with the saved model: same predictions.
    classify_agrees_with_the_run(&run, tmp.path());

    // The HTML report is self-contained and has its sections.
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    for id in [
        "summary",
        "confusion",
        "curves",
        "per-class",
        "misclassified",
        "data",
        "model",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
    assert!(
        !html.contains("http://")
            || html
                .matches("http://")
                .all(|_| html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
    );
    assert!(!html.contains("<script src") && !html.contains("<link"));

    // A second run reuses the feature cache and never overwrites the first.
    let out = pipeline(&["run", cfg.to_str().unwrap(), "--quiet", "--json"]);
    ok(&out);
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        second["data"]["cache_hits"].as_u64(),
        second["data"]["files_used"].as_u64()
    );
    assert_eq!(
        std::fs::read_dir(tmp.path().join("runs")).unwrap().count(),
        2
    );
}

#[test]
fn normalization_statistics_never_see_the_test_split() {
    // Two datasets that differ only in the test files (the audio of every
    // "_01" take is replaced by another file's): the fitted statistics must be
    // bit-identical.
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let mut stats = Vec::new();
    for variant in 0..2 {
        let data = tmp.path().join(format!("data{variant}"));
        for d in ["3", "8"] {
            std::fs::create_dir_all(data.join(d)).unwrap();
            for e in std::fs::read_dir(digits.join(d)).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_str().unwrap().to_string();
                let src = if variant == 1 && name.ends_with("_01.wav") {
                    // Another digit's audio in the test file's place.
                    digits.join("0").join(format!("0{}", &name[1..]))
                } else {
                    p.clone()
                };
                std::fs::copy(&src, data.join(d).join(&name)).unwrap();
            }
        }
        let work = tmp.path().join(format!("work{variant}"));
        std::fs::create_dir_all(&work).unwrap();
        let cfg = demo_config(
            &work,
            &data,
            "strategy = \"predefined\"\ntest = '_01\\.wav$'",
            1,
        );
        ok(&pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]));
        let run = only_run_dir(&work.join("runs"));
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("model/model.json")).unwrap()).unwrap();
        let metrics: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
        let n = &bundle["metadata"]["input"]["normalizer"];
        stats.push((
            n["offset"].clone(),
            n["scale"].clone(),
            n["fitted_clips"].clone(),
            metrics["data_hash"].clone(),
        ));
    }
    assert!(stats[0].0.as_array().is_some_and(|v| !v.is_empty()));
    // The datasets differ (in their test files only) ...
    assert_ne!(stats[0].3, stats[1].3);
    // ... and the fitted statistics do not.
    assert_eq!(stats[0].0, stats[1].0);
    assert_eq!(stats[0].1, stats[1].1);
    assert_eq!(stats[0].2, stats[1].2);
}

#[test]
fn feature_dump_is_readable_by_numpy_and_matches_in_process_features() {
    let python = std::env::var("COCHLEA_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_numpy = Command::new(&python)
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_numpy {
        eprintln!("skipped: no numpy in {python} (set COCHLEA_PYTHON; scripts/with-libtorch does)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let cfg_path = demo_config(tmp.path(), &digits, "strategy = \"stratified\"", 1);
    let file = digits.join("5").join("5_m1_02.wav");
    let out_dir = tmp.path().join("dump");
    ok(&pipeline(&[
        "features",
        "--quiet",
        "--config",
        cfg_path.to_str().unwrap(),
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--png",
    ]));
    let npy = out_dir.join("00000_5_m1_02.npy");
    assert!(out_dir.join("00000_5_m1_02.png").is_file());
    assert!(out_dir.join("index.csv").is_file());
    let script = format!(
        "import numpy, json; a = numpy.load({:?}); print(json.dumps({{'shape': a.shape, 'dtype': str(a.dtype), 'data': a.ravel().tolist()}}))",
        npy.display()
    );
    let out = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cfg = cochlea_pipeline::Config::load(&cfg_path).unwrap();
    let ex = cochlea_features::Extractor::new(&cfg.features, 8000).unwrap();
    let clip = cochlea_features::decode::decode_file(&file, 8000).unwrap();
    let m = ex.compute(&clip.samples);
    assert_eq!(v["dtype"], "float32");
    assert_eq!(v["shape"], serde_json::json!([m.n_rows, m.n_frames]));
    let data: Vec<f32> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(data, m.data);
}

#[test]
fn every_example_config_parses_and_validates() {
    let dir = project().join("pipelines");
    let mut n = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            n += 1;
            match cochlea_pipeline::Config::load(&p) {
                Ok(_) => {}
                Err(e) => {
                    // The FSDD configs read a dataset that lives beside the
                    // project, the detection example one made by
                    // bench/detect_make_data.py; they still parse, only the
                    // folder is missing.
                    let msg = e.to_string();
                    let text = std::fs::read_to_string(&p).unwrap();
                    assert!(
                        cochlea_pipeline::Config::parse(&text).is_ok(),
                        "{}: {msg}",
                        p.display()
                    );
                    assert!(
                        msg.contains("data.root")
                            && msg.contains("does not exist")
                            && (text.contains("shared/datasets/fsdd")
                                || text.contains("target/detect-bench")),
                        "{}: {msg}",
                        p.display()
                    );
                    eprintln!("{}: dataset absent, parsed only ({msg})", p.display());
                }
            }
        }
    }
    assert!(n >= 3, "only {n} configs found");
}

#[test]
fn config_errors_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let good = std::fs::read_to_string(demo_config(
        tmp.path(),
        &digits,
        "strategy = \"stratified\"",
        1,
    ))
    .unwrap();
    let cases = [
        (
            good.replace("lr = 0.003", "lrr = 0.003"),
            "did you mean `lr`",
        ),
        (good.replace("n_mfcc = 13", "n_mfcc = 80"), "n_mfcc"),
        (
            good.replace("hop_length = 80", "hop_length = 0"),
            "hop_length",
        ),
        (
            good.replace("val_fraction = 0.1", "val_fraction = 1.5"),
            "split.val_fraction",
        ),
        (
            good.replace("label = \"folder\"", "label = { regex = '(unclosed' }"),
            "data.label",
        ),
        (
            good.replace(&digits.display().to_string(), "/no/such/folder"),
            "data.root",
        ),
        (good.replace("epochs = 1", "epochs = -3"), "epochs"),
        (
            good.replace("strategy = \"stratified\"", "strategy = \"random\""),
            "strategy",
        ),
    ];
    for (text, want) in cases {
        let path = tmp.path().join("bad.toml");
        std::fs::write(&path, &text).unwrap();
        let out = pipeline(&["run", path.to_str().unwrap(), "--quiet"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{want}: {err}");
        assert!(err.contains(want), "expected {want:?} in: {err}");
    }
}

#[test]
fn ctrl_c_stops_at_a_safe_point_and_resume_gives_the_uninterrupted_result() {
    interrupt_then_resume(30, 1);
}

/// The same with an ensemble, interrupted while its second network trains:
/// the first network is kept, the second resumes from its own checkpoint.
#[test]
fn ctrl_c_during_an_ensemble_resumes_to_the_uninterrupted_result() {
    interrupt_then_resume(12, 2);
}

/// Runs the demo config uninterrupted, then again with a real SIGINT once
/// the last network's first checkpoint exists, resumes it, and compares.
fn interrupt_then_resume(epochs: usize, ensemble: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let cfg = demo_config(
        tmp.path(),
        &digits,
        "strategy = \"group\"\ntest_fraction = 0.2",
        epochs,
    );
    set_ensemble(&cfg, ensemble);
    let checkpoints = match ensemble {
        1 => "checkpoints".to_string(),
        n => format!("checkpoints-member-{n}"),
    };
    let runs = tmp.path().join("runs");

    // Uninterrupted reference.
    ok(&pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]));
    let reference = only_run_dir(&runs);
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    let ref_metrics: serde_json::Value =
        serde_json::from_slice(&read(&reference, "metrics.json")).unwrap();

    // The same run, interrupted by a real SIGINT once an epoch is checkpointed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["run", cfg.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run_dir = loop {
        let dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| *p != reference)
            .collect();
        if let Some(d) = dirs.first() {
            let ck = d.join(&checkpoints);
            if std::fs::read_dir(&ck).is_ok_and(|mut r| r.next().is_some()) {
                break d.clone();
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    interrupt(child);
    assert!(
        !run_dir.join("model").exists(),
        "an interrupted run left a model bundle"
    );
    let partial = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(partial.contains("Interrupted"), "{partial}");
    let part_metrics: serde_json::Value =
        serde_json::from_slice(&read(&run_dir, "metrics.json")).unwrap();
    let stopped_at = part_metrics["stopped_at"].as_str().unwrap();
    let done: usize = stopped_at
        .split("after epoch ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("stopped_at: {stopped_at}"));
    assert!(done < epochs, "stopped after {done} epochs: {stopped_at}");
    if ensemble > 1 {
        assert!(
            stopped_at.contains(&format!("network {ensemble} of {ensemble}")),
            "{stopped_at}"
        );
    }

    // Resume: same final result as the uninterrupted run.
    ok(&pipeline(&[
        "run",
        "--resume",
        run_dir.to_str().unwrap(),
        "--quiet",
    ]));
    let metrics: serde_json::Value =
        serde_json::from_slice(&read(&run_dir, "metrics.json")).unwrap();
    assert_eq!(metrics["interrupted"], false);
    let strip = |m: &serde_json::Value| -> Vec<(f64, f64, Option<f64>)> {
        m["folds"][0]["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["train_loss"].as_f64().unwrap(),
                    e["train_accuracy"].as_f64().unwrap(),
                    e["val_loss"].as_f64(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&metrics), strip(&ref_metrics));
    assert_eq!(metrics["folds"][0]["test"], ref_metrics["folds"][0]["test"]);
    assert_eq!(
        metrics["folds"][0]["member_accuracy"],
        ref_metrics["folds"][0]["member_accuracy"]
    );
    let preds = |d: &Path| -> Vec<Vec<String>> { read_csv(&d.join("predictions.csv")) };
    assert_eq!(preds(&run_dir), preds(&reference));
    assert!(run_dir.join("model/model.json").is_file());
}

/// Trains a small model once for the classify tests; returns its run dir.
fn small_model(dir: &Path) -> PathBuf {
    let digits = project().join("audio-samples/digits");
    let cfg = demo_config(
        dir,
        &digits,
        "strategy = \"stratified\"\ntest_fraction = 0.2",
        6,
    );
    ok(&pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]));
    only_run_dir(&dir.join("runs"))
}

#[test]
fn classify_reports_bad_files_carries_on_and_handles_long_clips() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_model(tmp.path());
    let digits = project().join("audio-samples/digits");
    let input = tmp.path().join("input");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::copy(digits.join("3/3_m1_01.wav"), input.join("a.wav")).unwrap();
    std::fs::copy(digits.join("7/7_f2_02.wav"), input.join("sub/b.wav")).unwrap();
    std::fs::write(input.join("broken.wav"), b"this is not audio").unwrap();
    // A long clip: eight digits one after another (about 4 s).
    let mut long: Vec<i16> = Vec::new();
    let mut spec = None;
    for d in 0..8 {
        let mut r = hound::WavReader::open(digits.join(format!("{d}/{d}_m1_01.wav"))).unwrap();
        spec = Some(r.spec());
        long.extend(r.samples::<i16>().map(Result::unwrap));
    }
    let mut w = hound::WavWriter::create(input.join("long.wav"), spec.unwrap()).unwrap();
    for s in long {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();

    let out_csv = tmp.path().join("out.csv");
    let out = pipeline(&[
        "classify",
        "--quiet",
        "--model",
        run.to_str().unwrap(),
        input.to_str().unwrap(),
        "--out",
        out_csv.to_str().unwrap(),
        "--min-confidence",
        "0.2",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed file must make the exit code 1"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.wav"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let rows = read_csv(&out_csv);
    assert_eq!(rows.len(), 4, "{rows:?}");
    let by_name = |n: &str| rows.iter().find(|r| r[0].ends_with(n)).unwrap().clone();
    assert!(
        !by_name("broken.wav")[5].is_empty(),
        "the error column names the reason"
    );
    assert!(by_name("a.wav")[5].is_empty() && !by_name("a.wav")[2].is_empty());
    assert_eq!(by_name("a.wav")[4].split(';').count(), 3, "top-3 listed");

    // Windows over the long clip: one row per window, and a mean row otherwise.
    let out = pipeline(&[
        "classify",
        "--quiet",
        "--model",
        run.to_str().unwrap(),
        input.join("long.wav").to_str().unwrap(),
        "--windows",
        "--per-window",
        "--format",
        "json",
    ]);
    ok(&out);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 4, "{} windows", lines.len());
    assert!(lines.iter().all(|l| l["window"].is_u64()));
    let labels: std::collections::HashSet<&str> =
        lines.iter().map(|l| l["label"].as_str().unwrap()).collect();
    assert!(
        labels.len() >= 2,
        "different digits along the clip should give different window labels: {labels:?}"
    );
}

#[test]
fn feature_dump_with_a_model_writes_the_normalized_input() {
    let python = std::env::var("COCHLEA_PYTHON").unwrap_or_else(|_| "python3".into());
    let tmp = tempfile::tempdir().unwrap();
    let run = small_model(tmp.path());
    let file = project().join("audio-samples/digits/2/2_klatt_04.wav");
    let out_dir = tmp.path().join("dump");
    ok(&pipeline(&[
        "features",
        "--quiet",
        "--model",
        run.to_str().unwrap(),
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--png",
    ]));
    for f in [
        "00000_2_klatt_04.npy",
        "00000_2_klatt_04.input.npy",
        "00000_2_klatt_04.png",
        "00000_2_klatt_04.input.png",
    ] {
        assert!(out_dir.join(f).is_file(), "missing {f}");
    }
    let (shape, data) =
        cochlea_features::npy::read_npy_f32(&out_dir.join("00000_2_klatt_04.input.npy")).unwrap();
    assert_eq!(shape, vec![26, 80]);
    // Standardised with training statistics: roughly centred, unit scale.
    let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / data.len() as f64;
    assert!(mean.abs() < 1.0, "mean {mean}");
    let has_numpy = Command::new(&python)
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if has_numpy {
        let script = format!(
            "import numpy; a = numpy.load({:?}); print(a.shape)",
            out_dir.join("00000_2_klatt_04.input.npy").display()
        );
        let out = Command::new(&python)
            .args(["-c", &script])
            .output()
            .unwrap();
        ok(&out);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "(26, 80)");
    }
}

/// `train.ensemble = 3`: three networks per model, from different seeds;
/// the run reports each alone and together, the bundle holds all three, and
/// classify predicts what the run predicted.
#[test]
fn an_ensemble_trains_its_members_saves_them_and_classify_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let cfg = demo_config(
        tmp.path(),
        &digits,
        "strategy = \"group\"\ntest_fraction = 0.2",
        4,
    );
    set_ensemble(&cfg, 3);
    let out = pipeline(&["run", cfg.to_str().unwrap(), "--quiet", "--json"]);
    ok(&out);
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fold = &m["folds"][0];
    let members: Vec<f64> = fold["member_accuracy"]
        .as_array()
        .expect("member_accuracy")
        .iter()
        .map(|a| a.as_f64().unwrap())
        .collect();
    assert_eq!(members.len(), 3);
    // Different seeds: the members are different networks.
    assert!(
        members.iter().any(|&a| a != members[0]),
        "three members with the same accuracy {members:?}"
    );
    let run = only_run_dir(&tmp.path().join("runs"));
    for f in [
        "model.safetensors",
        "member-2.safetensors",
        "member-3.safetensors",
    ] {
        assert!(run.join("model").join(f).is_file(), "missing model/{f}");
    }
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("Ensemble of 3 networks"), "{md}");

    classify_agrees_with_the_run(&run, tmp.path());
}

#[test]
fn kfold_reports_each_fold_and_the_mean() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let cfg = demo_config(
        tmp.path(),
        &digits,
        "strategy = \"group-kfold\"\nfolds = 3",
        3,
    );
    let out = pipeline(&["run", cfg.to_str().unwrap(), "--quiet", "--json"]);
    ok(&out);
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let folds = m["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    let accs: Vec<f64> = folds
        .iter()
        .map(|f| f["test"]["accuracy"].as_f64().unwrap())
        .collect();
    let mean = accs.iter().sum::<f64>() / 3.0;
    assert!((m["accuracy_mean_std"][0].as_f64().unwrap() - mean).abs() < 1e-12);
    let run = only_run_dir(&tmp.path().join("runs"));
    for f in folds {
        assert!(
            run.join(f["bundle"].as_str().unwrap())
                .join("model.json")
                .is_file()
        );
    }
    // Every file is tested exactly once over the folds.
    assert_eq!(read_csv(&run.join("predictions.csv")).len(), 500);
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("fold1") && md.contains("mean test accuracy over 3 folds"));
}

#[test]
fn init_writes_a_config_that_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let out_cfg = tmp.path().join("starter.toml");
    let out = pipeline(&[
        "init",
        digits.to_str().unwrap(),
        "--out",
        out_cfg.to_str().unwrap(),
    ]);
    ok(&out);
    let text = std::fs::read_to_string(&out_cfg).unwrap();
    assert!(text.contains("label = \"folder\""), "{text}");
    assert!(
        text.contains("group = "),
        "the voice in the file names should be found: {text}"
    );
    assert!(text.contains("sample_rate = 8000"));
    let cfg = cochlea_pipeline::Config::load(&out_cfg).unwrap();
    assert_eq!(
        cfg.data.root.canonicalize().unwrap(),
        digits.canonicalize().unwrap()
    );
    assert!(
        cfg.data.clip_frames >= 70 && cfg.data.clip_frames <= 120,
        "{}",
        cfg.data.clip_frames
    );
    // It refuses to overwrite without --force.
    let again = pipeline(&[
        "init",
        digits.to_str().unwrap(),
        "--out",
        out_cfg.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn report_renders_in_headless_chromium_with_every_section() {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = small_model(tmp.path());
    let url = format!("file://{}", run.join("report.html").display());
    let profile = tmp.path().join("profile");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    ok(&out);
    let dom = String::from_utf8_lossy(&out.stdout);
    for id in [
        "summary",
        "findings",
        "confusion",
        "curves",
        "per-class",
        "misclassified",
        "data",
        "model",
        "timings",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "rendered page lacks section {id}"
        );
    }
    assert!(dom.matches("<svg").count() >= 4, "charts missing");
    let png = tmp.path().join("report.png");
    let shot = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--window-size=1100,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .unwrap();
    ok(&shot);
    assert!(
        std::fs::metadata(&png).unwrap().len() > 20_000,
        "screenshot looks empty"
    );
}
