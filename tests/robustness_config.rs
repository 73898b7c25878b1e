//! Bad configs: every key given a wrong type or an out-of-range value makes
//! `pipeline run` stop before any work with one error naming the key, exit
//! code 2, and no run directory.

#[path = "robustness/common.rs"]
mod common;

use std::path::Path;

use common::{config, copy_digits, pipeline};

/// Sets `key = value` in `[section]` of a TOML text ("" is the top level),
/// replacing the key's line or adding it under the section header (and the
/// header at the end when the section is missing). `value = None` removes
/// the key.
fn set(text: &str, section: &str, key: &str, value: Option<&str>) -> String {
    let header = format!("[{section}]");
    let mut current = String::new();
    // (line, section it is in, whether it sets `key`)
    let lines: Vec<(&str, bool, bool)> = text
        .lines()
        .map(|line| {
            let t = line.trim();
            if t.starts_with('[') && t.ends_with(']') {
                current = t.to_string();
            }
            let here = if section.is_empty() {
                current.is_empty()
            } else {
                current == header
            };
            let is_key =
                !t.starts_with('[') && t.split_once('=').is_some_and(|(k, _)| k.trim() == key);
            (line, here, here && is_key)
        })
        .collect();
    let new_line = value.map(|v| format!("{key} = {v}"));
    let mut out: Vec<String> = Vec::new();
    if lines.iter().any(|l| l.2) {
        for (line, _, is_key) in &lines {
            match (is_key, &new_line) {
                (true, Some(n)) => out.push(n.clone()),
                (true, None) => {}
                (false, _) => out.push(line.to_string()),
            }
        }
    } else {
        out = lines.iter().map(|l| l.0.to_string()).collect();
        if let Some(n) = new_line {
            if section.is_empty() {
                out.insert(0, n);
            } else if let Some(at) = out.iter().position(|l| l.trim() == header) {
                out.insert(at + 1, n);
            } else {
                out.push(header);
                out.push(n);
            }
        }
    }
    out.join("\n") + "\n"
}

#[test]
fn the_editor_sets_replaces_and_removes() {
    let t = "a = 1\n[x]\nk = 1\n[y]\nk = 2\n";
    assert_eq!(
        set(t, "y", "k", Some("3")),
        "a = 1\n[x]\nk = 1\n[y]\nk = 3\n"
    );
    assert_eq!(
        set(t, "x", "j", Some("4")),
        "a = 1\n[x]\nj = 4\nk = 1\n[y]\nk = 2\n"
    );
    assert_eq!(set(t, "x", "k", None), "a = 1\n[x]\n[y]\nk = 2\n");
    assert_eq!(set(t, "z", "q", Some("5")), t.to_string() + "[z]\nq = 5\n");
    assert_eq!(set(t, "", "a", Some("7")), t.replace("a = 1", "a = 7"));
}

/// One bad config: edits of the good one, and what the error must contain.
struct Bad {
    edits: Vec<(&'static str, &'static str, Option<String>)>,
    want: Vec<&'static str>,
}

fn bad(section: &'static str, key: &'static str, value: &str, want: &[&'static str]) -> Bad {
    Bad {
        edits: vec![(section, key, Some(value.to_string()))],
        want: want.to_vec(),
    }
}

fn bad2(edits: &[(&'static str, &'static str, &str)], want: &[&'static str]) -> Bad {
    Bad {
        edits: edits
            .iter()
            .map(|(s, k, v)| (*s, *k, Some(v.to_string())))
            .collect(),
        want: want.to_vec(),
    }
}

// One case per line, as a table.
#[rustfmt::skip]
fn cases(tmp: &Path) -> Vec<Bad> {
    let a_file = tmp.join("robust.toml").display().to_string();
    let q = |s: &str| format!("{s:?}");
    vec![
        // [data]
        bad("data", "sample_rate", "\"8000\"", &["sample_rate", "string"]),
        bad("data", "sample_rate", "-8000", &["sample_rate"]),
        bad("data", "sample_rate", "100", &["data.sample_rate", "100"]),
        bad("data", "sample_rate", "1000000", &["data.sample_rate"]),
        bad("data", "clip_frames", "-5", &["clip_frames"]),
        bad("data", "extensions", "[]", &["data.extensions"]),
        bad("data", "extensions", "\"wav\"", &["extensions"]),
        bad("data", "label", "\"nonsense\"", &["label", "nonsense"]),
        bad("data", "label", "{ regex = '(unclosed' }", &["data.label", "does not compile"]),
        bad("data", "label", "{ regex = '^\\d_' }", &["data.label", "capture"]),
        bad("data", "label", "{ regex = '^(zzz)_' }", &["data.label", "matches none"]),
        bad("data", "label", "\"manifest\"", &["data.label", "data.manifest"]),
        bad("data", "group", "{ regex = '[' }", &["data.group"]),
        bad("data", "root", "\"/no/such/folder\"", &["data.root", "/no/such/folder"]),
        bad("data", "root", &q(&a_file), &["data.root", "not a folder"]),
        bad("data", "root", "42", &["root"]),
        bad("data", "manifest", "\"/no/such.csv\"", &["data.manifest"]),
        bad("data", "clip_frames", "100000000000", &["data.clip_frames"]),
        bad("data", "pad", "\"mirror\"", &["pad", "mirror"]),
        bad("data", "crop", "\"end\"", &["crop"]),
        // [split]
        bad("split", "test_fraction", "1.5", &["split.test_fraction"]),
        bad("split", "test_fraction", "-0.1", &["split.test_fraction"]),
        bad("split", "test_fraction", "0.0", &["split.test_fraction"]),
        bad("split", "val_fraction", "1.0", &["split.val_fraction"]),
        bad("split", "val_fraction", "\"10%\"", &["val_fraction"]),
        bad("split", "strategy", "\"random\"", &["strategy", "random"]),
        bad("split", "seed", "-1", &["seed"]),
        bad2(&[("split", "strategy", "\"predefined\"")], &["split.test"]),
        bad2(
            &[("split", "strategy", "\"predefined\""), ("split", "test", "'(['")],
            &["split.test", "does not compile"],
        ),
        bad2(
            &[("split", "strategy", "\"predefined\""), ("split", "test", "'zzz$'")],
            &["split.test", "matches no"],
        ),
        bad2(
            &[("split", "strategy", "\"kfold\""), ("split", "folds", "1")],
            &["split.folds"],
        ),
        bad("split", "folds", "-2", &["folds"]),
        bad("split", "strategy", "\"group\"", &["data.group"]),
        // [features]
        bad("features", "kinds", "[]", &["features.kinds"]),
        bad("features", "kinds", "[\"mfcc\", \"wavelet\"]", &["wavelet"]),
        bad("features", "kinds", "[\"mfcc\", \"mfcc\"]", &["features.kinds", "twice"]),
        bad("features", "kinds", "\"mfcc\"", &["kinds"]),
        bad("features", "n_fft", "0", &["features.n_fft"]),
        bad("features", "n_fft", "-256", &["n_fft"]),
        bad("features", "n_fft", "1000000", &["features.n_fft"]),
        bad("features", "hop_length", "0", &["features.hop_length"]),
        bad("features", "hop_length", "2.5", &["hop_length"]),
        bad("features", "win_length", "512", &["features.win_length"]),
        bad("features", "n_mels", "0", &["features.n_mels"]),
        bad("features", "n_mels", "100000000000", &["features.n_mels"]),
        bad("features", "n_mfcc", "80", &["features.n_mfcc", "n_mels"]),
        bad("features", "n_mfcc", "0", &["features.n_mfcc"]),
        bad("features", "fmax", "5000.0", &["features.fmax", "Nyquist"]),
        bad("features", "fmin", "-10.0", &["features.fmin"]),
        bad2(
            &[("features", "fmin", "3000.0"), ("features", "fmax", "2000.0")],
            &["features.fmin"],
        ),
        bad("features", "deltas", "3", &["features.deltas"]),
        bad("features", "deltas", "-1", &["deltas"]),
        bad("features", "delta_width", "4", &["features.delta_width"]),
        bad("features", "delta_width", "100000000001", &["features.delta_width"]),
        bad("features", "power", "0.0", &["features.power"]),
        bad("features", "top_db", "-5.0", &["features.top_db"]),
        bad("features", "amin", "0.0", &["features.amin"]),
        bad("features", "rolloff_percent", "1.5", &["features.rolloff_percent"]),
        bad2(
            &[("features", "kinds", "[\"contrast\"]"), ("features", "deltas", "0"), ("features", "contrast_bands", "10")],
            &["features.contrast_bands"],
        ),
        bad("features", "preset", "\"essentia\"", &["preset"]),
        bad("features", "n_mfccs", "13", &["n_mfccs", "did you mean `n_mfcc`"]),
        // [normalize]
        bad("normalize", "method", "\"zscore\"", &["method", "zscore"]),
        // [model]
        bad("model", "blocks", "[]", &["model.blocks"]),
        bad("model", "blocks", "[ { filters = 0, kernel = 3, pool = 2 } ]", &["model.blocks[0].filters"]),
        bad("model", "blocks", "[ { filters = 8, kernel = 0, pool = 2 } ]", &["model.blocks[0].kernel"]),
        bad("model", "blocks", "[ { filters = -8, kernel = 3 } ]", &["filters"]),
        bad("model", "blocks", "[ { filters = 8, kernel = 3, pool = 2, size = 4 } ]", &["size"]),
        bad(
            "model",
            "blocks",
            "[ { filters = 8, kernel = 3, pool = 8 }, { filters = 8, kernel = 3, pool = 8 } ]",
            &["model.blocks[1]", "pooling"],
        ),
        bad("model", "blocks", "[ { filters = 4000000000, kernel = 3 } ]", &["model.blocks[0].filters"]),
        bad("model", "blocks", "[ { filters = 8, kernel = 4000000000 } ]", &["model.blocks[0].kernel"]),
        bad(
            "model",
            "blocks",
            "[ { filters = 65536, kernel = 65536, padding = \"same\" } ]",
            &["parameters", "model.blocks[0]"],
        ),
        bad("model", "hidden", "[0]", &["model.hidden[0]"]),
        bad("model", "dropout", "1.5", &["model.dropout"]),
        // [train]
        bad("train", "lr", "0.0", &["train.lr"]),
        bad("train", "lr", "\"fast\"", &["lr"]),
        bad("train", "lr", "-0.1", &["train.lr"]),
        bad("train", "epochs", "0", &["train.epochs"]),
        bad("train", "epochs", "-3", &["epochs"]),
        bad("train", "batch_size", "0", &["train.batch_size"]),
        bad("train", "batch_size", "-32", &["batch_size"]),
        bad("train", "optimizer", "\"adagrad\"", &["optimizer", "adagrad"]),
        bad("train", "momentum", "1.5", &["train.momentum"]),
        bad("train", "weight_decay", "-1.0", &["train.weight_decay"]),
        bad("train", "label_smoothing", "1.0", &["train.label_smoothing"]),
        bad("train", "early_stopping", "0", &["train.early_stopping"]),
        bad("train", "device", "\"tpu\"", &["device"]),
        bad("train", "scheduler", "\"sometimes\"", &["scheduler"]),
        bad("train", "lrr", "0.1", &["did you mean `lr`"]),
        // [augment]
        bad("augment", "probability", "2.0", &["augment.probability"]),
        bad("augment", "time_shift", "1000", &["augment.time_shift"]),
        // [cache], [report], top level
        bad("cache", "enabled", "\"yes\"", &["enabled"]),
        bad("cache", "dir", "5", &["dir"]),
        bad("report", "max_misclassified", "-1", &["max_misclassified"]),
        bad("", "name", "3", &["name"]),
        bad("", "epochs", "3", &["epochs", "unknown field"]),
        bad("trian", "lr", "0.1", &["trian", "did you mean `train`"]),
    ]
}

#[test]
fn every_bad_key_gives_one_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_digits(&data, &["0", "1"]);
    let good = std::fs::read_to_string(config(tmp.path(), &data, 1, "")).unwrap();
    let runs = tmp.path().join("runs");
    let all = cases(tmp.path());
    // One case: its config, with a report folder of its own, through `run`.
    let check = |i: usize, case: &Bad| -> Option<String> {
        let my_runs = tmp.path().join(format!("runs{i}"));
        let mut text = good.replace(
            &format!("\"{}\"", runs.display()),
            &format!("\"{}\"", my_runs.display()),
        );
        for (s, k, v) in &case.edits {
            text = set(&text, s, k, v.as_deref());
        }
        let path = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, &text).unwrap();
        let r = pipeline(&["run".as_ref(), path.as_os_str(), "--quiet".as_ref()]);
        let crashed = r.code().is_none()
            || r.stderr.contains("panicked")
            || r.stderr.contains("memory allocation");
        let ok = r.code() == Some(2)
            && case.want.iter().all(|w| r.stderr.contains(w))
            && r.stderr.trim_start().starts_with("error: ")
            && !my_runs.exists();
        // One error, not a cascade: a single "error:" line opens stderr.
        let one = r.stderr.matches("\nerror").count() == 0;
        (crashed || !ok || !one).then(|| {
            format!(
                "{:?} -> want {:?}, got exit {:?}:\n{}",
                case.edits,
                case.want,
                r.code(),
                r.stderr.trim_end()
            )
        })
    };
    // Most of the time goes to starting processes: three at once.
    let threads = 3;
    let mut failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (all, check) = (&all, &check);
                scope.spawn(move || {
                    all.iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .filter_map(|(i, case)| check(i, case))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} bad configs not reported as wanted:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
    // The good config itself is accepted (so the cases fail for their edit).
    let r = pipeline(&[
        "doctor".as_ref(),
        tmp.path().join("robust.toml").as_os_str(),
        "--no-probes".as_ref(),
        "--quiet".as_ref(),
    ]);
    r.no_panic("doctor on the good config");
    assert_ne!(r.code(), Some(2), "{}", r.dump());
}
