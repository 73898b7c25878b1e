//! Segments of files as examples: an annotated segment's features are cut
//! from the features of its whole file (decoded and featurised once, and
//! cached like any file), and the `background` class is drawn from the
//! parts of annotated files that no annotation covers.
//!
//! A segment `(start, end)` keeps the frames `floor(start / hop)` to
//! `ceil(end / hop)` (exclusive) of its file: frame `k` is centred at
//! `k * hop` seconds. Length fitting (`data.clip_frames`, `data.long_clips`)
//! then applies to the segment as to a whole clip.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::Item;
use crate::extract::Extracted;

/// The frames `[first, last)` of a segment in a file of `n_frames` frames
/// of `hop` seconds; `None` when it starts at or after the file's end.
pub fn frame_range(span: (f64, f64), hop: f64, n_frames: usize) -> Option<(usize, usize)> {
    let first = (span.0 / hop).floor().max(0.0) as usize;
    let last = ((span.1 / hop).ceil() as usize).min(n_frames);
    (first < last).then_some((first, last))
}

/// `e` cut to the frames of `span`; `Err` names why it cannot be cut.
pub fn cut(e: &Extracted, span: (f64, f64), hop: f64) -> Result<Extracted, String> {
    let m = &e.features;
    let Some((a, b)) = frame_range(span, hop, m.n_frames) else {
        return Err(format!(
            "the segment {:.3}-{:.3} s starts after the end of the file ({:.3} s)",
            span.0, span.1, e.info.duration_s
        ));
    };
    let n = b - a;
    let mut data = Vec::with_capacity(m.n_rows * n);
    for r in 0..m.n_rows {
        data.extend_from_slice(&m.data[r * m.n_frames + a..r * m.n_frames + b]);
    }
    let mut info = e.info.clone();
    info.duration_s = (span.1.min(e.info.duration_s) - span.0).max(0.0);
    Ok(Extracted {
        info,
        features: cochlea_features::FeatureMatrix {
            n_rows: m.n_rows,
            n_frames: n,
            data,
        },
        content_hash: e.content_hash.clone(),
        from_cache: e.from_cache,
    })
}

/// The background segments of annotated files, by this rule: as many as
/// the median number of segments per class (at least 1), each as long as
/// the median segment, none overlapping an annotation or another
/// background segment. The free stretches of every file are tiled with
/// slots of that length (each stretch's slack spread by a seeded offset),
/// and slots are drawn without replacement in a seeded order. A segment
/// takes the group of its file's segments.
///
/// `files` holds each annotated file's duration (seconds); `items` are the
/// segments; `label` the background class index. Returns fewer segments
/// than the rule asks for when the files hold fewer free slots.
pub fn background(
    items: &[Item],
    durations: &BTreeMap<PathBuf, f64>,
    label: usize,
    seed: u64,
) -> Vec<Item> {
    let segs: Vec<&Item> = items.iter().filter(|i| i.span.is_some()).collect();
    if segs.is_empty() {
        return Vec::new();
    }
    let mut per_class: BTreeMap<usize, usize> = BTreeMap::new();
    for s in &segs {
        *per_class.entry(s.label).or_default() += 1;
    }
    let want = median_usize(per_class.values().copied().collect()).max(1);
    let mut lens: Vec<f64> = segs
        .iter()
        .filter_map(|s| s.span.map(|(a, b)| b - a))
        .collect();
    lens.sort_by(f64::total_cmp);
    let len = lens[lens.len() / 2];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut slots: Vec<Item> = Vec::new();
    let mut by_file: BTreeMap<&PathBuf, Vec<&Item>> = BTreeMap::new();
    for s in &segs {
        by_file.entry(&s.path).or_default().push(s);
    }
    for (path, segs) in by_file {
        let Some(&dur) = durations.get(path) else {
            continue;
        };
        let mut spans: Vec<(f64, f64)> = segs.iter().filter_map(|s| s.span).collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut free = Vec::new();
        let mut at = 0.0f64;
        for (a, b) in spans {
            if a > at {
                free.push((at, a));
            }
            at = at.max(b);
        }
        if dur > at {
            free.push((at, dur));
        }
        for (a, b) in free {
            let n = ((b - a) / len).floor() as usize;
            if n == 0 {
                continue;
            }
            let slack = (b - a) - n as f64 * len;
            let offset = rng.random::<f64>() * slack;
            for j in 0..n {
                let start = a + offset + j as f64 * len;
                slots.push(Item {
                    path: path.clone(),
                    label,
                    group: segs[0].group.clone(),
                    split: segs[0].split,
                    span: Some((start, start + len)),
                });
            }
        }
    }
    slots.shuffle(&mut rng);
    slots.truncate(want);
    slots
}

fn median_usize(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(path: &str, label: usize, span: (f64, f64)) -> Item {
        Item {
            path: PathBuf::from(path),
            label,
            group: path.into(),
            split: None,
            span: Some(span),
        }
    }

    #[test]
    fn frames_of_a_segment() {
        assert_eq!(frame_range((0.5, 1.0), 0.01, 1000), Some((50, 100)));
        assert_eq!(frame_range((9.0, 11.0), 0.01, 1000), Some((900, 1000)));
        assert_eq!(frame_range((10.0, 11.0), 0.01, 1000), None);
    }

    #[test]
    fn background_avoids_annotations_and_follows_the_rule() {
        let items = vec![
            seg("a.wav", 0, (1.0, 2.0)),
            seg("a.wav", 1, (4.0, 4.5)),
            seg("b.wav", 0, (0.0, 1.0)),
            seg("b.wav", 1, (5.0, 6.0)),
        ];
        let durations: BTreeMap<PathBuf, f64> =
            [(PathBuf::from("a.wav"), 8.0), (PathBuf::from("b.wav"), 8.0)].into();
        let bg = background(&items, &durations, 2, 7);
        // Two segments per class: two background segments of the median length (1 s).
        assert_eq!(bg.len(), 2);
        for b in &bg {
            let (s, e) = b.span.unwrap();
            assert!((e - s - 1.0).abs() < 1e-9 && s >= 0.0 && e <= 8.0);
            for i in items.iter().filter(|i| i.path == b.path) {
                let (a, z) = i.span.unwrap();
                assert!(e <= a || s >= z, "{:?} overlaps {:?}", b.span, i.span);
            }
        }
        assert_eq!(bg, background(&items, &durations, 2, 7), "seeded");
    }
}
