//! What a search may look at: the files of the outer training parts, their
//! features (computed once per feature setting, through the shared feature
//! cache), the outer folds and the inner folds built inside them.
//!
//! With a single test split the test files are left out before anything is
//! decoded: the search never opens them. With k-fold or leave-one-group-out
//! every file is featurised (each is an outer test file once), and each
//! outer fold's search only indexes its own training part.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::config::{Config, SplitConfig, Strategy};
use crate::dataset::{self, Item};
use crate::error::Error;
use crate::extract;
use crate::prepare::{self, Prepared};
use crate::split::{self, Fold};

/// One outer fold: the part searched and the part scored once at the end.
#[derive(Clone, Debug)]
pub struct OuterFold {
    /// Fold name ("main" for a single split).
    pub name: String,
    /// Items the search may use (outer train and validation), sorted.
    pub search: Vec<usize>,
    /// Outer test items (empty for a single split: `pipeline run` scores it).
    pub test: Vec<usize>,
}

/// The searchable files and their features per feature setting.
pub struct Pool {
    /// The files, in the order of every index in this module.
    pub items: Vec<Item>,
    /// Class names.
    pub classes: Vec<String>,
    /// Outer folds.
    pub outer: Vec<OuterFold>,
    /// Nested cross-validation (k-fold or leave-one-group-out).
    pub nested: bool,
    /// Every file featurised, for the record (`featurised.txt`).
    pub featurised: BTreeSet<PathBuf>,
    by_setting: BTreeMap<String, Prepared>,
    quiet: bool,
}

/// True for strategies with several outer folds, tuned by nested CV.
pub fn is_nested(s: Strategy) -> bool {
    matches!(
        s,
        Strategy::Kfold | Strategy::GroupKfold | Strategy::LeaveOneGroupOut
    )
}

impl Pool {
    /// Discovers the data of `cfg`, splits it, and featurises what the
    /// search may see.
    pub fn new(cfg: &Config, quiet: bool) -> Result<Pool, Error> {
        let mut ds = dataset::discover(&cfg.data)?;
        let nested = is_nested(cfg.split.strategy);
        if !nested {
            // The test files are dropped before any is decoded.
            let folds = split::make_folds(&cfg.split, &ds.items)?;
            let mut keep: Vec<usize> = folds[0].train.clone();
            keep.extend(&folds[0].val);
            keep.sort_unstable();
            ds.items = keep.iter().map(|&i| ds.items[i].clone()).collect();
        }
        let p = prepare::prepare_items(cfg, ds, quiet)?;
        let outer = if nested {
            split::make_folds(&cfg.split, &p.items)?
                .into_iter()
                .map(|f| {
                    let mut search = f.train;
                    search.extend(f.val);
                    search.sort_unstable();
                    OuterFold {
                        name: f.name,
                        search,
                        test: f.test,
                    }
                })
                .collect()
        } else {
            vec![OuterFold {
                name: "main".into(),
                search: (0..p.items.len()).collect(),
                test: Vec::new(),
            }]
        };
        let mut pool = Pool {
            items: p.items.clone(),
            classes: p.classes.clone(),
            outer,
            nested,
            featurised: p.items.iter().map(|i| i.path.clone()).collect(),
            by_setting: BTreeMap::new(),
            quiet,
        };
        pool.by_setting.insert(setting(cfg), p);
        Ok(pool)
    }

    /// The features of every pool file under the feature settings of `cfg`,
    /// computed the first time a setting is asked for.
    pub fn features(&mut self, cfg: &Config) -> Result<&Prepared, Error> {
        let key = setting(cfg);
        if !self.by_setting.contains_key(&key) {
            let ds = dataset::Dataset {
                classes: self.classes.clone(),
                items: self.items.clone(),
                skipped: Vec::new(),
            };
            let p = prepare::prepare_items(cfg, ds, self.quiet)?;
            if p.items.len() != self.items.len() {
                return Err(Error::Data(format!(
                    "{} files that decode with the base features fail with these settings",
                    self.items.len() - p.items.len()
                )));
            }
            self.by_setting.insert(key.clone(), p);
        }
        self.by_setting
            .get(&key)
            .ok_or_else(|| Error::Data("feature setting missing".into()))
    }

    /// The inner folds of outer fold `outer` for a trial config: group
    /// k-fold over the training groups when the config has groups,
    /// stratified k-fold otherwise; validation taken from each inner
    /// training part by the trial's `split.val_fraction`.
    pub fn inner_folds(
        &self,
        outer: usize,
        cfg: &Config,
        folds: usize,
        seed: u64,
    ) -> Result<Vec<Fold>, Error> {
        let search = &self.outer[outer].search;
        let sub: Vec<Item> = search.iter().map(|&i| self.items[i].clone()).collect();
        let groups: BTreeSet<&str> = sub.iter().map(|i| i.group.as_str()).collect();
        let grouped = super::space::has_groups(cfg) && groups.len() >= 2;
        let split_cfg = SplitConfig {
            strategy: if grouped {
                Strategy::GroupKfold
            } else {
                Strategy::Kfold
            },
            folds: if grouped {
                folds.min(groups.len())
            } else {
                folds
            },
            val_fraction: cfg.split.val_fraction,
            seed,
            ..SplitConfig::default()
        };
        let back = |v: Vec<usize>| v.into_iter().map(|j| search[j]).collect::<Vec<_>>();
        Ok(split::make_folds(&split_cfg, &sub)?
            .into_iter()
            .map(|f| Fold {
                name: f.name,
                train: back(f.train),
                val: back(f.val),
                test: back(f.test),
            })
            .collect())
    }

    /// Outer fold `outer` as the trial config `cfg` splits it (its own
    /// validation share of the training part); the test part is the outer one.
    pub fn outer_fold(&self, outer: usize, cfg: &Config) -> Result<Fold, Error> {
        let folds = split::make_folds(&cfg.split, &self.items)?;
        let o = &self.outer[outer];
        match folds.into_iter().find(|f| f.name == o.name) {
            Some(f) if f.test == o.test => Ok(f),
            _ => Err(Error::Split(format!(
                "outer fold {}: the tuned split settings change its test part",
                o.name
            ))),
        }
    }
}

/// Everything that changes a file's features and its noisy copies'.
fn setting(cfg: &Config) -> String {
    let mut key = extract::feature_key(&cfg.features, cfg.data.sample_rate);
    let a = &cfg.augment;
    if let Some(dir) = &a.background_noise_dir
        && a.background_noise_copies > 0
    {
        key.push_str(&format!(
            " noise {} {:?} {} {}",
            dir.display(),
            a.background_noise_snr_db,
            a.background_noise_copies,
            crate::noise::run_seed(cfg)
        ));
    }
    key
}
