//! The dataset discovered, featurised and split: what `run` and `doctor`
//! start from, and the model inputs of one fold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cochlea_features::Extractor;
use cochlea_features::FeatureMatrix;

use crate::cache::Cache;
use crate::config::Config;
#[cfg(feature = "torch")]
use crate::config::LongClips;
use crate::dataset::{self, Item};
use crate::error::Error;
use crate::extract::{self, Extracted};
#[cfg(feature = "torch")]
use crate::normalize::Normalizer;
use crate::results::DataSummary;
#[cfg(feature = "torch")]
use crate::spec::InputSpec;
use crate::split::{self, Fold};

/// Files with their features, labels and groups; bad files removed.
pub struct Prepared {
    /// Class names.
    pub classes: Vec<String>,
    /// Items that decoded.
    pub items: Vec<Item>,
    /// Their features.
    pub extracted: Vec<Extracted>,
    /// The features of each item's noisy copies (`noisy[i]` for item `i`;
    /// all empty unless `augment.background_noise_dir` is set): training
    /// sets take the copies of their own items only.
    pub noisy: Vec<Vec<FeatureMatrix>>,
    /// The extractor used.
    pub extractor: Extractor,
    /// Data summary.
    pub summary: DataSummary,
}

/// Discovers and featurises the dataset of `cfg`.
pub fn prepare(cfg: &Config, quiet: bool) -> Result<Prepared, Error> {
    prepare_items(cfg, dataset::discover(&cfg.data)?, quiet)
}

/// Featurises the files of `ds` (all of them, or a subset a caller chose,
/// such as the files a search may look at) with the features of `cfg`.
pub fn prepare_items(cfg: &Config, ds: dataset::Dataset, quiet: bool) -> Result<Prepared, Error> {
    let extractor = Extractor::new(&cfg.features, cfg.data.sample_rate)?;
    let cache = cfg.cache.enabled.then(|| {
        let root = cfg.cache.dir.clone().unwrap_or_else(Cache::default_root);
        Cache::new(
            &root,
            &extract::feature_key(&cfg.features, cfg.data.sample_rate),
        )
    });
    // A raw-waveform "frame" is one sample.
    let hop_seconds = if cfg.features.has(cochlea_features::FeatureKind::Raw) {
        1.0
    } else {
        cfg.features.hop_length as f64
    } / f64::from(cfg.data.sample_rate);
    // Each file is decoded and featurised once, however many segments it has.
    let mut paths: Vec<PathBuf> = ds.items.iter().map(|i| i.path.clone()).collect();
    paths.sort();
    paths.dedup();
    let results = extract::extract_all(&paths, &extractor, cache.as_ref(), quiet);
    let mut by_path: BTreeMap<PathBuf, Result<Extracted, String>> =
        paths.into_iter().zip(results).collect();
    let mut ds_items = ds.items.clone();
    if cfg.data.background
        && let Some(label) = ds.classes.iter().position(|c| c == dataset::BACKGROUND)
        // Items handed back by a caller (a search) already hold theirs.
        && !ds_items.iter().any(|i| i.label == label && i.span.is_some())
    {
        let durations = by_path
            .iter()
            .filter_map(|(p, r)| r.as_ref().ok().map(|e| (p.clone(), e.info.duration_s)))
            .collect();
        let bg = crate::segments::background(&ds_items, &durations, label, cfg.split.seed);
        ds_items.extend(bg);
        ds_items.sort_by(|a, b| {
            a.path.cmp(&b.path).then(
                a.span
                    .partial_cmp(&b.span)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
        });
    }
    // Items of a file in order; the last, when it is the whole file, takes
    // the features, every other one copies or cuts them.
    let mut uses: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for it in &ds_items {
        *uses.entry(it.path.clone()).or_default() += 1;
    }
    let mut skipped = ds.skipped.clone();
    let mut items = Vec::new();
    let mut extracted = Vec::new();
    for item in &ds_items {
        let left = uses.entry(item.path.clone()).or_default();
        *left = left.saturating_sub(1);
        let last = *left == 0;
        let r = match (item.span, by_path.get(&item.path)) {
            (_, None) => continue,
            (_, Some(Err(msg))) => Err(msg.clone()),
            (Some(span), Some(Ok(e))) => crate::segments::cut(e, span, hop_seconds),
            (None, Some(Ok(_))) => {
                if last {
                    by_path
                        .remove(&item.path)
                        .unwrap_or_else(|| Err(String::new()))
                } else {
                    by_path[&item.path].clone()
                }
            }
        };
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
        hop_seconds,
        noise: None,
    };
    let (noisy, noise) = crate::noise::noisy_copies(cfg, &items, &extractor, quiet)?;
    let summary = DataSummary { noise, ..summary };
    Ok(Prepared {
        classes: ds.classes,
        items,
        extracted,
        noisy,
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

/// The clips of `idx` as (features, label), in order.
pub fn clean_clips<'a>(p: &'a Prepared, idx: &[usize]) -> Vec<(&'a FeatureMatrix, i64)> {
    idx.iter()
        .map(|&i| (&p.extracted[i].features, p.items[i].label as i64))
        .collect()
}

/// The clips of `idx`, then the noisy copies of each (item by item, copy
/// by copy): a training set. Only the items of `idx` give copies, so a
/// fold's training set holds no copy of a held-out clip.
pub fn training_clips<'a>(p: &'a Prepared, idx: &[usize]) -> Vec<(&'a FeatureMatrix, i64)> {
    let mut out = clean_clips(p, idx);
    for &i in idx {
        let label = p.items[i].label as i64;
        out.extend(p.noisy.get(i).into_iter().flatten().map(|m| (m, label)));
    }
    out
}

#[cfg(feature = "torch")]
/// Builds a model dataset of `clips` with `spec`.
fn model_data(
    clips: &[(&FeatureMatrix, i64)],
    spec: &InputSpec,
) -> Result<cochlea_model::Dataset, Error> {
    let (rows, frames) = (spec.input_rows(), spec.input_frames());
    let mut x = Vec::with_capacity(clips.len() * rows * frames);
    let mut y = Vec::with_capacity(clips.len());
    for &(m, label) in clips {
        x.extend(spec.prepare(m));
        y.push(label);
    }
    Ok(cochlea_model::Dataset::new(x, y, rows, frames)?)
}

#[cfg(feature = "torch")]
/// The training set of `clips` with its whole (normalized) clips, padded to
/// at least one input, for a fresh random crop of each every epoch; `x`
/// holds the crops `spec` takes (centre or start).
fn long_data(
    clips: &[(&FeatureMatrix, i64)],
    spec: &InputSpec,
) -> Result<cochlea_model::Dataset, Error> {
    let mut long = cochlea_model::LongExamples {
        x: Vec::new(),
        lens: Vec::with_capacity(clips.len()),
    };
    for &(f, _) in clips {
        let m = spec.normalizer.apply(f);
        let len = m.n_frames.max(spec.clip_frames);
        long.x
            .extend(crate::normalize::window(&m, 0, len, spec.pad));
        long.lens.push(len);
    }
    Ok(model_data(clips, spec)?.with_long(long)?)
}

#[cfg(feature = "torch")]
/// Every window of every clip of `clips` (hop: half an input,
/// `normalize::window_starts`) as an example of its clip's label; with
/// `of_clip`, each window knows its clip, so a clip's prediction is the
/// mean over its windows.
fn window_data(
    clips: &[(&FeatureMatrix, i64)],
    rows: usize,
    spec: &InputSpec,
    of_clip: bool,
) -> Result<cochlea_model::Dataset, Error> {
    let (mut x, mut y, mut of) = (Vec::new(), Vec::new(), Vec::new());
    for (c, &(f, label)) in clips.iter().enumerate() {
        let m = spec.normalizer.apply(f);
        for s in crate::normalize::window_starts(m.n_frames, spec.clip_frames) {
            x.extend(crate::normalize::window(&m, s, spec.clip_frames, spec.pad));
            y.push(label);
            of.push(c);
        }
    }
    let d = cochlea_model::Dataset::new(x, y, rows, spec.clip_frames)?;
    Ok(if of_clip { d.with_clips(of)? } else { d })
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

#[cfg(feature = "torch")]
/// The model inputs of one fold: normalizer fitted on its training part.
pub struct FoldInputs {
    /// Input recipe, stored in the bundle.
    pub spec: InputSpec,
    /// Training data: one crop per clip, with the whole clips for random
    /// crops (`data.long_clips = "random_crop"`), or every window of every
    /// clip (`"windows"`).
    pub train: cochlea_model::Dataset,
    /// Validation data, if any: one crop per clip, or every window marked
    /// with its clip (`Dataset::clips`) unless `data.long_clips = "crop"`.
    pub val: Option<cochlea_model::Dataset>,
    /// Test data, as validation; `Dataset::predict_clips` gives one row of
    /// probabilities per clip of `fold.test`.
    pub test: cochlea_model::Dataset,
}

#[cfg(feature = "torch")]
/// Fits the normalizer on the clean clips of `fold.train` and builds the
/// fold's datasets; the training set adds their noisy copies, if any.
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
    let long = cfg.data.long_clips;
    let rows = p.extractor.n_rows();
    // The clean training clips and their noisy copies; a copy of a long
    // clip is a long clip, cropped or windowed as its original.
    let train_clips = training_clips(p, &fold.train);
    let train = match long {
        LongClips::Crop => model_data(&train_clips, &spec)?,
        LongClips::RandomCrop => long_data(&train_clips, &spec)?,
        LongClips::Windows => window_data(&train_clips, rows, &spec, false)?,
    };
    // Held-out clips, never a copy: one crop each, or the mean over all
    // their windows.
    let held_out = |idx: &[usize]| {
        let clips = clean_clips(p, idx);
        match long {
            LongClips::Crop => model_data(&clips, &spec),
            LongClips::RandomCrop | LongClips::Windows => window_data(&clips, rows, &spec, true),
        }
    };
    let val = (!fold.val.is_empty())
        .then(|| held_out(&fold.val))
        .transpose()?;
    let test = held_out(&fold.test)?;
    Ok(FoldInputs {
        spec,
        train,
        val,
        test,
    })
}

/// BLAKE3 over (path, content hash, label) of every file used.
pub fn data_hash(p: &Prepared) -> String {
    let mut h = blake3::Hasher::new();
    for (it, e) in p.items.iter().zip(&p.extracted) {
        h.update(it.path.as_os_str().as_encoded_bytes());
        h.update(e.content_hash.as_bytes());
        h.update(p.classes[it.label].as_bytes());
    }
    h.finalize().to_hex().to_string()
}
