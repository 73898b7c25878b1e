//! Power to decibels, `librosa.power_to_db`:
//! `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, then, when `top_db`
//! is set, a floor `top_db` below the maximum over the whole clip.

/// The fixed part of a dB conversion.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Db {
    amin: f64,
    offset: f64,
}

impl Db {
    /// For `ref` (the power mapped to 0 dB) and `amin`.
    pub(crate) fn new(reference: f64, amin: f64) -> Db {
        Db {
            amin,
            offset: 10.0 * reference.abs().max(amin).log10(),
        }
    }

    /// One value in dB, before any `top_db` floor.
    pub(crate) fn to_db(self, power: f64) -> f64 {
        10.0 * power.max(self.amin).log10() - self.offset
    }

    /// The same in single precision, as librosa computes it for float32
    /// spectrograms (about 1e-6 dB from the double-precision value, and
    /// several times faster).
    pub(crate) fn to_db_f32(self, power: f32) -> f32 {
        10.0 * power.max(self.amin as f32).log10() - self.offset as f32
    }
}

/// Raise every value to at least `max(values) - top_db` (librosa applies the
/// floor per call, i.e. per clip here). `None` leaves the values as they are.
pub(crate) fn apply_top_db<T: Copy + Into<f64> + PartialOrd + FromF64>(
    values: &mut [T],
    top_db: Option<f64>,
) {
    let Some(top_db) = top_db else { return };
    let Some(max) = values.iter().map(|&v| v.into()).reduce(f64::max) else {
        return;
    };
    let floor = T::from_f64(max - top_db);
    for v in values {
        if *v < floor {
            *v = floor;
        }
    }
}

/// Conversion back from `f64` for [`apply_top_db`].
pub(crate) trait FromF64 {
    fn from_f64(v: f64) -> Self;
}

impl FromF64 for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl FromF64 for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_power_to_db() {
        let db = Db::new(1.0, 1e-10);
        assert_eq!(db.to_db(1.0), 0.0);
        assert!((db.to_db(100.0) - 20.0).abs() < 1e-12);
        assert!((db.to_db(0.0) + 100.0).abs() < 1e-9);
        for p in [0.0f32, 1e-12, 3.5e-4, 1.0, 123.4] {
            assert!((f64::from(db.to_db_f32(p)) - db.to_db(f64::from(p))).abs() < 1e-4);
        }
        let db = Db::new(10.0, 1e-10);
        assert!((db.to_db(100.0) - 10.0).abs() < 1e-12);
        let mut v = vec![0.0f32, -30.0, -100.0, 5.0];
        apply_top_db(&mut v, Some(80.0));
        assert_eq!(v, [0.0, -30.0, -75.0, 5.0]);
        let mut w = vec![-100.0f32];
        apply_top_db(&mut w, None);
        assert_eq!(w, [-100.0]);
    }
}
