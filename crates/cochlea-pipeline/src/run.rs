//! `pipeline run`: discover -> features -> split -> normalize -> train ->
//! evaluate -> report, into a new run directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use cochlea_features::{ClipInfo, Extractor, FeatureMatrix};
use cochlea_model::{Classifier, Control, EpochMetrics, NetSummary, TrainConfig, TrainOptions};
use serde::{Deserialize, Serialize};

use crate::cache::Cache;
use crate::config::{Config, CropMode, PadMode, strategy_name};
use crate::dataset::{self, Item};
use crate::error::Error;
use crate::extract::{self, Extracted};
use crate::metrics::{self, Metrics};
use crate::normalize::{self, Normalizer};
use crate::split::{self, Fold};
use crate::{atomic, doctor, progress, report};

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

/// What the model needs to turn a file into its input: stored in the bundle.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputSpec {
    /// Feature settings.
    pub features: cochlea_features::FeatureConfig,
    /// Sample rate the audio is resampled to.
    pub sample_rate: u32,
    /// Names of the feature rows.
    pub row_names: Vec<String>,
    /// Frames per model input.
    pub clip_frames: usize,
    /// Padding of short clips.
    pub pad: PadMode,
    /// Cropping of long clips.
    pub crop: CropMode,
    /// The fitted normalization.
    pub normalizer: Normalizer,
}

impl InputSpec {
    /// Turns one clip's raw features into the model's input `[rows x clip_frames]`.
    pub fn prepare(&self, m: &FeatureMatrix) -> Vec<f32> {
        normalize::fit_length(
            &self.normalizer.apply(m),
            self.clip_frames,
            self.pad,
            self.crop,
        )
    }
}

/// One test prediction.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Prediction {
    /// The file.
    pub path: PathBuf,
    /// Fold that tested it.
    pub fold: String,
    /// True class.
    pub truth: String,
    /// Predicted class.
    pub predicted: String,
    /// Probability of the predicted class.
    pub confidence: f32,
    /// Probability of every class, in class order.
    pub proba: Vec<f32>,
}

/// The result of one fold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoldResult {
    /// Fold name ("main", "fold1", or the held-out group).
    pub name: String,
    /// Files in train / validation / test.
    pub sizes: [usize; 3],
    /// Groups of each side (empty when groups are not used).
    pub groups: [Vec<String>; 3],
    /// Test metrics.
    pub test: Metrics,
    /// Per-epoch history.
    pub history: Vec<EpochMetrics>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Early stopping ended training.
    pub stopped_early: bool,
    /// The network.
    pub net: NetSummary,
    /// Model bundle folder, relative to the run directory.
    pub bundle: PathBuf,
    /// The fitted normalization.
    pub normalizer: Normalizer,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// With `train.ensemble` > 1: each member's test accuracy on its own
    /// (the fold's `test` metrics are the ensemble's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_accuracy: Vec<f64>,
}

/// Summary of the data as found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataSummary {
    /// Class names in order.
    pub classes: Vec<String>,
    /// Files per class (decoded).
    pub counts: Vec<usize>,
    /// Files found.
    pub files_found: usize,
    /// Files used.
    pub files_used: usize,
    /// Files left out, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// Files per source sample rate.
    pub sample_rates: BTreeMap<u32, usize>,
    /// Files per channel count.
    pub channels: BTreeMap<u16, usize>,
    /// Per class: min, mean, max duration in seconds.
    pub durations: Vec<[f64; 3]>,
    /// Number of distinct groups.
    pub n_groups: usize,
    /// Features computed now vs taken from the cache.
    pub cache_hits: usize,
    /// Feature row names.
    pub row_names: Vec<String>,
    /// Frames per model input.
    pub clip_frames: usize,
    /// Frame hop in seconds.
    pub hop_seconds: f64,
}

/// Everything a run produced; what `metrics.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// Run name.
    pub name: String,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Split strategy.
    pub strategy: String,
    /// Data summary.
    pub data: DataSummary,
    /// Per fold.
    pub folds: Vec<FoldResult>,
    /// Mean and standard deviation of test accuracy over folds.
    pub accuracy_mean_std: [f64; 2],
    /// Mean and standard deviation of balanced accuracy over folds.
    pub balanced_accuracy_mean_std: [f64; 2],
    /// Seconds per stage.
    pub timings: BTreeMap<String, f64>,
    /// BLAKE3 of the resolved config.
    pub config_hash: String,
    /// BLAKE3 over (path, content hash, label) of every file used.
    pub data_hash: String,
    /// Training stopped early by an interruption.
    pub interrupted: bool,
    /// Where an interrupted run stopped; `pipeline run --resume` continues it.
    pub stopped_at: Option<String>,
    /// Diagnostics, most likely cause of a bad result first.
    pub findings: Vec<doctor::Finding>,
}

/// Files with their features, labels and groups; bad files removed.
pub struct Prepared {
    /// Class names.
    pub classes: Vec<String>,
    /// Items that decoded.
    pub items: Vec<Item>,
    /// Their features.
    pub extracted: Vec<Extracted>,
    /// The extractor used.
    pub extractor: Extractor,
    /// Data summary.
    pub summary: DataSummary,
}

/// Discovers and featurises the dataset of `cfg`.
pub fn prepare(cfg: &Config, quiet: bool) -> Result<Prepared, Error> {
    let ds = dataset::discover(&cfg.data)?;
    let extractor = Extractor::new(&cfg.features, cfg.data.sample_rate)?;
    let cache = cfg.cache.enabled.then(|| {
        let root = cfg.cache.dir.clone().unwrap_or_else(Cache::default_root);
        Cache::new(
            &root,
            &extract::feature_key(&cfg.features, cfg.data.sample_rate),
        )
    });
    let paths: Vec<PathBuf> = ds.items.iter().map(|i| i.path.clone()).collect();
    let results = extract::extract_all(&paths, &extractor, cache.as_ref(), quiet);
    let mut skipped = ds.skipped.clone();
    let mut items = Vec::new();
    let mut extracted = Vec::new();
    for (item, r) in ds.items.iter().zip(results) {
        match r {
            Ok(e) => {
                items.push(item.clone());
                extracted.push(e);
            }
            Err(msg) => skipped.push((item.path.clone(), msg)),
        }
    }
    for (p, why) in &skipped {
        eprintln!("warning: skipped {}: {why}", p.display());
    }
    if !skipped.is_empty() {
        eprintln!(
            "warning: {} of {} files skipped",
            skipped.len(),
            ds.items.len() + ds.skipped.len()
        );
    }
    if items.is_empty() {
        return Err(Error::Data("no file could be decoded".into()));
    }
    let k = ds.classes.len();
    let mut counts = vec![0usize; k];
    let mut dur: Vec<[f64; 3]> = vec![[f64::INFINITY, 0.0, 0.0]; k];
    let mut sample_rates = BTreeMap::new();
    let mut channels = BTreeMap::new();
    for (it, e) in items.iter().zip(&extracted) {
        counts[it.label] += 1;
        let d = &mut dur[it.label];
        d[0] = d[0].min(e.info.duration_s);
        d[1] += e.info.duration_s;
        d[2] = d[2].max(e.info.duration_s);
        *sample_rates.entry(e.info.source_sample_rate).or_insert(0) += 1;
        *channels.entry(e.info.channels).or_insert(0) += 1;
    }
    for (d, &c) in dur.iter_mut().zip(&counts) {
        d[1] /= c.max(1) as f64;
        if c == 0 {
            d[0] = 0.0;
        }
    }
    let present = counts.iter().filter(|&&c| c > 0).count();
    if present < 2 {
        return Err(Error::Data(format!(
            "need at least 2 classes with decodable files, found {present} ({:?})",
            ds.classes
        )));
    }
    let n_groups = items
        .iter()
        .map(|i| i.group.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let summary = DataSummary {
        classes: ds.classes.clone(),
        counts,
        files_found: ds.items.len() + ds.skipped.len(),
        files_used: items.len(),
        skipped,
        sample_rates,
        channels,
        durations: dur,
        n_groups,
        cache_hits: extracted.iter().filter(|e| e.from_cache).count(),
        row_names: extractor.row_names().to_vec(),
        clip_frames: 0,
        // A raw-waveform "frame" is one sample.
        hop_seconds: if cfg.features.has(cochlea_features::FeatureKind::Raw) {
            1.0
        } else {
            cfg.features.hop_length as f64
        } / f64::from(cfg.data.sample_rate),
    };
    Ok(Prepared {
        classes: ds.classes,
        items,
        extracted,
        extractor,
        summary,
    })
}

/// 95th percentile of the frame counts of `idx`, at least 1.
pub fn auto_frames(extracted: &[Extracted], idx: &[usize]) -> usize {
    let mut f: Vec<usize> = idx
        .iter()
        .map(|&i| extracted[i].features.n_frames)
        .collect();
    f.sort_unstable();
    if f.is_empty() {
        return 1;
    }
    f[((f.len() - 1) as f64 * 0.95).round() as usize].max(1)
}

/// Hash of the sorted paths of `idx`, recorded with the normalizer.
pub fn paths_hash(items: &[Item], idx: &[usize]) -> String {
    let mut paths: Vec<&Path> = idx.iter().map(|&i| items[i].path.as_path()).collect();
    paths.sort();
    let mut h = blake3::Hasher::new();
    for p in paths {
        h.update(p.as_os_str().as_encoded_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex().to_string()
}

/// Builds a model dataset of `idx` with `spec`.
pub fn model_data(
    p: &Prepared,
    idx: &[usize],
    spec: &InputSpec,
) -> Result<cochlea_model::Dataset, Error> {
    let rows = p.extractor.n_rows();
    let mut x = Vec::with_capacity(idx.len() * rows * spec.clip_frames);
    let mut y = Vec::with_capacity(idx.len());
    for &i in idx {
        x.extend(spec.prepare(&p.extracted[i].features));
        y.push(p.items[i].label as i64);
    }
    Ok(cochlea_model::Dataset::new(x, y, rows, spec.clip_frames)?)
}

/// The dataset featurised and split: what both `run` and `doctor` start from.
pub struct Setup {
    /// Files, features, classes.
    pub p: Prepared,
    /// The folds.
    pub folds: Vec<Fold>,
    /// Frames per model input.
    pub frames: usize,
}

/// Discovers, featurises and splits the data of `cfg`.
pub fn setup(cfg: &Config, quiet: bool) -> Result<Setup, Error> {
    let mut p = prepare(cfg, quiet)?;
    let folds = split::make_folds(&cfg.split, &p.items)?;
    let frames = if cfg.data.clip_frames > 0 {
        cfg.data.clip_frames
    } else {
        auto_frames(&p.extracted, &folds[0].train)
    };
    p.summary.clip_frames = frames;
    Ok(Setup { p, folds, frames })
}

/// The model inputs of one fold: normalizer fitted on its training part.
pub struct FoldInputs {
    /// Input recipe, stored in the bundle.
    pub spec: InputSpec,
    /// Training data.
    pub train: cochlea_model::Dataset,
    /// Validation data, if any.
    pub val: Option<cochlea_model::Dataset>,
    /// Test data.
    pub test: cochlea_model::Dataset,
}

/// Fits the normalizer on `fold.train` and builds the fold's datasets.
pub fn fold_inputs(
    cfg: &Config,
    p: &Prepared,
    fold: &Fold,
    frames: usize,
) -> Result<FoldInputs, Error> {
    let train_feats: Vec<&FeatureMatrix> = fold
        .train
        .iter()
        .map(|&i| &p.extracted[i].features)
        .collect();
    let normalizer = Normalizer::fit(
        cfg.normalize.method,
        p.extractor.n_rows(),
        &train_feats,
        paths_hash(&p.items, &fold.train),
    );
    let spec = InputSpec {
        features: cfg.features.clone(),
        sample_rate: cfg.data.sample_rate,
        row_names: p.extractor.row_names().to_vec(),
        clip_frames: frames,
        pad: cfg.data.pad,
        crop: cfg.data.crop,
        normalizer,
    };
    let train = model_data(p, &fold.train, &spec)?;
    let val = (!fold.val.is_empty())
        .then(|| model_data(p, &fold.val, &spec))
        .transpose()?;
    let test = model_data(p, &fold.test, &spec)?;
    Ok(FoldInputs {
        spec,
        train,
        val,
        test,
    })
}

/// Runs the config at `cfg_path`.
pub fn run(cfg_path: &Path, cfg: &Config, opts: &RunOptions) -> Result<RunResult, Error> {
    let t0 = Instant::now();
    let mut timings = BTreeMap::new();
    let Setup { p, folds, frames } = setup(cfg, opts.quiet)?;
    timings.insert("features".to_string(), t0.elapsed().as_secs_f64());
    if opts.stop.load(Ordering::SeqCst) {
        return Err(Error::Interrupted);
    }
    let mut findings = doctor::data_checks(cfg, &p, &folds);
    findings.extend(doctor::feature_checks(cfg, &p, &folds));
    let resolved = toml::to_string_pretty(cfg).unwrap_or_default();
    let run_dir = match &opts.resume {
        Some(dir) => dir.clone(),
        None => {
            let dir = new_run_dir(&cfg.report.dir, &cfg.name)?;
            atomic::write(&dir.join("config.toml"), resolved.as_bytes())?;
            dir
        }
    };
    eprintln!("run directory: {}", run_dir.display());
    let config_hash = blake3::hash(resolved.as_bytes()).to_hex().to_string();
    let data_hash = data_hash(&p);

    let mut results = Vec::new();
    let mut predictions = Vec::new();
    let mut stopped_at = None;
    let t_train = Instant::now();
    for fold in &folds {
        // A fold finished before an interruption is kept as it was.
        let state = run_dir.join("state").join(format!("{}.json", fold.name));
        if opts.resume.is_some()
            && let Some((res, preds)) = load_state(&state)
        {
            results.push(res);
            predictions.extend(preds);
            continue;
        }
        if opts.stop.load(Ordering::SeqCst) {
            stopped_at = Some(format!("before fold {}", fold.name));
            break;
        }
        let (res, preds, stopped) = run_fold(
            cfg,
            &p,
            fold,
            frames,
            &run_dir,
            folds.len() > 1,
            opts,
            &config_hash,
            &data_hash,
        )?;
        if stopped.is_some() {
            stopped_at = stopped;
        } else {
            atomic::write_json(&state, &(&res, &preds))?;
        }
        results.push(res);
        predictions.extend(preds);
        if stopped_at.is_some() {
            break;
        }
    }
    if results.is_empty() {
        return Err(Error::Interrupted);
    }
    let interrupted = stopped_at.is_some();
    timings.insert(
        "train_and_evaluate".to_string(),
        t_train.elapsed().as_secs_f64(),
    );
    let t_diag = Instant::now();
    let k = p.classes.len();
    findings.extend(doctor::arch_checks(
        &results[0].net,
        frames,
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
    // A linear probe on the first fold tells "no signal between features and
    // labels" apart from "the network failed to learn it".
    let fi = fold_inputs(cfg, &p, &folds[0], frames)?;
    let held_out = fi.val.as_ref().unwrap_or(&fi.test);
    let probes = doctor::Probes {
        linear: cochlea_model::linear_probe(&fi.train, held_out, k, cfg.train.seed).ok(),
        ..doctor::Probes::default()
    };
    let healthy = doctor::features_healthy(&findings);
    findings.extend(doctor::probe_checks(&probes, k, healthy));
    let findings = doctor::rank(doctor::dedupe(findings));
    timings.insert("diagnostics".to_string(), t_diag.elapsed().as_secs_f64());
    let acc: Vec<f64> = results.iter().map(|r| r.test.accuracy).collect();
    let bal: Vec<f64> = results.iter().map(|r| r.test.balanced_accuracy).collect();
    let mut result = RunResult {
        name: cfg.name.clone(),
        run_dir: run_dir.clone(),
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
    };
    let t_report = Instant::now();
    report::write_all(&result, &predictions, cfg, cfg_path)?;
    result
        .timings
        .insert("report".to_string(), t_report.elapsed().as_secs_f64());
    result
        .timings
        .insert("total".to_string(), t0.elapsed().as_secs_f64());
    atomic::write_json(&run_dir.join("metrics.json"), &result)?;
    Ok(result)
}

#[allow(clippy::too_many_arguments)]
fn run_fold(
    cfg: &Config,
    p: &Prepared,
    fold: &Fold,
    frames: usize,
    run_dir: &Path,
    many: bool,
    opts: &RunOptions,
    config_hash: &str,
    data_hash: &str,
) -> Result<(FoldResult, Vec<Prediction>, Option<String>), Error> {
    let FoldInputs {
        spec,
        train,
        val,
        test,
    } = fold_inputs(cfg, p, fold, frames)?;
    let normalizer = spec.normalizer.clone();
    let k = p.classes.len();
    let label = if many {
        format!("{} ", fold.name)
    } else {
        String::new()
    };
    let bundle_rel = if many {
        PathBuf::from("folds").join(&fold.name).join("model")
    } else {
        PathBuf::from("model")
    };
    let n_members = cfg.train.ensemble;
    let truth: Vec<usize> = fold.test.iter().map(|&i| p.items[i].label).collect();
    let t = Instant::now();
    let mut networks = Vec::with_capacity(n_members);
    let mut member_accuracy = Vec::new();
    // The first member's curves stand for the fold's training.
    let mut first: Option<(Vec<EpochMetrics>, usize, bool)> = None;
    // Where training stopped, if it was interrupted.
    let mut interrupted: Option<String> = None;
    for member in 0..n_members {
        let (title, checkpoints) = if n_members == 1 {
            (format!("{label}train"), "checkpoints".to_string())
        } else {
            (
                format!("{label}train {}/{n_members}", member + 1),
                match member {
                    0 => "checkpoints".to_string(),
                    m => format!("checkpoints-member-{}", m + 1),
                },
            )
        };
        let pb = progress::bar(cfg.train.epochs as u64, &title, opts.quiet);
        let stop = opts.stop.clone();
        let mut on_epoch = |m: &EpochMetrics| {
            pb.set_position(m.epoch as u64);
            pb.set_message(format!(
                "loss {:.3} acc {:.3}{}",
                m.train_loss,
                m.train_accuracy,
                m.val_accuracy
                    .map(|a| format!(" val {a:.3}"))
                    .unwrap_or_default()
            ));
            if stop.load(Ordering::SeqCst) {
                Control::Stop
            } else {
                Control::Continue
            }
        };
        let train_cfg = TrainConfig {
            seed: cfg.train.member_seed(member),
            ..cfg.train.clone()
        };
        let outcome = cochlea_model::train(
            &cfg.model,
            &train_cfg,
            &cfg.augment,
            k,
            &train,
            val.as_ref(),
            TrainOptions {
                checkpoint_dir: Some(&run_dir.join(&bundle_rel).with_file_name(checkpoints)),
                resume: opts.resume.is_some(),
                on_epoch: &mut on_epoch,
                on_batch: None,
            },
        )?;
        pb.finish_and_clear();
        if n_members > 1 {
            let proba = outcome.model.predict_proba(&test.x, test.len())?;
            member_accuracy.push(metrics::evaluate(&p.classes, &truth, &proba).accuracy);
        }
        if outcome.interrupted {
            let network = if n_members > 1 {
                format!(", network {} of {n_members},", member + 1)
            } else {
                String::new()
            };
            interrupted = Some(format!(
                "fold {}{network} after epoch {} of {}",
                fold.name,
                outcome.history.len(),
                cfg.train.epochs
            ));
        }
        first.get_or_insert((outcome.history, outcome.best_epoch, outcome.stopped_early));
        networks.push(outcome.model);
        if interrupted.is_some() {
            break;
        }
    }
    let train_seconds = t.elapsed().as_secs_f64();
    let (history, best_epoch, stopped_early) = first.unwrap_or_default();
    let model = Classifier::ensemble(networks)?;
    let proba = model.predict_proba(&test.x, test.len())?;
    let test_metrics = metrics::evaluate(&p.classes, &truth, &proba);
    let preds: Vec<Prediction> = fold
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
            }
        })
        .collect();
    let metadata = serde_json::json!({
        "input": spec,
        "fold": fold.name,
        "run": cfg.name,
        "config_hash": config_hash,
        "data_hash": data_hash,
        "test_metrics": test_metrics,
        "versions": { "cochlea": env!("CARGO_PKG_VERSION") },
    });
    // A model stopped mid-training is not a result anyone should use: only
    // the checkpoint is kept, for `--resume`.
    if interrupted.is_none() {
        save_bundle(&model, &run_dir.join(&bundle_rel), &p.classes, &metadata)?;
    }
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
        bundle: bundle_rel,
        normalizer,
        train_seconds,
        member_accuracy,
    };
    Ok((result, preds, interrupted))
}

/// A completed fold saved by an earlier (interrupted) invocation.
fn load_state(path: &Path) -> Option<(FoldResult, Vec<Prediction>)> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn save_bundle(
    model: &Classifier,
    dir: &Path,
    classes: &[String],
    metadata: &serde_json::Value,
) -> Result<(), Error> {
    model.save(dir, classes, metadata)?;
    Ok(())
}

fn data_hash(p: &Prepared) -> String {
    let mut h = blake3::Hasher::new();
    for (it, e) in p.items.iter().zip(&p.extracted) {
        h.update(it.path.as_os_str().as_encoded_bytes());
        h.update(e.content_hash.as_bytes());
        h.update(p.classes[it.label].as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// Mean and population standard deviation.
pub fn mean_std(v: &[f64]) -> [f64; 2] {
    if v.is_empty() {
        return [0.0, 0.0];
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    [
        m,
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt(),
    ]
}

/// Creates `<root>/<name>-<UTC timestamp>[-N]`, never reusing an existing folder.
pub fn new_run_dir(root: &Path, name: &str) -> Result<PathBuf, Error> {
    std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    let stamp = utc_stamp();
    for n in 1..1000 {
        let dir = if n == 1 {
            root.join(format!("{name}-{stamp}"))
        } else {
            root.join(format!("{name}-{stamp}-{n}"))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
    Err(Error::Data(format!(
        "cannot create a new run directory in {}",
        root.display()
    )))
}

/// `YYYYmmdd-HHMMSS` in UTC.
pub fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The clip info of every used file, for audits.
pub fn infos(p: &Prepared) -> Vec<&ClipInfo> {
    p.extracted.iter().map(|e| &e.info).collect()
}
