//! The price of a fill: reference price moved against the trader by half the quoted spread,
//! fixed slippage, volatility slippage and square-root impact (REALISM.md: I = Y sigma sqrt(Q/V)).
//! A liquidity drop (lower volume) raises the impact; a spread explosion raises the half
//! spread: the same order costs more in both.

use super::ExchangeConfig;
use crate::market::Bar;
use crate::orders::Liquidity;

/// Relative cost (fraction of price) of taking `qty` units on `bar`.
#[inline]
pub fn taker_cost_fraction(cfg: &ExchangeConfig, bar: &Bar, qty: f64) -> f64 {
    let mut c = cfg.base_slippage_pct;
    if cfg.use_spread {
        let s = if bar.spread.is_finite() && bar.spread >= 0.0 { bar.spread } else { cfg.default_spread_pct };
        c += 0.5 * s;
    }
    if cfg.vol_slippage_coef > 0.0 || cfg.impact_coef > 0.0 {
        let sigma = bar.parkinson_sigma();
        c += cfg.vol_slippage_coef * sigma;
        if cfg.impact_coef > 0.0 && bar.volume > 0.0 && qty > 0.0 {
            c += cfg.impact_coef * sigma * (qty / bar.volume).sqrt();
        }
    }
    c
}

/// Fill price for `qty` units on side `side` (+1 buy, -1 sell) from `reference`.
#[inline]
pub fn fill_price(cfg: &ExchangeConfig, bar: &Bar, reference: f64, side: f64, qty: f64, liquidity: Liquidity) -> f64 {
    if liquidity == Liquidity::Maker {
        return reference; // resting limit: filled at its price, no spread or slippage
    }
    let p = reference * (1.0 + side * taker_cost_fraction(cfg, bar, qty));
    if cfg.clamp_to_bar {
        p.clamp(bar.low, bar.high)
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(spread: f64, volume: f64) -> Bar {
        Bar { open: 100.0, high: 101.0, low: 99.0, close: 100.0, volume, spread, flags: 0 }
    }

    #[test]
    fn plain_fixed_slippage_is_exact() {
        let cfg = ExchangeConfig::frictionless(0.001, 0.0005);
        let b = bar(0.01, 1000.0);
        assert_eq!(fill_price(&cfg, &b, 100.0, 1.0, 5.0, Liquidity::Taker), 100.0 * (1.0 + 0.0005));
        assert_eq!(fill_price(&cfg, &b, 100.0, -1.0, 5.0, Liquidity::Taker), 100.0 * (1.0 - 0.0005));
    }

    #[test]
    fn stress_costs_more() {
        let cfg = ExchangeConfig { clamp_to_bar: false, ..Default::default() };
        let calm = taker_cost_fraction(&cfg, &bar(0.0002, 1000.0), 10.0);
        let wide = taker_cost_fraction(&cfg, &bar(0.0100, 1000.0), 10.0);
        let thin = taker_cost_fraction(&cfg, &bar(0.0002, 100.0), 10.0);
        assert!(wide > calm && thin > calm);
        // half spread exactly
        assert!((wide - calm - 0.5 * (0.0100 - 0.0002)).abs() < 1e-15);
    }
}
