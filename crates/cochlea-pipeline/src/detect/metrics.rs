//! Sound event detection metrics as DCASE's `sed_eval` 0.2.1 computes them
//! (Mesaros, Heittola, Virtanen, "Metrics for polyphonic sound event
//! detection", Applied Sciences 6(6), 2016), ported from its source
//! (`sed_eval/sound_event.py`, `util/event_roll.py`,
//! `util/event_matching.py`) line by line so the numbers are the same:
//! `tests/golden/detect_metrics.json`, made by `tests/golden/
//! make_detect_metrics.py` with sed_eval itself, is checked to 1e-12.
//!
//! - Event-based ([`EventBased`], `sed_eval.sound_event.EventBasedMetrics`,
//!   `event_matching_type='optimal'`): an estimated event is correct when
//!   its label is the reference's, its onset is within `t_collar` seconds
//!   of the reference onset and (when offsets are evaluated) its offset
//!   within `max(t_collar, percentage_of_length * reference length)` of the
//!   reference offset; references and estimates are paired by a maximum
//!   bipartite matching (Hopcroft-Karp, in sed_eval's visiting order, since
//!   the pairs it leaves decide the substitutions).
//! - Segment-based ([`SegmentBased`], `SegmentBasedMetrics`): activity per
//!   class in segments of `time_resolution` seconds (an event covers the
//!   segments from `floor(onset / r)` to `ceil(offset / r)`), compared
//!   segment by segment over `ceil(last offset / r)` segments per file.
//!
//! Counts add up over files. `overall` is the micro average (counts pooled
//! over classes); `class_wise_average` the macro average (mean over classes
//! of each class's score, classes whose score is undefined left out, as
//! numpy's `nanmean`). A score with nothing to divide by is NaN, written as
//! `null` in JSON (sed_eval's default `empty_system_output_handling`).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::Event;

/// `numpy.spacing(1)`: sed_eval adds it to `Nref` in the error rates.
const EPS: f64 = f64::EPSILON;

/// Settings of the event-based metrics (sed_eval's names and defaults,
/// except that offsets are not evaluated unless asked).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EventParams {
    /// Onset (and offset) tolerance, seconds (sed_eval: 0.2).
    pub t_collar: f64,
    /// Offset tolerance as a fraction of the reference event's length.
    pub percentage_of_length: f64,
    /// Whether offsets must match too.
    pub evaluate_offset: bool,
}

impl Default for EventParams {
    fn default() -> Self {
        EventParams {
            t_collar: 0.2,
            percentage_of_length: 0.5,
            evaluate_offset: false,
        }
    }
}

/// Counts behind the scores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Reference events (event-based) or active reference segments.
    pub n_ref: f64,
    /// Estimated events or active estimated segments.
    pub n_sys: f64,
    /// Correct ones.
    pub n_tp: f64,
    /// False positives (insertions).
    pub n_fp: f64,
    /// False negatives (deletions).
    pub n_fn: f64,
    /// Substitutions (overall only; 0 per class).
    pub n_subs: f64,
}

/// Scores of one class or of all pooled.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Scores {
    /// F1.
    pub f_measure: f64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Error rate (substitutions + deletions + insertions over `n_ref`).
    pub error_rate: f64,
    /// Substitutions over `n_ref` (0 per class).
    pub substitution_rate: f64,
    /// Deletions over `n_ref`.
    pub deletion_rate: f64,
    /// Insertions over `n_ref`.
    pub insertion_rate: f64,
    /// The counts.
    pub counts: Counts,
}

/// The mean over classes (macro average).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Average {
    /// Mean class F1.
    pub f_measure: f64,
    /// Mean class precision.
    pub precision: f64,
    /// Mean class recall.
    pub recall: f64,
    /// Mean class error rate.
    pub error_rate: f64,
    /// Mean class deletion rate.
    pub deletion_rate: f64,
    /// Mean class insertion rate.
    pub insertion_rate: f64,
}

/// Everything one kind of metric reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Results {
    /// Counts pooled over classes (micro average).
    pub overall: Scores,
    /// Per class.
    pub class_wise: BTreeMap<String, Scores>,
    /// Mean over classes (macro average).
    pub class_wise_average: Average,
}

fn precision(tp: f64, sys: f64) -> f64 {
    if sys == 0.0 { f64::NAN } else { tp / sys }
}

fn recall(tp: f64, nref: f64) -> f64 {
    if nref == 0.0 { f64::NAN } else { tp / nref }
}

fn f_measure(p: f64, r: f64) -> f64 {
    if p == 0.0 && r == 0.0 {
        return 0.0;
    }
    // (1 + beta**2) * p * r / (beta**2 * p + r), beta = 1
    2.0 * p * r / (1.0 * p + r)
}

fn scores(c: Counts, overall: bool) -> Scores {
    let p = precision(c.n_tp, c.n_sys);
    let r = recall(c.n_tp, c.n_ref);
    let rate = |n: f64| n / (c.n_ref + EPS);
    let s = if overall { rate(c.n_subs) } else { 0.0 };
    let (d, i) = (rate(c.n_fn), rate(c.n_fp));
    Scores {
        f_measure: f_measure(p, r),
        precision: p,
        recall: r,
        error_rate: s + d + i,
        substitution_rate: s,
        deletion_rate: d,
        insertion_rate: i,
        counts: c,
    }
}

/// `numpy.nanmean` (NaN when every value is NaN).
fn nanmean(v: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for x in v.filter(|x| !x.is_nan()) {
        sum += x;
        n += 1;
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

fn results(labels: &[String], overall: Counts, class_wise: &[Counts]) -> Results {
    let cw: BTreeMap<String, Scores> = labels
        .iter()
        .zip(class_wise)
        .map(|(l, c)| (l.clone(), scores(*c, false)))
        .collect();
    // In `event_label_list` order, as sed_eval iterates.
    let per: Vec<Scores> = class_wise.iter().map(|c| scores(*c, false)).collect();
    let avg = |f: fn(&Scores) -> f64| nanmean(per.iter().map(f));
    Results {
        overall: scores(overall, true),
        class_wise: cw,
        class_wise_average: Average {
            f_measure: avg(|s| s.f_measure),
            precision: avg(|s| s.precision),
            recall: avg(|s| s.recall),
            error_rate: avg(|s| s.error_rate),
            deletion_rate: avg(|s| s.deletion_rate),
            insertion_rate: avg(|s| s.insertion_rate),
        },
    }
}

/// Event-based metrics over files (`EventBasedMetrics`).
#[derive(Clone, Debug)]
pub struct EventBased {
    labels: Vec<String>,
    params: EventParams,
    overall: Counts,
    class_wise: Vec<Counts>,
}

impl EventBased {
    /// Metrics for the classes `labels` (every label of the events must be
    /// one of them; others are not counted per class).
    pub fn new(labels: &[String], params: EventParams) -> EventBased {
        EventBased {
            labels: labels.to_vec(),
            params,
            overall: Counts::default(),
            class_wise: vec![Counts::default(); labels.len()],
        }
    }

    fn onset_ok(&self, r: &Event, e: &Event) -> bool {
        (r.start - e.start).abs() <= self.params.t_collar
    }

    fn offset_ok(&self, r: &Event, e: &Event) -> bool {
        !self.params.evaluate_offset || {
            let len = r.end - r.start;
            (r.end - e.end).abs()
                <= self
                    .params
                    .t_collar
                    .max(self.params.percentage_of_length * len)
        }
    }

    /// The pairs (reference, estimate) of a maximum matching of the events
    /// whose times agree (and labels, with `same_label`).
    fn matching(
        &self,
        reference: &[&Event],
        estimated: &[&Event],
        same_label: bool,
    ) -> Vec<(usize, usize)> {
        // `numpy.where(hit_matrix)`: reference-major order; the graph maps
        // each estimate to its references in order of first appearance.
        let mut graph: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut at: HashMap<usize, usize> = HashMap::new();
        for (j, r) in reference.iter().enumerate() {
            for (i, e) in estimated.iter().enumerate() {
                if (!same_label || r.label == e.label)
                    && self.onset_ok(r, e)
                    && self.offset_ok(r, e)
                {
                    let k = *at.entry(i).or_insert_with(|| {
                        graph.push((i, Vec::new()));
                        graph.len() - 1
                    });
                    graph[k].1.push(j);
                }
            }
        }
        let mut m: Vec<(usize, usize)> = bipartite_match(&graph).into_iter().collect();
        m.sort_unstable();
        m
    }

    /// Adds one file's events.
    pub fn evaluate(&mut self, reference: &[Event], estimated: &[Event]) {
        let r: Vec<&Event> = reference.iter().collect();
        let e: Vec<&Event> = estimated.iter().collect();
        let matching = self.matching(&r, &e, true);
        let mut ref_ok = vec![false; r.len()];
        let mut sys_ok = vec![false; e.len()];
        for &(j, i) in &matching {
            ref_ok[j] = true;
            sys_ok[i] = true;
        }
        let ntp = matching.len() as f64;
        // Substitutions: leftovers paired greedily on times alone.
        let mut subs = 0.0;
        let mut counted = vec![false; e.len()];
        for j in (0..r.len()).filter(|&j| !ref_ok[j]) {
            for i in (0..e.len()).filter(|&i| !sys_ok[i]) {
                if !counted[i] && self.onset_ok(r[j], e[i]) && self.offset_ok(r[j], e[i]) {
                    counted[i] = true;
                    subs += 1.0;
                    break;
                }
            }
        }
        let (nref, nsys) = (r.len() as f64, e.len() as f64);
        let o = &mut self.overall;
        o.n_ref += nref;
        o.n_sys += nsys;
        o.n_tp += ntp;
        o.n_subs += subs;
        o.n_fp += nsys - ntp - subs;
        o.n_fn += nref - ntp - subs;
        for (c, label) in self.labels.iter().enumerate() {
            let rc: Vec<&Event> = r.iter().copied().filter(|x| &x.label == label).collect();
            let ec: Vec<&Event> = e.iter().copied().filter(|x| &x.label == label).collect();
            let tp = self.matching(&rc, &ec, false).len() as f64;
            let k = &mut self.class_wise[c];
            k.n_ref += rc.len() as f64;
            k.n_sys += ec.len() as f64;
            k.n_tp += tp;
            k.n_fp += ec.len() as f64 - tp;
            k.n_fn += rc.len() as f64 - tp;
        }
    }

    /// The scores so far.
    pub fn results(&self) -> Results {
        results(&self.labels, self.overall, &self.class_wise)
    }
}

/// `sed_eval.util.event_matching.bipartite_match` (mir_eval's, after
/// Eppstein's Hopcroft-Karp) on `graph`: each left vertex (estimate) with
/// its right neighbours (references), in insertion order. Returns
/// (right, left) pairs. Ported with its visiting order, since which maximum
/// matching it finds decides the substitutions counted afterwards.
fn bipartite_match(graph: &[(usize, Vec<usize>)]) -> HashMap<usize, usize> {
    let mut matching: HashMap<usize, usize> = HashMap::new();
    for (u, vs) in graph {
        if let Some(&v) = vs.iter().find(|v| !matching.contains_key(v)) {
            matching.insert(v, *u);
        }
    }
    /// `pred[u]`: the `unmatched` sentinel or a right vertex.
    #[derive(Clone, Copy, PartialEq)]
    enum Pred {
        Free,
        Right(usize),
    }
    loop {
        let mut preds: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut unmatched: Vec<usize> = Vec::new();
        let matched_left: std::collections::HashSet<usize> = matching.values().copied().collect();
        let mut pred: HashMap<usize, Pred> = graph
            .iter()
            .filter(|(u, _)| !matched_left.contains(u))
            .map(|(u, _)| (*u, Pred::Free))
            .collect();
        let mut layer: Vec<usize> = graph
            .iter()
            .map(|(u, _)| *u)
            .filter(|u| !matched_left.contains(u))
            .collect();
        let nbrs: HashMap<usize, &Vec<usize>> = graph.iter().map(|(u, vs)| (*u, vs)).collect();
        while !layer.is_empty() && unmatched.is_empty() {
            let mut new_layer: Vec<(usize, Vec<usize>)> = Vec::new();
            let mut index: HashMap<usize, usize> = HashMap::new();
            for &u in &layer {
                for &v in nbrs[&u] {
                    if !preds.contains_key(&v) {
                        let k = *index.entry(v).or_insert_with(|| {
                            new_layer.push((v, Vec::new()));
                            new_layer.len() - 1
                        });
                        new_layer[k].1.push(u);
                    }
                }
            }
            layer.clear();
            for (v, us) in new_layer {
                preds.insert(v, us);
                if let Some(&u) = matching.get(&v) {
                    layer.push(u);
                    pred.insert(u, Pred::Right(v));
                } else {
                    unmatched.push(v);
                }
            }
        }
        if unmatched.is_empty() {
            return matching;
        }
        fn recurse(
            v: usize,
            preds: &mut HashMap<usize, Vec<usize>>,
            pred: &mut HashMap<usize, Pred>,
            matching: &mut HashMap<usize, usize>,
        ) -> bool {
            if let Some(l) = preds.remove(&v) {
                for u in l {
                    if let Some(pu) = pred.remove(&u)
                        && match pu {
                            Pred::Free => true,
                            Pred::Right(w) => recurse(w, preds, pred, matching),
                        }
                    {
                        matching.insert(v, u);
                        return true;
                    }
                }
            }
            false
        }
        for v in unmatched {
            recurse(v, &mut preds, &mut pred, &mut matching);
        }
    }
}

/// Segment-based metrics over files (`SegmentBasedMetrics`).
#[derive(Clone, Debug)]
pub struct SegmentBased {
    labels: Vec<String>,
    resolution: f64,
    overall: Counts,
    class_wise: Vec<Counts>,
}

impl SegmentBased {
    /// Metrics for the classes `labels` in segments of `time_resolution`
    /// seconds (sed_eval's default: 1.0).
    pub fn new(labels: &[String], time_resolution: f64) -> SegmentBased {
        SegmentBased {
            labels: labels.to_vec(),
            resolution: time_resolution,
            overall: Counts::default(),
            class_wise: vec![Counts::default(); labels.len()],
        }
    }

    /// `event_list_to_event_roll`, `n` segments long.
    fn roll(&self, events: &[Event], n: usize) -> Vec<Vec<bool>> {
        let mut roll = vec![vec![false; self.labels.len()]; n];
        for e in events {
            let Some(c) = self.labels.iter().position(|l| *l == e.label) else {
                continue;
            };
            let on = (e.start / self.resolution).floor() as usize;
            let off = ((e.end / self.resolution).ceil() as usize).min(n);
            for seg in roll.iter_mut().take(off).skip(on) {
                seg[c] = true;
            }
        }
        roll
    }

    /// Adds one file's events; the file is as long as its last offset.
    pub fn evaluate(&mut self, reference: &[Event], estimated: &[Event]) {
        let last = |v: &[Event]| v.iter().map(|e| e.end).fold(0.0, f64::max);
        let n = (last(reference).max(last(estimated)) / self.resolution).ceil() as usize;
        let (r, e) = (self.roll(reference, n), self.roll(estimated, n));
        for (rs, es) in r.iter().zip(&e) {
            let count = |f: &dyn Fn(bool, bool) -> bool| {
                rs.iter().zip(es).filter(|&(&a, &b)| f(a, b)).count() as f64
            };
            let tp = count(&|a, b| a && b);
            let nref = count(&|a, _| a);
            let nsys = count(&|_, b| b);
            let o = &mut self.overall;
            o.n_tp += tp;
            o.n_ref += nref;
            o.n_sys += nsys;
            // sed_eval's S, D and I, per segment.
            o.n_subs += nref.min(nsys) - tp;
            o.n_fn += (nref - nsys).max(0.0);
            o.n_fp += (nsys - nref).max(0.0);
        }
        for c in 0..self.labels.len() {
            let k = &mut self.class_wise[c];
            for (rs, es) in r.iter().zip(&e) {
                let (a, b) = (rs[c], es[c]);
                k.n_tp += f64::from(u8::from(a && b));
                k.n_fp += f64::from(u8::from(b && !a));
                k.n_fn += f64::from(u8::from(a && !b));
                k.n_ref += f64::from(u8::from(a));
                k.n_sys += f64::from(u8::from(b));
            }
        }
    }

    /// The scores so far. Overall, `n_fn` and `n_fp` are sed_eval's
    /// deletions and insertions counted per segment (`max(0, Nref - Nsys)`
    /// and `max(0, Nsys - Nref)`), and `n_subs` its substitutions
    /// (`min(Nref, Nsys) - Ntp`).
    pub fn results(&self) -> Results {
        results(&self.labels, self.overall, &self.class_wise)
    }
}
