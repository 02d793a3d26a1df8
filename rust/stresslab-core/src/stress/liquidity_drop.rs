//! LIQUIDITY_DROP: volume (the depth proxy the exchange simulator reads) falls by `drop_pct` for
//! `duration_bars`, and the spread responds: `spread * (1 - drop_pct)^-spread_elasticity`.
//!
//! Prices are untouched. The elasticity default 0.5 follows the square-root law of impact (half
//! the depth, about 1.4x the cost of a given trade). REALISM.md lists a 100 BTC spread going from
//! 0.02% to 0.56% (x28) after a 10% dump and 0.1% ask depth falling from 100 to 1.2 BTC; read as
//! one episode that is an elasticity of ~0.75, so 0.5 is on the mild side.

use super::bars::Bars;
use super::params::{bars, fraction_open, nonneg};
use super::{Event, TransformKind};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct LiquidityDrop {
    pub drop_pct: f64,
    pub duration_bars: usize,
    pub spread_elasticity: f64,
}

impl LiquidityDrop {
    pub fn new(drop_pct: f64, duration_bars: usize, spread_elasticity: f64) -> Result<Self> {
        Ok(LiquidityDrop {
            drop_pct: fraction_open("drop_pct", drop_pct)?,
            duration_bars: bars("duration_bars", duration_bars, 1)?,
            spread_elasticity: nonneg("spread_elasticity", spread_elasticity, 10.0)?,
        })
    }

    pub fn span(&self) -> usize {
        self.duration_bars
    }

    /// Factor on the spread: `(1 - drop_pct)^-spread_elasticity`.
    pub fn spread_factor(&self) -> f64 {
        (1.0 - self.drop_pct).powf(-self.spread_elasticity)
    }

    pub fn apply(&self, b: &mut Bars<'_>, start: usize) -> Vec<Event> {
        let end = start + self.duration_bars;
        let keep = 1.0 - self.drop_pct;
        let widen = self.spread_factor();
        for v in &mut b.volume[start..end] {
            *v *= keep;
        }
        for s in &mut b.spread[start..end] {
            *s *= widen;
        }
        let kind = TransformKind::LiquidityDrop;
        b.mark(start, end, kind.flag());
        let mut ev = Event::window(kind, "window", start, end);
        ev.value = self.drop_pct;
        vec![ev]
    }
}

#[cfg(test)]
mod tests {
    use super::super::bars::testing::Owned;
    use super::*;

    #[test]
    fn volume_ratio_is_one_minus_drop() {
        let orig = Owned::random(50, 4);
        let mut x = Owned::random(50, 4);
        let ld = LiquidityDrop::new(0.7, 10, 0.5).unwrap();
        ld.apply(&mut x.bars(), 5);
        for t in 0..50 {
            if (5..15).contains(&t) {
                assert!((x.v[t] / orig.v[t] - 0.3).abs() < 1e-12);
                assert!((x.s[t] / orig.s[t] - 0.3f64.powf(-0.5)).abs() < 1e-12);
                assert_eq!(x.f[t], 4);
            } else {
                assert_eq!(x.v[t].to_bits(), orig.v[t].to_bits());
                assert_eq!(x.f[t], 0);
            }
            assert_eq!(x.c[t].to_bits(), orig.c[t].to_bits());
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(LiquidityDrop::new(1.0, 5, 0.5).unwrap_err().to_string().starts_with("drop_pct"));
        assert!(LiquidityDrop::new(0.5, 5, -1.0).unwrap_err().to_string().starts_with("spread_elasticity"));
    }
}
