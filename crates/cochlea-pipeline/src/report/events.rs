//! The events section: when the examples were annotated segments of
//! recordings, how well each fold's model finds the events of the
//! recordings it never heard, scored as DCASE's sed_eval scores them, and
//! their timelines (annotated above, detected below).

use super::model::{Block, Chart, Section, Table, Text};
use crate::detect::evaluate::Evaluation;
use crate::detect::held_out::{self, RecordingEvents};
use crate::detect::timeline;
use crate::results::RunResult;

/// A score in [0, 1] with three decimals; `-` when undefined.
fn score(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.3}")
    }
}

/// Errors of one recording (substitutions, deletions, insertions of the
/// event-based scores), to draw the worst first.
fn errors(r: &RecordingEvents, cfg: &crate::config::EventsConfig) -> f64 {
    let c = held_out::score(std::slice::from_ref(r), cfg)
        .event_based
        .overall
        .counts;
    c.n_subs + c.n_fn + c.n_fp
}

/// The section, or `None` when the run scored no recording.
pub(super) fn events(
    r: &RunResult,
    cfg: &crate::config::EventsConfig,
    timelines: usize,
) -> Option<Section> {
    let e: &Evaluation = r.events.as_ref()?;
    let recs: Vec<&RecordingEvents> = r.folds.iter().flat_map(|f| &f.events).collect();
    let (ev, sg) = (&e.event_based, &e.segment_based);
    let mut blocks = vec![
        Block::Cards(vec![
            ("event F1 (micro)".into(), score(ev.overall.f_measure)),
            (
                "event F1 (macro)".into(),
                score(ev.class_wise_average.f_measure),
            ),
            ("event error rate".into(), score(ev.overall.error_rate)),
            ("segment F1 (micro)".into(), score(sg.overall.f_measure)),
            ("recordings".into(), e.files.to_string()),
            (
                "annotated / detected".into(),
                format!("{} / {}", ev.overall.counts.n_ref, ev.overall.counts.n_sys),
            ),
        ]),
        Block::Paragraph(
            Text::plain(
                "Each fold's model listened to the annotated recordings held out from it, \
                 start to end, as ",
            )
            .and_code("pipeline detect --model")
            .and(format!(
                " does (threshold {}, hop {}); the events it found are scored against the \
                 annotations: an event counts when its class matches and its onset is \
                 within {} s (event-based), and per {} s segment (segment-based). Classes \
                 that make no events (such as ",
                cfg.threshold,
                if cfg.hop > 0.0 {
                    format!("{} s", cfg.hop)
                } else {
                    "a quarter window".into()
                },
                e.params.t_collar,
                e.time_resolution
            ))
            .and_code("background")
            .and(") are not scored. The events themselves are in ")
            .and_code("events.csv")
            .and("."),
        ),
    ];
    let skipped: Vec<String> = r
        .folds
        .iter()
        .flat_map(|f| f.events_skipped.iter().map(|p| p.display().to_string()))
        .collect();
    if !skipped.is_empty() {
        blocks.push(Block::Warning(Text::plain(format!(
            "{} annotated test recordings were not scored: some of their segments trained \
             the model (the split's group is not the file), e.g. {}.",
            skipped.len(),
            skipped[0]
        ))));
    }
    if r.folds.len() > 1 {
        blocks.push(Block::Table(Table {
            caption: Some("Per fold".into()),
            header: ["fold", "recordings", "event F1", "segment F1"]
                .map(String::from)
                .to_vec(),
            rows: r
                .folds
                .iter()
                .filter(|f| !f.events.is_empty())
                .map(|f| {
                    let s = held_out::score(&f.events, cfg);
                    vec![
                        f.name.as_str().into(),
                        f.events.len().to_string().into(),
                        score(s.event_based.overall.f_measure).into(),
                        score(s.segment_based.overall.f_measure).into(),
                    ]
                })
                .collect(),
        }));
    }
    blocks.push(Block::Table(Table {
        caption: Some("Per class".into()),
        header: [
            "class",
            "annotated",
            "detected",
            "event F1",
            "precision",
            "recall",
            "segment F1",
        ]
        .map(String::from)
        .to_vec(),
        rows: e
            .labels
            .iter()
            .map(|l| {
                let (c, s) = (&ev.class_wise[l], &sg.class_wise[l]);
                vec![
                    l.as_str().into(),
                    c.counts.n_ref.to_string().into(),
                    c.counts.n_sys.to_string().into(),
                    score(c.f_measure).into(),
                    score(c.precision).into(),
                    score(c.recall).into(),
                    score(s.f_measure).into(),
                ]
            })
            .collect(),
    }));
    // The recordings with the most errors first, then by path.
    let mut order: Vec<(f64, &RecordingEvents)> =
        recs.iter().map(|r| (errors(r, cfg), *r)).collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.path.cmp(&b.1.path)));
    let shown: Vec<String> = order
        .iter()
        .take(timelines)
        .map(|(n, rec)| {
            timeline::svg(
                &format!("{} (fold {}, {n} errors)", rec.path.display(), rec.fold),
                rec.duration,
                &e.labels,
                &rec.reference,
                &rec.detected,
            )
        })
        .collect();
    if !shown.is_empty() {
        blocks.push(Block::Chart(Chart {
            note: Some(format!(
                "Blue: annotated; orange: detected (darker: more confident). {} of {} \
                 recordings, the most errors first.",
                shown.len(),
                recs.len()
            )),
            svgs: shown,
            data: None,
        }));
    }
    Some(Section {
        id: "events",
        title: "Events in held-out recordings".into(),
        blocks,
    })
}
