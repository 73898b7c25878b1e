//! The dataset discovered, featurised and split: what `run` and `doctor`
//! start from, and the model inputs of one fold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cochlea_features::Extractor;
#[cfg(feature = "torch")]
use cochlea_features::FeatureMatrix;

use crate::cache::Cache;
use crate::config::Config;
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

#[cfg(feature = "torch")]
/// Builds a model dataset of `idx` with `spec`.
fn model_data(
    p: &Prepared,
    idx: &[usize],
    spec: &InputSpec,
) -> Result<cochlea_model::Dataset, Error> {
    let (rows, frames) = (spec.input_rows(), spec.input_frames());
    let mut x = Vec::with_capacity(idx.len() * rows * frames);
    let mut y = Vec::with_capacity(idx.len());
    for &i in idx {
        x.extend(spec.prepare(&p.extracted[i].features));
        y.push(p.items[i].label as i64);
    }
    Ok(cochlea_model::Dataset::new(x, y, rows, frames)?)
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
    /// Training data.
    pub train: cochlea_model::Dataset,
    /// Validation data, if any.
    pub val: Option<cochlea_model::Dataset>,
    /// Test data.
    pub test: cochlea_model::Dataset,
}

#[cfg(feature = "torch")]
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
