//! PUMP_AND_DUMP: the price rises by `pump_pct` over `pump_bars`, then falls by `dump_pct` from
//! the top over `dump_bars`; volume is multiplied by `volume_mult` in both phases.
//!
//! Same construction as the flash crash: a level path (random exponential weights per bar) laid
//! over the bars with [`overlay_levels`], every later bar multiplied by the final level
//! `(1 + pump_pct) * (1 - dump_pct)`. On flat input the top is exactly `1 + pump_pct` times the
//! start and the end exactly `1 - dump_pct` times the top. REALISM.md (Xu & Livshits 2019):
//! +229% in 18 s, below the open within 3.5 min; +25% on 148x volume in 70 s.

use super::bars::{level_path, overlay_levels, random_weights, Bars};
use super::params::{bars, fraction_open, positive};
use super::{Event, TransformKind};
use crate::error::Result;
use crate::rng::Stream;

#[derive(Clone, Debug, PartialEq)]
pub struct PumpAndDump {
    pub pump_pct: f64,
    pub pump_bars: usize,
    pub dump_pct: f64,
    pub dump_bars: usize,
    pub volume_mult: f64,
}

impl PumpAndDump {
    pub fn new(pump_pct: f64, pump_bars: usize, dump_pct: f64, dump_bars: usize, volume_mult: f64) -> Result<Self> {
        Ok(PumpAndDump {
            pump_pct: positive("pump_pct", pump_pct, 10.0)?,
            pump_bars: bars("pump_bars", pump_bars, 1)?,
            dump_pct: fraction_open("dump_pct", dump_pct)?,
            dump_bars: bars("dump_bars", dump_bars, 1)?,
            volume_mult: positive("volume_mult", volume_mult, 1e6)?,
        })
    }

    pub fn span(&self) -> usize {
        self.pump_bars + self.dump_bars
    }

    /// Price level after the dump relative to before the pump.
    pub fn final_level(&self) -> f64 {
        (1.0 + self.pump_pct) * (1.0 - self.dump_pct)
    }

    pub fn apply(&self, b: &mut Bars<'_>, start: usize, rng: &mut Stream) -> Vec<Event> {
        let (p, d) = (self.pump_bars, self.dump_bars);
        let top = 1.0 + self.pump_pct;
        let mut levels = Vec::with_capacity(p + d);
        level_path(1.0, top, &random_weights(rng, p), &mut levels);
        level_path(top, self.final_level(), &random_weights(rng, d), &mut levels);
        overlay_levels(b, start, &levels);
        for v in &mut b.volume[start..start + p + d] {
            *v *= self.volume_mult;
        }
        let kind = TransformKind::PumpAndDump;
        b.mark(start, start + p + d, kind.flag());
        let mut pump = Event::window(kind, "pump", start, start + p);
        pump.value = self.pump_pct;
        let mut dump = Event::window(kind, "dump", start + p, start + p + d);
        dump.value = self.dump_pct;
        dump.level_factor = self.final_level();
        vec![pump, dump]
    }
}

#[cfg(test)]
mod tests {
    use super::super::bars::testing::Owned;
    use super::*;

    #[test]
    fn flat_input_rise_and_fall_are_exact() {
        for (pp, dp) in [(0.5, 0.6), (2.29, 0.9), (0.01, 0.01)] {
            let pd = PumpAndDump::new(pp, 12, dp, 6, 10.0).unwrap();
            let mut x = Owned::flat(80, 3.0);
            pd.apply(&mut x.bars(), 10, &mut Stream::from_u64(1));
            let top = x.h.iter().cloned().fold(0.0, f64::max);
            assert!((top / 3.0 - (1.0 + pp)).abs() < 1e-12);
            let end = x.c[27];
            assert!((1.0 - end / top - dp).abs() < 1e-12);
            for t in 0..80 {
                assert!(x.ohlc_ok(t));
                assert_eq!(x.v[t], if (10..28).contains(&t) { 1000.0 } else { 100.0 });
                if t > 0 {
                    assert_eq!(x.o[t], x.c[t - 1]);
                }
            }
            assert!((x.c[79] / 3.0 - (1.0 + pp) * (1.0 - dp)).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(PumpAndDump::new(0.0, 1, 0.5, 1, 2.0).unwrap_err().to_string().starts_with("pump_pct"));
        assert!(PumpAndDump::new(0.5, 1, 1.5, 1, 2.0).unwrap_err().to_string().starts_with("dump_pct"));
        assert!(PumpAndDump::new(0.5, 0, 0.5, 1, 2.0).unwrap_err().to_string().starts_with("pump_bars"));
    }
}
