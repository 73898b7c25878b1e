//! Bad audio: every file of the corpus in `tests/robustness/corpus.rs` goes
//! through `pipeline features`, `pipeline run` and `pipeline classify`, which
//! must either handle it (finite features, a prediction) or report it by path
//! with a one-line reason and carry on. Never a panic, never a hang.

#[path = "robustness/common.rs"]
mod common;
#[path = "robustness/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{Ran, config, copy_digits, only_run_dir, pipeline};
use corpus::{Case, Expect};

/// Rows of the model input: 13 MFCCs and their deltas (see `common::config`).
const ROWS: usize = 26;

/// A dataset of three demo digits plus the corpus as a fourth class folder,
/// and one short `pipeline run` over it (shared by the tests below).
struct World {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    corpus: PathBuf,
    cases: Vec<Case>,
    config: PathBuf,
    run: Ran,
    run_dir: PathBuf,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let data = dir.join("data");
        copy_digits(&data, &["0", "1", "2"]);
        let corpus = data.join("corpus");
        std::fs::create_dir_all(&corpus).unwrap();
        let cases = corpus::write(&corpus);
        let config = config(&dir, &data, 2, "");
        let run = pipeline(&[
            "run".as_ref(),
            config.as_os_str(),
            "--quiet".as_ref(),
            "--json".as_ref(),
        ]);
        run.no_panic("run");
        assert_eq!(run.code(), Some(0), "run: {}", run.dump());
        let run_dir = only_run_dir(&dir.join("runs"));
        World {
            _tmp: tmp,
            dir,
            corpus,
            cases,
            config,
            run,
            run_dir,
        }
    })
}

/// How paths appear in text output.
fn shown(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Every reported case has one `error: <path>: <reason>` line on stderr.
fn reported_on_stderr(r: &Ran, path: &Path) -> bool {
    let want = format!("{}: ", shown(path));
    r.stderr
        .lines()
        .any(|l| l.contains(&want) && (l.starts_with("error: ") || l.starts_with("warning: ")))
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|x| {
            h.iter()
                .zip(x.unwrap().iter())
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        })
        .collect()
}

/// Checks one `features` or `classify` output: a row per file, handled or
/// reported as the corpus expects; `ok_row` checks a handled row.
fn check_rows(
    what: &str,
    r: &Ran,
    rows: &[BTreeMap<String, String>],
    w: &World,
    ok_row: &dyn Fn(&Case, &BTreeMap<String, String>),
) {
    r.no_panic(what);
    // Some files are bad: exit 1, as documented.
    assert_eq!(r.code(), Some(1), "{what}: {}", r.dump());
    let mut seen = 0;
    for case in &w.cases {
        let path = w.corpus.join(&case.rel);
        let mine: Vec<&BTreeMap<String, String>> = rows
            .iter()
            .filter(|row| row["path"] == shown(&path))
            .collect();
        if case.expect == Expect::Ignored {
            assert!(
                !rows
                    .iter()
                    .any(|row| row["path"].starts_with(&shown(&path))),
                "{what}: {} is not an audio file but has a row",
                case.rel.display()
            );
            continue;
        }
        seen += 1;
        let error = mine.first().map(|row| row["error"].as_str()).unwrap_or("");
        let failed = !error.is_empty() || mine.is_empty();
        match (case.expect, failed) {
            (Expect::Handled, true) => panic!(
                "{what}: {} should be handled, got: {error}\n{}",
                case.rel.display(),
                r.stderr
            ),
            (Expect::Reported, false) => panic!(
                "{what}: {} should be reported, but was accepted",
                case.rel.display()
            ),
            _ => {}
        }
        if failed {
            assert!(
                reported_on_stderr(r, &path),
                "{what}: {} failed without a line naming it on stderr:\n{}",
                case.rel.display(),
                r.stderr
            );
            assert!(!error.contains('\n'), "{what}: multi-line reason {error:?}");
        } else {
            assert_eq!(mine.len(), 1, "{what}: {} rows", case.rel.display());
            ok_row(case, mine[0]);
        }
    }
    assert!(seen > 40, "{what}: only {seen} corpus files checked");
}

#[test]
fn features_handle_or_report_every_file() {
    let w = world();
    let check = |what: &str, r: &Ran, out: &Path| {
        let rows = read_csv(&out.join("index.csv"));
        check_rows(what, r, &rows, w, &|case, row| {
            let (shape, data) =
                cochlea_features::npy::read_npy_f32(&out.join(&row["npy"])).unwrap();
            assert_eq!(shape[0], ROWS, "{}", case.rel.display());
            assert!(shape[1] >= 1, "{}: no frames", case.rel.display());
            assert!(
                data.iter().all(|v| v.is_finite()),
                "{}: non-finite features",
                case.rel.display()
            );
        });
    };
    // The corpus folder as a folder ...
    let out = w.dir.join("features-folder");
    let r = pipeline(&[
        "features".as_ref(),
        "--quiet".as_ref(),
        "--config".as_ref(),
        w.config.as_os_str(),
        w.corpus.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    check("features (folder)", &r, &out);
    // ... and every entry named on the command line.
    let out = w.dir.join("features-files");
    let mut args: Vec<std::ffi::OsString> = ["features", "--quiet", "--config"]
        .iter()
        .map(Into::into)
        .collect();
    args.push(w.config.clone().into());
    args.extend(
        w.cases
            .iter()
            .filter(|c| c.rel != Path::new("self_loop"))
            .map(|c| w.corpus.join(&c.rel).into_os_string()),
    );
    args.extend(["--out".into(), out.clone().into_os_string()]);
    let r = pipeline(&args);
    check("features (files)", &r, &out);
}

#[test]
fn run_skips_bad_files_and_lists_them() {
    let w = world();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.run_dir.join("metrics.json")).unwrap()).unwrap();
    let skipped: BTreeMap<String, String> = m["data"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s[0].as_str().unwrap().to_string(),
                s[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut handled = 0;
    for case in &w.cases {
        let path = w.corpus.join(&case.rel);
        let why = skipped.get(&shown(&path));
        // A run records paths in JSON, which is text: a path that is not
        // UTF-8 is left out with a reason (features and classify take it).
        let expect = if case.rel.to_str().is_none() {
            Expect::Reported
        } else {
            case.expect
        };
        match (expect, why) {
            (Expect::Handled, Some(why)) => {
                panic!("run skipped {}: {why}", case.rel.display())
            }
            (Expect::Handled, None) => handled += 1,
            (Expect::Reported, None) => panic!(
                "run neither used nor listed {} as skipped",
                case.rel.display()
            ),
            (Expect::Ignored, Some(why)) => {
                panic!("run listed folder {}: {why}", case.rel.display())
            }
            _ => {}
        }
        if let Some(why) = why {
            assert!(!why.contains('\n'), "multi-line reason {why:?}");
            assert!(
                reported_on_stderr(&w.run, &path),
                "run did not name {} on stderr:\n{}",
                case.rel.display(),
                w.run.stderr
            );
        }
    }
    // 150 demo clips and the handled corpus files were used.
    let used = m["data"]["files_used"].as_u64().unwrap() as usize;
    assert!(used >= 150 + handled, "{used} files used");
    assert_eq!(
        m["data"]["classes"],
        serde_json::json!(["0", "1", "2", "corpus"])
    );
    // No NaN reached the model: every loss of the run is a number.
    for fold in m["folds"].as_array().unwrap() {
        for e in fold["history"].as_array().unwrap() {
            assert!(
                e["train_loss"].as_f64().is_some_and(f64::is_finite),
                "loss {e}"
            );
        }
    }
    // A second run over the same data and cache skips the same files.
    let r = pipeline(&[
        "run".as_ref(),
        w.config.as_os_str(),
        "--quiet".as_ref(),
        "--json".as_ref(),
    ]);
    r.no_panic("second run");
    assert_eq!(r.code(), Some(0), "{}", r.dump());
    let again: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(again["data"]["skipped"], m["data"]["skipped"]);
    assert_eq!(again["data"]["cache_hits"], again["data"]["files_used"]);
}

#[test]
fn classify_handles_or_reports_every_file() {
    let w = world();
    let k = 4;
    let ok_row = |case: &Case, row: &BTreeMap<String, String>| {
        assert!(
            ["0", "1", "2", "corpus"].contains(&row["label"].as_str()),
            "{}: label {:?}",
            case.rel.display(),
            row["label"]
        );
        let c: f64 = row["confidence"].parse().unwrap();
        assert!(
            c.is_finite() && c >= 1.0 / k as f64 - 1e-6 && c <= 1.0 + 1e-6,
            "{}: confidence {c}",
            case.rel.display()
        );
    };
    // CSV over the folder, with windows so long clips are cut up too.
    let out = w.dir.join("classified.csv");
    let r = pipeline(&[
        "classify".as_ref(),
        "--quiet".as_ref(),
        "--windows".as_ref(),
        "--model".as_ref(),
        w.run_dir.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        w.corpus.as_os_str(),
    ]);
    check_rows("classify (csv)", &r, &read_csv(&out), w, &ok_row);

    // JSON lines over the files named one by one.
    let out = w.dir.join("classified.jsonl");
    let mut args: Vec<std::ffi::OsString> = ["classify", "--quiet", "--format", "json", "--model"]
        .iter()
        .map(Into::into)
        .collect();
    args.push(w.run_dir.clone().into());
    args.extend(["--out".into(), out.clone().into_os_string()]);
    args.extend(
        w.cases
            .iter()
            .filter(|c| c.rel != Path::new("self_loop"))
            .map(|c| w.corpus.join(&c.rel).into_os_string()),
    );
    let r = pipeline(&args);
    r.no_panic("classify (json)");
    let rows: Vec<BTreeMap<String, String>> = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", out.display(), r.dump()))
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| match &v[k] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            ["path", "label", "confidence", "error"]
                .iter()
                .map(|k| (k.to_string(), s(k)))
                .collect()
        })
        .collect();
    check_rows("classify (json)", &r, &rows, w, &ok_row);
}
