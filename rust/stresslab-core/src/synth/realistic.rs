//! The realistic model of REALISM.md ("Model spec that reproduces checks 1-10"), per bar t:
//!
//! - regime S_t in {calm, stress}: Markov with per-hour switch probabilities, scheduled by
//!   geometric waiting times; vol multiplier m(S) with E m^2 = 1;
//! - GJR-GARCH with unit mean: h_t = w + (a + g 1[eps_{t-1}<0]) h_{t-1} eps_{t-1}^2 + b h_{t-1},
//!   capped at `garch_cap`;
//! - innovations eps = (L_S z) sqrt((nu-2)/W): z iid normal per symbol, W ~ chi2(nu) shared by all
//!   symbols (joint tail events), L_S the Cholesky factor of the regime's correlation;
//! - diffusive shock e_t = sigma s(H_t) m(S_t) sqrt(h_t) eps_t, with s the hour-of-day profile;
//! - return r_t = mu + e_t + theta e_{t-1} + J_t, J = market jump x loading + idiosyncratic jump,
//!   mu compensates the jumps' mean so the log price has no drift;
//! - close C_t = C_{t-1} e^{r_t}, open O_t = C_{t-1}, high/low from the Brownian bridge with bar
//!   volatility hl_factor * sigma s m sqrt(h);
//! - ln V_t = c + phi ln V_{t-1} + g |r_t|/sigma + kappa (x_t - phi x_{t-1}) + q(H_t) - phi q(H_{t-1}) + eta_t
//!   with x_t = ln(m sqrt h) - its mean. REALISM.md enters x_t alone; through the AR(1) filter that
//!   multiplies the latent-volatility effect by 1 / (1 - phi) = 3.3, which made the 99th percentile
//!   of volume ~300x its geometric mean (real BTC: 11x). Entering x like the hour profile q makes
//!   E[ln V | state] track kappa x_t exactly: stress hours trade ~3x the calm volume, crash hours
//!   7-20x, as measured (REALISM crash table), and the ln V / ln(H/L) coupling is kept;
//! - spread (bps) = max(floor, spread_bps (s m sqrt h)^exponent exp(noise n_t - liquidity eta_t)).
//!
//! Evaluation order (for speed; the model is the same): bars are simulated in blocks of
//! `BLOCK`. For each block the market's draws (regime, mixing variable, market jump) are made
//! first, then each symbol's per-bar draws in bulk (`draws.rs`: three normals and two
//! exponentials per bar from a [`StreamX4`] seeded from the symbol's stream; the rare jump draws
//! stay on the scalar stream), then a sequential pass runs the recursions (GARCH, MA(1), the
//! AR(1) part of ln V, which does not need ln h: with y_t = ln V_t - kappa x_t - q(H_t) the
//! recursion above is y_t = c + phi y_{t-1} + g |r_t|/sigma + eta_t), and branch-free passes over
//! the block's columns apply ln h, the hour and state terms, the exponentials and the bridge,
//! which the compiler vectorises (`fastmath.rs`, one variant per `Simd` level, all
//! bit-identical). Every stream belongs to one symbol (or the market) of one path and is read in
//! a fixed order, so the output is a function of (seed, scenario, path) alone.
//!
//! Hourly rates are converted to the bar interval: probabilities p -> 1 - (1 - p)^dt, sigma ->
//! sigma sqrt(dt), volume -> volume dt. GARCH and volume persistence are kept per bar (the model
//! is calibrated on 1h bars; other intervals are a documented approximation).

use super::draws::{simd_variants, BlockDraws, Simd, BLOCK};
use super::{bridge_half_widths, compound_prices, fastmath, BlockCols, MarketSpec, PathView};
use crate::rng::{ChiSquared, Domain, Stream, StreamX4, MARKET};

/// E|r|/sigma of the model (t(6) unit-variance E|eps| = 0.75 times E[m sqrt h] = 0.82): sets the
/// volume intercept so the geometric-mean volume matches `base_volume`.
const MEAN_ABS_STD_RETURN: f64 = 0.62;
/// E[0.5 ln h] of the unit-mean GARCH variance (Jensen gap, measured on long runs).
const MEAN_HALF_LOG_H: f64 = -0.05;

/// Draws shared by all symbols for one block of bars.
struct MarketBlock {
    hour: [usize; BLOCK],
    stress: [bool; BLOCK],
    /// Regime volatility multiplier m(S_t) and its logarithm.
    m: [f64; BLOCK],
    log_m: [f64; BLOCK],
    /// sqrt((nu - 2) / W_t), W ~ chi2(nu): the common Student-t mixing factor.
    mix: [f64; BLOCK],
    market_jump: [f64; BLOCK],
}

struct SymbolState {
    /// Rare draws (jump times and sizes).
    rng: Stream,
    /// The per-bar draws, in bulk (seeded from `rng`).
    bulk: StreamX4,
    sigma: f64,
    a: f64,
    g: f64,
    b: f64,
    w: f64,
    theta: f64,
    mu: f64,
    loading: f64,
    hl: f64,
    /// Hour-of-day tables, padded to 32 entries so that `hour & 31` indexes them without a bounds
    /// check (a vectorised `% 24` costs more than the lookup); entries 24.. are never used.
    season: [f64; 32],
    /// q(H) + kappa (-E ln m - E 0.5 ln h): the hour and centring terms of ln V.
    log_vol_hour: [f64; 32],
    /// ln(spread_bps) + exponent * ln s(H): the hour term of ln(spread).
    log_spread_hour: [f64; 32],
    vol_c: f64,
    phi: f64,
    vol_g: f64,
    kappa: f64,
    vol_noise: f64,
    inv_sigma: f64,
    spread_exp: f64,
    spread_noise: f64,
    spread_floor: f64,
    spread_liq: f64,
    // dynamic state
    h: f64,
    eps_prev: f64,
    e_prev: f64,
    /// y_t = ln V_t - kappa x_t - q(H_t), the AR(1) part of ln V.
    log_v_ar: f64,
    price: f64,
    next_jump: u64,
}

fn pad32(table: [f64; 24]) -> [f64; 32] {
    let mut out = [0.0; 32];
    out[..24].copy_from_slice(&table);
    out
}

#[inline]
fn per_bar(p: f64, dt: f64) -> f64 {
    if p >= 1.0 {
        1.0
    } else {
        -(dt * (-p).ln_1p()).exp_m1()
    }
}

pub fn generate_path(spec: &MarketSpec, path: u64, out: &mut PathView<'_>) {
    generate_path_with(spec, path, out, Simd::detect());
}

fn generate_path_with(spec: &MarketSpec, path: u64, out: &mut PathView<'_>, simd: Simd) {
    let n = spec.n_symbols();
    let n_bars = spec.n_bars;
    let dt = spec.dt_hours();
    let sqdt = dt.sqrt();
    let mp = &spec.market;

    let p_cs = per_bar(mp.p_calm_to_stress, dt);
    let p_sc = per_bar(mp.p_stress_to_calm, dt);
    let share = if p_cs + p_sc > 0.0 { p_cs / (p_cs + p_sc) } else { 0.0 };
    let m_calm = 1.0 / ((1.0 - share) + share * mp.stress_vol_ratio.powi(2)).sqrt();
    let m_stress = mp.stress_vol_ratio * m_calm;
    let mean_log_m = (1.0 - share) * m_calm.ln() + share * m_stress.ln();
    let p_mj = per_bar(mp.market_jump_prob, dt);
    let p_ij = per_bar(mp.idio_jump_prob, dt);

    let nu = mp.nu.unwrap_or_else(|| spec.symbols.iter().map(|s| s.nu).sum::<f64>() / n as f64);
    // validated in MarketSpec::new (nu > 2), so the Gamma constructor cannot fail
    let chi = ChiSquared::new(nu).expect("nu validated > 2");

    let mut mkt = Stream::new(Domain::Market, spec.seed, spec.scenario, path, MARKET);
    let mut stress = mkt.uniform() < share;
    let mut regime_left = mkt.geometric(if stress { p_sc } else { p_cs });
    let mut next_mjump = mkt.geometric(p_mj);

    let mut st: Vec<SymbolState> = spec
        .symbols
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (season, log_vol_season) = spec.season_tables(p.season_exponent);
            let mut rng = Stream::new(Domain::Market, spec.seed, spec.scenario, path, i as u64);
            let bulk = StreamX4::from_stream(&mut rng);
            let next_jump = rng.geometric(p_ij);
            let log_base = (p.base_volume * dt).ln();
            let centring = p.volume_kappa * (-mean_log_m - MEAN_HALF_LOG_H);
            let log_spread_base = (p.spread_bps * 1e-4).ln();
            SymbolState {
                rng,
                bulk,
                sigma: p.sigma * sqdt,
                a: p.garch_alpha,
                g: p.garch_gamma,
                b: p.garch_beta,
                w: 1.0 - p.garch_alpha - 0.5 * p.garch_gamma - p.garch_beta,
                theta: p.theta,
                mu: -(p_mj * p.jump_loading * mp.market_jump_mean + p_ij * mp.idio_jump_mean),
                loading: p.jump_loading,
                hl: p.hl_factor,
                season: pad32(season),
                log_vol_hour: pad32(log_vol_season.map(|q| q + centring)),
                log_spread_hour: pad32(season.map(|c| log_spread_base + p.spread_exponent * c.ln())),
                vol_c: (1.0 - p.volume_phi) * log_base - p.volume_g * MEAN_ABS_STD_RETURN,
                phi: p.volume_phi,
                vol_g: p.volume_g,
                kappa: p.volume_kappa,
                vol_noise: p.volume_noise,
                inv_sigma: 1.0 / (p.sigma * sqdt),
                spread_exp: p.spread_exponent,
                spread_noise: p.spread_noise,
                spread_floor: p.spread_floor_bps * 1e-4,
                spread_liq: p.spread_liquidity,
                h: 1.0,
                eps_prev: 0.0,
                e_prev: 0.0,
                // ln V_{-1} = ln base + q(H_{-1}) with x_{-1} = 0
                log_v_ar: log_base,
                price: p.initial_price,
                next_jump,
            }
        })
        .collect();

    let (log_m_calm, log_m_stress) = (m_calm.ln(), m_stress.ln());
    let mut hours = spec.hours();
    let mut mb = MarketBlock {
        hour: [0; BLOCK],
        stress: [false; BLOCK],
        m: [0.0; BLOCK],
        log_m: [0.0; BLOCK],
        mix: [0.0; BLOCK],
        market_jump: [0.0; BLOCK],
    };
    // Per bar: three normals (innovation, volume noise, spread noise) and two exponentials
    // (bridge high and low) per symbol; a normal and a uniform (the chi-square's first attempt)
    // for the market.
    let mut draws: Vec<BlockDraws> = (0..n).map(|_| BlockDraws::new(3, 2, 0)).collect();
    let mut mkt_bulk = StreamX4::from_stream(&mut mkt);
    let mut mkt_draws = BlockDraws::new(1, 0, 1);
    let mut t0 = 0;
    while t0 < n_bars {
        let len = BLOCK.min(n_bars - t0);
        mkt_draws.fill(&mut mkt_bulk, simd);
        mix_candidates(&chi, nu, &mkt_draws, &mut mb.mix, simd);
        for k in 0..len {
            mb.hour[k] = hours.next_hour();
            // Regime: flip when the waiting time runs out.
            if regime_left == 0 {
                stress = !stress;
                regime_left = mkt.geometric(if stress { p_sc } else { p_cs });
            } else {
                regime_left -= 1;
            }
            mb.stress[k] = stress;
            mb.m[k] = if stress { m_stress } else { m_calm };
            mb.log_m[k] = if stress { log_m_stress } else { log_m_calm };
            if mb.mix[k].is_nan() {
                // the squeeze rejected the first attempt (~2% of bars): finish the draw
                let w = chi.sample_from(mkt_draws.normal[k], mkt_draws.uniform[k], &mut mkt);
                mb.mix[k] = ((nu - 2.0) / w).sqrt();
            }
            mb.market_jump[k] = if next_mjump == 0 {
                next_mjump = mkt.geometric(p_mj);
                mp.market_jump_mean + mp.market_jump_sd * mkt.normal()
            } else {
                next_mjump -= 1;
                0.0
            };
        }
        for (d, s) in draws.iter_mut().zip(st.iter_mut()) {
            d.fill(&mut s.bulk, simd);
        }
        for (i, s) in st.iter_mut().enumerate() {
            let chol_calm = &spec.chol_calm[i * n..i * n + i + 1];
            let chol_stress = &spec.chol_stress[i * n..i * n + i + 1];
            let mut cols = out.block(i * n_bars + t0, len);
            s.recursions(&mb, &draws, i, [chol_calm, chol_stress], p_ij, mp, &mut cols);
            finish_block(s, &mb, &draws[i], &mut cols, simd);
        }
        t0 += len;
    }
}

impl SymbolState {
    /// The sequential pass over one block: GARCH, innovations, jumps, returns and the AR(1) part
    /// of ln V. Leaves in `cols` (scratch until [`Self::transforms`]): open = h, close = r,
    /// volume = y (the AR(1) part of ln V).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn recursions(
        &mut self,
        mb: &MarketBlock,
        draws: &[BlockDraws],
        i: usize,
        chol: [&[f64]; 2],
        p_ij: f64,
        mp: &super::MarketParams,
        cols: &mut BlockCols<'_>,
    ) {
        let cap = mp.garch_cap;
        let (mut h, mut eps_prev, mut e_prev, mut log_v_ar) = (self.h, self.eps_prev, self.e_prev, self.log_v_ar);
        let mut next_jump = self.next_jump;
        let len = cols.open.len();
        let eta_n = &draws[i].normal[BLOCK..2 * BLOCK];
        for k in 0..len {
            // GJR-GARCH variance from the previous innovation.
            let lev = if eps_prev < 0.0 { self.g } else { 0.0 };
            h = (self.w + (self.a + lev) * h * (eps_prev * eps_prev) + self.b * h).min(cap);
            let row = chol[usize::from(mb.stress[k])];
            let mut eps = 0.0;
            for (l, d) in row.iter().zip(draws) {
                eps += l * d.normal[k];
            }
            eps *= mb.mix[k];
            let vol_ratio = self.season[mb.hour[k] & 31] * mb.m[k] * h.sqrt(); // sd_t / sigma
            let e = self.sigma * vol_ratio * eps;
            let mut jump = self.loading * mb.market_jump[k];
            if next_jump == 0 {
                next_jump = self.rng.geometric(p_ij);
                jump += mp.idio_jump_mean + mp.idio_jump_sd * self.rng.normal();
            } else {
                next_jump -= 1;
            }
            let r = self.mu + e + self.theta * e_prev + jump;
            e_prev = e;
            eps_prev = eps;
            // Volume: AR(1) in logs, coupled to |r| (the latent state and hour terms are added in
            // `transforms`).
            let eta = self.vol_noise * eta_n[k];
            log_v_ar = self.vol_c + self.phi * log_v_ar + self.vol_g * r.abs() * self.inv_sigma + eta;
            cols.volume[k] = log_v_ar;
            cols.close[k] = r;
            cols.open[k] = h;
        }
        (self.h, self.eps_prev, self.e_prev, self.log_v_ar) = (h, eps_prev, e_prev, log_v_ar);
        self.next_jump = next_jump;
    }

    /// Branch-free pass (vectorised): the bridge half-widths, ln V and ln(spread) with their
    /// latent-state and hour terms and their exponentials, and the gross return e^r (left in
    /// close).
    #[inline(always)]
    fn transforms(&self, mb: &MarketBlock, own: &BlockDraws, cols: &mut BlockCols<'_>) {
        let n = cols.open.len();
        let (h, up, down) = (&cols.open[..n], &mut cols.high[..n], &mut cols.low[..n]);
        let (r, volume, spread) = (&mut cols.close[..n], &mut cols.volume[..n], &mut cols.spread[..n]);
        let (hour, m, log_m) = (&mb.hour[..n], &mb.m[..n], &mb.log_m[..n]);
        let (eta_n, spread_n) = (&own.normal[BLOCK..BLOCK + n], &own.normal[2 * BLOCK..2 * BLOCK + n]);
        let (e1, e2) = (&own.exp1[..n], &own.exp1[BLOCK..BLOCK + n]);
        let bridge_scale = self.hl * self.sigma;
        for k in 0..n {
            let hr = hour[k] & 31; // < 24 in fact (see `season`)
            let half_log_h = 0.5 * fastmath::ln(h[k]);
            // Brownian-bridge maximum / minimum around the bar's midpoint,
            // bar volatility s = hl sigma s(H) m sqrt(h).
            let s = bridge_scale * (self.season[hr] * m[k] * h[k].sqrt());
            (up[k], down[k]) = bridge_half_widths(r[k], s, e1[k], e2[k]);
            // ln V = y + kappa x + q(H), x = ln m + 0.5 ln h - their means (in log_vol_hour).
            let log_v = volume[k] + self.kappa * log_m[k] + self.log_vol_hour[hr] + self.kappa * half_log_h;
            volume[k] = fastmath::exp(log_v);
            // Spread: widens with volatility and with unexpectedly thin volume:
            // ln(base) + exponent * ln(s m sqrt h) + noise - liquidity * eta.
            let eta = self.vol_noise * eta_n[k];
            let log_spread = self.log_spread_hour[hr] + self.spread_exp * log_m[k] + self.spread_noise * spread_n[k]
                - self.spread_liq * eta
                + self.spread_exp * half_log_h;
            let sp = fastmath::exp(log_spread);
            spread[k] = if sp > self.spread_floor { sp } else { self.spread_floor };
            r[k] = fastmath::exp(r[k]);
        }
    }
}

/// The mixing factors sqrt((nu - 2) / W) of a block from the first Marsaglia-Tsang attempts,
/// vectorised; NaN where the squeeze rejects (the sequential pass completes those draws).
#[inline(always)]
fn mix_candidates(chi: &ChiSquared, nu: f64, d: &BlockDraws, mix: &mut [f64; BLOCK], simd: Simd) {
    match simd {
        // SAFETY: `Simd::detect` returns these levels only when the running CPU has them.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { mix_candidates_avx512(chi, nu, d, mix) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { mix_candidates_avx2(chi, nu, d, mix) },
        _ => mix_candidates_body(chi, nu, d, mix),
    }
}

#[inline(always)]
fn mix_candidates_body(chi: &ChiSquared, nu: f64, d: &BlockDraws, mix: &mut [f64; BLOCK]) {
    for ((m, x), u) in mix.iter_mut().zip(&d.normal[..BLOCK]).zip(&d.uniform[..BLOCK]) {
        *m = ((nu - 2.0) / chi.squeeze_first(*x, *u)).sqrt();
    }
}

simd_variants!(
    mix_candidates_avx2,
    mix_candidates_avx512,
    mix_candidates_body,
    (chi: &ChiSquared, nu: f64, d: &BlockDraws, mix: &mut [f64; BLOCK])
);

/// The vectorisable passes of a block, compiled for each [`Simd`] level (bit-identical results).
#[inline(always)]
fn finish_block(s: &mut SymbolState, mb: &MarketBlock, own: &BlockDraws, cols: &mut BlockCols<'_>, simd: Simd) {
    match simd {
        // SAFETY: `Simd::detect` returns these levels only when the running CPU has them.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { finish_block_avx512(s, mb, own, cols) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { finish_block_avx2(s, mb, own, cols) },
        _ => finish_block_body(s, mb, own, cols),
    }
}

#[inline(always)]
fn finish_block_body(s: &mut SymbolState, mb: &MarketBlock, own: &BlockDraws, cols: &mut BlockCols<'_>) {
    s.transforms(mb, own, cols);
    s.price = compound_prices(cols, s.price);
}

simd_variants!(
    finish_block_avx2,
    finish_block_avx512,
    finish_block_body,
    (s: &mut SymbolState, mb: &MarketBlock, own: &BlockDraws, cols: &mut BlockCols<'_>)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{MarketParams, MarketPaths, Model, SymbolProfile};

    #[test]
    fn every_simd_level_gives_the_same_bits() {
        let profiles = vec![SymbolProfile::btc(), SymbolProfile::eth(), SymbolProfile::sol()];
        let spec =
            MarketSpec::new(Model::Realistic, profiles, 3000, 0, 3_600_000, 9, 4, MarketParams::default(), None, None)
                .unwrap();
        let run = |simd: Simd| {
            let mut p = MarketPaths::zeroed(1, 3, 3000).unwrap();
            let mut view = p.columns_mut();
            generate_path_with(&spec, 5, &mut view, simd);
            p
        };
        let base = run(Simd::Baseline);
        for simd in Simd::available() {
            let p = run(simd);
            for (a, b) in [(&p.open, &base.open), (&p.high, &base.high), (&p.close, &base.close)].into_iter().chain([
                (&p.low, &base.low),
                (&p.volume, &base.volume),
                (&p.spread, &base.spread),
            ]) {
                assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()), "{simd:?}");
            }
        }
    }
}
