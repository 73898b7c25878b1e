//! From per-window class probabilities to events: hysteresis, merging of
//! short gaps, a minimum duration, and classes that never make events.
//!
//! The rules, per class `c` with start threshold `on[c]` and end threshold
//! `off[c] <= on[c]`:
//!
//! - "nothing here": an event of `c` starts only in a window whose best
//!   class is `c` with `p[c] >= on[c]`; a window whose best probability is
//!   under its class's threshold starts nothing, and an ignored class (its
//!   `on` is infinite) never starts anything;
//! - an event goes on while `p[c] >= off[c]` (hysteresis: a dip under `on`
//!   that stays above `off` does not cut it) and ends at the first window
//!   with `p[c] < off[c]`;
//! - two events of one class separated by a gap shorter than `merge_gap`
//!   seconds become one;
//! - after merging, an event shorter than `min_duration` seconds is dropped.
//!
//! Times: each window brings its extent `[start, end)` in seconds. When
//! the windows of an event all overlap one another (the last starts
//! before the first ends), the sound is taken to lie where they overlap:
//! from the start of the last window to the end of the first. A sound
//! shorter than the window is seen whole by exactly the windows that
//! contain it, whose overlap is the sound itself, so its onset and offset
//! land within one hop of the truth. When the windows span more than a
//! window length (a sound longer than the window), each window stands for
//! the `hop` around its centre instead: from `hop/2` before the first
//! window's centre to `hop/2` after the last's. Events are clipped to the
//! recording. The confidence of an event is the highest probability of
//! its class over its windows.
//!
//! The [`Tracker`] is fed window by window and hands out each event as soon
//! as nothing later can change it: when it ends, or `merge_gap` seconds
//! after it ends.

use serde::{Deserialize, Serialize};

/// One detected (or annotated) event in a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Onset, seconds from the start of the recording.
    pub start: f64,
    /// Offset, seconds.
    pub end: f64,
    /// The class.
    pub label: String,
    /// Highest probability of the class over the event's windows.
    pub confidence: f32,
}

/// The postprocessing settings, per class in the model's class order.
#[derive(Clone, Debug, PartialEq)]
pub struct PostOptions {
    /// Class names.
    pub classes: Vec<String>,
    /// Start threshold per class; `f32::INFINITY` for a class that never
    /// makes events.
    pub on: Vec<f32>,
    /// End threshold per class (`<= on`).
    pub off: Vec<f32>,
    /// Gaps shorter than this (seconds) between two events of one class
    /// are closed.
    pub merge_gap: f64,
    /// Events shorter than this (seconds), after merging, are dropped.
    pub min_duration: f64,
}

/// An event closed but waiting out the merge gap.
#[derive(Clone, Copy, Debug)]
struct Open {
    start: f64,
    end: f64,
    confidence: f32,
}

/// An event going on: the extents of its first and last windows.
#[derive(Clone, Copy, Debug)]
struct Active {
    first: (f64, f64),
    last: (f64, f64),
    confidence: f32,
}

impl Active {
    /// Where the sound is (see the module doc), clipped to `[0, end]`.
    fn span(&self, hop: f64, end: f64) -> Open {
        let (mut start, mut stop) = if self.last.0 < self.first.1 {
            (self.last.0, self.first.1)
        } else {
            let centre = |w: (f64, f64)| (w.0 + w.1) / 2.0;
            (
                centre(self.first) - hop / 2.0,
                centre(self.last) + hop / 2.0,
            )
        };
        start = start.max(0.0);
        stop = stop.min(end).max(start);
        Open {
            start,
            end: stop,
            confidence: self.confidence,
        }
    }
}

/// Turns window probabilities into events as they come.
#[derive(Debug)]
pub struct Tracker {
    opts: PostOptions,
    /// Seconds between window starts.
    hop: f64,
    /// Per class: the event going on.
    active: Vec<Option<Active>>,
    /// Per class: the last closed event, kept until no event can merge
    /// into it any more.
    pending: Vec<Option<Open>>,
}

impl Tracker {
    /// A tracker at time 0 for windows `hop` seconds apart.
    pub fn new(opts: PostOptions, hop: f64) -> Tracker {
        let k = opts.classes.len();
        Tracker {
            opts,
            hop,
            active: vec![None; k],
            pending: vec![None; k],
        }
    }

    /// The next window: it covers `[from, to)` seconds and `p` holds one
    /// probability per class. Events that are final now go to `emit`.
    pub fn push(&mut self, from: f64, to: f64, p: &[f32], emit: &mut dyn FnMut(Event)) {
        let best = crate::metrics::argmax(p);
        for (c, &pc) in p.iter().enumerate() {
            match &mut self.active[c] {
                Some(a) if pc >= self.opts.off[c] => {
                    a.last = (from, to);
                    a.confidence = a.confidence.max(pc);
                }
                Some(a) => {
                    let closed = a.span(self.hop, f64::INFINITY);
                    self.active[c] = None;
                    self.close(c, closed, emit);
                }
                None if c == best && pc >= self.opts.on[c] => {
                    self.active[c] = Some(Active {
                        first: (from, to),
                        last: (from, to),
                        confidence: pc,
                    });
                }
                None => {}
            }
            // No event can start before `from` any more (nor before the
            // first window of the one going on).
            if let Some(done) = self.pending[c]
                && from - done.end >= self.opts.merge_gap
                && self.active[c].is_none_or(|a| a.first.0 - done.end >= self.opts.merge_gap)
            {
                self.pending[c] = None;
                self.release(c, done, emit);
            }
        }
    }

    /// The end of the recording at `end` seconds: open events close (within
    /// the recording) and every event still held goes to `emit`.
    pub fn finish(mut self, end: f64, emit: &mut dyn FnMut(Event)) {
        for c in 0..self.opts.classes.len() {
            if let Some(a) = self.active[c].take() {
                let open = a.span(self.hop, end);
                self.close(c, open, emit);
            }
            if let Some(done) = self.pending[c].take() {
                self.release(c, done, emit);
            }
        }
    }

    /// An event of class `c` has ended: merged into the one before it when
    /// the gap is short, else that one is final.
    fn close(&mut self, c: usize, e: Open, emit: &mut dyn FnMut(Event)) {
        match self.pending[c] {
            Some(prev) if e.start - prev.end < self.opts.merge_gap => {
                self.pending[c] = Some(Open {
                    start: prev.start,
                    end: e.end,
                    confidence: prev.confidence.max(e.confidence),
                });
            }
            Some(prev) => {
                self.pending[c] = Some(e);
                self.release(c, prev, emit);
            }
            None => self.pending[c] = Some(e),
        }
        // With no merging, nothing can change it any more.
        if self.opts.merge_gap <= 0.0
            && let Some(done) = self.pending[c].take()
        {
            self.release(c, done, emit);
        }
    }

    fn release(&self, c: usize, e: Open, emit: &mut dyn FnMut(Event)) {
        if e.end - e.start >= self.opts.min_duration {
            emit(Event {
                start: e.start,
                end: e.end,
                label: self.opts.classes[c].clone(),
                confidence: e.confidence,
            });
        }
    }
}

/// Runs a [`Tracker`] over a whole sequence: `windows` holds each window's
/// extent and probabilities, `hop` the seconds between window starts,
/// `end` the recording's length. Events in the order they become final.
pub fn events_of(
    opts: &PostOptions,
    windows: &[(f64, f64, Vec<f32>)],
    hop: f64,
    end: f64,
) -> Vec<Event> {
    let mut out = Vec::new();
    let mut t = Tracker::new(opts.clone(), hop);
    for (from, to, p) in windows {
        t.push(*from, *to, p, &mut |e| out.push(e));
    }
    t.finish(end, &mut |e| out.push(e));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes, `bird` and `background` (ignored); windows 0.5 s apart.
    fn opts(on: f32, off: f32, merge_gap: f64, min_duration: f64) -> PostOptions {
        PostOptions {
            classes: vec!["bird".into(), "background".into()],
            on: vec![on, f32::INFINITY],
            off: vec![off, f32::INFINITY],
            merge_gap,
            min_duration,
        }
    }

    fn seq(ps: &[f32]) -> Vec<(f64, f64, Vec<f32>)> {
        ps.iter()
            .enumerate()
            .map(|(i, &p)| (i as f64 * 0.5, (i + 1) as f64 * 0.5, vec![p, 1.0 - p]))
            .collect()
    }

    /// Windows as long as the hop (0.5 s): an event of consecutive windows
    /// spans them.
    fn events_of_(o: &PostOptions, w: &[(f64, f64, Vec<f32>)], end: f64) -> Vec<Event> {
        events_of(o, w, 0.5, end)
    }

    fn spans(ev: &[Event]) -> Vec<(f64, f64)> {
        ev.iter().map(|e| (e.start, e.end)).collect()
    }

    #[test]
    fn hysteresis_starts_at_on_and_ends_under_off() {
        // 0.6 starts, 0.4 keeps it (>= off 0.3), 0.2 ends it.
        let ev = events_of_(
            &opts(0.5, 0.3, 0.0, 0.0),
            &seq(&[0.1, 0.6, 0.4, 0.2, 0.1]),
            2.5,
        );
        assert_eq!(spans(&ev), vec![(0.5, 1.5)]);
        assert_eq!(ev[0].label, "bird");
        assert_eq!(ev[0].confidence, 0.6);
        // Without hysteresis (off = on) the dip cuts it.
        let ev = events_of_(
            &opts(0.5, 0.5, 0.0, 0.0),
            &seq(&[0.1, 0.6, 0.4, 0.7, 0.1]),
            2.5,
        );
        assert_eq!(spans(&ev), vec![(0.5, 1.0), (1.5, 2.0)]);
        // A value between off and on never starts an event.
        let ev = events_of_(&opts(0.5, 0.3, 0.0, 0.0), &seq(&[0.4, 0.45, 0.4]), 1.5);
        assert!(ev.is_empty());
    }

    #[test]
    fn an_event_open_at_the_end_closes_within_the_recording() {
        let ev = events_of_(&opts(0.5, 0.25, 0.0, 0.0), &seq(&[0.1, 0.9, 0.9]), 1.4);
        assert_eq!(spans(&ev), vec![(0.5, 1.4)]);
    }

    #[test]
    fn overlapping_windows_place_a_short_sound_where_they_overlap() {
        // 1 s windows every 0.25 s; a sound at 1.1-1.6 s is whole in the
        // windows starting at 0.75, 1.0 (which end at 1.75 and 2.0).
        let w: Vec<(f64, f64, Vec<f32>)> = (0..12)
            .map(|i| {
                let s = i as f64 * 0.25;
                let p = if (0.6..=1.1).contains(&s) { 0.9 } else { 0.05 };
                (s, s + 1.0, vec![p, 1.0 - p])
            })
            .collect();
        let ev = events_of(&opts(0.5, 0.25, 0.0, 0.0), &w, 0.25, 3.75);
        assert_eq!(spans(&ev), vec![(1.0, 1.75)]);
        // Firing windows spanning more than a window: each stands for the
        // hop around its centre.
        let w: Vec<(f64, f64, Vec<f32>)> = (0..12)
            .map(|i| {
                let s = i as f64 * 0.25;
                let p = if (0.5..=2.0).contains(&s) { 0.9 } else { 0.05 };
                (s, s + 1.0, vec![p, 1.0 - p])
            })
            .collect();
        let ev = events_of(&opts(0.5, 0.25, 0.0, 0.0), &w, 0.25, 3.75);
        assert_eq!(spans(&ev), vec![(0.875, 2.625)]);
    }

    #[test]
    fn short_gaps_merge_and_long_ones_do_not() {
        let p = [0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.9];
        // Gaps of 0.5 s and 1.5 s.
        let ev = events_of_(&opts(0.5, 0.5, 0.0, 0.0), &seq(&p), 3.5);
        assert_eq!(spans(&ev), vec![(0.0, 0.5), (1.0, 1.5), (3.0, 3.5)]);
        let ev = events_of_(&opts(0.5, 0.5, 0.6, 0.0), &seq(&p), 3.5);
        assert_eq!(spans(&ev), vec![(0.0, 1.5), (3.0, 3.5)]);
        let ev = events_of_(&opts(0.5, 0.5, 2.0, 0.0), &seq(&p), 3.5);
        assert_eq!(spans(&ev), vec![(0.0, 3.5)]);
        // A gap exactly as long as the tolerance stays (shorter merges).
        let ev = events_of_(&opts(0.5, 0.5, 0.5, 0.0), &seq(&p), 3.5);
        assert_eq!(spans(&ev).len(), 3);
    }

    #[test]
    fn min_duration_drops_short_events_after_merging() {
        let p = [0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9];
        let ev = events_of_(&opts(0.5, 0.5, 0.0, 1.0), &seq(&p), 4.5);
        assert_eq!(spans(&ev), vec![(3.0, 4.5)]);
        // Merged first, the first two make 1.5 s and survive.
        let ev = events_of_(&opts(0.5, 0.5, 0.6, 1.0), &seq(&p), 4.5);
        assert_eq!(spans(&ev), vec![(0.0, 1.5), (3.0, 4.5)]);
    }

    #[test]
    fn ignored_classes_and_weak_windows_make_nothing() {
        // The background class is certain everywhere: no event.
        let ev = events_of_(&opts(0.5, 0.25, 0.0, 0.0), &seq(&[0.0, 0.0, 0.0]), 1.5);
        assert!(ev.is_empty());
        // Three classes at 0.34/0.33/0.33: the best is under 0.5, nothing.
        let o = PostOptions {
            classes: vec!["a".into(), "b".into(), "c".into()],
            on: vec![0.5; 3],
            off: vec![0.25; 3],
            merge_gap: 0.0,
            min_duration: 0.0,
        };
        let w = vec![(0.0, 1.0, vec![0.34, 0.33, 0.33])];
        assert!(events_of_(&o, &w, 1.0).is_empty());
        // A class over its threshold that is not the window's best starts
        // nothing either.
        let o = PostOptions {
            on: vec![0.3; 3],
            off: vec![0.15; 3],
            ..o
        };
        let w = vec![(0.0, 1.0, vec![0.36, 0.34, 0.30])];
        let ev = events_of_(&o, &w, 1.0);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].label, "a");
    }

    #[test]
    fn events_are_handed_out_as_soon_as_they_end() {
        let mut t = Tracker::new(opts(0.5, 0.5, 0.0, 0.0), 0.5);
        let mut got = Vec::new();
        for (i, (from, to, p)) in seq(&[0.9, 0.9, 0.1, 0.1]).iter().enumerate() {
            t.push(*from, *to, p, &mut |e| got.push((i, e)));
        }
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 2, "final at the window that ends it");
        // With a merge gap it waits for the gap to pass.
        let mut t = Tracker::new(opts(0.5, 0.5, 0.6, 0.0), 0.5);
        let mut got = Vec::new();
        for (i, (from, to, p)) in seq(&[0.9, 0.1, 0.1, 0.1]).iter().enumerate() {
            t.push(*from, *to, p, &mut |e| got.push((i, e)));
        }
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 3, "final once the gap is longer than 0.6 s");
    }
}
