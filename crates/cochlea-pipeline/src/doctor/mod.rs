//! Diagnostics: why is a model at chance accuracy?
//!
//! Each check has a stable id, a verdict, the evidence in numbers and the fix
//! in one sentence. Every check is a [`Check`] of the catalog
//! ([`catalog`]), which holds its id, verdict, weight and fix in one table.
//! Cheap checks look at the data ([`data`]), the split ([`leakage`]), the
//! features ([`features`]) and the architecture ([`architecture`]); short
//! probes ([`probes`]: a linear probe on pooled features, overfitting one
//! batch, a few epochs at a few learning rates) look at learnability;
//! [`training`] reads a finished run, [`events`] the events it found in
//! held-out annotated recordings. Findings are ranked so the most
//! likely cause of a bad result comes first.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::metrics::argmax;

pub mod architecture;
pub mod catalog;
pub mod data;
pub mod events;
pub mod features;
pub mod leakage;
pub mod probes;
pub mod training;

pub use architecture::arch_checks;
pub use catalog::Check;
pub use data::data_checks;
pub use events::event_checks;
pub use features::feature_checks;
pub use probes::{LrTrial, Probes, lr_checks, probe_checks};
#[cfg(feature = "torch")]
pub use probes::{Sweep, held_out, lr_sweep, run_probes};
pub use training::result_checks;

pub use crate::finding::{Finding, Verdict};

impl Finding {
    /// The catalog entry this finding came from.
    pub fn check(&self) -> Option<Check> {
        Check::from_id(&self.id)
    }
}

/// Keeps one finding per id: the worst (then heaviest); "ok" only when no
/// fold found a problem.
pub fn dedupe(f: Vec<Finding>) -> Vec<Finding> {
    let mut by_id: BTreeMap<String, Finding> = BTreeMap::new();
    for x in f {
        match by_id.get(&x.id) {
            Some(y) if (y.verdict, y.weight) >= (x.verdict, x.weight) => {}
            _ => {
                by_id.insert(x.id.clone(), x);
            }
        }
    }
    by_id.into_values().collect()
}

/// Ranks findings: fail before warn before inconclusive before ok, then by
/// weight.
pub fn rank(mut f: Vec<Finding>) -> Vec<Finding> {
    f.sort_by(|a, b| {
        b.verdict
            .cmp(&a.verdict)
            .then(b.weight.total_cmp(&a.weight))
            .then(a.id.cmp(&b.id))
    });
    f
}

pub(crate) fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

/// Where an accuracy "near chance" ends: this fraction of the way from
/// chance to perfect (2 classes: 62.5 %, 10: 32.5 %, 50: 26.5 %).
pub const NEAR_CHANCE_FRACTION: f64 = 0.25;

/// The accuracy below which a score counts as near `chance`.
pub fn near_chance(chance: f64) -> f64 {
    chance + NEAR_CHANCE_FRACTION * (1.0 - chance)
}

/// What a score of `correct` out of `n` says against `chance`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VsChance {
    /// The observed accuracy.
    pub accuracy: f64,
    /// Files it rests on.
    pub n: usize,
    /// Chance (or the majority class, whichever is higher).
    pub chance: f64,
    /// 95 % Wilson interval of the accuracy.
    pub interval: [f64; 2],
}

impl VsChance {
    /// `accuracy` on `n` files against `chance`.
    pub fn new(accuracy: f64, n: usize, chance: f64) -> Self {
        let correct = (accuracy * n as f64).round() as usize;
        VsChance {
            accuracy,
            n,
            chance,
            interval: crate::metrics::wilson(correct.min(n), n),
        }
    }

    /// The whole interval lies above chance: there is signal.
    pub fn above(&self) -> bool {
        self.interval[0] > self.chance
    }

    /// The whole interval lies below [`near_chance`]: confidently at chance.
    pub fn at_chance(&self) -> bool {
        self.interval[1] < near_chance(self.chance)
    }

    /// Neither: the interval is too wide to tell.
    pub fn inconclusive(&self) -> bool {
        !self.above() && !self.at_chance()
    }

    /// `62.5% of 16 files (95% CI 38.6% to 81.5%), chance 50.0%`.
    pub fn describe(&self) -> String {
        format!(
            "{} of {} files (95% CI {} to {}), chance {}",
            pct(self.accuracy),
            self.n,
            pct(self.interval[0]),
            pct(self.interval[1]),
            pct(self.chance)
        )
    }

    /// What would settle an inconclusive score.
    pub fn advice(&self) -> String {
        format!(
            "{} held-out files cannot tell this score from chance: use k-fold \
             (split.strategy = \"kfold\" or \"group-kfold\") so every file is held out once, \
             or more files; an interval below {} would mean chance, one above {} signal.",
            self.n,
            pct(near_chance(self.chance)),
            pct(self.chance)
        )
    }
}

/// Whether the feature findings leave the features looking healthy.
pub fn features_healthy(findings: &[Finding]) -> bool {
    !findings
        .iter()
        .any(|f| f.verdict != Verdict::Ok && f.check().is_some_and(|c| c.concerns_features()))
}

/// Accuracy of predictions `proba` (`[n x k]`) against `y`.
pub fn accuracy(proba: &[f32], y: &[i64], k: usize) -> f64 {
    let correct = y
        .iter()
        .enumerate()
        .filter(|(i, t)| argmax(&proba[i * k..(i + 1) * k]) as i64 == **t)
        .count();
    correct as f64 / y.len().max(1) as f64
}

/// Markdown of findings.
pub fn markdown(f: &[Finding]) -> String {
    let mut s = String::new();
    for x in f {
        let mark = x.verdict.label();
        let _ = writeln!(
            s,
            "- **{mark}** `{}`: {}. Evidence: {}.{}",
            x.id,
            x.title,
            x.evidence,
            if x.fix.is_empty() {
                String::new()
            } else {
                format!(" Fix: {}", x.fix)
            }
        );
    }
    s
}

/// What `pipeline doctor` found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DoctorReport {
    /// Findings, most likely cause first.
    pub findings: Vec<Finding>,
    /// Probes run and their raw results.
    pub probes: Probes,
    /// Learning-rate sweep.
    pub lr_sweep: Vec<LrTrial>,
    /// Seconds spent.
    pub seconds: f64,
}

/// Audits the data, features and architecture of `cfg`, then runs short
/// probes within `budget_s` seconds (none when `probes` is false).
pub fn diagnose(
    cfg: &Config,
    quiet: bool,
    budget_s: f64,
    probes: bool,
) -> Result<DoctorReport, crate::Error> {
    let t0 = Instant::now();
    let crate::prepare::Setup { p, folds, frames } = crate::prepare::setup(cfg, quiet)?;
    let mut findings = data_checks(cfg, &p, &folds);
    findings.extend(feature_checks(cfg, &p, &folds));
    let k = p.classes.len();
    let (rows, in_frames) =
        crate::functionals::input_shape(cfg.features.pooling, p.extractor.n_rows(), frames);
    let net = cfg.model.validate(rows, in_frames, k)?;
    findings.extend(arch_checks(
        &cfg.model,
        &net,
        in_frames,
        p.summary.hop_seconds,
        folds[0].train.len(),
    ));
    let mut pr = Probes::default();
    let mut sweep = Vec::new();
    #[cfg(feature = "torch")]
    if probes {
        let fi = crate::prepare::fold_inputs(cfg, &p, &folds[0], frames)?;
        let held = held_out(fi.val.as_ref(), &fi.test);
        let left = |t: &Instant| (budget_s - t.elapsed().as_secs_f64()).max(0.0);
        pr = run_probes(cfg, &fi.train, &held, k, left(&t0));
        let healthy = features_healthy(&findings);
        findings.extend(probe_checks(&pr, k, healthy));
        if left(&t0) > 0.0 {
            let s = lr_sweep(cfg, &fi.train, k, left(&t0), pr.step_seconds);
            pr.notes.extend(s.notes);
            findings.extend(lr_checks(&s.trials, k));
            sweep = s.trials;
        } else {
            pr.notes
                .push("learning-rate sweep skipped: budget spent".into());
        }
    }
    #[cfg(not(feature = "torch"))]
    if probes {
        let _ = (budget_s, &mut sweep);
        pr.notes
            .push("probes skipped: this build has no libtorch (the `torch` feature)".into());
    }
    Ok(DoctorReport {
        findings: rank(dedupe(findings)),
        probes: pr,
        lr_sweep: sweep,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
