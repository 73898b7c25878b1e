//! Splitting files into train / validation / test, one or more folds.
//!
//! Every strategy is deterministic for a seed. Group-aware strategies never
//! put one group (speaker, source recording) on two sides, and take the
//! validation set from the training part by the same rule, so model
//! selection never sees a test group.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use regex::Regex;

use crate::config::{SplitConfig, Strategy};
use crate::dataset::{Item, Part};
use crate::error::Error;
use crate::source::relative;

/// Indices into the dataset's items for one train/val/test division.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    /// "main" for a single split, "fold1".., or the held-out group's name.
    pub name: String,
    /// Training items.
    pub train: Vec<usize>,
    /// Validation items (from the training part only).
    pub val: Vec<usize>,
    /// Test items.
    pub test: Vec<usize>,
}

/// Makes the folds the config asks for over `items` (indices `0..items.len()`).
///
/// When items are segments of files (strong labels), the random
/// strategies run on groups, whose default is the file (`dataset`), so the
/// segments of one recording never sit on both sides: "stratified" runs as
/// "group" and "kfold" as "group-kfold".
pub fn make_folds(cfg: &SplitConfig, items: &[Item]) -> Result<Vec<Fold>, Error> {
    let by_file;
    let cfg = if items.iter().any(|i| i.span.is_some()) {
        let strategy = match cfg.strategy {
            Strategy::Stratified => Strategy::Group,
            Strategy::Kfold => Strategy::GroupKfold,
            s => s,
        };
        by_file = SplitConfig {
            strategy,
            ..cfg.clone()
        };
        &by_file
    } else {
        cfg
    };
    let all: Vec<usize> = (0..items.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let grouped = matches!(
        cfg.strategy,
        Strategy::Group | Strategy::GroupKfold | Strategy::LeaveOneGroupOut
    );
    if grouped && items.iter().all(|i| i.group.is_empty()) {
        return Err(Error::Split(crate::config::no_groups(cfg.strategy)));
    }
    let tests: Vec<(String, Vec<usize>)> = match cfg.strategy {
        Strategy::Stratified => vec![(
            "main".into(),
            stratified_pick(&all, items, cfg.test_fraction, &mut rng),
        )],
        Strategy::Group => vec![(
            "main".into(),
            group_pick(&all, items, cfg.test_fraction, &mut rng),
        )],
        Strategy::Predefined => vec![("main".into(), predefined(cfg, items)?)],
        Strategy::Kfold => stratified_kfold(&all, items, cfg.folds, &mut rng),
        Strategy::GroupKfold => group_kfold(&all, items, cfg.folds, &mut rng)?,
        Strategy::LeaveOneGroupOut => leave_one_group_out(items)?,
    };
    let mut folds = Vec::new();
    for (name, mut test) in tests {
        test.sort_unstable();
        if test.is_empty() {
            return Err(Error::Split(format!("fold {name}: the test set is empty")));
        }
        let rest: Vec<usize> = all
            .iter()
            .copied()
            .filter(|i| test.binary_search(i).is_err())
            .collect();
        if rest.is_empty() {
            return Err(Error::Split(format!(
                "fold {name}: no files are left for training"
            )));
        }
        let stated: Vec<usize> = if cfg.strategy == Strategy::Predefined {
            rest.iter()
                .copied()
                .filter(|&i| items[i].split == Some(Part::Val))
                .collect()
        } else {
            Vec::new()
        };
        let mut val = if !stated.is_empty() {
            // The predefined validation files, whatever val_fraction says.
            stated
        } else if cfg.val_fraction <= 0.0 {
            Vec::new()
        } else if grouped {
            group_pick(&rest, items, cfg.val_fraction, &mut rng)
        } else {
            stratified_pick(&rest, items, cfg.val_fraction, &mut rng)
        };
        val.sort_unstable();
        let train: Vec<usize> = rest
            .iter()
            .copied()
            .filter(|i| val.binary_search(i).is_err())
            .collect();
        if train.is_empty() {
            return Err(Error::Split(format!(
                "fold {name}: validation took every training file; lower split.val_fraction"
            )));
        }
        folds.push(Fold {
            name,
            train,
            val,
            test,
        });
    }
    Ok(folds)
}

/// Per class, `round(fraction * n)` items (at least one where a class has two or more).
fn stratified_pick(
    pool: &[usize],
    items: &[Item],
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        by_class.entry(items[i].label).or_default().push(i);
    }
    let mut out = Vec::new();
    for (_, mut v) in by_class {
        v.shuffle(rng);
        let mut k = (fraction * v.len() as f64).round() as usize;
        if k == 0 && v.len() >= 2 && fraction > 0.0 {
            k = 1;
        }
        out.extend_from_slice(&v[..k.min(v.len().saturating_sub(1))]);
    }
    out
}

fn groups_of(pool: &[usize], items: &[Item]) -> BTreeMap<String, Vec<usize>> {
    let mut g: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        g.entry(items[i].group.clone()).or_default().push(i);
    }
    g
}

/// Whole groups, in a seeded random order, until `fraction` of the items is reached.
fn group_pick(pool: &[usize], items: &[Item], fraction: f64, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let groups = groups_of(pool, items);
    if groups.len() < 2 {
        return Vec::new();
    }
    let mut names: Vec<&String> = groups.keys().collect();
    names.shuffle(rng);
    let target = fraction * pool.len() as f64;
    let mut out = Vec::new();
    for name in names.iter().take(groups.len() - 1) {
        if out.len() as f64 >= target {
            break;
        }
        out.extend_from_slice(&groups[*name]);
    }
    out
}

fn predefined(cfg: &SplitConfig, items: &[Item]) -> Result<Vec<usize>, Error> {
    if let Some(re) = &cfg.test {
        let re = Regex::new(re).map_err(|e| Error::Split(format!("split.test: {e}")))?;
        // As the label and group regexes: the file name, else the path
        // relative to the data root.
        let test: Vec<usize> = (0..items.len())
            .filter(|&i| {
                let path = &items[i].path;
                path.file_name()
                    .is_some_and(|n| re.is_match(&n.to_string_lossy()))
                    || cfg
                        .root
                        .as_deref()
                        .is_some_and(|root| re.is_match(&relative(path, root)))
            })
            .collect();
        if test.is_empty() {
            return Err(Error::Split(format!(
                "split.test: regex {:?} matches no file name or path relative to data.root",
                re.as_str()
            )));
        }
        return Ok(test);
    }
    let test: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].split == Some(Part::Test))
        .collect();
    if test.is_empty() {
        return Err(Error::Split(
            "the manifest's split column (or the layout) marks no file as \"test\"".into(),
        ));
    }
    Ok(test)
}

fn stratified_kfold(
    pool: &[usize],
    items: &[Item],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<(String, Vec<usize>)> {
    let mut folds = vec![Vec::new(); k];
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        by_class.entry(items[i].label).or_default().push(i);
    }
    for (offset, (_, mut v)) in by_class.into_iter().enumerate() {
        v.shuffle(rng);
        for (j, i) in v.into_iter().enumerate() {
            folds[(j + offset) % k].push(i);
        }
    }
    folds
        .into_iter()
        .enumerate()
        .map(|(f, t)| (format!("fold{}", f + 1), t))
        .collect()
}

/// Largest groups first, each into the currently smallest fold (as
/// scikit-learn's GroupKFold), ties broken by a seeded shuffle.
fn group_kfold(
    pool: &[usize],
    items: &[Item],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<(String, Vec<usize>)>, Error> {
    let groups = groups_of(pool, items);
    if groups.len() < k {
        return Err(Error::Split(format!(
            "split.folds: {k} folds need at least {k} groups, found {}",
            groups.len()
        )));
    }
    let mut list: Vec<Vec<usize>> = groups.into_values().collect();
    list.shuffle(rng);
    list.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut folds = vec![Vec::new(); k];
    for g in list {
        let smallest = (0..k).min_by_key(|&f| folds[f].len()).unwrap_or(0);
        folds[smallest].extend(g);
    }
    Ok(folds
        .into_iter()
        .enumerate()
        .map(|(f, t)| (format!("fold{}", f + 1), t))
        .collect())
}

fn leave_one_group_out(items: &[Item]) -> Result<Vec<(String, Vec<usize>)>, Error> {
    let all: Vec<usize> = (0..items.len()).collect();
    let groups = groups_of(&all, items);
    if groups.len() < 2 {
        return Err(Error::Split(format!(
            "leave-one-group-out needs at least 2 groups, found {}",
            groups.len()
        )));
    }
    Ok(groups.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    fn items(n_classes: usize, n_groups: usize, per: usize) -> Vec<Item> {
        let mut v = Vec::new();
        for c in 0..n_classes {
            for g in 0..n_groups {
                for t in 0..per {
                    v.push(Item {
                        path: PathBuf::from(format!("{c}_g{g}_{t}.wav")),
                        label: c,
                        group: format!("g{g}"),
                        split: None,
                        span: None,
                    });
                }
            }
        }
        v
    }

    fn groups(items: &[Item], idx: &[usize]) -> HashSet<String> {
        idx.iter().map(|&i| items[i].group.clone()).collect()
    }

    #[test]
    fn group_strategies_need_groups_and_segments_bring_their_file() {
        let mut v = items(2, 4, 3);
        for it in &mut v {
            it.group.clear();
        }
        let cfg = SplitConfig {
            strategy: Strategy::GroupKfold,
            folds: 2,
            ..SplitConfig::default()
        };
        let e = make_folds(&cfg, &v).unwrap_err().to_string();
        assert!(e.contains("data.group") && e.contains("group-kfold"), "{e}");
        // Segments whose group is their file split by file.
        for (k, it) in v.iter_mut().enumerate() {
            it.span = Some((0.0, 1.0));
            it.group = format!("rec{}", k % 6);
        }
        let folds = make_folds(&cfg, &v).unwrap();
        for f in &folds {
            assert!(groups(&v, &f.train).is_disjoint(&groups(&v, &f.test)));
        }
    }

    #[test]
    fn group_strategies_never_share_a_group() {
        let it = items(4, 6, 5);
        for strategy in [
            Strategy::Group,
            Strategy::GroupKfold,
            Strategy::LeaveOneGroupOut,
        ] {
            let cfg = SplitConfig {
                strategy,
                folds: 3,
                ..SplitConfig::default()
            };
            let folds = make_folds(&cfg, &it).unwrap();
            for f in &folds {
                let (tr, va, te) = (
                    groups(&it, &f.train),
                    groups(&it, &f.val),
                    groups(&it, &f.test),
                );
                assert!(tr.is_disjoint(&te), "{strategy:?} {}", f.name);
                assert!(tr.is_disjoint(&va), "{strategy:?} {}", f.name);
                assert!(va.is_disjoint(&te), "{strategy:?} {}", f.name);
                assert_eq!(f.train.len() + f.val.len() + f.test.len(), it.len());
            }
        }
    }

    #[test]
    fn predefined_split_keeps_stated_validation_files() {
        let mut it = items(2, 1, 10);
        for (i, item) in it.iter_mut().enumerate() {
            item.split = Some(match i % 5 {
                0 => Part::Test,
                1 => Part::Val,
                _ => Part::Train,
            });
        }
        let cfg = SplitConfig {
            strategy: Strategy::Predefined,
            ..SplitConfig::default()
        };
        let f = &make_folds(&cfg, &it).unwrap()[0];
        assert!(f.test.iter().all(|&i| it[i].split == Some(Part::Test)));
        assert!(f.val.iter().all(|&i| it[i].split == Some(Part::Val)));
        assert!(f.train.iter().all(|&i| it[i].split == Some(Part::Train)));
        assert_eq!((f.test.len(), f.val.len(), f.train.len()), (4, 4, 12));
    }

    #[test]
    fn the_test_regex_sees_the_file_name_else_the_relative_path() {
        let root = PathBuf::from("/data");
        let it: Vec<Item> = ["train/a/1.wav", "test/a/2.wav", "train/b/test_3.wav"]
            .iter()
            .enumerate()
            .map(|(i, rel)| Item {
                path: root.join(rel),
                label: i % 2,
                group: String::new(),
                split: None,
                span: None,
            })
            .collect();
        let test_of = |re: &str, root: Option<PathBuf>| {
            let cfg = SplitConfig {
                strategy: Strategy::Predefined,
                test: Some(re.into()),
                root,
                val_fraction: 0.0,
                ..SplitConfig::default()
            };
            make_folds(&cfg, &it).map(|f| f[0].test.clone())
        };
        assert_eq!(test_of("^test/", Some(root.clone())).unwrap(), vec![1]);
        assert_eq!(test_of("^test_", Some(root.clone())).unwrap(), vec![2]);
        // Without the root only file names are seen.
        let e = test_of("^test/", None).unwrap_err().to_string();
        assert!(e.contains("split.test") && e.contains("^test/"), "{e}");
    }

    #[test]
    fn kfold_tests_cover_every_item_once() {
        let it = items(3, 2, 10);
        let cfg = SplitConfig {
            strategy: Strategy::Kfold,
            folds: 4,
            ..SplitConfig::default()
        };
        let folds = make_folds(&cfg, &it).unwrap();
        let mut all: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..it.len()).collect::<Vec<_>>());
    }

    #[test]
    fn stratified_split_keeps_every_class_on_both_sides() {
        let it = items(5, 1, 10);
        let folds = make_folds(&SplitConfig::default(), &it).unwrap();
        let f = &folds[0];
        for c in 0..5 {
            assert!(f.test.iter().any(|&i| it[i].label == c));
            assert!(f.train.iter().any(|&i| it[i].label == c));
        }
        assert_eq!(f.test.len(), 10);
    }

    #[test]
    fn same_seed_same_split_other_seed_other_split() {
        let it = items(4, 1, 20);
        let a = make_folds(&SplitConfig::default(), &it).unwrap();
        let b = make_folds(&SplitConfig::default(), &it).unwrap();
        let c = make_folds(
            &SplitConfig {
                seed: 1,
                ..SplitConfig::default()
            },
            &it,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a[0].test, c[0].test);
    }
}
