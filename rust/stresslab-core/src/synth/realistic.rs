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
//! Hourly rates are converted to the bar interval: probabilities p -> 1 - (1 - p)^dt, sigma ->
//! sigma sqrt(dt), volume -> volume dt. GARCH and volume persistence are kept per bar (the model
//! is calibrated on 1h bars; other intervals are a documented approximation).

use super::{bridge_half_widths, write_ohlc, MarketSpec, PathView};
use crate::rng::{ChiSquared, Domain, Stream, MARKET};

/// E|r|/sigma of the model (t(6) unit-variance E|eps| = 0.75 times E[m sqrt h] = 0.82): sets the
/// volume intercept so the geometric-mean volume matches `base_volume`.
const MEAN_ABS_STD_RETURN: f64 = 0.62;
/// E[0.5 ln h] of the unit-mean GARCH variance (Jensen gap, measured on long runs).
const MEAN_HALF_LOG_H: f64 = -0.05;

struct SymbolState {
    rng: Stream,
    sigma: f64,
    a: f64,
    g: f64,
    b: f64,
    w: f64,
    theta: f64,
    mu: f64,
    loading: f64,
    hl: f64,
    season: [f64; 24],
    log_vol_season: [f64; 24],
    vol_c: f64,
    phi: f64,
    vol_g: f64,
    kappa: f64,
    vol_noise: f64,
    log_spread_base: f64,
    log_season: [f64; 24],
    inv_sigma: f64,
    spread_exp: f64,
    spread_noise: f64,
    spread_floor: f64,
    spread_liq: f64,
    // dynamic state
    h: f64,
    eps_prev: f64,
    e_prev: f64,
    log_v_prev: f64,
    q_prev: f64,
    state_prev: f64,
    price: f64,
    next_jump: u64,
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

    let hour0 = spec.hour_of(0);
    let mut st: Vec<SymbolState> = spec
        .symbols
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (season, log_vol_season) = spec.season_tables(p.season_exponent);
            let mut rng = Stream::new(Domain::Market, spec.seed, spec.scenario, path, i as u64);
            let next_jump = rng.geometric(p_ij);
            let log_base = (p.base_volume * dt).ln();
            let q_prev = log_vol_season[(hour0 + 23) % 24];
            SymbolState {
                rng,
                sigma: p.sigma * sqdt,
                a: p.garch_alpha,
                g: p.garch_gamma,
                b: p.garch_beta,
                w: 1.0 - p.garch_alpha - 0.5 * p.garch_gamma - p.garch_beta,
                theta: p.theta,
                mu: -(p_mj * p.jump_loading * mp.market_jump_mean + p_ij * mp.idio_jump_mean),
                loading: p.jump_loading,
                hl: p.hl_factor,
                season,
                log_vol_season,
                vol_c: (1.0 - p.volume_phi) * log_base - p.volume_g * MEAN_ABS_STD_RETURN,
                phi: p.volume_phi,
                vol_g: p.volume_g,
                kappa: p.volume_kappa,
                vol_noise: p.volume_noise,
                log_spread_base: (p.spread_bps * 1e-4).ln(),
                log_season: season.map(f64::ln),
                inv_sigma: 1.0 / (p.sigma * sqdt),
                spread_exp: p.spread_exponent,
                spread_noise: p.spread_noise,
                spread_floor: p.spread_floor_bps * 1e-4,
                spread_liq: p.spread_liquidity,
                h: 1.0,
                eps_prev: 0.0,
                e_prev: 0.0,
                log_v_prev: log_base + q_prev,
                q_prev,
                state_prev: 0.0,
                price: p.initial_price,
                next_jump,
            }
        })
        .collect();

    let mut z = vec![0.0; n];
    let cap = mp.garch_cap;
    for t in 0..n_bars {
        let hour = spec.hour_of(t);
        // Regime: flip when the waiting time runs out.
        if regime_left == 0 {
            stress = !stress;
            regime_left = mkt.geometric(if stress { p_sc } else { p_cs });
        } else {
            regime_left -= 1;
        }
        let m = if stress { m_stress } else { m_calm };
        let chol = if stress { &spec.chol_stress } else { &spec.chol_calm };
        let mix = ((nu - 2.0) / chi.sample(&mut mkt)).sqrt();
        let market_jump = if next_mjump == 0 {
            next_mjump = mkt.geometric(p_mj);
            mp.market_jump_mean + mp.market_jump_sd * mkt.normal()
        } else {
            next_mjump -= 1;
            0.0
        };
        for (zi, s) in z.iter_mut().zip(st.iter_mut()) {
            *zi = s.rng.normal();
        }
        let log_m = m.ln();
        for (i, s) in st.iter_mut().enumerate() {
            // GJR-GARCH variance from the previous innovation.
            let e2 = s.eps_prev * s.eps_prev;
            let lev = if s.eps_prev < 0.0 { s.g } else { 0.0 };
            s.h = (s.w + (s.a + lev) * s.h * e2 + s.b * s.h).min(cap);
            let row = &chol[i * n..i * n + i + 1];
            let mut eps = 0.0;
            for (l, zk) in row.iter().zip(&z[..=i]) {
                eps += l * zk;
            }
            eps *= mix;
            let sqrt_h = s.h.sqrt();
            let vol_ratio = s.season[hour] * m * sqrt_h; // sd_t / sigma
            let e = s.sigma * vol_ratio * eps;
            let mut jump = s.loading * market_jump;
            if s.next_jump == 0 {
                s.next_jump = s.rng.geometric(p_ij);
                jump += mp.idio_jump_mean + mp.idio_jump_sd * s.rng.normal();
            } else {
                s.next_jump -= 1;
            }
            let r = s.mu + e + s.theta * s.e_prev + jump;
            s.e_prev = e;
            s.eps_prev = eps;

            let idx = i * n_bars + t;
            let open = s.price;
            let close = open * r.exp();
            let (up, down) = bridge_half_widths(r, s.hl * s.sigma * vol_ratio, s.rng.exp1(), s.rng.exp1());
            write_ohlc(out, idx, open, close, up, down);
            s.price = close;

            // Volume: AR(1) in logs, coupled to |r| and the latent vol state, hour profile.
            let eta = s.vol_noise * s.rng.normal();
            let half_log_h = 0.5 * s.h.ln();
            let state = log_m + half_log_h - mean_log_m - MEAN_HALF_LOG_H;
            let q = s.log_vol_season[hour];
            let log_v = s.vol_c
                + s.phi * s.log_v_prev
                + s.vol_g * r.abs() * s.inv_sigma
                + s.kappa * (state - s.phi * s.state_prev)
                + q
                - s.phi * s.q_prev;
            let log_v = log_v + eta;
            s.log_v_prev = log_v;
            s.q_prev = q;
            s.state_prev = state;
            out.volume[idx] = log_v.exp();

            // Spread: widens with volatility and with unexpectedly thin volume. In logs, so one exp:
            // ln(base) + exponent * ln(s m sqrt h) + noise - liquidity * eta.
            let log_vr = s.log_season[hour] + log_m + half_log_h;
            let log_spread =
                s.log_spread_base + s.spread_exp * log_vr + s.spread_noise * s.rng.normal() - s.spread_liq * eta;
            out.spread[idx] = log_spread.exp().max(s.spread_floor);
        }
    }
}
