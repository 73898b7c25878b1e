//! Running the schedule: rung after rung, every outer fold's evaluations of
//! a rung in one batch, run in this process or spread over `--jobs` worker
//! processes (`pipeline tune --worker FILE`), each training on one libtorch
//! thread and appending to its own journal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::data::Pool;
use super::journal::{self, Entry, UnitKey};
use super::{Plan, TuneOptions, eval, ranked, stopper, trial_config};
use crate::atomic;
use crate::config::Config;
use crate::error::Error;

/// A worker's share of a batch.
#[derive(Serialize, Deserialize)]
struct WorkFile {
    /// Worker number (names its journal).
    shard: usize,
    /// Evaluations to run.
    keys: Vec<UnitKey>,
    /// Unix time (s) after which evaluations stop.
    deadline: Option<f64>,
}

/// The search's state while it runs.
pub(super) struct Ctx<'a> {
    pub cfg: &'a Config,
    pub plan: &'a Plan,
    pub pool: &'a mut Pool,
    pub dir: &'a Path,
    pub opts: &'a TuneOptions,
    pub deadline: Option<Instant>,
}

/// How a batch ended.
#[derive(PartialEq)]
enum Ended {
    Done,
    Interrupted,
    Budget,
}

/// The best trial of outer fold `outer`: the top of the highest rung any
/// trial completed. Returns (trial, rung, mean, sd).
pub fn fold_winner(
    plan: &Plan,
    done: &std::collections::BTreeMap<UnitKey, Entry>,
    outer: &str,
) -> Option<(usize, usize, f64, f64)> {
    (0..plan.rungs.len()).rev().find_map(|r| {
        ranked(plan, done, outer, r)
            .first()
            .map(|&(t, m, sd)| (t, r, m, sd))
    })
}

impl Ctx<'_> {
    /// Runs every rung, then (nested) the outer scoring. Returns
    /// (interrupted, budget spent).
    pub fn search(&mut self) -> Result<(bool, bool), Error> {
        let plan = self.plan;
        let n_outer = plan.outer.len();
        let mut candidates: Vec<Vec<usize>> =
            vec![plan.trials.iter().map(|t| t.id).collect(); n_outer];
        let mut budget = false;
        for (r, rung) in plan.rungs.iter().enumerate() {
            let done = journal::load(self.dir)?;
            let mut batch = Vec::new();
            for (k, outer) in plan.outer.iter().enumerate() {
                if r > 0 {
                    let prev = ranked(plan, &done, outer, r - 1);
                    let complete = candidates[k].iter().all(|t| prev.iter().any(|x| x.0 == *t));
                    candidates[k] = if complete {
                        prev.iter()
                            .filter(|x| candidates[k].contains(&x.0))
                            .take(rung.trials)
                            .map(|x| x.0)
                            .collect()
                    } else {
                        // The budget ended the rung before: no promotion.
                        Vec::new()
                    };
                }
                for &t in &candidates[k] {
                    for f in 0..rung.folds {
                        let key = UnitKey {
                            outer: outer.clone(),
                            trial: t,
                            rung: Some(r),
                            fold: Some(f),
                        };
                        if !done.contains_key(&key) {
                            batch.push(key);
                        }
                    }
                }
            }
            if !self.opts.quiet && !batch.is_empty() {
                eprintln!(
                    "rung {}/{}: {} evaluations ({} trials, {:.0}% of the epochs, {} inner folds)",
                    r + 1,
                    plan.rungs.len(),
                    batch.len(),
                    rung.trials,
                    100.0 * rung.epoch_fraction,
                    rung.folds
                );
            }
            match self.run_batch(&batch, true)? {
                Ended::Done => {}
                Ended::Interrupted => return Ok((true, budget)),
                Ended::Budget => budget = true,
            }
        }
        if plan.nested {
            let done = journal::load(self.dir)?;
            let batch: Vec<UnitKey> = plan
                .outer
                .iter()
                .filter_map(|o| {
                    let (t, ..) = fold_winner(plan, &done, o)?;
                    let key = UnitKey {
                        outer: o.clone(),
                        trial: t,
                        rung: None,
                        fold: None,
                    };
                    (!done.contains_key(&key)).then_some(key)
                })
                .collect();
            if !self.opts.quiet && !batch.is_empty() {
                eprintln!("outer scoring: each outer fold's winner on its test part");
            }
            // The outer scoring is what the search is for: the budget
            // does not cut it short, only Ctrl-C does.
            if self.run_batch(&batch, false)? == Ended::Interrupted {
                return Ok((true, budget));
            }
        }
        Ok((false, budget))
    }

    fn run_batch(&mut self, batch: &[UnitKey], timed: bool) -> Result<Ended, Error> {
        let deadline = if timed { self.deadline } else { None };
        if batch.is_empty() {
            return Ok(Ended::Done);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Ended::Budget);
        }
        let jobs = self.opts.jobs.max(1).min(batch.len());
        let Some(exe) = self.opts.exe.as_ref().filter(|_| jobs > 1) else {
            let journal = journal::path(self.dir, None);
            return run_keys(
                self.cfg, self.plan, self.pool, batch, deadline, self.opts, &journal,
            );
        };
        let mut children: Vec<(usize, Child)> = Vec::new();
        for shard in 0..jobs {
            let keys: Vec<UnitKey> = batch.iter().skip(shard).step_by(jobs).cloned().collect();
            let file = self.dir.join(format!("work-{shard}.json"));
            let wf = WorkFile {
                shard,
                keys,
                deadline: deadline.map(to_unix),
            };
            atomic::write_json(&file, &wf)?;
            let log = self.dir.join(format!("worker-{shard}.log"));
            let log = std::fs::File::create(&log).map_err(|e| Error::io(&log, e))?;
            let child = Command::new(exe)
                .args(["--quiet", "tune", "--worker"])
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(|e| Error::io(exe, e))?;
            children.push((shard, child));
        }
        let mut failed = Vec::new();
        let mut forwarded = false;
        let mut shown = Instant::now();
        while !children.is_empty() {
            if !self.opts.quiet && shown.elapsed() >= Duration::from_secs(30) {
                shown = Instant::now();
                let done = journal::load(self.dir)?;
                let n = batch.iter().filter(|k| done.contains_key(k)).count();
                eprintln!("  {n} of {} evaluations done", batch.len());
            }
            if self.opts.stop.load(Ordering::SeqCst) && !forwarded {
                forwarded = true;
                for (_, c) in &children {
                    let _ = Command::new("kill")
                        .args(["-INT", &c.id().to_string()])
                        .status();
                }
            }
            let mut still = Vec::new();
            for (shard, mut c) in children {
                match c.try_wait() {
                    Ok(Some(status)) => {
                        if !status.success() {
                            failed.push(shard);
                        }
                    }
                    Ok(None) => still.push((shard, c)),
                    Err(e) => return Err(Error::io(exe, e)),
                }
            }
            children = still;
            std::thread::sleep(Duration::from_millis(100));
        }
        let done = journal::load(self.dir)?;
        let missing = batch.iter().filter(|k| !done.contains_key(k)).count();
        if self.opts.stop.load(Ordering::SeqCst) {
            return Ok(Ended::Interrupted);
        }
        if missing > 0 {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Ended::Budget);
            }
            return Err(Error::Data(format!(
                "{missing} evaluations did not finish; see {}",
                failed
                    .iter()
                    .map(|s| self
                        .dir
                        .join(format!("worker-{s}.log"))
                        .display()
                        .to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(Ended::Done)
    }
}

fn to_unix(t: Instant) -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    now + t.saturating_duration_since(Instant::now()).as_secs_f64()
}

fn from_unix(t: f64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    Instant::now() + Duration::from_secs_f64((t - now).max(0.0))
}

/// Evaluates `keys` one after another in this process, appending each to
/// `journal`.
fn run_keys(
    cfg: &Config,
    plan: &Plan,
    pool: &mut Pool,
    keys: &[UnitKey],
    deadline: Option<Instant>,
    opts: &TuneOptions,
    journal: &Path,
) -> Result<Ended, Error> {
    let stop = stopper(&opts.stop, deadline);
    for key in keys {
        if opts.stop.load(Ordering::SeqCst) {
            return Ok(Ended::Interrupted);
        }
        if stop() {
            return Ok(Ended::Budget);
        }
        let outer = pool
            .outer
            .iter()
            .position(|o| o.name == key.outer)
            .ok_or_else(|| Error::Data(format!("no outer fold {}", key.outer)))?;
        let c = trial_config(cfg, plan, key)?;
        let fold = match key.fold {
            Some(f) => pool
                .inner_folds(outer, &c, cfg.tune.inner_folds, cfg.tune.seed)?
                .into_iter()
                .nth(f)
                .ok_or_else(|| Error::Data(format!("no inner fold {f}")))?,
            None => pool.outer_fold(outer, &c)?,
        };
        let p = pool.features(&c)?;
        let Some(score) = eval::evaluate(&c, p, &fold, &stop)? else {
            return Ok(if opts.stop.load(Ordering::SeqCst) {
                Ended::Interrupted
            } else {
                Ended::Budget
            });
        };
        if !opts.quiet {
            let what = match (key.rung, key.fold) {
                (Some(r), Some(f)) => format!("rung {} fold {}", r + 1, f + 1),
                _ => "outer test".to_string(),
            };
            eprintln!(
                "{} trial {} {what}: accuracy {:.4} ({} epochs, {:.1} s){}",
                key.outer,
                key.trial,
                score.accuracy,
                score.epochs,
                score.seconds,
                score
                    .error
                    .as_deref()
                    .map(|e| format!(" failed: {e}"))
                    .unwrap_or_default()
            );
        }
        journal::append(
            journal,
            &Entry {
                key: key.clone(),
                accuracy: score.accuracy,
                epochs: score.epochs,
                seconds: score.seconds,
                error: score.error,
            },
        )?;
    }
    Ok(Ended::Done)
}

/// A worker process: evaluates the keys of `work_file` into its own journal.
pub(super) fn run_worker(work_file: &Path, opts: &TuneOptions) -> Result<(), Error> {
    let dir: PathBuf = work_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let text = std::fs::read(work_file).map_err(|e| Error::io(work_file, e))?;
    let wf: WorkFile = serde_json::from_slice(&text)
        .map_err(|e| Error::Data(format!("{}: {e}", work_file.display())))?;
    let cfg = Config::load(&super::base_config(&dir))?;
    let plan_path = dir.join("plan.json");
    let text = std::fs::read(&plan_path).map_err(|e| Error::io(&plan_path, e))?;
    let plan: Plan = serde_json::from_slice(&text)
        .map_err(|e| Error::Data(format!("{}: {e}", plan_path.display())))?;
    let mut pool = Pool::new(&cfg, true)?;
    let journal = journal::path(&dir, Some(wf.shard));
    let done = journal::load(&dir)?;
    let keys: Vec<UnitKey> = wf
        .keys
        .into_iter()
        .filter(|k| !done.contains_key(k))
        .collect();
    let opts = TuneOptions {
        quiet: true,
        ..opts.clone()
    };
    run_keys(
        &cfg,
        &plan,
        &mut pool,
        &keys,
        wf.deadline.map(from_unix),
        &opts,
        &journal,
    )?;
    Ok(())
}
