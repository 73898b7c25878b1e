//! SIGKILL at any moment of `pipeline run` leaves nothing half-written that
//! a later run would trust: every feature cache entry verifies and holds the
//! right features, a model bundle is complete or absent, checkpoints resume,
//! and report files are whole or missing. A run over the same cache after
//! the kill gives the result of a run that was never killed.
//!
//! The moments are found by watching the files a run writes (the first cache
//! entry, the first checkpoint, the first report file), plus kills at fixed
//! fractions of an uninterrupted run's duration.

#[path = "robustness/common.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use cochlea_features::{Extractor, decode};
use cochlea_pipeline::Config;
use cochlea_pipeline::cache::Cache;
use cochlea_pipeline::extract::feature_key;
use common::{HANG, command, copy_digits, finish, pipeline};

/// Files of a folder tree, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn run_dirs(runs: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(runs)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// One dataset, a config per experiment (own cache, own runs folder).
struct Bench {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
}

impl Bench {
    fn new() -> Bench {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let data = dir.join("data");
        copy_digits(&data, &["0", "1", "2", "3", "4", "5"]);
        Bench {
            _tmp: tmp,
            dir,
            data,
        }
    }

    /// A fresh experiment folder `name` with its config.
    fn config(&self, name: &str) -> PathBuf {
        let d = self.dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        common::config(&d, &self.data, 8, "")
    }
}

/// Starts `pipeline run CONFIG`, polls until `moment` says so, then sends
/// SIGKILL. Returns false when the run ended before the moment came.
fn kill_when(config: &Path, moment: &dyn Fn() -> bool) -> bool {
    let mut child: Child = command(&["run".as_ref(), config.as_os_str(), "--quiet".as_ref()])
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if moment() {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(start.elapsed() < HANG, "run hung");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The same, after a fixed delay.
fn kill_after(config: &Path, delay: Duration) -> bool {
    let t = Instant::now();
    kill_when(config, &|| t.elapsed() >= delay)
}

/// Every cache entry verifies and equals features computed afresh; returns
/// how many entries there are.
fn check_cache(config: &Path, data: &Path) -> usize {
    let cfg = Config::load(config).unwrap();
    let sr = cfg.data.sample_rate;
    let cache_root = cfg.cache.dir.clone().unwrap();
    let cache = Cache::new(&cache_root, &feature_key(&cfg.features, sr));
    let ex = Extractor::new(&cfg.features, sr).unwrap();
    let by_hash: BTreeMap<String, PathBuf> = walk(data)
        .into_iter()
        .map(|p| {
            let h = blake3::hash(&std::fs::read(&p).unwrap())
                .to_hex()
                .to_string();
            (h, p)
        })
        .collect();
    let mut entries = 0;
    for f in walk(&cache_root) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        // Temp files of interrupted writes are never read.
        let Some(hash) = name.strip_suffix(".cfc") else {
            assert!(name.starts_with(".tmp-"), "unexpected file {}", f.display());
            continue;
        };
        entries += 1;
        let (_, cached) = cache
            .get(hash)
            .unwrap_or_else(|| panic!("cache entry {} does not verify", f.display()));
        let audio = &by_hash[hash];
        let fresh = ex.compute(&decode::decode_file(audio, sr).unwrap().samples);
        assert_eq!(cached, fresh, "cached features of {}", audio.display());
    }
    entries
}

/// What a later run or command would trust in a run directory is whole.
fn check_run_dir(run: &Path) {
    for f in walk(run) {
        let rel = f.strip_prefix(run).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".tmp-")
            || rel
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            continue; // an interrupted temp file or folder: never read
        }
        let text = || std::fs::read_to_string(&f).unwrap();
        match f.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                serde_json::from_str::<serde_json::Value>(&text())
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            Some("toml") => {
                Config::parse(&text()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            Some("html") => assert!(text().trim_end().ends_with("</html>"), "{}", f.display()),
            Some("csv") => {
                let mut r = csv::Reader::from_path(&f).unwrap();
                for rec in r.records() {
                    rec.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                }
            }
            Some("md") => assert!(text().ends_with('\n'), "{}", f.display()),
            _ => {}
        }
    }
    // A bundle is whole (it loads) or absent.
    if run.join("model").exists() {
        cochlea_pipeline::bundle::load(run)
            .unwrap_or_else(|e| panic!("{}: bundle does not load: {e}", run.display()));
    }
    // The latest checkpoint, if any, names a complete checkpoint.
    let latest = run.join("checkpoints").join("LATEST");
    if latest.exists() {
        let name = std::fs::read_to_string(&latest).unwrap();
        let ck = run.join("checkpoints").join(name.trim());
        for f in ["weights.safetensors", "optimizer.safetensors", "state.json"] {
            assert!(ck.join(f).is_file(), "{} lacks {f}", ck.display());
        }
    }
}

fn predictions(run: &Path) -> String {
    std::fs::read_to_string(run.join("predictions.csv")).unwrap()
}

#[test]
fn sigkill_leaves_nothing_half_written_that_a_later_run_trusts() {
    let b = Bench::new();

    // The reference: a run never interrupted, and how long it takes.
    let cfg = b.config("reference");
    let t = Instant::now();
    let r = pipeline(&["run".as_ref(), cfg.as_os_str(), "--quiet".as_ref()]);
    assert_eq!(r.code(), Some(0), "{}", r.dump());
    let took = t.elapsed();
    let reference = predictions(&run_dirs(&b.dir.join("reference/runs"))[0]);

    // Kills at chosen moments; each moment is retried if the run got past it
    // before the poll saw it.
    // (stage, when to kill, whether the kill landed inside the stage: the
    // run may finish the stage between the poll and the signal)
    type Moment = fn(&Path) -> bool;
    let runs_of = |d: &Path| run_dirs(&d.join("runs"));
    let moments: [(&str, Moment, Moment); 3] = [
        (
            "features",
            |d| {
                walk(&d.join("cache"))
                    .iter()
                    .any(|f| f.extension().is_some_and(|e| e == "cfc"))
                    && !d.join("runs").exists()
            },
            |d| !d.join("runs").exists(),
        ),
        (
            "training",
            |d| {
                run_dirs(&d.join("runs"))
                    .iter()
                    .any(|r| r.join("checkpoints").join("LATEST").exists())
            },
            |d| {
                run_dirs(&d.join("runs"))
                    .iter()
                    .all(|r| !r.join("model").exists())
            },
        ),
        (
            "report",
            |d| {
                run_dirs(&d.join("runs")).iter().any(|r| {
                    ["predictions.csv", "report.md", "report.html"]
                        .iter()
                        .any(|f| r.join(f).exists())
                })
            },
            |d| {
                run_dirs(&d.join("runs"))
                    .iter()
                    .all(|r| !r.join("metrics.json").exists())
            },
        ),
    ];
    for (stage, moment, landed) in moments {
        let mut hit = false;
        for attempt in 0..3 {
            let name = format!("{stage}-{attempt}");
            let cfg = b.config(&name);
            let d = b.dir.join(&name);
            if !kill_when(&cfg, &|| moment(&d)) {
                continue;
            }
            hit = landed(&d);
            let files: Vec<String> = runs_of(&d)
                .iter()
                .flat_map(|r| {
                    walk(r)
                        .into_iter()
                        .map(|f| f.strip_prefix(r).unwrap().display().to_string())
                        .collect::<Vec<_>>()
                })
                .filter(|f| !f.starts_with("checkpoints/"))
                .collect();
            for run in run_dirs(&d.join("runs")) {
                check_run_dir(&run);
            }
            let cached = check_cache(&cfg, &b.data);
            eprintln!(
                "killed during {stage} (landed: {hit}): {cached} cache entries verified, \
                 run files {files:?}"
            );
            // A killed run with a checkpoint resumes to the end.
            if stage == "training" {
                let run = &run_dirs(&d.join("runs"))[0];
                let r = pipeline(&[
                    "run".as_ref(),
                    "--resume".as_ref(),
                    run.as_os_str(),
                    "--quiet".as_ref(),
                ]);
                assert_eq!(r.code(), Some(0), "resume: {}", r.dump());
                check_run_dir(run);
            }
            // A new run over the same cache: the uninterrupted result.
            let child = command(&[
                "run".as_ref(),
                cfg.as_os_str(),
                "--quiet".as_ref(),
                "--json".as_ref(),
            ])
            .spawn()
            .unwrap();
            let r = finish(child, "run after a kill");
            assert_eq!(r.code(), Some(0), "{}", r.dump());
            let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            let run = PathBuf::from(m["run_dir"].as_str().unwrap());
            check_run_dir(&run);
            assert_eq!(
                predictions(&run),
                reference,
                "after a kill during {stage}, the next run predicts differently"
            );
            assert_eq!(
                check_cache(&cfg, &b.data),
                m["data"]["files_used"].as_u64().unwrap() as usize
            );
            if hit {
                break;
            }
        }
        assert!(hit, "three kills missed the {stage} stage");
    }

    // Kills at fixed fractions of the whole run, wherever they land.
    for (i, frac) in [0.1, 0.3, 0.5, 0.7, 0.9].iter().enumerate() {
        let name = format!("timed-{i}");
        let cfg = b.config(&name);
        let d = b.dir.join(&name);
        kill_after(&cfg, took.mul_f64(*frac));
        for run in run_dirs(&d.join("runs")) {
            check_run_dir(&run);
        }
        check_cache(&cfg, &b.data);
    }
}
