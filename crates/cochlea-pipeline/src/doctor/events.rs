//! Checks of the events a run found in its held-out annotated recordings
//! (`[events]`): a model with no class for "nothing here" must call every
//! window one of the event classes, so its events spread over the
//! stretches between the annotated ones.

use super::{Check, Finding};
use crate::detect::held_out::RecordingEvents;
use crate::detect::options::makes_no_events;

/// Seconds covered by `events` (their union, per recording).
fn covered(events: &[crate::detect::Event]) -> f64 {
    let mut spans: Vec<(f64, f64)> = events.iter().map(|e| (e.start, e.end)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut total, mut reach) = (0.0, f64::NEG_INFINITY);
    for (a, b) in spans {
        let from = a.max(reach);
        if b > from {
            total += b - from;
        }
        reach = reach.max(b);
    }
    total
}

/// How much of the held-out recordings' time the detections cover, against
/// the annotations; `None` when no recording was scored.
pub fn event_checks(recs: &[&RecordingEvents], classes: &[String]) -> Option<Finding> {
    if recs.is_empty() {
        return None;
    }
    let duration: f64 = recs.iter().map(|r| r.duration).sum();
    let annotated: f64 = recs.iter().map(|r| covered(&r.reference)).sum();
    let detected: f64 = recs.iter().map(|r| covered(&r.detected)).sum();
    let share = |s: f64| 100.0 * s / duration.max(1e-9);
    let evidence = format!(
        "detected events cover {:.0} s of {:.0} s of held-out recordings ({:.1} %), the annotations {:.0} s ({:.1} %)",
        detected,
        duration,
        share(detected),
        annotated,
        share(annotated)
    );
    let silent: Vec<&str> = classes
        .iter()
        .filter(|c| makes_no_events(c))
        .map(String::as_str)
        .collect();
    if !silent.is_empty() {
        return Some(Check::EventsNoBackground.ok(
            format!("class {} stands for \"nothing here\"", silent.join(", ")),
            evidence,
        ));
    }
    Some(if detected > 2.0 * annotated {
        Check::EventsNoBackground.warn(
            "no class for \"nothing here\": events spread between the annotated ones",
            evidence,
        )
    } else {
        Check::EventsNoBackground.ok("the detections cover about the annotated time", evidence)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Event;
    use crate::finding::Verdict;

    fn ev(start: f64, end: f64) -> Event {
        Event {
            start,
            end,
            label: "owl".into(),
            confidence: 1.0,
        }
    }

    fn rec(reference: Vec<Event>, detected: Vec<Event>) -> RecordingEvents {
        RecordingEvents {
            path: "r.wav".into(),
            fold: "main".into(),
            duration: 60.0,
            reference,
            detected,
        }
    }

    #[test]
    fn events_everywhere_without_a_background_class_are_named() {
        let words = ["owl", "fox"].map(String::from).to_vec();
        // 4 s annotated; detections 30 s, overlapping ones counted once.
        let r = rec(
            vec![ev(1.0, 3.0), ev(10.0, 12.0)],
            vec![ev(0.0, 20.0), ev(15.0, 25.0), ev(40.0, 45.0)],
        );
        assert!((covered(&r.detected) - 30.0).abs() < 1e-9);
        let f = event_checks(&[&r], &words).unwrap();
        assert_eq!(
            (f.id.as_str(), f.verdict),
            ("events.no_background", Verdict::Warn)
        );
        assert!(f.evidence.contains("30 s of 60 s"), "{}", f.evidence);
        // Detections near the annotated time: fine.
        let good = rec(vec![ev(1.0, 3.0)], vec![ev(1.1, 3.2)]);
        assert_eq!(event_checks(&[&good], &words).unwrap().verdict, Verdict::Ok);
        // A background class: fine, whatever the coverage.
        let with = ["background", "owl"].map(String::from).to_vec();
        assert_eq!(event_checks(&[&r], &with).unwrap().verdict, Verdict::Ok);
        assert!(event_checks(&[], &words).is_none());
    }
}
