//! Fundamental frequency: YIN (`librosa.yin`) and probabilistic YIN
//! (`librosa.pyin`), as librosa 0.11 computes them.
//!
//! Both frame the signal with `frame_length` samples (centred by
//! `frame_length / 2` samples of the configured padding) every `hop_length`
//! samples, so a clip gives as many frames as the STFT kinds when both
//! lengths are even, and compute the cumulative mean normalized difference
//! function of every frame for periods `floor(sr / fmax)` to
//! `min(ceil(sr / fmin), frame_length - 1)` from an FFT autocorrelation.
//!
//! pYIN follows librosa's port of the official pYIN software step by step:
//! troughs of the difference function weighted by a Beta(2, 18) prior over
//! 100 thresholds and a Boltzmann (2) prior over trough order, observation
//! probabilities over pitch bins of 0.1 semitone from `fmin`, and a Viterbi
//! decoding over voiced and unvoiced copies of those bins with a triangular
//! local transition (35.92 octaves per second at most) and a 1 % voicing
//! switch probability. The decoding is librosa's dense `sequence.viterbi`
//! evaluated sparsely: the transition matrix is zero outside the band, which
//! librosa's log turns into `ln(tiny)`, and the only out-of-band predecessor
//! that can win is the previous frame's best state, so each state looks at
//! its band plus that one state. Ties go to the lowest state index, as
//! `np.argmax` does.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::frame::{self, Pad};

/// `librosa.note_to_hz("C2")`, the lowest pitch librosa recommends.
pub(crate) const DEFAULT_FMIN: f64 = 65.406_391_325_149_66;
/// `librosa.note_to_hz("C7")`, the highest pitch librosa recommends.
pub(crate) const DEFAULT_FMAX: f64 = 2_093.004_522_404_789;

/// `pyin(n_thresholds=100)`.
const N_THRESHOLDS: usize = 100;
/// `pyin(beta_parameters=(2, 18))`: integer shapes, so the Beta CDF is a
/// finite binomial sum.
const BETA: (u32, u32) = (2, 18);
/// `pyin(boltzmann_parameter=2)`.
const BOLTZMANN: f64 = 2.0;
/// `pyin(resolution=0.1)`: bins per semitone `ceil(1 / 0.1)`.
const BINS_PER_SEMITONE: usize = 10;
/// `pyin(max_transition_rate=35.92)`, octaves per second.
const MAX_TRANSITION_RATE: f64 = 35.92;
/// `pyin(switch_prob=0.01)`.
const SWITCH_PROB: f64 = 0.01;
/// `pyin(no_trough_prob=0.01)`.
const NO_TROUGH_PROB: f64 = 0.01;

/// `np.finfo(np.float64).tiny`, librosa's `util.tiny` for float64.
const TINY: f64 = f64::MIN_POSITIVE;

/// The pitch settings a plan is built from (validated by the config).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PitchParams {
    pub(crate) sample_rate: f64,
    pub(crate) fmin: f64,
    pub(crate) fmax: f64,
    pub(crate) frame_length: usize,
    pub(crate) hop: usize,
    pub(crate) center: bool,
    pub(crate) pad: Pad,
    pub(crate) yin_threshold: f64,
}

/// Periods searched: `floor(sr / fmax)` to `min(ceil(sr / fmin), frame_length - 1)`.
pub(crate) fn period_range(
    sample_rate: f64,
    fmin: f64,
    fmax: f64,
    frame_length: usize,
) -> (usize, usize) {
    let min_period = (sample_rate / fmax).floor() as usize;
    let max_period = ((sample_rate / fmin).ceil() as usize).min(frame_length.saturating_sub(1));
    (min_period, max_period)
}

/// Pitch bins of 0.1 semitone from `fmin` up to `fmax`:
/// `floor(120 log2(fmax / fmin)) + 1`.
pub(crate) fn n_pitch_bins(fmin: f64, fmax: f64) -> usize {
    ((12 * BINS_PER_SEMITONE) as f64 * (fmax / fmin).log2()).floor() as usize + 1
}

/// Width in pitch bins of the local transition band:
/// `round(35.92 * 12 * hop / sr) * 10 + 1` (Python's round, half to even).
pub(crate) fn transition_width(sample_rate: f64, hop: usize) -> usize {
    let semitones = (MAX_TRANSITION_RATE * 12.0 * hop as f64 / sample_rate).round_ties_even();
    semitones as usize * BINS_PER_SEMITONE + 1
}

/// numpy's pairwise summation (`np.sum` over a contiguous axis), so sums
/// that feed comparisons round as librosa's do.
fn numpy_sum(x: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = x.len();
    if n < 8 {
        let mut s = 0.0;
        for &v in x {
            s += v;
        }
        s
    } else if n <= BLOCK {
        let mut r = [0.0; 8];
        r.copy_from_slice(&x[..8]);
        let mut i = 8;
        while i + 8 <= n {
            for k in 0..8 {
                r[k] += x[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &x[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&x[..n2]) + numpy_sum(&x[n2..])
    }
}

/// `scipy.signal.get_window("triangle", m, fftbins=False)`.
fn triangle(m: usize) -> Vec<f64> {
    let half: Vec<f64> = (1..=m.div_ceil(2))
        .map(|n| {
            if m.is_multiple_of(2) {
                (2.0 * n as f64 - 1.0) / m as f64
            } else {
                2.0 * n as f64 / (m as f64 + 1.0)
            }
        })
        .collect();
    let mut w = half.clone();
    if m.is_multiple_of(2) {
        w.extend(half.iter().rev());
    } else {
        w.extend(half.iter().rev().skip(1));
    }
    w
}

/// Row `i` of `librosa.sequence.transition_local(n, width, window="triangle",
/// wrap=False)`, built the way librosa builds it (centre, roll, knock out,
/// normalize), as `(first column, values)` of its non-zero band.
fn transition_row(n: usize, width: usize, i: usize) -> (usize, Vec<f64>) {
    let win = triangle(width);
    let mut row = vec![0.0; n];
    let lpad = (n - width) / 2;
    row[lpad..lpad + width].copy_from_slice(&win);
    let shift = (n / 2 + i + 1) % n;
    row.rotate_right(shift);
    let hi = n.min(i + width / 2 + 1);
    row[hi..].fill(0.0);
    let lo = i.saturating_sub(width / 2);
    row[..lo].fill(0.0);
    let sum = numpy_sum(&row);
    (lo, row[lo..hi].iter().map(|v| v / sum).collect())
}

/// The Beta CDF `I_x(a, b)` for integer shapes, the probability that a
/// Binomial(a + b - 1, x) count reaches `a`, summed from whichever tail is smaller so that every value is
/// accurate to a few ulps and the increments between thresholds (the prior
/// pYIN weights troughs with) are never negative, as scipy's are.
fn beta_cdf(x: f64, a: u32, b: u32) -> f64 {
    let n = a + b - 1;
    let (mut upper, mut lower) = (0.0, 0.0);
    let mut binom = 1.0f64;
    for j in 0..=n {
        if j > 0 {
            binom = binom * f64::from(n - j + 1) / f64::from(j);
        }
        let term = binom * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32);
        if j >= a {
            upper += term;
        } else {
            lower += term;
        }
    }
    if upper < 0.5 { upper } else { 1.0 - lower }
}

/// Everything planned once per configuration and sample rate.
pub(crate) struct PitchPlan {
    p: PitchParams,
    min_period: usize,
    n_lags: usize,
    n_acf: usize,
    fft: Arc<dyn RealToComplex<f64>>,
    ifft: Arc<dyn ComplexToReal<f64>>,
    /// `np.linspace(0, 1, 101)`.
    thresholds: Vec<f64>,
    /// `np.diff(beta.cdf(thresholds, 2, 18))`.
    beta_probs: Vec<f64>,
    n_bins: usize,
    /// `fmin * 2 ** (k / 120)`.
    freqs: Vec<f64>,
    /// Per target pitch bin: first predecessor bin, and per predecessor the
    /// log transition within a voicing state and across.
    band: Vec<(usize, Vec<f64>, Vec<f64>)>,
    log_tiny: f64,
    log_p_init: f64,
}

/// Per-clip buffers.
#[derive(Default)]
pub(crate) struct PitchScratch {
    padded: Vec<f32>,
    frame: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    acf: Vec<f64>,
    fft_scratch: Vec<Complex<f64>>,
    diff: Vec<f64>,
    yin: Vec<f64>,
    shifts: Vec<f64>,
    troughs: Vec<usize>,
    probs: Vec<f64>,
}

/// pYIN's result per frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Pyin {
    /// Decoded f0 in Hz of every frame, voiced or not (librosa's
    /// `fill_na=None` best guess).
    pub(crate) f0: Vec<f64>,
    /// Whether the decoded state is voiced (`voiced_flag`).
    pub(crate) voiced: Vec<bool>,
    /// `voiced_prob`, 0..1.
    pub(crate) voiced_prob: Vec<f64>,
}

impl PitchPlan {
    pub(crate) fn new(p: PitchParams) -> PitchPlan {
        let (min_period, max_period) = period_range(p.sample_rate, p.fmin, p.fmax, p.frame_length);
        let n_lags = max_period + 1 - min_period;
        // Linear autocorrelation up to lag max_period needs
        // frame_length + max_period points; a length of small factors.
        let n_acf = fast_len(p.frame_length + max_period + 1);
        let mut planner = RealFftPlanner::<f64>::new();
        let thresholds: Vec<f64> = (0..=N_THRESHOLDS)
            .map(|k| k as f64 * (1.0 / N_THRESHOLDS as f64))
            .map(|v| v.min(1.0))
            .collect();
        let cdf: Vec<f64> = thresholds
            .iter()
            .map(|&x| beta_cdf(x, BETA.0, BETA.1))
            .collect();
        let beta_probs = cdf.windows(2).map(|w| w[1] - w[0]).collect();
        let n_bins = n_pitch_bins(p.fmin, p.fmax);
        let freqs = (0..n_bins)
            .map(|k| p.fmin * 2f64.powf(k as f64 / (12 * BINS_PER_SEMITONE) as f64))
            .collect();
        let width = transition_width(p.sample_rate, p.hop).min(n_bins);
        // transition_loop(2, 1 - switch_prob), kron'ed with the local band.
        let stay = 1.0 - SWITCH_PROB;
        let switch = (1.0 - stay) / 1.0;
        let rows: Vec<(usize, Vec<f64>)> = (0..n_bins)
            .map(|i| transition_row(n_bins, width, i))
            .collect();
        let half = width / 2;
        let band = (0..n_bins)
            .map(|j| {
                let lo = j.saturating_sub(half);
                let hi = (j + half).min(n_bins - 1);
                let t: Vec<f64> = (lo..=hi).map(|i| rows[i].1[j - rows[i].0]).collect();
                let same = t.iter().map(|&v| (stay * v + TINY).ln()).collect();
                let cross = t.iter().map(|&v| (switch * v + TINY).ln()).collect();
                (lo, same, cross)
            })
            .collect();
        PitchPlan {
            p,
            min_period,
            n_lags,
            n_acf,
            fft: planner.plan_fft_forward(n_acf),
            ifft: planner.plan_fft_inverse(n_acf),
            thresholds,
            beta_probs,
            n_bins,
            freqs,
            band,
            log_tiny: TINY.ln(),
            log_p_init: (1.0 / (2 * n_bins) as f64 + TINY).ln(),
        }
    }

    /// Frames of a clip of `n_samples`.
    pub(crate) fn n_frames(&self, n_samples: usize) -> usize {
        frame::n_frames(n_samples, self.p.frame_length, self.p.hop, self.p.center)
    }

    /// Run `each(t, yin, shifts)` on every frame's cumulative mean
    /// normalized difference (lags `min_period..=max_period`) and its
    /// parabolic shifts.
    fn for_each_frame(
        &self,
        samples: &[f32],
        s: &mut PitchScratch,
        mut each: impl FnMut(usize, &[f64], &[f64], &mut Vec<usize>, &mut Vec<f64>),
    ) {
        let fl = self.p.frame_length;
        let n_frames = self.n_frames(samples.len());
        let PitchScratch {
            padded,
            frame: buf,
            spectrum,
            acf,
            fft_scratch,
            diff,
            yin,
            shifts,
            troughs,
            probs,
        } = s;
        let signal: &[f32] = if self.p.center {
            frame::pad_into(samples, fl / 2, self.p.pad, padded);
            padded
        } else {
            samples
        };
        let max_period = self.min_period + self.n_lags - 1;
        buf.resize(self.n_acf, 0.0);
        acf.resize(self.n_acf, 0.0);
        spectrum.resize(self.n_acf / 2 + 1, Complex::default());
        let scratch_len = self.fft.get_scratch_len().max(self.ifft.get_scratch_len());
        fft_scratch.resize(scratch_len, Complex::default());
        diff.resize(max_period + 1, 0.0);
        yin.resize(self.n_lags, 0.0);
        shifts.resize(self.n_lags, 0.0);
        for t in 0..n_frames {
            let chunk = &signal[t * self.p.hop..t * self.p.hop + fl];
            buf.fill(0.0);
            for (b, &x) in buf.iter_mut().zip(chunk) {
                *b = f64::from(x);
            }
            // Autocorrelation as audio.autocorrelate: irfft(|rfft(x)|^2).
            if self
                .fft
                .process_with_scratch(buf, spectrum, fft_scratch)
                .is_err()
            {
                spectrum.fill(Complex::default());
            }
            for c in spectrum.iter_mut() {
                *c = Complex::new(c.norm_sqr(), 0.0);
            }
            if self
                .ifft
                .process_with_scratch(spectrum, acf, fft_scratch)
                .is_err()
            {
                acf.fill(0.0);
            }
            let scale = 1.0 / self.n_acf as f64;
            // d(k) = 2 (r(0) - r(k)) - sum_{m<k} x(m)^2, d(0) = 0.
            let r0 = acf[0] * scale;
            let mut energy = 0.0;
            diff[0] = 0.0;
            for k in 1..=max_period {
                let x = f64::from(chunk[k - 1]);
                energy += x * x;
                diff[k] = 2.0 * (r0 - acf[k] * scale) - energy;
            }
            // Cumulative mean normalized difference for lags min..=max.
            let mut cum = 0.0;
            for k in 1..=max_period {
                cum += diff[k];
                if k >= self.min_period {
                    let mean = cum / k as f64;
                    yin[k - self.min_period] = diff[k] / (mean + TINY);
                }
            }
            parabolic_shifts(yin, shifts);
            each(t, yin, shifts, troughs, probs);
        }
    }

    /// `librosa.yin(..., trough_threshold)`: f0 in Hz of every frame into `out`.
    pub(crate) fn yin(&self, samples: &[f32], s: &mut PitchScratch, out: &mut [f32]) {
        let sr = self.p.sample_rate;
        let threshold = self.p.yin_threshold;
        let min_period = self.min_period as f64;
        self.for_each_frame(samples, s, |t, yin, shifts, troughs, _| {
            find_troughs(yin, troughs);
            let chosen = troughs
                .iter()
                .copied()
                .find(|&k| yin[k] < threshold)
                .unwrap_or_else(|| argmin(yin));
            out[t] = (sr / (min_period + chosen as f64 + shifts[chosen])) as f32;
        });
    }

    /// `librosa.pyin` with its defaults but `fmin`, `fmax`, `frame_length`,
    /// `hop_length`, `center` and `pad_mode`.
    pub(crate) fn pyin(&self, samples: &[f32], s: &mut PitchScratch) -> Pyin {
        let n_frames = self.n_frames(samples.len());
        let n = self.n_bins;
        let sr = self.p.sample_rate;
        let fmin = self.p.fmin;
        // Sparse observations per frame: (bin, probability) in bin order.
        let mut obs: Vec<Vec<(usize, f64)>> = Vec::with_capacity(n_frames);
        let mut voiced_prob = Vec::with_capacity(n_frames);
        let mut dense = vec![0.0f64; n + 1];
        self.for_each_frame(samples, s, |_, yin, shifts, troughs, probs| {
            self.trough_probs(yin, troughs, probs);
            // Observation probabilities: each trough's probability at the
            // pitch bin of its interpolated period; bins clipped to
            // 0..=n_bins as librosa does (bin n_bins is the first unvoiced
            // state, which the unvoiced probability then overwrites).
            let mut touched: Vec<usize> = Vec::new();
            for (&k, &p) in troughs.iter().zip(probs.iter()) {
                if p == 0.0 {
                    continue;
                }
                let period = self.min_period as f64 + k as f64 + shifts[k];
                let f0 = sr / period;
                let bin = ((12 * BINS_PER_SEMITONE) as f64 * (f0 / fmin).log2()).round_ties_even();
                let bin = if bin.is_nan() {
                    0
                } else {
                    bin.clamp(0.0, n as f64) as usize
                };
                dense[bin] = p;
                touched.push(bin);
            }
            touched.sort_unstable();
            touched.dedup();
            let mut sum = 0.0;
            let mut frame_obs = Vec::with_capacity(touched.len());
            for &b in &touched {
                if b < n {
                    sum += dense[b];
                    frame_obs.push((b, dense[b]));
                }
                dense[b] = 0.0;
            }
            voiced_prob.push(sum.clamp(0.0, 1.0));
            obs.push(frame_obs);
        });
        let states = self.viterbi(&obs, &voiced_prob);
        Pyin {
            f0: states.iter().map(|&st| self.freqs[st % n]).collect(),
            voiced: states.iter().map(|&st| st < n).collect(),
            voiced_prob,
        }
    }

    /// `__pyin_helper`'s probabilities of the troughs of one frame, into
    /// `probs` (one per entry of `troughs`).
    fn trough_probs(&self, yin: &[f64], troughs: &mut Vec<usize>, probs: &mut Vec<f64>) {
        find_troughs(yin, troughs);
        probs.clear();
        probs.resize(troughs.len(), 0.0);
        if troughs.is_empty() {
            return;
        }
        let lambda_fact = 1.0 - (-BOLTZMANN).exp();
        for (m, &beta) in self.beta_probs.iter().enumerate() {
            let threshold = self.thresholds[m + 1];
            let below = troughs.iter().filter(|&&k| yin[k] < threshold).count();
            if below == 0 {
                continue;
            }
            // scipy.stats.boltzmann.pmf(position, 2, below).
            let fact = lambda_fact / (1.0 - (-BOLTZMANN * below as f64).exp());
            let mut position = 0usize;
            for (p, &k) in probs.iter_mut().zip(troughs.iter()) {
                if yin[k] < threshold {
                    *p += fact * (-BOLTZMANN * position as f64).exp() * beta;
                    position += 1;
                }
            }
        }
        let global = (0..troughs.len()).fold(0, |best, i| {
            if yin[troughs[i]] < yin[troughs[best]] {
                i
            } else {
                best
            }
        });
        let min_height = yin[troughs[global]];
        let n_below_min = self.thresholds[1..]
            .iter()
            .filter(|&&th| min_height.partial_cmp(&th) != Some(std::cmp::Ordering::Less))
            .count();
        probs[global] += NO_TROUGH_PROB * numpy_sum(&self.beta_probs[..n_below_min]);
    }

    /// `librosa.sequence.viterbi` over the 2 x n_bins states (voiced bins,
    /// then unvoiced bins) with uniform initial probabilities.
    fn viterbi(&self, obs: &[Vec<(usize, f64)>], voiced_prob: &[f64]) -> Vec<usize> {
        let n = self.n_bins;
        let n_states = 2 * n;
        let n_frames = obs.len();
        if n_frames == 0 {
            return Vec::new();
        }
        let mut log_prob = vec![0.0f64; n_states];
        let fill_log_prob = |t: usize, lp: &mut [f64]| {
            lp[..n].fill(self.log_tiny);
            for &(b, p) in &obs[t] {
                lp[b] = (p + TINY).ln();
            }
            let unvoiced = ((1.0 - voiced_prob[t]) / n as f64 + TINY).ln();
            lp[n..].fill(unvoiced);
        };
        let mut prev = vec![0.0f64; n_states];
        let mut value = vec![0.0f64; n_states];
        let mut ptr = vec![0u32; n_frames * n_states];
        fill_log_prob(0, &mut log_prob);
        for (v, &lp) in prev.iter_mut().zip(&log_prob) {
            *v = lp + self.log_p_init;
        }
        for t in 1..n_frames {
            fill_log_prob(t, &mut log_prob);
            // First state of the previous frame's maximum: the only
            // out-of-band predecessor that can win.
            let mut gi = 0;
            for (i, &v) in prev.iter().enumerate() {
                if v > prev[gi] {
                    gi = i;
                }
            }
            let g_val = prev[gi] + self.log_tiny;
            let g_bin = gi % n;
            let row = &mut ptr[t * n_states..(t + 1) * n_states];
            for j in 0..n_states {
                let (b, voiced_target) = (j % n, j < n);
                let (lo, same, cross) = &self.band[b];
                let (to_voiced, to_unvoiced) = if voiced_target {
                    (same, cross)
                } else {
                    (cross, same)
                };
                let mut best = f64::NEG_INFINITY;
                let mut best_i = 0;
                for (k, &w) in to_voiced.iter().enumerate() {
                    let v = prev[lo + k] + w;
                    if v > best {
                        best = v;
                        best_i = lo + k;
                    }
                }
                for (k, &w) in to_unvoiced.iter().enumerate() {
                    let v = prev[n + lo + k] + w;
                    if v > best {
                        best = v;
                        best_i = n + lo + k;
                    }
                }
                let in_band = g_bin >= *lo && g_bin < lo + to_voiced.len();
                if !in_band && (g_val > best || (g_val == best && gi < best_i)) {
                    best = g_val;
                    best_i = gi;
                }
                row[j] = best_i as u32;
                value[j] = log_prob[j] + best;
            }
            std::mem::swap(&mut prev, &mut value);
        }
        let mut state = 0;
        for (i, &v) in prev.iter().enumerate() {
            if v > prev[state] {
                state = i;
            }
        }
        let mut states = vec![0usize; n_frames];
        states[n_frames - 1] = state;
        for t in (0..n_frames - 1).rev() {
            states[t] = ptr[(t + 1) * n_states + states[t + 1]] as usize;
        }
        states
    }
}

/// Smallest `2^a 3^b 5^c >= n`, a length realfft transforms quickly.
fn fast_len(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| {
            let mut r = m;
            for f in [2, 3, 5] {
                while r % f == 0 {
                    r /= f;
                }
            }
            r == 1
        })
        .unwrap_or(n)
}

/// `_parabolic_interpolation`: the optimum's offset from each interior
/// lag, 0 where it would move by a whole lag or more, and 0 at both ends.
fn parabolic_shifts(x: &[f64], out: &mut [f64]) {
    let n = x.len();
    out.fill(0.0);
    for i in 1..n.saturating_sub(1) {
        let a = x[i + 1] + x[i - 1] - 2.0 * x[i];
        let b = (x[i + 1] - x[i - 1]) / 2.0;
        out[i] = if b.abs() >= a.abs() { 0.0 } else { -b / a };
    }
}

/// Lags that are troughs: `util.localmin` (strictly below the left
/// neighbour, not above the right; the last lag if below its neighbour) and
/// the first lag if below the second.
fn find_troughs(x: &[f64], out: &mut Vec<usize>) {
    out.clear();
    let n = x.len();
    if n < 2 {
        return;
    }
    if x[0] < x[1] {
        out.push(0);
    }
    for i in 1..n - 1 {
        if x[i] < x[i - 1] && x[i] <= x[i + 1] {
            out.push(i);
        }
    }
    if x[n - 1] < x[n - 2] {
        out.push(n - 1);
    }
}

/// First index of the minimum (`np.argmin`).
fn argmin(x: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v < x[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_sum_matches_plain_sum_on_exact_values() {
        let x: Vec<f64> = (0..300).map(f64::from).collect();
        assert_eq!(numpy_sum(&x), 44850.0);
        assert_eq!(numpy_sum(&[1.0, 2.0]), 3.0);
    }

    #[test]
    fn triangle_matches_scipy() {
        // scipy.signal.get_window("triangle", 5, fftbins=False)
        assert_eq!(
            triangle(5),
            vec![1.0 / 3.0, 2.0 / 3.0, 1.0, 2.0 / 3.0, 1.0 / 3.0]
        );
        // scipy.signal.get_window("triangle", 4, fftbins=False)
        assert_eq!(triangle(4), vec![0.25, 0.75, 0.75, 0.25]);
        assert_eq!(triangle(1), vec![1.0]);
    }

    #[test]
    fn transition_rows_are_local_and_normalized() {
        // transition_local(6, 3): row 0 is [2/3, 1/3, 0...] (0.5, 1 of the
        // window kept, normalized), an interior row [.25, .5, .25].
        let (lo, row) = transition_row(6, 3, 0);
        assert_eq!(lo, 0);
        assert!((row[0] - 2.0 / 3.0).abs() < 1e-15 && (row[1] - 1.0 / 3.0).abs() < 1e-15);
        let (lo, row) = transition_row(6, 3, 3);
        assert_eq!(lo, 2);
        assert_eq!(row, vec![0.25, 0.5, 0.25]);
        let (lo, row) = transition_row(6, 3, 5);
        assert_eq!((lo, row.len()), (4, 2));
    }

    #[test]
    fn beta_cdf_of_integer_shapes() {
        // scipy.stats.beta.cdf(0.1, 2, 18)
        assert!((beta_cdf(0.1, 2, 18) - 0.579_735_021_168_402_6).abs() < 1e-12);
        assert_eq!(beta_cdf(0.0, 2, 18), 0.0);
        assert_eq!(beta_cdf(1.0, 2, 18), 1.0);
        // Increments near 1, where the CDF is 1 - 1e-30: never negative.
        let cdf: Vec<f64> = (0..=100)
            .map(|k| beta_cdf(k as f64 * 0.01, 2, 18))
            .collect();
        assert!(cdf.windows(2).all(|w| w[1] >= w[0]));
    }

    #[test]
    fn fast_len_has_small_factors() {
        assert_eq!(fast_len(2048 + 124), 2187);
        assert_eq!(fast_len(1024), 1024);
        assert_eq!(fast_len(7), 8);
    }

    #[test]
    fn yin_finds_a_tone() {
        let sr = 8000.0;
        let plan = PitchPlan::new(PitchParams {
            sample_rate: sr,
            fmin: DEFAULT_FMIN,
            fmax: DEFAULT_FMAX,
            frame_length: 1024,
            hop: 80,
            center: true,
            pad: Pad::Constant,
            yin_threshold: 0.1,
        });
        let x: Vec<f32> = (0..8000)
            .map(|i| (0.5 * (2.0 * std::f64::consts::PI * 220.0 * i as f64 / sr).sin()) as f32)
            .collect();
        let mut out = vec![0.0; plan.n_frames(x.len())];
        plan.yin(&x, &mut PitchScratch::default(), &mut out);
        let mid = out[out.len() / 2];
        assert!((mid - 220.0).abs() < 0.5, "{mid}");
        let p = plan.pyin(&x, &mut PitchScratch::default());
        let t = p.f0.len() / 2;
        assert!(
            p.voiced[t] && (p.f0[t] - 220.0).abs() < 220.0 * 0.006,
            "{:?}",
            p.f0[t]
        );
        assert!(p.voiced_prob[t] > 0.9);
    }
}
