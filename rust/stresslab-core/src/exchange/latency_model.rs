//! Order latency: lognormal around the base latency, with occasional spikes whose probability
//! rises with market stress; the price drifts with the market while the order travels
//! (Brownian drift with the bar's own volatility over the latency).

use super::ExchangeConfig;
use crate::rng::Stream;

/// (latency in ms, log-price drift during it).
#[inline]
pub fn draw(cfg: &ExchangeConfig, spike_prob: f64, bar_sigma: f64, bar_ms: f64, rng: &mut Stream) -> (f64, f64) {
    let s = cfg.latency_sigma;
    let mut latency = cfg.base_latency_ms * (s * rng.normal() - 0.5 * s * s).exp();
    if spike_prob > 0.0 && rng.uniform() < spike_prob {
        latency *= cfg.latency_spike_mult;
    }
    let drift = bar_sigma * (latency / bar_ms).sqrt() * rng.normal();
    (latency, drift)
}
