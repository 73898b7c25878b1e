//! `pipeline run`: discover -> features -> split -> normalize -> train ->
//! evaluate -> report, into a new run directory.
//!
//! The data is prepared once ([`crate::prepare`]); each fold is a
//! [`FoldJob`] whose [`FoldOutcome`] says whether it finished or was
//! interrupted; finished folds are recorded in the [`RunDir`] so that
//! `--resume` skips them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use cochlea_model::Classifier;

use crate::config::{Config, strategy_name};
use crate::detect::held_out::{self, RecordingEvents};
use crate::ensemble::{Members, Provenance, Trained, save_bundle};
use crate::error::Error;
use crate::final_model::{FinalJob, FinalOutcome};
use crate::metrics;
use crate::prepare::{self, FoldInputs, Prepared, Setup};
use crate::results::{FoldResult, METRICS_SCHEMA_VERSION, Prediction, RunResult, mean_std};
use crate::rundir::RunDir;
use crate::split::Fold;
use crate::{atomic, doctor, report};

/// Options of one run that are not part of the config.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// No progress bars.
    pub quiet: bool,
    /// Set (e.g. by Ctrl-C) to stop at the next safe point.
    pub stop: Arc<AtomicBool>,
    /// Continue this interrupted run directory instead of starting a new one.
    pub resume: Option<PathBuf>,
}

/// Runs the config at `cfg_path`.
pub fn run(cfg_path: &Path, cfg: &Config, opts: &RunOptions) -> Result<RunResult, Error> {
    let t0 = Instant::now();
    let mut timings = BTreeMap::new();
    let Setup { p, folds, frames } = prepare::setup(cfg, opts.quiet)?;
    timings.insert("features".to_string(), t0.elapsed().as_secs_f64());
    if opts.stop.load(Ordering::SeqCst) {
        return Err(Error::Interrupted);
    }
    let mut findings = doctor::data_checks(cfg, &p, &folds);
    findings.extend(doctor::feature_checks(cfg, &p, &folds));
    let resolved = toml::to_string_pretty(cfg).unwrap_or_default();
    let many = folds.len() > 1;
    let dir = match &opts.resume {
        Some(path) => RunDir::resume(path, many)?,
        None => {
            let dir = RunDir::create(&cfg.report.dir, &cfg.name, many)?;
            atomic::write(&dir.config(), resolved.as_bytes())?;
            dir
        }
    };
    eprintln!("run directory: {}", dir.path().display());
    let config_hash = blake3::hash(resolved.as_bytes()).to_hex().to_string();
    let data_hash = prepare::data_hash(&p);

    let mut results = Vec::new();
    let mut predictions = Vec::new();
    let mut stopped_at = None;
    let t_train = Instant::now();
    for fold in &folds {
        // A fold finished before an interruption is kept as it was.
        if opts.resume.is_some()
            && let Some((res, preds)) = dir.load_fold(&fold.name)
        {
            results.push(res);
            predictions.extend(preds);
            continue;
        }
        if opts.stop.load(Ordering::SeqCst) {
            stopped_at = Some(format!("before fold {}", fold.name));
            break;
        }
        let job = FoldJob {
            cfg,
            p: &p,
            fold,
            frames,
            dir: &dir,
            many,
            opts,
            config_hash: &config_hash,
            data_hash: &data_hash,
        };
        match job.run()? {
            FoldOutcome::Finished {
                result,
                predictions: preds,
            } => {
                dir.save_fold(&result, &preds)?;
                results.push(result);
                predictions.extend(preds);
            }
            FoldOutcome::Interrupted {
                result,
                predictions: preds,
                at,
            } => {
                results.push(result);
                predictions.extend(preds);
                stopped_at = Some(at);
                break;
            }
        }
    }
    if results.is_empty() {
        return Err(Error::Interrupted);
    }
    // The deployable model of a cross-validated run, once every fold is in.
    let mut final_model = None;
    if cfg.train.final_model && many && stopped_at.is_none() {
        let job = FinalJob {
            cfg,
            p: &p,
            frames,
            dir: &dir,
            quiet: opts.quiet,
            stop: &opts.stop,
            resume: opts.resume.is_some(),
            config_hash: &config_hash,
            data_hash: &data_hash,
        };
        match job.run(&results)? {
            FinalOutcome::Finished(f) => final_model = Some(f),
            FinalOutcome::Interrupted(at) => stopped_at = Some(at),
        }
    }
    let interrupted = stopped_at.is_some();
    timings.insert(
        "train_and_evaluate".to_string(),
        t_train.elapsed().as_secs_f64(),
    );
    let t_diag = Instant::now();
    let k = p.classes.len();
    findings.extend(doctor::arch_checks(
        &cfg.model,
        &results[0].net,
        crate::functionals::input_shape(cfg.features.pooling, 1, frames).1,
        p.summary.hop_seconds,
        folds[0].train.len(),
    ));
    for r in &results {
        let mut f = doctor::result_checks(r, k);
        if results.len() > 1 {
            for x in &mut f {
                x.evidence = format!("fold {}: {}", r.name, x.evidence);
            }
        }
        findings.extend(f);
    }
    let heard: Vec<&RecordingEvents> = results.iter().flat_map(|r| &r.events).collect();
    findings.extend(doctor::event_checks(&heard, &p.classes));
    // A linear probe on the first fold tells "no signal between features and
    // labels" apart from "the network failed to learn it".
    let fi = prepare::fold_inputs(cfg, &p, &folds[0], frames)?;
    let held_out = doctor::held_out(fi.val.as_ref(), &fi.test);
    let probes = doctor::probes::linear_probe(cfg, &fi.train, &held_out, k, None);
    let healthy = doctor::features_healthy(&findings);
    findings.extend(doctor::probe_checks(&probes, k, healthy));
    let findings = doctor::rank(doctor::dedupe(findings));
    timings.insert("diagnostics".to_string(), t_diag.elapsed().as_secs_f64());
    let recordings: Vec<RecordingEvents> = results.iter().flat_map(|r| r.events.clone()).collect();
    let events = (!recordings.is_empty()).then(|| held_out::score(&recordings, &cfg.events));
    let acc: Vec<f64> = results.iter().map(|r| r.test.accuracy).collect();
    let bal: Vec<f64> = results.iter().map(|r| r.test.balanced_accuracy).collect();
    let mut result = RunResult {
        schema_version: METRICS_SCHEMA_VERSION,
        name: cfg.name.clone(),
        run_dir: dir.path().to_path_buf(),
        strategy: strategy_name(cfg.split.strategy).to_string(),
        data: p.summary.clone(),
        folds: results,
        accuracy_mean_std: mean_std(&acc),
        balanced_accuracy_mean_std: mean_std(&bal),
        timings,
        config_hash,
        data_hash,
        interrupted,
        stopped_at,
        findings,
        final_model,
        events,
    };
    let t_report = Instant::now();
    report::write_all(&result, &predictions, cfg, cfg_path)?;
    result
        .timings
        .insert("report".to_string(), t_report.elapsed().as_secs_f64());
    result
        .timings
        .insert("total".to_string(), t0.elapsed().as_secs_f64());
    atomic::write_json(&dir.metrics(), &result)?;
    Ok(result)
}

/// One fold to train and evaluate.
pub struct FoldJob<'a> {
    /// The run's config.
    pub cfg: &'a Config,
    /// The prepared data.
    pub p: &'a Prepared,
    /// The fold.
    pub fold: &'a Fold,
    /// Frames per model input.
    pub frames: usize,
    /// Where bundles and checkpoints go.
    pub dir: &'a RunDir,
    /// The run has several folds (fold names prefix progress lines).
    pub many: bool,
    /// Quiet, stop flag, resume.
    pub opts: &'a RunOptions,
    /// BLAKE3 of the resolved config, recorded in the bundle.
    pub config_hash: &'a str,
    /// BLAKE3 of the data, recorded in the bundle.
    pub data_hash: &'a str,
}

/// How a fold ended.
pub enum FoldOutcome {
    /// Trained, evaluated and bundled.
    Finished {
        /// The fold's result.
        result: FoldResult,
        /// Its test predictions.
        predictions: Vec<Prediction>,
    },
    /// Stopped mid-training: evaluated as it stood, no bundle written (only
    /// the checkpoints, for `--resume`).
    Interrupted {
        /// The fold's result as it stood.
        result: FoldResult,
        /// Its test predictions as it stood.
        predictions: Vec<Prediction>,
        /// Where it stopped, e.g. "fold george, network 2 of 3, after epoch 4 of 30".
        at: String,
    },
}

impl FoldJob<'_> {
    /// Trains the fold's network(s), evaluates them on its test part and
    /// bundles the model unless interrupted.
    pub fn run(&self) -> Result<FoldOutcome, Error> {
        let (cfg, p, fold) = (self.cfg, self.p, self.fold);
        let FoldInputs {
            spec,
            train,
            val,
            test,
        } = prepare::fold_inputs(cfg, p, fold, self.frames)?;
        let k = p.classes.len();
        let label = if self.many {
            format!("{} ", fold.name)
        } else {
            String::new()
        };
        let n_members = cfg.train.ensemble;
        let truth: Vec<usize> = fold.test.iter().map(|&i| p.items[i].label).collect();
        let t = Instant::now();
        let mut member_accuracy = Vec::new();
        let checkpoints = |member| self.dir.checkpoints(&fold.name, member);
        let trained = Members {
            cfg,
            train_cfg: cfg.train.clone(),
            n_classes: k,
            train: &train,
            val: val.as_ref(),
            checkpoints: &checkpoints,
            resume: self.opts.resume.is_some(),
            stop: &self.opts.stop,
            quiet: self.opts.quiet,
            title: &format!("{label}train"),
            place: &format!("fold {}", fold.name),
        }
        .train(|network| {
            if n_members > 1 {
                let proba = test.predict_clips(network)?;
                member_accuracy.push(metrics::evaluate(&p.classes, &truth, &proba).accuracy);
            }
            Ok(())
        })?;
        let train_seconds = t.elapsed().as_secs_f64();
        let Trained {
            networks,
            history,
            best_epoch,
            stopped_early,
            interrupted,
        } = trained;
        let model = Classifier::ensemble(networks)?;
        let proba = test.predict_clips(&model)?;
        let test_metrics = metrics::evaluate(&p.classes, &truth, &proba);
        let predictions: Vec<Prediction> = fold
            .test
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                let pr = proba[j * k..(j + 1) * k].to_vec();
                let best = metrics::argmax(&pr);
                Prediction {
                    path: p.items[i].path.clone(),
                    fold: fold.name.clone(),
                    truth: p.classes[p.items[i].label].clone(),
                    predicted: p.classes[best].clone(),
                    confidence: pr[best],
                    proba: pr,
                    span: p.items[i].span,
                }
            })
            .collect();
        let normalizer = spec.normalizer.clone();
        // A model stopped mid-training is not a result anyone should use: only
        // the checkpoint is kept, for `--resume`.
        if interrupted.is_none() {
            save_bundle(
                &model,
                &self.dir.bundle(&fold.name),
                cfg,
                &p.classes,
                spec,
                Provenance {
                    fold: &fold.name,
                    config_hash: self.config_hash,
                    data_hash: self.data_hash,
                    test_metrics: Some(test_metrics.clone()),
                },
            )?;
        }
        // Annotated recordings held out whole: the saved model listens to
        // each from start to end, as `pipeline detect` would.
        let (recordings, events_skipped) = held_out::recordings(&p.items, &p.classes, fold);
        // The scores add to a finished fold; a failure to score leaves the
        // fold as it is, with a warning.
        let events = if cfg.events.score && interrupted.is_none() && !recordings.is_empty() {
            held_out::detect_fold(
                &self.dir.bundle(&fold.name),
                &fold.name,
                recordings,
                &cfg.events,
                self.opts.quiet,
            )
            .unwrap_or_else(|e| {
                eprintln!("warning: fold {}: events not scored: {e}", fold.name);
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let group_names = |idx: &[usize]| -> Vec<String> {
            let mut g: Vec<String> = idx
                .iter()
                .map(|&i| p.items[i].group.clone())
                .filter(|g| !g.is_empty())
                .collect();
            g.sort();
            g.dedup();
            g
        };
        let result = FoldResult {
            name: fold.name.clone(),
            sizes: [fold.train.len(), fold.val.len(), fold.test.len()],
            groups: [
                group_names(&fold.train),
                group_names(&fold.val),
                group_names(&fold.test),
            ],
            test: test_metrics,
            history,
            best_epoch,
            stopped_early,
            net: model.summary().clone(),
            bundle: self.dir.bundle_rel(&fold.name),
            normalizer,
            train_seconds,
            member_accuracy,
            events,
            events_skipped,
        };
        Ok(match interrupted {
            None => FoldOutcome::Finished {
                result,
                predictions,
            },
            Some(at) => FoldOutcome::Interrupted {
                result,
                predictions,
                at,
            },
        })
    }
}
