//! SPREAD_EXPLOSION: the quoted spread is multiplied by `spread_mult` for `duration_bars`.
//!
//! REALISM.md anchors: Binance BTCUSDT calm ~0.2-2 bps; 12 Mar 2020 a 25 BTC spread went from
//! 200 to 700+ bps (x3.5); a 10% dump took a 100 BTC spread from 0.02% to 0.56% (x28).

use super::bars::Bars;
use super::params::{bars, positive};
use super::{Event, TransformKind};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct SpreadExplosion {
    pub spread_mult: f64,
    pub duration_bars: usize,
}

impl SpreadExplosion {
    pub fn new(spread_mult: f64, duration_bars: usize) -> Result<Self> {
        Ok(SpreadExplosion {
            spread_mult: positive("spread_mult", spread_mult, 1e4)?,
            duration_bars: bars("duration_bars", duration_bars, 1)?,
        })
    }

    pub fn span(&self) -> usize {
        self.duration_bars
    }

    pub fn apply(&self, b: &mut Bars<'_>, start: usize) -> Vec<Event> {
        let end = start + self.duration_bars;
        for s in &mut b.spread[start..end] {
            *s *= self.spread_mult;
        }
        let kind = TransformKind::SpreadExplosion;
        b.mark(start, end, kind.flag());
        let mut ev = Event::window(kind, "window", start, end);
        ev.value = self.spread_mult;
        vec![ev]
    }
}

#[cfg(test)]
mod tests {
    use super::super::bars::testing::Owned;
    use super::*;

    #[test]
    fn spread_ratio_is_the_multiplier() {
        let orig = Owned::random(40, 9);
        let mut x = Owned::random(40, 9);
        SpreadExplosion::new(10.0, 12).unwrap().apply(&mut x.bars(), 28);
        for t in 0..40 {
            let r = x.s[t] / orig.s[t];
            assert_eq!(r == 1.0, t < 28);
            if t >= 28 {
                assert!((r - 10.0).abs() < 1e-12);
            }
            assert_eq!(x.v[t].to_bits(), orig.v[t].to_bits());
        }
        assert!(SpreadExplosion::new(-2.0, 1).unwrap_err().to_string().starts_with("spread_mult"));
    }
}
