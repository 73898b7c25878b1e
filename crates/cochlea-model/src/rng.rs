//! The seeded random stream for shuffling and augmentation.
//!
//! SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
//! number generators"): tiny, fast, and statistically fine for drawing
//! permutations and augmentation parameters. Each epoch gets its own stream
//! derived from the seed and the epoch number, so resuming from a checkpoint
//! at any epoch replays exactly the draws of an uninterrupted run.

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seed for stream `stream` (shuffle, augmentation, torch) of `epoch`,
/// decorrelated from neighbouring seeds and epochs.
pub(crate) fn derive(seed: u64, stream: u64, epoch: u64) -> u64 {
    mix(mix(mix(seed ^ GOLDEN).wrapping_add(stream)).wrapping_add(epoch))
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi].
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift; the bias for
    /// n far below 2^64 is negligible), `n >= 1`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        p >= 1.0 || self.uniform() < p
    }

    /// Standard normal draws (Box-Muller, both outputs used).
    pub(crate) fn fill_normal(&mut self, out: &mut [f32]) {
        for pair in out.chunks_mut(2) {
            let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
            let u2 = self.uniform();
            let r = (-2.0 * u1.ln()).sqrt();
            let t = std::f64::consts::TAU * u2;
            pair[0] = (r * t.cos()) as f32;
            if let Some(second) = pair.get_mut(1) {
                *second = (r * t.sin()) as f32;
            }
        }
    }

    /// One standard normal draw (Box-Muller, first output).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A Gamma(`shape`, 1) draw, `shape > 0`: Marsaglia and Tsang 2000, "A
    /// simple method for generating gamma variables", with the boost
    /// `Gamma(a) = Gamma(a + 1) * U^(1/a)` for `a < 1`.
    pub(crate) fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let u = 1.0 - self.uniform();
            return self.gamma(shape + 1.0) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = 1.0 - self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// A Beta(`a`, `b`) draw as `X / (X + Y)` of two Gamma draws.
    pub(crate) fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        if x + y > 0.0 { x / (x + y) } else { 0.5 }
    }

    /// A uniformly random permutation of `0..n` (Fisher-Yates).
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<i64> {
        let mut p: Vec<i64> = (0..n as i64).collect();
        for i in (1..n).rev() {
            p.swap(i, self.below(i + 1));
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_draws_have_the_beta_mean_and_variance() {
        // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
        for a in [0.2, 1.0, 4.0] {
            let mut r = Rng::new(derive(9, 4, 1));
            let n = 40_000;
            let xs: Vec<f64> = (0..n).map(|_| r.beta(a, a)).collect();
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            let want_var = 1.0 / (4.0 * (2.0 * a + 1.0));
            // Five standard errors of the mean; 5 % on the variance.
            assert!(
                (mean - 0.5).abs() < 5.0 * (want_var / n as f64).sqrt(),
                "a {a}: {mean}"
            );
            assert!(
                (var / want_var - 1.0).abs() < 0.05,
                "a {a}: {var} vs {want_var}"
            );
        }
    }

    #[test]
    fn permutation_is_a_permutation_and_depends_on_the_seed() {
        let a = Rng::new(derive(1, 0, 3)).permutation(1000);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<i64>>());
        assert_eq!(a, Rng::new(derive(1, 0, 3)).permutation(1000));
        assert_ne!(a, Rng::new(derive(1, 0, 4)).permutation(1000));
        assert_ne!(a, Rng::new(derive(2, 0, 3)).permutation(1000));
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let mean_u = (0..n).map(|_| r.uniform()).sum::<f64>() / n as f64;
        assert!((mean_u - 0.5).abs() < 0.005, "uniform mean {mean_u}");
        let mut z = vec![0f32; n];
        r.fill_normal(&mut z);
        let m = z.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let v = z.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n as f64;
        assert!(
            m.abs() < 0.01 && (v - 1.0).abs() < 0.02,
            "normal mean {m} var {v}"
        );
        let counts = (0..n).fold([0usize; 7], |mut c, _| {
            c[r.below(7)] += 1;
            c
        });
        for c in counts {
            assert!(
                (c as f64 / n as f64 - 1.0 / 7.0).abs() < 0.005,
                "below(7) counts {counts:?}"
            );
        }
    }
}
