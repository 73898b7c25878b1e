//! The timeline picture of an evaluated detection: per recording, one lane
//! per class, the annotated events above the detected ones, over time; a
//! self-contained HTML page with the scores and one SVG per recording.

use std::path::PathBuf;

use super::Event;
use super::evaluate::{Evaluation, summary};
use crate::svg::esc;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 110.0;
const LANE: f64 = 26.0;

/// One recording's timeline as SVG: `labels` lanes, reference events
/// (blue, upper half) and detections (orange, lower half, opacity by
/// confidence) over `[0, duration]` seconds.
pub fn svg(
    title: &str,
    duration: f64,
    labels: &[String],
    reference: &[Event],
    detected: &[Event],
) -> String {
    let duration = reference
        .iter()
        .chain(detected)
        .map(|e| e.end)
        .fold(duration, f64::max)
        .max(1e-3);
    let plot = WIDTH - LEFT - 30.0;
    let x = |t: f64| LEFT + plot * t / duration;
    let height = 40.0 + LANE * labels.len() as f64 + 30.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"{LEFT}\" y=\"16\" font-weight=\"bold\">{}</text>\n",
        esc(title)
    );
    for (i, l) in labels.iter().enumerate() {
        let y = 30.0 + LANE * i as f64;
        s.push_str(&format!(
            "<rect x=\"{LEFT}\" y=\"{y}\" width=\"{plot}\" height=\"{}\" fill=\"{}\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            LANE - 2.0,
            if i % 2 == 0 { "#f4f4f4" } else { "#eaeaea" },
            LEFT - 6.0,
            y + LANE / 2.0 + 4.0,
            esc(l)
        ));
        let lane = |events: &[Event], dy: f64, color: &str, s: &mut String| {
            for e in events.iter().filter(|e| &e.label == l) {
                let w = (x(e.end) - x(e.start)).max(1.0);
                s.push_str(&format!(
                    "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{w:.2}\" height=\"{:.2}\" fill=\"{color}\" fill-opacity=\"{:.2}\"><title>{} {:.3}-{:.3} s ({:.2})</title></rect>\n",
                    x(e.start),
                    y + dy,
                    LANE / 2.0 - 2.0,
                    0.35 + 0.65 * f64::from(e.confidence.clamp(0.0, 1.0)),
                    esc(&e.label),
                    e.start,
                    e.end,
                    e.confidence
                ));
            }
        };
        lane(reference, 1.0, "#1f77b4", &mut s);
        lane(detected, LANE / 2.0 - 1.0, "#ff7f0e", &mut s);
    }
    let axis_y = 30.0 + LANE * labels.len() as f64 + 4.0;
    let step = nice_step(duration / 10.0);
    let mut t = 0.0;
    while t <= duration + 1e-9 {
        s.push_str(&format!(
            "<line x1=\"{0:.2}\" y1=\"{axis_y}\" x2=\"{0:.2}\" y2=\"{1}\" stroke=\"#888\"/><text x=\"{0:.2}\" y=\"{2}\" text-anchor=\"middle\">{3}</text>\n",
            x(t),
            axis_y + 5.0,
            axis_y + 18.0,
            fmt_time(t)
        ));
        t += step;
    }
    s.push_str("</svg>\n");
    s
}

fn nice_step(raw: f64) -> f64 {
    let steps = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
        3600.0,
    ];
    steps.iter().copied().find(|&s| s >= raw).unwrap_or(7200.0)
}

fn fmt_time(t: f64) -> String {
    if t >= 60.0 {
        format!("{}:{:02}", (t / 60.0).floor(), (t % 60.0).round() as u64)
    } else {
        format!("{t:.1}s")
    }
}

/// One recording for the page: path, duration, reference and detections.
pub type Lane = (PathBuf, f64, Vec<Event>, Vec<Event>);

/// The HTML page: the scores, then each recording's timeline.
pub fn html(e: &Evaluation, files: &[Lane]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Detected events vs annotations</title>\n\
         <style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}</style></head><body>\n\
         <h1>Detected events vs annotations</h1>\n<p>Blue: annotated; orange: detected (darker: more confident).</p>\n",
    );
    s.push_str(&format!("<pre>{}</pre>\n", esc(&summary(e))));
    for (path, duration, r, d) in files {
        s.push_str(&svg(
            &path.display().to_string(),
            *duration,
            &e.labels,
            r,
            d,
        ));
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_hold_each_event_once() {
        let ev = |s: f64, e: f64, l: &str| Event {
            start: s,
            end: e,
            label: l.into(),
            confidence: 0.9,
        };
        let labels = vec!["a".to_string(), "b<".to_string()];
        let out = svg(
            "x & y",
            10.0,
            &labels,
            &[ev(1.0, 2.0, "a")],
            &[ev(1.1, 2.2, "a"), ev(5.0, 6.0, "b<")],
        );
        assert_eq!(out.matches("<title>").count(), 3);
        assert!(out.contains("x &amp; y") && out.contains("b&lt;"));
    }
}
