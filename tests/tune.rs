//! `pipeline tune` end to end on the demo data in `audio-samples/`: a tiny
//! space finishes, writes a valid `tuned.toml` and a leaderboard, never
//! opens a test file, repeats exactly for the same seed (with any number of
//! jobs), and a search interrupted by Ctrl-C resumes to the same winner.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cochlea_pipeline::Config;
use cochlea_pipeline::tune::data::Pool;

mod util;
use util::{interrupt, ok, pipeline, project};

/// A demo config in `dir`: `split` and `tune` are TOML lines.
fn config(dir: &Path, root: &Path, split: &str, epochs: usize, tune: &str) -> PathBuf {
    let text = format!(
        r#"name = "t"
[data]
root = "{root}"
label = "folder"
group = {{ regex = '^\d_([a-z0-9]+)_' }}
sample_rate = 8000
clip_frames = 80
[split]
{split}
[features]
deltas = 1
[model]
blocks = [ {{ filters = 16, kernel = 5, pool = 2 }}, {{ filters = 32, kernel = 3, pool = 2 }} ]
[train]
lr = 0.003
batch_size = 32
epochs = {epochs}
[cache]
dir = "{cache}"
[report]
dir = "{runs}"
[tune]
{tune}
"#,
        root = root.display(),
        cache = dir.join("cache").display(),
        runs = dir.join("runs").display(),
    );
    let path = dir.join("t.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const TINY: &str = r#"trials = 3
inner_folds = 2
ensemble = 2
[tune.space]
"train.lr" = { log_range = [1e-3, 1e-2] }
"normalize.method" = ["standard", "utterance"]
"#;

/// The test voices of the predefined split.
const TEST_VOICES: &str = r"^\d_(klatt|m1)_";

/// A copy of the demo digits whose test files are not audio any more: a
/// search that opened one would fail to decode it and say so.
fn digits_with_poisoned_tests(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let src = project().join("audio-samples/digits");
    let dst = dir.join("digits");
    let re = regex::Regex::new(TEST_VOICES).unwrap();
    let mut tests = Vec::new();
    for class in std::fs::read_dir(&src).unwrap() {
        let class = class.unwrap().path();
        if !class.is_dir() {
            continue;
        }
        let to = dst.join(class.file_name().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(&class).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if re.is_match(&name) {
                std::fs::write(
                    to.join(&name),
                    b"not audio: a test file the search must not open",
                )
                .unwrap();
                tests.push(to.join(&name).canonicalize().unwrap());
            } else {
                std::fs::copy(&f, to.join(&name)).unwrap();
            }
        }
    }
    assert!(tests.len() >= 50, "{} test files", tests.len());
    (dst, tests)
}

fn tune_dirs(runs: &Path) -> Vec<PathBuf> {
    let mut d: Vec<PathBuf> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains("-tune-"))
        .collect();
    d.sort();
    d
}

/// (trial, rung, fold scores) of every leaderboard row, and the winner.
fn outcome(dir: &Path) -> (Vec<(String, String, String)>, u64) {
    let mut rdr = csv::Reader::from_path(dir.join("leaderboard.csv")).unwrap();
    let mut rows: Vec<(String, String, String)> = rdr
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            (
                r["trial"].clone(),
                r["rung"].clone(),
                r["fold_scores"].clone(),
            )
        })
        .collect();
    rows.sort();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("tune.json")).unwrap()).unwrap();
    (rows, json["result"]["winner"].as_u64().expect("a winner"))
}

#[test]
fn tiny_search_never_opens_a_test_file_and_repeats_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (digits, tests) = digits_with_poisoned_tests(tmp.path());
    let split = format!("strategy = \"predefined\"\ntest = '{TEST_VOICES}'\nval_fraction = 0.1");
    let cfg = config(tmp.path(), &digits, &split, 3, TINY);
    let out = pipeline(&["tune", cfg.to_str().unwrap(), "--no-final", "--quiet"]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("skipped"), "a file failed to decode:\n{err}");
    let runs = tmp.path().join("runs");
    let first = tune_dirs(&runs).pop().unwrap();

    // Never opened: no test file among the files featurised.
    let featurised = std::fs::read_to_string(first.join("featurised.txt")).unwrap();
    let seen: Vec<PathBuf> = featurised.lines().map(PathBuf::from).collect();
    assert_eq!(seen.len(), 500 - tests.len(), "{featurised}");
    for t in &tests {
        assert!(!seen.contains(t), "the search featurised {}", t.display());
    }

    // tuned.toml is a config `pipeline run` accepts.
    let tuned = Config::load(&first.join("tuned.toml")).unwrap();
    let text = std::fs::read_to_string(first.join("tuned.toml")).unwrap();
    assert!(text.contains("# tuned: train.ensemble was 1"), "{text}");
    assert_eq!(tuned.train.ensemble, 2);

    // One leaderboard row per trial and rung scored: 3 trials at rung 1,
    // the best one at rung 2.
    let (rows, winner) = outcome(&first);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.1 == "1").count(), 3);
    let top: Vec<_> = rows.iter().filter(|r| r.1 == "2").collect();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].0, winner.to_string());
    assert_eq!(top[0].2.split(' ').count(), 2, "two inner folds at rung 2");
    let md = std::fs::read_to_string(first.join("leaderboard.md")).unwrap();
    assert!(md.contains(&format!("Winner: trial {winner}")), "{md}");
    let html = std::fs::read_to_string(first.join("leaderboard.html")).unwrap();
    assert_eq!(html.matches("<tr>").count(), 1 + rows.len(), "{html}");

    // The same seed repeats exactly, in one process or spread over two.
    ok(&pipeline(&[
        "tune",
        cfg.to_str().unwrap(),
        "--no-final",
        "--quiet",
        "--jobs",
        "2",
    ]));
    let second = tune_dirs(&runs).pop().unwrap();
    assert_ne!(first, second);
    assert_eq!(outcome(&first), outcome(&second));
}

#[test]
fn nested_search_keeps_each_outer_test_group_out_of_its_inner_folds() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let split = "strategy = \"group-kfold\"\nfolds = 3\nval_fraction = 0.1";
    let path = config(tmp.path(), &digits, split, 2, TINY);
    let cfg = Config::load(&path).unwrap();
    let pool = Pool::new(&cfg, true).unwrap();
    assert!(pool.nested);
    assert_eq!(pool.outer.len(), 3);
    for (k, o) in pool.outer.iter().enumerate() {
        let test_groups: std::collections::BTreeSet<&str> = o
            .test
            .iter()
            .map(|&i| pool.items[i].group.as_str())
            .collect();
        for f in pool.inner_folds(k, &cfg, 2, 0).unwrap() {
            for &i in f.train.iter().chain(&f.val).chain(&f.test) {
                assert!(o.search.contains(&i));
                assert!(!test_groups.contains(pool.items[i].group.as_str()));
            }
        }
    }
    let out = pipeline(&["tune", path.to_str().unwrap(), "--no-final", "--quiet"]);
    ok(&out);
    let dir = tune_dirs(&tmp.path().join("runs")).pop().unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("tune.json")).unwrap()).unwrap();
    let outer = json["result"]["outer"].as_array().unwrap();
    assert_eq!(outer.len(), 3);
    for o in outer {
        let acc = o["test_accuracy"].as_f64().expect("each outer fold scored");
        assert!((0.0..=1.0).contains(&acc));
    }
    assert!(json["result"]["nested_accuracy"][0].as_f64().is_some());
}

#[test]
fn a_bad_space_key_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let bad = "[tune.space]\n\"train.lrr\" = [0.1, 0.2]\n";
    let cfg = config(tmp.path(), &digits, "strategy = \"group\"", 2, bad);
    let out = pipeline(&["tune", cfg.to_str().unwrap(), "--no-final"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tune.space.\"train.lrr\""), "{err}");
    assert!(err.contains("did you mean `lr`"), "{err}");
}

#[test]
fn ctrl_c_then_resume_gives_the_same_winner() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = project().join("audio-samples/digits");
    let space = r#"trials = 4
inner_folds = 2
eta = 2
ensemble = 1
[tune.space]
"train.lr" = { log_range = [1e-3, 1e-2] }
"model.dropout" = [0.1, 0.3]
"#;
    let cfg = config(
        tmp.path(),
        &digits,
        "strategy = \"group\"\ntest_fraction = 0.2",
        12,
        space,
    );
    let runs = tmp.path().join("runs");
    ok(&pipeline(&[
        "tune",
        cfg.to_str().unwrap(),
        "--no-final",
        "--quiet",
    ]));
    let reference = tune_dirs(&runs).pop().unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["tune", cfg.to_str().unwrap(), "--no-final", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first evaluation is in the journal.
    let dir = loop {
        let d = tune_dirs(&runs).into_iter().find(|d| *d != reference);
        if let Some(d) = d
            && std::fs::read_to_string(d.join("journal.jsonl")).is_ok_and(|j| !j.is_empty())
        {
            break d;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the search ended before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    interrupt(child);
    assert!(!dir.join("tuned.toml").exists());
    let journaled = std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap()
        .lines()
        .count();
    let (ref_rows, ref_winner) = outcome(&reference);
    let total: usize = ref_rows
        .iter()
        .map(|r| r.2.split(' ').count())
        .sum::<usize>();
    assert!(
        journaled < total,
        "interrupted after {journaled} of {total} evaluations"
    );

    ok(&pipeline(&[
        "tune",
        "--resume",
        dir.to_str().unwrap(),
        "--no-final",
        "--quiet",
    ]));
    assert_eq!(outcome(&dir), (ref_rows, ref_winner));
    assert!(Config::load(&dir.join("tuned.toml")).is_ok());
}
