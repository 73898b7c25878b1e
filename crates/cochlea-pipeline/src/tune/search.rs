//! The search itself: plan, rungs, outer folds, output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::config::Config;
use crate::error::Error;
use crate::rundir::RunDir;

use super::{TuneConfig, data, halving, journal, output, space, steer, work};
use data::Pool;
use halving::Rung;
use journal::UnitKey;
use space::{Domain, Overrides};
use steer::Steering;

/// Options of a search that are not part of the config.
#[derive(Clone, Debug, Default)]
pub struct TuneOptions {
    /// No progress lines.
    pub quiet: bool,
    /// Set (e.g. by Ctrl-C) to stop after the current epoch.
    pub stop: Arc<AtomicBool>,
    /// Continue the search in this tune directory.
    pub resume: Option<PathBuf>,
    /// Seconds the search may take; evaluations stop when it is spent.
    pub budget: Option<f64>,
    /// Evaluations run at the same time (worker processes of `exe`).
    pub jobs: usize,
    /// The `pipeline` binary, to start workers; in-process when `None`.
    pub exe: Option<PathBuf>,
}

/// One configuration tried.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Trial {
    /// Trial number; 0 is the config itself (with doctor steering).
    pub id: usize,
    /// Where it came from: "config", "FSDD recipe", "drawn".
    pub origin: String,
    /// Its overrides of the base config.
    pub overrides: Overrides,
}

/// The seeded schedule, written once to `plan.json` and read back by
/// `--resume` and by workers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    /// The trials.
    pub trials: Vec<Trial>,
    /// The rungs of successive halving.
    pub rungs: Vec<Rung>,
    /// What doctor findings changed.
    pub steering: Steering,
    /// Outer fold names.
    pub outer: Vec<String>,
    /// Nested cross-validation.
    pub nested: bool,
}

/// What a search produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TuneResult {
    /// The tune directory.
    pub dir: PathBuf,
    /// `tuned.toml`, when the search finished.
    pub tuned: Option<PathBuf>,
    /// The winning trial.
    pub winner: Option<usize>,
    /// Per outer fold: its winner and, when nested, its outer test accuracy.
    pub outer: Vec<output::OuterResult>,
    /// Mean and standard deviation of the outer test accuracies (nested).
    pub nested_accuracy: Option<(f64, f64)>,
    /// Stopped by Ctrl-C before the end.
    pub interrupted: bool,
    /// Stopped by the budget before the last rung.
    pub budget_spent: bool,
    /// Seconds spent.
    pub seconds: f64,
}

/// The base config of a tune directory (for `--resume`).
pub fn base_config(dir: &Path) -> PathBuf {
    dir.join("base.toml")
}

/// Runs (or resumes) the search for `cfg`.
pub fn tune(cfg: &Config, opts: &TuneOptions) -> Result<TuneResult, Error> {
    let t0 = Instant::now();
    let dir = match &opts.resume {
        Some(d) => {
            if !d.join("plan.json").is_file() {
                return Err(Error::Data(format!(
                    "{}: not a tune directory (no plan.json)",
                    d.display()
                )));
            }
            d.clone()
        }
        None => {
            let d = RunDir::create(&cfg.report.dir, &format!("{}-tune", cfg.name), false)?;
            let text = toml::to_string_pretty(cfg).map_err(|e| Error::Data(e.to_string()))?;
            atomic::write(&base_config(d.path()), text.as_bytes())?;
            d.path().to_path_buf()
        }
    };
    eprintln!("tune directory: {}", dir.display());
    let mut pool = Pool::new(cfg, opts.quiet)?;
    let plan = match std::fs::read(dir.join("plan.json")) {
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|e| Error::Data(format!("{}/plan.json: {e}", dir.display())))?,
        Err(_) => {
            let plan = make_plan(cfg, &mut pool)?;
            atomic::write_json(&dir.join("plan.json"), &plan)?;
            plan
        }
    };
    let featurised: String = pool
        .featurised
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    atomic::write(&dir.join("featurised.txt"), featurised.as_bytes())?;
    let deadline = opts
        .budget
        .map(|b| t0 + std::time::Duration::from_secs_f64(b));
    let mut ctx = work::Ctx {
        cfg,
        plan: &plan,
        pool: &mut pool,
        dir: &dir,
        opts,
        deadline,
    };
    let (interrupted, budget_spent) = ctx.search()?;
    let done = journal::load(&dir)?;
    let board = output::Board::new(&plan, &done);
    let outer = board.outer_results();
    let winner = (!interrupted).then(|| board.final_winner()).flatten();
    let tuned = match winner {
        Some(w) => {
            let path = dir.join("tuned.toml");
            let text = output::tuned_toml(cfg, &dir, &plan, &board, w)?;
            atomic::write(&path, text.as_bytes())?;
            Some(path)
        }
        None => None,
    };
    let scores: Vec<f64> = outer.iter().filter_map(|o| o.test_accuracy).collect();
    let nested_accuracy = (plan.nested && !scores.is_empty()).then(|| halving::mean_sd(&scores));
    let result = TuneResult {
        dir: dir.clone(),
        tuned,
        winner,
        outer,
        nested_accuracy,
        interrupted,
        budget_spent,
        seconds: t0.elapsed().as_secs_f64(),
    };
    output::write_leaderboards(&dir, &plan, &board, &result)?;
    Ok(result)
}

/// Runs the evaluations listed in a worker file (see [`work`]).
pub fn worker(work_file: &Path, opts: &TuneOptions) -> Result<(), Error> {
    work::run_worker(work_file, opts)
}

/// Draws the trials, after the doctor's findings on the first outer fold.
fn make_plan(cfg: &Config, pool: &mut Pool) -> Result<Plan, Error> {
    let t = &cfg.tune;
    let mut plain = cfg.clone();
    plain.tune = TuneConfig::default();
    let user = !t.space.is_empty();
    let mut dims = if user {
        space::parse_space(&t.space).map_err(Error::Data)?
    } else {
        space::default_space(cfg)
    };
    let folds = pool.inner_folds(0, &plain, t.inner_folds, t.seed)?;
    let p = pool.features(&plain)?;
    let steering = steer::steer(&plain, p, &folds[0])?;
    for n in &steering.notes {
        eprintln!("doctor: {n}");
    }
    if let Some((a, b)) = steering.lr_range {
        for d in dims.iter_mut().filter(|d| d.name == "train.lr") {
            d.domain = Domain::LogRange(a, b);
        }
    }
    let mut seeded = vec![("config".to_string(), steering.overrides.clone())];
    if !user {
        seeded.push(("FSDD recipe".into(), space::fsdd_recipe(cfg)));
    }
    let mut trials: Vec<Trial> = Vec::new();
    for (origin, ov) in seeded {
        match space::apply(&plain, &ov) {
            Ok(_) => trials.push(Trial {
                id: trials.len(),
                origin,
                overrides: ov,
            }),
            Err(e) => eprintln!("warning: {origin} trial left out: {e}"),
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(t.seed);
    let mut attempts = 0;
    while trials.len() < t.trials && attempts < 50 * t.trials {
        attempts += 1;
        let mut ov = Overrides::new();
        for d in &dims {
            ov.extend(d.draw(&mut rng));
        }
        if trials.iter().any(|x| x.overrides == ov) || space::apply(&plain, &ov).is_err() {
            continue;
        }
        trials.push(Trial {
            id: trials.len(),
            origin: "drawn".into(),
            overrides: ov,
        });
    }
    trials.truncate(t.trials.max(1));
    // Group k-fold makes at most one fold per training group.
    let mut inner = t.inner_folds;
    for k in 0..pool.outer.len() {
        inner = inner.min(pool.inner_folds(k, &plain, t.inner_folds, t.seed)?.len());
    }
    let rungs = halving::rungs(trials.len(), t.eta, t.rungs, inner);
    Ok(Plan {
        trials,
        rungs,
        steering,
        outer: pool.outer.iter().map(|o| o.name.clone()).collect(),
        nested: pool.nested,
    })
}

/// The config of `trial` at `rung` (its epochs scaled), or at full
/// fidelity when `rung` is `None`.
pub fn trial_config(cfg: &Config, plan: &Plan, key: &UnitKey) -> Result<Config, Error> {
    let trial = plan
        .trials
        .get(key.trial)
        .ok_or_else(|| Error::Data(format!("trial {} is not in the plan", key.trial)))?;
    let mut c = final_config(cfg, trial)?;
    if let Some(r) = key.rung {
        if !trial.overrides.contains_key("train.ensemble") {
            c.train.ensemble = 1;
        }
        let frac = plan.rungs.get(r).map_or(1.0, |r| r.epoch_fraction);
        c.train.epochs = halving::epochs_at(c.train.epochs, frac);
        if c.train.warmup_epochs >= c.train.epochs {
            c.train.warmup_epochs = 0;
        }
    }
    Ok(c)
}

/// The full-fidelity config of `trial`: the base config with its
/// overrides and, unless it sets `train.ensemble`, `tune.ensemble` networks.
pub fn final_config(cfg: &Config, trial: &Trial) -> Result<Config, Error> {
    let mut plain = cfg.clone();
    plain.tune = TuneConfig::default();
    let mut ov = trial.overrides.clone();
    if cfg.tune.ensemble > 0 && !ov.contains_key("train.ensemble") {
        ov.insert(
            "train.ensemble".into(),
            toml::Value::Integer(cfg.tune.ensemble as i64),
        );
    }
    space::apply(&plain, &ov).map_err(Error::Data)
}

/// A stop check for evaluations: Ctrl-C, or the budget when one applies.
pub(super) fn stopper(
    stop: &Arc<AtomicBool>,
    deadline: Option<Instant>,
) -> impl Fn() -> bool + use<> {
    let stop = stop.clone();
    move || stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d)
}

/// Orders trials of one outer fold at one rung, best first, from the
/// journal; only trials with every fold of the rung scored.
pub fn ranked(
    plan: &Plan,
    done: &BTreeMap<UnitKey, journal::Entry>,
    outer: &str,
    rung: usize,
) -> Vec<(usize, f64, f64)> {
    let folds = plan.rungs[rung].folds;
    let mut scored = Vec::new();
    for t in &plan.trials {
        let acc: Option<Vec<f64>> = (0..folds)
            .map(|f| {
                done.get(&UnitKey {
                    outer: outer.to_string(),
                    trial: t.id,
                    rung: Some(rung),
                    fold: Some(f),
                })
                .map(|e| e.accuracy)
            })
            .collect();
        if let Some(a) = acc {
            let (m, sd) = halving::mean_sd(&a);
            scored.push((t.id, m, sd));
        }
    }
    halving::rank(&mut scored);
    scored
}

/// Parses a time budget: seconds, or a number with `s`, `m` or `h`
/// (`90s`, `30m`, `1.5h`).
pub fn parse_budget(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let factor = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        _ => return Err(format!("{s:?}: the unit must be s, m or h")),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * factor),
        _ => Err(format!(
            "{s:?}: give a positive time such as 90s, 30m or 2h"
        )),
    }
}

/// A few lines for the terminal: the winner, the nested estimate.
pub fn summary(r: &TuneResult) -> String {
    let mut s = String::new();
    if let Some((m, sd)) = r.nested_accuracy {
        s.push_str(&format!(
            "nested estimate (tune, then train): {:.2}% mean over {} outer folds (sd {:.2})\n",
            100.0 * m,
            r.outer.len(),
            100.0 * sd
        ));
        for o in &r.outer {
            s.push_str(&format!(
                "{:>12}: trial {} test {}\n",
                o.name,
                o.winner
                    .map(|w| w.to_string())
                    .unwrap_or_else(|| "-".into()),
                o.test_accuracy
                    .map(|a| format!("{:.2}%", 100.0 * a))
                    .unwrap_or_else(|| "-".into())
            ));
        }
    }
    match (&r.tuned, r.winner) {
        (Some(t), Some(w)) => s.push_str(&format!("winner: trial {w}; config {}", t.display())),
        _ => s.push_str("no winner yet"),
    }
    s.push_str(&format!(
        "\nleaderboard: {}",
        r.dir.join("leaderboard.md").display()
    ));
    s
}
