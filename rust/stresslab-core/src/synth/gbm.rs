//! Plain Gaussian GBM: constant volatility (the profile's sigma), correlated through the calm
//! correlation matrix, Brownian-bridge high/low (factor 1), iid lognormal volume and a constant
//! spread. The baseline that fails every stylized fact a realistic model must pass.
//!
//! Evaluated in blocks like the realistic model (see `realistic.rs`): bulk draws per symbol, then
//! branch-free passes that the compiler vectorises, then the price compounding.

use super::draws::{simd_variants, BlockDraws, Simd, BLOCK};
use super::{bridge_half_widths, compound_prices, fastmath, BlockCols, MarketSpec, PathView};
use crate::rng::{Domain, Stream, StreamX4};

struct GbmSymbol {
    /// Per-bar draws in bulk: two normals (return, volume noise) and two exponentials (bridge).
    bulk: StreamX4,
    sigma: f64,
    drift: f64,
    log_base_volume: f64,
    volume_noise: f64,
    spread: f64,
    price: f64,
}

pub fn generate_path(spec: &MarketSpec, path: u64, out: &mut PathView<'_>) {
    generate_path_with(spec, path, out, Simd::detect());
}

fn generate_path_with(spec: &MarketSpec, path: u64, out: &mut PathView<'_>, simd: Simd) {
    let n = spec.n_symbols();
    let n_bars = spec.n_bars;
    let dt = spec.dt_hours();
    let sqdt = dt.sqrt();
    let mut syms: Vec<GbmSymbol> = spec
        .symbols
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut rng = Stream::new(Domain::Market, spec.seed, spec.scenario, path, i as u64);
            let sigma = p.sigma * sqdt;
            GbmSymbol {
                bulk: StreamX4::from_stream(&mut rng),
                sigma,
                drift: -0.5 * sigma * sigma,
                log_base_volume: (p.base_volume * dt).ln(),
                volume_noise: p.volume_noise,
                spread: p.spread_bps * 1e-4,
                price: p.initial_price,
            }
        })
        .collect();
    let mut draws: Vec<BlockDraws> = (0..n).map(|_| BlockDraws::new(2, 2, 0)).collect();
    let mut t0 = 0;
    while t0 < n_bars {
        let len = BLOCK.min(n_bars - t0);
        for (d, s) in draws.iter_mut().zip(syms.iter_mut()) {
            d.fill(&mut s.bulk, simd);
        }
        for (i, s) in syms.iter_mut().enumerate() {
            let chol = &spec.chol_calm[i * n..i * n + i + 1];
            let mut cols = out.block(i * n_bars + t0, len);
            gbm_block(s, chol, &draws, i, &mut cols, simd);
        }
        t0 += len;
    }
}

#[inline(always)]
fn gbm_block(s: &mut GbmSymbol, chol: &[f64], draws: &[BlockDraws], i: usize, cols: &mut BlockCols<'_>, simd: Simd) {
    match simd {
        // SAFETY: `Simd::detect` returns these levels only when the running CPU has them.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { gbm_block_avx512(s, chol, draws, i, cols) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { gbm_block_avx2(s, chol, draws, i, cols) },
        _ => gbm_block_body(s, chol, draws, i, cols),
    }
}

/// Returns r = drift + sigma (L z)_i with the bridge, volume and spread, all element-wise.
#[inline(always)]
fn gbm_block_body(s: &mut GbmSymbol, chol: &[f64], draws: &[BlockDraws], i: usize, cols: &mut BlockCols<'_>) {
    let n = cols.open.len();
    // eps = sum_j L_ij z_j, accumulated in `close` one symbol at a time (vectorised over bars)
    cols.close.fill(0.0);
    for (l, d) in chol.iter().zip(draws) {
        for (c, z) in cols.close.iter_mut().zip(&d.normal[..n]) {
            *c += l * z;
        }
    }
    let own = &draws[i];
    let (eta, e1, e2) = (&own.normal[BLOCK..BLOCK + n], &own.exp1[..n], &own.exp1[BLOCK..BLOCK + n]);
    let (up, down, r) = (&mut cols.high[..n], &mut cols.low[..n], &mut cols.close[..n]);
    let (volume, spread) = (&mut cols.volume[..n], &mut cols.spread[..n]);
    for k in 0..n {
        let ret = s.drift + s.sigma * r[k];
        (up[k], down[k]) = bridge_half_widths(ret, s.sigma, e1[k], e2[k]);
        volume[k] = fastmath::exp(s.log_base_volume + s.volume_noise * eta[k]);
        spread[k] = s.spread;
        r[k] = fastmath::exp(ret);
    }
    s.price = compound_prices(cols, s.price);
}

simd_variants!(
    gbm_block_avx2,
    gbm_block_avx512,
    gbm_block_body,
    (s: &mut GbmSymbol, chol: &[f64], draws: &[BlockDraws], i: usize, cols: &mut BlockCols<'_>)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{MarketParams, MarketPaths, Model, SymbolProfile};

    #[test]
    fn every_simd_level_gives_the_same_bits() {
        let profiles = vec![SymbolProfile::btc(), SymbolProfile::sol()];
        let spec = MarketSpec::new(Model::Gbm, profiles, 1000, 0, 3_600_000, 3, 4, MarketParams::default(), None, None)
            .unwrap();
        let run = |simd: Simd| {
            let mut p = MarketPaths::zeroed(1, 2, 1000).unwrap();
            generate_path_with(&spec, 2, &mut p.columns_mut(), simd);
            p
        };
        let base = run(Simd::Baseline);
        for simd in Simd::available() {
            let p = run(simd);
            let cols =
                |q: &MarketPaths| [q.open.clone(), q.high.clone(), q.low.clone(), q.close.clone(), q.volume.clone()];
            for (a, b) in cols(&p).iter().zip(cols(&base).iter()) {
                assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()), "{simd:?}");
            }
        }
    }
}
