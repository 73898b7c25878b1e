//! The event metrics against sed_eval itself: `tests/golden/
//! detect_metrics.json`, made by `tests/golden/make_detect_metrics.py`
//! (sed_eval 0.2.1), holds event lists and sed_eval's scores for them.

use serde_json::Value;

use super::Event;
use super::metrics::{EventBased, EventParams, Results, SegmentBased};

fn golden() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden/detect_metrics.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn events(v: &Value) -> Vec<Event> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| Event {
            start: e[0].as_f64().unwrap(),
            end: e[1].as_f64().unwrap(),
            label: e[2].as_str().unwrap().to_string(),
            confidence: 1.0,
        })
        .collect()
}

/// Every number sed_eval reported, ours within 1e-12 (NaN as null).
fn compare(case: &str, ours: &Results, want: &Value) {
    let ours = serde_json::to_value(ours).unwrap();
    let mut checked = 0;
    let mut check = |what: String, got: &Value, want: &Value| {
        for (k, w) in want.as_object().unwrap() {
            let g = &got[k];
            match (w.as_f64(), g.as_f64()) {
                (None, None) => {
                    assert!(w.is_null() && g.is_null(), "{case} {what}.{k}: {g} vs {w}")
                }
                (Some(w), Some(g)) => {
                    assert!((g - w).abs() <= 1e-12, "{case} {what}.{k}: {g} vs {w}")
                }
                _ => panic!("{case} {what}.{k}: ours {g}, sed_eval {w}"),
            }
            checked += 1;
        }
    };
    check("overall".into(), &ours["overall"], &want["overall"]);
    check(
        "average".into(),
        &ours["class_wise_average"],
        &want["class_wise_average"],
    );
    for (label, w) in want["class_wise"].as_object().unwrap() {
        check(format!("class {label}"), &ours["class_wise"][label], w);
    }
    assert!(checked > 10, "{case}: {checked} numbers");
}

#[test]
fn event_and_segment_metrics_match_sed_eval() {
    let g = golden();
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let labels: Vec<String> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect();
        let files: Vec<(Vec<Event>, Vec<Event>)> = case["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (events(&f["reference"]), events(&f["estimated"])))
            .collect();
        for e in case["event"].as_array().unwrap() {
            let params = EventParams {
                t_collar: e["t_collar"].as_f64().unwrap(),
                percentage_of_length: e["percentage_of_length"].as_f64().unwrap(),
                evaluate_offset: e["evaluate_offset"].as_bool().unwrap(),
            };
            let mut m = EventBased::new(&labels, params);
            for (r, est) in &files {
                m.evaluate(r, est);
            }
            compare(
                &format!("{name} event {params:?}"),
                &m.results(),
                &e["results"],
            );
        }
        for s in case["segment"].as_array().unwrap() {
            let res = s["time_resolution"].as_f64().unwrap();
            let mut m = SegmentBased::new(&labels, res);
            for (r, est) in &files {
                m.evaluate(r, est);
            }
            compare(
                &format!("{name} segment {res}"),
                &m.results(),
                &s["results"],
            );
        }
    }
}
