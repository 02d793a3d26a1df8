//! The exchange simulator: turns orders into fills (or rejections) on bar data.
//!
//! One concept per module: [`fill_model`] prices a fill (half spread, slippage growing with the
//! bar's volatility, square-root impact, fees), [`latency_model`] draws order latency and its
//! price drift. This module holds the configuration, order triggering (market, limit, stop),
//! partial fills against a participation cap, random and stress-dependent rejections and
//! scheduled outages. Every cost component can be switched off, so a plain fixed-fee,
//! fixed-bps-slippage backtest is expressible exactly.

pub mod fill_model;
pub mod latency_model;

use crate::error::{check_range, Result, StressError};
use crate::market::{Bar, MarketData};
use crate::orders::{Fill, Liquidity, Order, OrderType};
use crate::rng::Stream;

/// What happens to the unfilled rest of an order capped by the participation limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartialFillPolicy {
    /// The rest stays open and is retried on the next bars (until `max_order_age_bars`).
    Retry,
    /// The rest is cancelled at once.
    Cancel,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeConfig {
    /// Fixed slippage per fill as a fraction of price (0.001 = 10 bps).
    pub base_slippage_pct: f64,
    /// Pay half the quoted spread (from the data's spread column) on taker fills.
    pub use_spread: bool,
    /// Relative spread used where the data has none (fraction).
    pub default_spread_pct: f64,
    /// Extra slippage = coef x the bar's Parkinson volatility.
    pub vol_slippage_coef: f64,
    /// Square-root impact Y: Y x sigma_bar x sqrt(qty / bar volume) (REALISM: Y ~ 0.5-1).
    pub impact_coef: f64,
    pub maker_fee_pct: f64,
    pub taker_fee_pct: f64,
    /// At most this fraction of a bar's volume fills (per symbol and bar); inf = no cap.
    pub participation_rate: f64,
    pub partial_fill_policy: PartialFillPolicy,
    /// Open explicit orders older than this (bars) are cancelled.
    pub max_order_age_bars: usize,
    /// Base probability that an order is rejected.
    pub failure_rate: f64,
    /// The rejection probability scales by 1 + s x (bar vol / usual vol - 1)+ ...
    pub failure_vol_sensitivity: f64,
    /// ... + s x (usual volume / bar volume - 1)+, capped at `max_failure_rate`.
    pub failure_liquidity_sensitivity: f64,
    pub max_failure_rate: f64,
    /// Median order latency (ms); 0 disables latency and its price drift.
    pub base_latency_ms: f64,
    /// Log-space sd of the lognormal latency.
    pub latency_sigma: f64,
    /// Probability of a latency spike per order (scaled up by stress like failures).
    pub latency_spike_prob: f64,
    pub latency_spike_mult: f64,
    /// Latencies above this are counted as spikes.
    pub latency_spike_threshold_ms: f64,
    /// A limit must be traded through by this many bps to fill.
    pub limit_penetration_bps: f64,
    /// Fill probability when the bar only touches the limit (within the penetration).
    pub touch_fill_prob: f64,
    /// Keep fills inside the bar's [low, high] ("no fill at a price the bar never traded").
    pub clamp_to_bar: bool,
    /// Bars [start, end) without any fill (exchange down).
    pub outages: Vec<(usize, usize)>,
    /// Half-life (bars) of the usual volatility/volume the stress scaling compares against.
    pub stats_halflife_bars: f64,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        ExchangeConfig {
            base_slippage_pct: 0.001,
            use_spread: true,
            default_spread_pct: 0.0002,
            vol_slippage_coef: 0.1,
            impact_coef: 0.7,
            maker_fee_pct: 0.001,
            taker_fee_pct: 0.001,
            participation_rate: 0.1,
            partial_fill_policy: PartialFillPolicy::Retry,
            max_order_age_bars: usize::MAX,
            failure_rate: 0.001,
            failure_vol_sensitivity: 1.0,
            failure_liquidity_sensitivity: 1.0,
            max_failure_rate: 0.5,
            base_latency_ms: 50.0,
            latency_sigma: 0.5,
            latency_spike_prob: 0.001,
            latency_spike_mult: 50.0,
            latency_spike_threshold_ms: 1000.0,
            limit_penetration_bps: 0.0,
            touch_fill_prob: 0.0,
            clamp_to_bar: true,
            outages: Vec::new(),
            stats_halflife_bars: 168.0,
        }
    }
}

impl ExchangeConfig {
    /// The plain backtest: fixed fee and fixed slippage only, no spread, impact, volume cap,
    /// failures or latency (how results are compared with other engines).
    pub fn frictionless(fee_pct: f64, slippage_pct: f64) -> Self {
        ExchangeConfig {
            base_slippage_pct: slippage_pct,
            use_spread: false,
            vol_slippage_coef: 0.0,
            impact_coef: 0.0,
            maker_fee_pct: fee_pct,
            taker_fee_pct: fee_pct,
            participation_rate: f64::INFINITY,
            failure_rate: 0.0,
            base_latency_ms: 0.0,
            latency_spike_prob: 0.0,
            clamp_to_bar: false,
            ..Default::default()
        }
    }

    pub fn validate(&self) -> Result<()> {
        check_range("base_slippage_pct", self.base_slippage_pct, 0.0, 1.0)?;
        check_range("default_spread_pct", self.default_spread_pct, 0.0, 1.0)?;
        check_range("vol_slippage_coef", self.vol_slippage_coef, 0.0, 100.0)?;
        check_range("impact_coef", self.impact_coef, 0.0, 100.0)?;
        check_range("maker_fee_pct", self.maker_fee_pct, -0.01, 1.0)?;
        check_range("taker_fee_pct", self.taker_fee_pct, 0.0, 1.0)?;
        if !(self.participation_rate > 0.0) {
            return Err(StressError::param(
                "participation_rate",
                format!("must be > 0 (a fraction of bar volume, or inf for no cap), got {}", self.participation_rate),
            ));
        }
        check_range("failure_rate", self.failure_rate, 0.0, 1.0)?;
        check_range("failure_vol_sensitivity", self.failure_vol_sensitivity, 0.0, 100.0)?;
        check_range("failure_liquidity_sensitivity", self.failure_liquidity_sensitivity, 0.0, 100.0)?;
        check_range("max_failure_rate", self.max_failure_rate, 0.0, 1.0)?;
        check_range("base_latency_ms", self.base_latency_ms, 0.0, 3.6e6)?;
        check_range("latency_sigma", self.latency_sigma, 0.0, 5.0)?;
        check_range("latency_spike_prob", self.latency_spike_prob, 0.0, 1.0)?;
        check_range("latency_spike_mult", self.latency_spike_mult, 1.0, 1e6)?;
        check_range("latency_spike_threshold_ms", self.latency_spike_threshold_ms, 0.0, 1e9)?;
        check_range("limit_penetration_bps", self.limit_penetration_bps, 0.0, 10_000.0)?;
        check_range("touch_fill_prob", self.touch_fill_prob, 0.0, 1.0)?;
        check_range("stats_halflife_bars", self.stats_halflife_bars, 1.0, 1e9)?;
        for (a, b) in &self.outages {
            if a >= b {
                return Err(StressError::param("outages", format!("window [{a}, {b}) is empty: start must be < end")));
            }
        }
        Ok(())
    }

    fn needs_stats(&self) -> bool {
        (self.failure_rate > 0.0 && (self.failure_vol_sensitivity > 0.0 || self.failure_liquidity_sensitivity > 0.0))
            || self.latency_spike_prob > 0.0
    }
}

/// Why an order did not fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Inside a scheduled outage window.
    Outage,
    /// Random (stress-dependent) exchange failure.
    Failure,
    /// The bar's prices are NaN, infinite or non-positive.
    InvalidPrice,
    /// No volume to trade against in this bar.
    NoLiquidity,
}

impl Rejection {
    pub fn name(self) -> &'static str {
        match self {
            Rejection::Outage => "outage",
            Rejection::Failure => "exchange_failure",
            Rejection::InvalidPrice => "invalid_price",
            Rejection::NoLiquidity => "no_liquidity",
        }
    }
}

/// Result of presenting one order to one bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Execution {
    Filled(Fill),
    /// Limit/stop not triggered by this bar (or the participation cap is used up): stays open.
    NotTriggered,
    Rejected(Rejection),
}

/// Per-symbol usual volatility and volume (EWMA), the baseline stress is measured against.
#[derive(Clone, Copy, Debug, Default)]
struct SymbolStats {
    vol: f64,
    volume: f64,
    seen: bool,
}

/// The simulator: configuration plus per-symbol state. Randomness comes from the caller's
/// stream (Domain::Exchange), so a run is reproducible.
#[derive(Clone, Debug)]
pub struct ExchangeSim {
    pub cfg: ExchangeConfig,
    stats: Vec<SymbolStats>,
    needs_stats: bool,
    ewma_alpha: f64,
    bar_ms: f64,
    /// Latency spikes seen (latency above the threshold).
    pub latency_spikes: u64,
    /// Last latency spike (ms), for the event log.
    pub last_latency: f64,
}

impl ExchangeSim {
    pub fn new(cfg: ExchangeConfig, n_symbols: usize, bar_ms: f64) -> Result<Self> {
        cfg.validate()?;
        let needs_stats = cfg.needs_stats();
        let ewma_alpha = 1.0 - 0.5f64.powf(1.0 / cfg.stats_halflife_bars);
        Ok(ExchangeSim {
            cfg,
            stats: vec![SymbolStats::default(); n_symbols],
            needs_stats,
            ewma_alpha,
            bar_ms: bar_ms.max(1.0),
            latency_spikes: 0,
            last_latency: 0.0,
        })
    }

    /// Whether `observe` has anything to track (stress-scaled failures or latency spikes).
    #[inline]
    pub fn needs_stats(&self) -> bool {
        self.needs_stats
    }

    pub fn reset(&mut self) {
        self.stats.iter_mut().for_each(|s| *s = SymbolStats::default());
        self.latency_spikes = 0;
    }

    /// Update the usual volatility/volume after bar `bar` closed (only when stress scaling is on).
    #[inline]
    pub fn observe(&mut self, symbol: usize, bar: &Bar) {
        if !bar.is_tradeable() || !bar.volume.is_finite() || bar.volume < 0.0 {
            return;
        }
        let st = &mut self.stats[symbol];
        let v = bar.parkinson_sigma();
        if !st.seen {
            st.vol = v;
            st.volume = bar.volume;
            st.seen = true;
        } else {
            st.vol += self.ewma_alpha * (v - st.vol);
            st.volume += self.ewma_alpha * (bar.volume - st.volume);
        }
    }

    /// [`observe`](Self::observe) for bars t0..t1 of one symbol, read straight from the columns
    /// with the symbol's statistics in registers: the same updates in the same order.
    pub fn observe_range(&mut self, md: &MarketData, symbol: usize, t0: usize, t1: usize) {
        let r = md.idx(symbol, t0)..md.idx(symbol, t1);
        let (o, h, l) = (&md.open[r.clone()], &md.high[r.clone()], &md.low[r.clone()]);
        let (c, v) = (&md.close[r.clone()], &md.volume[r]);
        let alpha = self.ewma_alpha;
        let mut st = self.stats[symbol];
        for ((((&open, &high), &low), &close), &volume) in o.iter().zip(h).zip(l).zip(c).zip(v) {
            let bar = Bar { open, high, low, close, volume, spread: f64::NAN, flags: 0 };
            if !bar.is_tradeable() || !volume.is_finite() || volume < 0.0 {
                continue;
            }
            let sigma = bar.parkinson_sigma();
            if !st.seen {
                st = SymbolStats { vol: sigma, volume, seen: true };
            } else {
                st.vol += alpha * (sigma - st.vol);
                st.volume += alpha * (volume - st.volume);
            }
        }
        self.stats[symbol] = st;
    }

    /// Stress multiplier of this bar relative to the symbol's usual state (>= 1).
    fn stress_factor(&self, symbol: usize, bar: &Bar, vol_sens: f64, liq_sens: f64) -> f64 {
        let st = &self.stats[symbol];
        if !st.seen {
            return 1.0;
        }
        let mut f = 1.0;
        if st.vol > 0.0 {
            f += vol_sens * (bar.parkinson_sigma() / st.vol - 1.0).max(0.0);
        }
        if bar.volume > 0.0 && st.volume > 0.0 {
            f += liq_sens * (st.volume / bar.volume - 1.0).max(0.0);
        } else if st.volume > 0.0 {
            f += liq_sens * 10.0;
        }
        f
    }

    pub fn in_outage(&self, t: usize) -> bool {
        self.cfg.outages.iter().any(|(a, b)| t >= *a && t < *b)
    }

    /// Present `order` to bar `t`. `available` is the volume still fillable for this symbol in
    /// this bar (the participation cap, shared by the symbol's orders); it is reduced by the fill.
    pub fn execute(&mut self, order: &Order, bar: &Bar, t: usize, available: &mut f64, rng: &mut Stream) -> Execution {
        let cfg = &self.cfg;
        if self.in_outage(t) {
            return Execution::Rejected(Rejection::Outage);
        }
        if !bar.is_tradeable() {
            return Execution::Rejected(Rejection::InvalidPrice);
        }
        let side = order.side();
        // Trigger and reference price
        let pen = cfg.limit_penetration_bps * 1e-4;
        let (reference, liquidity) = match order.kind {
            OrderType::Market => (bar.open, Liquidity::Taker),
            OrderType::Limit => {
                let l = order.price;
                let marketable = if side > 0.0 { bar.open <= l } else { bar.open >= l };
                let through = if side > 0.0 { bar.low < l * (1.0 - pen) } else { bar.high > l * (1.0 + pen) };
                let touched = if side > 0.0 { bar.low <= l } else { bar.high >= l };
                if marketable {
                    (bar.open, Liquidity::Taker)
                } else if through || (touched && cfg.touch_fill_prob > 0.0 && rng.uniform() < cfg.touch_fill_prob) {
                    (l, Liquidity::Maker)
                } else {
                    return Execution::NotTriggered;
                }
            }
            OrderType::Stop => {
                let s = order.price;
                let hit = if side > 0.0 { bar.high >= s } else { bar.low <= s };
                if !hit {
                    return Execution::NotTriggered;
                }
                // a gap through the stop fills at the (worse) open
                (if side > 0.0 { bar.open.max(s) } else { bar.open.min(s) }, Liquidity::Taker)
            }
        };
        // Random, stress-dependent rejection
        if cfg.failure_rate > 0.0 {
            let f =
                self.stress_factor(order.symbol, bar, cfg.failure_vol_sensitivity, cfg.failure_liquidity_sensitivity);
            let p = (cfg.failure_rate * f).min(cfg.max_failure_rate.max(cfg.failure_rate));
            if rng.uniform() < p {
                return Execution::Rejected(Rejection::Failure);
            }
        }
        // Participation cap
        let want = order.remaining.abs();
        let qty = if cfg.participation_rate.is_finite() {
            if !(bar.volume > 0.0) {
                return Execution::Rejected(Rejection::NoLiquidity);
            }
            want.min(*available)
        } else {
            want
        };
        if !(qty > 0.0) {
            return Execution::NotTriggered;
        }
        // Latency and the market's move while the order travels
        let (latency, drift) = if cfg.base_latency_ms > 0.0 {
            let spike_p = if cfg.latency_spike_prob > 0.0 {
                (cfg.latency_spike_prob * self.stress_factor(order.symbol, bar, 1.0, 1.0)).min(1.0)
            } else {
                0.0
            };
            latency_model::draw(cfg, spike_p, bar.parkinson_sigma(), self.bar_ms, rng)
        } else {
            (0.0, 0.0)
        };
        if latency > cfg.latency_spike_threshold_ms && cfg.base_latency_ms > 0.0 {
            self.latency_spikes += 1;
            self.last_latency = latency;
        }
        let reference = if liquidity == Liquidity::Taker && order.kind == OrderType::Market {
            reference * drift.exp()
        } else {
            reference
        };
        let price = fill_model::fill_price(cfg, bar, reference, side, qty, liquidity);
        let fee_rate = if liquidity == Liquidity::Maker { cfg.maker_fee_pct } else { cfg.taker_fee_pct };
        let signed = side * qty;
        if cfg.participation_rate.is_finite() {
            *available -= qty;
        }
        Execution::Filled(Fill {
            order_id: order.id,
            symbol: order.symbol,
            bar: t,
            qty: signed,
            price,
            reference_price: if order.kind == OrderType::Market { bar.open } else { reference },
            fee: qty * price * fee_rate,
            slippage_cost: (price - if order.kind == OrderType::Market { bar.open } else { reference }).abs() * qty,
            latency_ms: latency,
            liquidity,
        })
    }

    /// Fillable volume of a bar for one symbol (the participation cap).
    #[inline]
    pub fn capacity(&self, bar: &Bar) -> f64 {
        if self.cfg.participation_rate.is_finite() {
            if bar.volume.is_finite() && bar.volume > 0.0 {
                self.cfg.participation_rate * bar.volume
            } else {
                0.0
            }
        } else {
            f64::INFINITY
        }
    }

    /// Fee and cost estimate used to size a buy so that cash covers it: fill price / reference.
    pub fn estimated_cost_factor(&self, bar: &Bar, side: f64) -> (f64, f64) {
        let price = fill_model::fill_price(&self.cfg, bar, bar.open, side, 0.0, Liquidity::Taker);
        (price / bar.open, self.cfg.taker_fee_pct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observe_range_equals_observe_per_bar() {
        // bars with a NaN high, a non-positive open and a negative volume (all skipped), the rest
        // random; two symbols observed over uneven ranges
        let n = 700;
        let mut rng = Stream::from_u64(5);
        let (mut o, mut h, mut l, mut c, mut v) = (vec![], vec![], vec![], vec![], vec![]);
        for t in 0..2 * n {
            let p = 100.0 * (0.01 * rng.normal()).exp();
            o.push(if t % 101 == 7 { -1.0 } else { p });
            h.push(if t % 97 == 3 { f64::NAN } else { p * (1.0 + 0.01 * rng.uniform()) });
            l.push(p * (1.0 - 0.01 * rng.uniform()));
            c.push(p);
            v.push(if t % 89 == 5 { -1.0 } else { 1e3 * (1.0 + rng.uniform()) });
        }
        let ts = (0..n as i64).map(|t| t * 60_000).collect();
        let md = MarketData::new(vec!["A".into(), "B".into()], ts, o, h, l, c, v, None, None).expect("md");
        let (mut a, mut b) = (
            ExchangeSim::new(ExchangeConfig::default(), 2, 60_000.0).expect("sim"),
            ExchangeSim::new(ExchangeConfig::default(), 2, 60_000.0).expect("sim"),
        );
        for s in 0..2 {
            for (t0, t1) in [(0, 1), (1, 250), (250, 251), (251, n)] {
                a.observe_range(&md, s, t0, t1);
                for t in t0..t1 {
                    b.observe(s, &md.bar(s, t));
                }
                let (x, y) = (a.stats[s], b.stats[s]);
                assert_eq!(
                    (x.vol.to_bits(), x.volume.to_bits(), x.seen),
                    (y.vol.to_bits(), y.volume.to_bits(), y.seen)
                );
            }
        }
        assert!(a.stats.iter().all(|s| s.seen && s.vol > 0.0));
    }
}
