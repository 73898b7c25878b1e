//! Sliding windows over audio that arrives piece by piece, and the span of
//! time each window's evidence stands for.
//!
//! A window is as long as the model's training input (the samples whose
//! features make `clip_frames` frames) and starts every `hop` samples. At
//! the end of the recording one more window, flush with the end, covers
//! the tail the regular windows missed; a recording shorter than one
//! window is one short window (padded as in training by the model's input
//! recipe).
//!
//! Where events lie in time is decided from the windows' extents (see
//! [`super::postprocess`]).
//!
//! Memory holds one window and one hop of samples, whatever the length of
//! the recording.

/// Where a window lies, in samples from the start of the recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First sample.
    pub start: u64,
    /// Samples in the window (`len` of the windower, or fewer for a
    /// recording shorter than one window).
    pub len: usize,
}

/// Cuts a stream of samples into windows of `len` samples every `hop`.
#[derive(Debug)]
pub struct Windower {
    len: usize,
    hop: usize,
    /// Samples from `buf_start` on.
    buf: Vec<f32>,
    buf_start: u64,
    /// Start of the next regular window.
    next: u64,
    /// End of the last window handed out.
    covered: u64,
    total: u64,
}

impl Windower {
    /// Windows of `len` samples every `hop` samples (both at least 1).
    pub fn new(len: usize, hop: usize) -> Windower {
        Windower {
            len: len.max(1),
            hop: hop.max(1),
            buf: Vec::with_capacity(len + hop),
            buf_start: 0,
            next: 0,
            covered: 0,
            total: 0,
        }
    }

    /// Samples received so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Feeds samples; every window they complete goes to `f`.
    pub fn push(&mut self, mut x: &[f32], f: &mut dyn FnMut(Window, &[f32])) {
        while !x.is_empty() {
            // Take no more than completes the next window, so the buffer
            // stays within one window and one hop (or two windows when the
            // hop is longer than the window).
            let need = (self.next + self.len as u64)
                .saturating_sub(self.buf_start + self.buf.len() as u64);
            let take = (need as usize).clamp(1, x.len().max(1)).min(x.len());
            self.buf.extend_from_slice(&x[..take]);
            self.total += take as u64;
            x = &x[take..];
            while self.buf_start + self.buf.len() as u64 >= self.next + self.len as u64 {
                let at = (self.next - self.buf_start) as usize;
                f(
                    Window {
                        start: self.next,
                        len: self.len,
                    },
                    &self.buf[at..at + self.len],
                );
                self.covered = self.next + self.len as u64;
                self.next += self.hop as u64;
                // Keep the last window's worth for a tail window.
                let drop = ((self.next - self.buf_start) as usize)
                    .min(self.buf.len().saturating_sub(self.len));
                self.buf.drain(..drop);
                self.buf_start += drop as u64;
            }
        }
    }

    /// The end of the recording: the tail window, if one is needed, goes
    /// to `f`.
    pub fn finish(mut self, f: &mut dyn FnMut(Window, &[f32])) {
        if self.total == 0 || self.covered >= self.total {
            return;
        }
        // Keep the last `len` samples (the buffer holds at least them, or
        // the whole recording when it is shorter than one window).
        let keep = self.len.min(self.buf.len());
        let cut = self.buf.len() - keep;
        self.buf.drain(..cut);
        self.buf_start += cut as u64;
        f(
            Window {
                start: self.buf_start,
                len: self.buf.len(),
            },
            &self.buf,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows_of(n: usize, len: usize, hop: usize, piece: usize) -> Vec<(Window, Vec<f32>)> {
        let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let mut w = Windower::new(len, hop);
        let mut out = Vec::new();
        for p in x.chunks(piece) {
            w.push(p, &mut |win, s| out.push((win, s.to_vec())));
            assert!(w.buf.len() <= len + hop.max(len), "bounded buffer");
        }
        w.finish(&mut |win, s| out.push((win, s.to_vec())));
        out
    }

    #[test]
    fn windows_hop_along_and_the_tail_ends_flush() {
        for piece in [1, 3, 7, 100, 1000] {
            let w = windows_of(25, 10, 4, piece);
            let starts: Vec<u64> = w.iter().map(|(w, _)| w.start).collect();
            assert_eq!(starts, vec![0, 4, 8, 12, 15], "pieces of {piece}");
            for (win, s) in &w {
                assert_eq!(s.len(), win.len);
                assert_eq!(s[0], win.start as f32, "the window's own samples");
            }
            // Ends exactly on a window: no tail window.
            let w = windows_of(22, 10, 4, piece);
            assert_eq!(w.len(), 4);
            // Shorter than a window: one short window.
            let w = windows_of(6, 10, 4, piece);
            assert_eq!(w.len(), 1);
            assert_eq!(w[0].0, Window { start: 0, len: 6 });
            assert!(windows_of(0, 10, 4, piece).is_empty());
        }
    }
}
