//! FLASH_CRASH: the price falls by `drop_pct` over `duration_bars`, then recovers `recovery_pct`
//! of the fall over `recovery_bars`; volume and spread rise in the crash.
//!
//! The crash is a level path built from returns: the log level falls by `ln(1 - drop_pct)` split
//! over the crash bars with random exponential weights (real cascades put most of the move in a
//! few bars: REALISM.md's worst hours are -5% to -19% within -17% to -55% 24 h crashes), and the
//! recovery climbs to `1 - drop_pct * (1 - recovery_pct)` the same way. The path is laid over the
//! bars by [`overlay_levels`], so opens equal previous closes and OHLC stays consistent; every
//! later bar is multiplied by the final level. On flat input the peak-to-trough is exactly
//! `drop_pct` (up to one rounding). With `recovery_bars = 0` the price stays at the trough level.
//!
//! Volume is multiplied by `volume_mult` and spread by `spread_mult` in every crash bar (REALISM:
//! peak-hour volume 7-18x the 30-day mean on majors, spreads x5-x10 in stress bars); in the
//! recovery both multiples decay geometrically back to 1 (`mult^(1 - (j + 1) / (recovery_bars + 1))`).

use super::bars::{level_path, overlay_levels, random_weights, Bars};
use super::params::{bars, fraction, fraction_open, positive};
use super::{Event, TransformKind};
use crate::error::Result;
use crate::rng::Stream;

#[derive(Clone, Debug, PartialEq)]
pub struct FlashCrash {
    pub drop_pct: f64,
    pub duration_bars: usize,
    pub recovery_bars: usize,
    pub recovery_pct: f64,
    pub volume_mult: f64,
    pub spread_mult: f64,
}

impl FlashCrash {
    pub fn new(
        drop_pct: f64,
        duration_bars: usize,
        recovery_bars: usize,
        recovery_pct: f64,
        volume_mult: f64,
        spread_mult: f64,
    ) -> Result<Self> {
        Ok(FlashCrash {
            drop_pct: fraction_open("drop_pct", drop_pct)?,
            duration_bars: bars("duration_bars", duration_bars, 1)?,
            recovery_bars,
            recovery_pct: fraction("recovery_pct", recovery_pct)?,
            volume_mult: positive("volume_mult", volume_mult, 1e6)?,
            spread_mult: positive("spread_mult", spread_mult, 1e4)?,
        })
    }

    /// Bars the stress covers (crash plus recovery).
    pub fn span(&self) -> usize {
        self.duration_bars + self.recovery_bars
    }

    /// Price level after the recovery, relative to before the crash.
    pub fn final_level(&self) -> f64 {
        if self.recovery_bars == 0 {
            1.0 - self.drop_pct
        } else {
            1.0 - self.drop_pct * (1.0 - self.recovery_pct)
        }
    }

    /// Apply at bar `start` (the caller checked `start + span() <= len` and the prices).
    pub fn apply(&self, b: &mut Bars<'_>, start: usize, rng: &mut Stream) -> Vec<Event> {
        let (d, r) = (self.duration_bars, self.recovery_bars);
        let trough = 1.0 - self.drop_pct;
        let mut levels = Vec::with_capacity(d + r);
        level_path(1.0, trough, &random_weights(rng, d), &mut levels);
        if r > 0 {
            level_path(trough, self.final_level(), &random_weights(rng, r), &mut levels);
        }
        overlay_levels(b, start, &levels);
        for t in start..start + d {
            b.volume[t] *= self.volume_mult;
            b.spread[t] *= self.spread_mult;
        }
        for j in 0..r {
            let decay = 1.0 - (j + 1) as f64 / (r + 1) as f64;
            b.volume[start + d + j] *= self.volume_mult.powf(decay);
            b.spread[start + d + j] *= self.spread_mult.powf(decay);
        }
        let kind = TransformKind::FlashCrash;
        b.mark(start, start + d + r, kind.flag());
        let mut crash = Event::window(kind, "crash", start, start + d);
        crash.value = self.drop_pct;
        if r == 0 {
            crash.level_factor = self.final_level();
            return vec![crash];
        }
        let mut recovery = Event::window(kind, "recovery", start + d, start + d + r);
        recovery.value = self.recovery_pct;
        recovery.level_factor = self.final_level();
        vec![crash, recovery]
    }
}

#[cfg(test)]
mod tests {
    use super::super::bars::testing::Owned;
    use super::*;

    /// Largest fall from a running maximum of highs to a later low over bars `..end`.
    fn peak_to_trough(h: &[f64], l: &[f64]) -> f64 {
        let mut peak: f64 = 0.0;
        let mut worst: f64 = 0.0;
        for (hi, lo) in h.iter().zip(l) {
            peak = peak.max(*hi);
            worst = worst.max(1.0 - lo / peak);
        }
        worst
    }

    #[test]
    fn flat_input_drop_is_exact() {
        for (k, &d) in [0.01, 0.2, 0.5, 0.9, 0.999].iter().enumerate() {
            for dur in [1usize, 3, 24] {
                let fc = FlashCrash::new(d, dur, 10, 0.4, 8.0, 5.0).unwrap();
                let mut x = Owned::flat(100, 250.0);
                let mut rng = Stream::from_u64(k as u64);
                let ev = fc.apply(&mut x.bars(), 30, &mut rng);
                let p2t = peak_to_trough(&x.h[..30 + dur], &x.l[..30 + dur]);
                assert!((p2t - d).abs() < 1e-9, "d {d} dur {dur}: {p2t}");
                assert_eq!(x.c[30 + dur - 1], 250.0 * (1.0 - d));
                // level after recovery and continuity
                let g = 1.0 - d * 0.6;
                assert!((x.c[99] / 250.0 - g).abs() < 1e-12);
                assert_eq!(ev[1].level_factor, g);
                for t in 0..100 {
                    assert!(x.ohlc_ok(t));
                    if t > 0 {
                        assert_eq!(x.o[t], x.c[t - 1]);
                    }
                }
            }
        }
    }

    #[test]
    fn volume_spread_and_flags() {
        let fc = FlashCrash::new(0.3, 5, 4, 0.5, 8.0, 5.0).unwrap();
        let orig = Owned::random(60, 1);
        let mut x = Owned::random(60, 1);
        fc.apply(&mut x.bars(), 20, &mut Stream::from_u64(2));
        for t in 0..60 {
            let (rv, rs) = (x.v[t] / orig.v[t], x.s[t] / orig.s[t]);
            if (20..25).contains(&t) {
                assert!((rv - 8.0).abs() < 1e-12 && (rs - 5.0).abs() < 1e-12);
            } else if (25..29).contains(&t) {
                assert!(rv > 1.0 && rv < 8.0 && rs > 1.0 && rs < 5.0);
            } else {
                assert_eq!(rv, 1.0);
                assert_eq!(rs, 1.0);
            }
            assert_eq!(x.f[t] != 0, (20..29).contains(&t));
            assert!(x.ohlc_ok(t));
        }
        for t in 0..20 {
            assert_eq!(x.c[t].to_bits(), orig.c[t].to_bits());
        }
        // returns after the window unchanged
        for t in 30..60 {
            let (a, b) = ((x.c[t] / x.c[t - 1]).ln(), (orig.c[t] / orig.c[t - 1]).ln());
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        let e = FlashCrash::new(1.0, 5, 4, 0.5, 8.0, 5.0).unwrap_err();
        assert!(e.to_string().starts_with("drop_pct:"));
        let e = FlashCrash::new(20.0, 5, 4, 0.5, 8.0, 5.0).unwrap_err();
        assert!(e.to_string().contains("write 0.2 for 20%"), "{e}");
        assert!(FlashCrash::new(0.2, 0, 4, 0.5, 8.0, 5.0).unwrap_err().to_string().starts_with("duration_bars"));
        assert!(FlashCrash::new(0.2, 5, 4, 1.5, 8.0, 5.0).unwrap_err().to_string().starts_with("recovery_pct"));
        assert!(FlashCrash::new(0.2, 5, 4, 0.5, -8.0, 5.0).unwrap_err().to_string().starts_with("volume_mult"));
        assert!(FlashCrash::new(0.2, 5, 4, 0.5, 8.0, 0.0).unwrap_err().to_string().starts_with("spread_mult"));
    }
}
