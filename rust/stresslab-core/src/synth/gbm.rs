//! Plain Gaussian GBM: constant volatility (the profile's sigma), correlated through the calm
//! correlation matrix, Brownian-bridge high/low (factor 1), iid lognormal volume and a constant
//! spread. The baseline that fails every stylized fact a realistic model must pass.

use super::{bridge_half_widths, write_ohlc, MarketSpec, PathView};
use crate::rng::{Domain, Stream};

pub fn generate_path(spec: &MarketSpec, path: u64, out: &mut PathView<'_>) {
    let n = spec.n_symbols();
    let n_bars = spec.n_bars;
    let dt = spec.dt_hours();
    let sqdt = dt.sqrt();
    let mut rngs: Vec<Stream> =
        (0..n).map(|i| Stream::new(Domain::Market, spec.seed, spec.scenario, path, i as u64)).collect();
    let sig: Vec<f64> = spec.symbols.iter().map(|p| p.sigma * sqdt).collect();
    let drift: Vec<f64> = sig.iter().map(|s| -0.5 * s * s).collect();
    let log_base: Vec<f64> = spec.symbols.iter().map(|p| (p.base_volume * dt).ln()).collect();
    let vol_noise: Vec<f64> = spec.symbols.iter().map(|p| p.volume_noise).collect();
    let spread: Vec<f64> = spec.symbols.iter().map(|p| p.spread_bps * 1e-4).collect();
    let mut price: Vec<f64> = spec.symbols.iter().map(|p| p.initial_price).collect();
    let chol = &spec.chol_calm;

    if n == 1 {
        // Single symbol: no correlation mixing, the tightest loop.
        let rng = &mut rngs[0];
        let (s, d, lb, vn, sp) = (sig[0], drift[0], log_base[0], vol_noise[0], spread[0]);
        let mut p = price[0];
        for t in 0..n_bars {
            let r = d + s * rng.normal();
            let close = p * r.exp();
            let (up, down) = bridge_half_widths(r, s, rng.exp1(), rng.exp1());
            write_ohlc(out, t, p, close, up, down);
            out.volume[t] = (lb + vn * rng.normal()).exp();
            out.spread[t] = sp;
            p = close;
        }
        return;
    }
    let mut z = vec![0.0; n];
    for t in 0..n_bars {
        for (zi, r) in z.iter_mut().zip(rngs.iter_mut()) {
            *zi = r.normal();
        }
        for i in 0..n {
            let eps: f64 = chol[i * n..i * n + i + 1].iter().zip(&z[..=i]).map(|(l, zk)| l * zk).sum();
            let r = drift[i] + sig[i] * eps;
            let idx = i * n_bars + t;
            let close = price[i] * r.exp();
            let rng = &mut rngs[i];
            let (up, down) = bridge_half_widths(r, sig[i], rng.exp1(), rng.exp1());
            write_ohlc(out, idx, price[i], close, up, down);
            out.volume[idx] = (log_base[i] + vol_noise[i] * rng.normal()).exp();
            out.spread[idx] = spread[i];
            price[i] = close;
        }
    }
}
