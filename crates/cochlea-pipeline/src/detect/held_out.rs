//! Event scores inside `pipeline run`: when the examples are annotated
//! segments of recordings, each fold's model (its saved bundle, as
//! `pipeline detect --model` loads it) runs over the whole held-out
//! recordings, and the events it finds are scored against their
//! annotations ([`super::evaluate`]) and drawn ([`super::timeline`]).
//!
//! A recording is scored in a fold when every example cut from it is in
//! that fold's test part, so the model never heard any of it, and it
//! carries at least one annotated segment or is a whole-file example of a
//! class that makes no events (a negative recording: whatever is detected
//! in it is a false alarm). Its reference events are its annotated
//! segments of classes that make events; the `background` segments drawn
//! from its unannotated parts are no events.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Event;
use super::evaluate::{self, Evaluation};
use super::metrics::EventParams;
use super::options::makes_no_events;
use crate::config::EventsConfig;
use crate::dataset::Item;
use crate::split::Fold;

/// One held-out recording: its annotations and the events the model of
/// the fold that held it out detected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordingEvents {
    /// The audio file.
    pub path: PathBuf,
    /// The fold whose model listened.
    pub fold: String,
    /// Seconds of audio.
    pub duration: f64,
    /// Annotated events, by onset.
    pub reference: Vec<Event>,
    /// Detected events, by onset.
    pub detected: Vec<Event>,
}

/// The recordings `fold` holds out whole, each with its reference events,
/// and the annotated recordings it cannot score because some of their
/// examples are in its training or validation part (a group that is not
/// the file). Empty when no example is a segment.
pub fn recordings(
    items: &[Item],
    classes: &[String],
    fold: &Fold,
) -> (Vec<(PathBuf, Vec<Event>)>, Vec<PathBuf>) {
    if !items.iter().any(|i| i.span.is_some()) {
        return (Vec::new(), Vec::new());
    }
    // Per file: its items, and whether each is in the test part.
    let mut files: BTreeMap<&Path, Vec<(&Item, bool)>> = BTreeMap::new();
    let test: std::collections::BTreeSet<usize> = fold.test.iter().copied().collect();
    let seen: std::collections::BTreeSet<usize> =
        fold.train.iter().chain(&fold.val).copied().collect();
    for (i, it) in items.iter().enumerate() {
        if test.contains(&i) || seen.contains(&i) {
            files
                .entry(it.path.as_path())
                .or_default()
                .push((it, test.contains(&i)));
        }
    }
    let (mut scored, mut partly) = (Vec::new(), Vec::new());
    for (path, its) in files {
        let annotated = its
            .iter()
            .any(|(it, _)| it.span.is_some() || makes_no_events(&classes[it.label]));
        if !annotated || !its.iter().any(|(_, t)| *t) {
            continue;
        }
        if its.iter().any(|(_, t)| !*t) {
            partly.push(path.to_path_buf());
            continue;
        }
        let reference = its
            .iter()
            .filter(|(it, _)| !makes_no_events(&classes[it.label]))
            .filter_map(|(it, _)| {
                it.span.map(|(start, end)| Event {
                    start,
                    end,
                    label: classes[it.label].clone(),
                    confidence: 1.0,
                })
            })
            .collect();
        scored.push((path.to_path_buf(), evaluate::by_onset(reference)));
    }
    (scored, partly)
}

/// The scores of every recording of a run (each fold's, pooled).
pub fn score(recs: &[RecordingEvents], cfg: &EventsConfig) -> Evaluation {
    let recordings: Vec<(PathBuf, Vec<Event>, Vec<Event>)> = recs
        .iter()
        .map(|r| (r.path.clone(), r.reference.clone(), r.detected.clone()))
        .collect();
    evaluate::evaluate_recordings(
        &recordings,
        EventParams {
            t_collar: cfg.t_collar,
            ..EventParams::default()
        },
        cfg.segment,
    )
}

#[cfg(feature = "torch")]
/// Runs the model of the bundle at `bundle` over `recs` (from
/// [`recordings`]) with the settings of `cfg`; a recording that fails to
/// decode is reported and left out, the others go on.
pub fn detect_fold(
    bundle: &Path,
    fold: &str,
    recs: Vec<(PathBuf, Vec<Event>)>,
    cfg: &EventsConfig,
    quiet: bool,
) -> Result<Vec<RecordingEvents>, crate::error::Error> {
    use super::detector;
    use super::drive::{Job, detect_file};
    use super::options::Settings;

    let m = crate::bundle::load(bundle)?;
    let post = Settings {
        threshold: cfg.threshold,
        per_class: Vec::new(),
        threshold_off: None,
        ignore: None,
        merge_gap: cfg.merge_gap,
        min_duration: cfg.min_duration,
    }
    .resolve(&m.classes)?;
    let hop = detector::hop_samples(&m, (cfg.hop > 0.0).then_some(cfg.hop))
        .map_err(|e| crate::error::Error::Data(format!("events.hop {e}")))?;
    let job = Job {
        model: &m,
        hop,
        post,
        batch: detector::DEFAULT_BATCH,
        trace: false,
    };
    let title = if fold == "main" {
        "events".to_string()
    } else {
        format!("{fold} events")
    };
    let pb = crate::progress::bar(recs.len() as u64, &title, quiet);
    let mut out = Vec::with_capacity(recs.len());
    for (path, reference) in recs {
        match detect_file(&job, &path, &mut |_| {}, &mut |_| {}) {
            Ok(r) => out.push(RecordingEvents {
                path,
                fold: fold.to_string(),
                duration: r.duration,
                reference,
                detected: evaluate::by_onset(r.events),
            }),
            Err(e) => eprintln!("warning: events not scored: {e}"),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, label: usize, span: Option<(f64, f64)>) -> Item {
        Item {
            path: PathBuf::from(path),
            label,
            group: path.to_string(),
            split: None,
            span,
        }
    }

    #[test]
    fn only_recordings_held_out_whole_are_scored_with_their_events() {
        let classes: Vec<String> = ["Background", "owl"].map(String::from).to_vec();
        let items = vec![
            item("a.wav", 1, Some((1.0, 2.0))),
            item("a.wav", 0, Some((3.0, 4.0))),
            item("a.wav", 1, Some((0.2, 0.5))),
            item("b.wav", 1, Some((1.0, 2.0))),
            item("b.wav", 1, Some((5.0, 6.0))),
            item("neg.wav", 0, None),
            item("clip.wav", 1, None),
            item("c.wav", 1, Some((1.0, 2.0))),
        ];
        let fold = Fold {
            name: "f".into(),
            train: vec![3, 7],
            val: vec![],
            test: vec![0, 1, 2, 4, 5, 6],
        };
        let (scored, partly) = recordings(&items, &classes, &fold);
        let names: Vec<&str> = scored.iter().map(|(p, _)| p.to_str().unwrap()).collect();
        // b.wav trained on one of its segments; clip.wav is a plain clip;
        // c.wav is not held out at all.
        assert_eq!(names, ["a.wav", "neg.wav"]);
        assert_eq!(partly, [PathBuf::from("b.wav")]);
        // Background segments are no events; the others come by onset.
        let a: Vec<(f64, f64)> = scored[0].1.iter().map(|e| (e.start, e.end)).collect();
        assert_eq!(a, [(0.2, 0.5), (1.0, 2.0)]);
        assert!(scored[1].1.is_empty());
        // Nothing to score without segments.
        let plain = vec![item("x.wav", 0, None), item("y.wav", 1, None)];
        let fold = Fold {
            name: "f".into(),
            train: vec![0],
            val: vec![],
            test: vec![1],
        };
        assert!(recordings(&plain, &classes, &fold).0.is_empty());
    }
}
