//! Per-symbol model parameters, calibrated on Binance spot hourly bars.
//!
//! Sources (all in `../shared/design/REALISM.md`, measured on the files in `../shared/data`):
//! - BTC: sigma .0082/h, GJR a .02 g .10 b .91, Student-t nu 6, hour-of-day exponent 1.0, volume
//!   coupling g .20 (REALISM "Model spec", 19/20 seeds reproduce all ten stylized facts).
//! - ETH: sigma .0100, exponent 1.35 (stronger intraday pattern), g .30, nu 6.5.
//! - SOL: sigma .0135, a .05, gamma .04 (little leverage), nu 5.5, g .25, exponent 1.1.
//! - Base volumes: geometric-mean hourly volume in base units of the 2021-04..2023-12 Binance files
//!   (BTC 2,559, ETH 17,194; SOL median 126,733 over the same dates). Initial prices are round
//!   numbers near the 2021-2023 medians (BTC 30,268, ETH 1,899, SOL 34).
//! - Volume: phi .50 and noise sd .30 instead of REALISM's .70 / .40, because the latent-state term
//!   enters like the hour profile (see `realistic.rs`): on 3-year BTC paths this gives detrended ln V
//!   sd .56-.63 (real BTC .60), 99th / 99.9th percentile of volume 8-13x / 19-50x its geometric mean
//!   (real 11x / 20x) and corr(detrended ln V, ln(H/L)) .45-.51 (real .55-.70 by sub-period).
//! - Jump loadings on the market jump 1 / 1.2 / 1.5 (REALISM multi-asset spec).
//!
//! Any other symbol gets [`SymbolProfile::generic`]: ETH-like dynamics (a mid-cap between BTC and
//! SOL), price 100 and volume 10,000 per hour. Every field can be overridden from Python.

/// Hour-of-day volatility profile c_0..c_23 (mean of BTC/ETH/SOL; max 14:00, min 04:00 UTC).
pub const HOUR_VOL: [f64; 24] = [
    1.21, 1.07, 0.93, 0.87, 0.80, 0.83, 0.86, 0.89, 0.96, 0.91, 0.91, 0.91, 1.06, 1.14, 1.29, 1.21, 1.13, 1.05, 1.00,
    1.01, 1.07, 1.02, 1.00, 0.99,
];

/// Hour-of-day profile of ln(volume) q_0..q_23.
pub const HOUR_LOG_VOLUME: [f64; 24] = [
    0.10, -0.04, -0.13, -0.20, -0.23, -0.23, -0.16, -0.07, 0.02, -0.03, -0.04, -0.03, 0.16, 0.29, 0.42, 0.37, 0.32,
    0.12, 0.04, 0.00, -0.05, -0.24, -0.19, -0.18,
];

/// Every parameter of one symbol's dynamics. Rates are per hour; the generator rescales them to
/// the bar interval.
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolProfile {
    pub name: String,
    pub initial_price: f64,
    /// Hourly volatility scale of the diffusive shock.
    pub sigma: f64,
    /// GJR-GARCH(1,1): h_t = w + (a + g 1[eps<0]) h eps^2 + b h, unit mean (w = 1 - a - g/2 - b).
    pub garch_alpha: f64,
    pub garch_gamma: f64,
    pub garch_beta: f64,
    /// Student-t degrees of freedom of the innovations (> 2).
    pub nu: f64,
    /// MA(1) coefficient on the diffusive shock: a small negative lag-1 autocorrelation.
    pub theta: f64,
    /// Exponent applied to the hour-of-day profile [`HOUR_VOL`].
    pub season_exponent: f64,
    /// Loading on the common market jump.
    pub jump_loading: f64,
    /// Brownian-bridge high/low scale (1.08: intrabar noise and bid-ask bounce).
    pub hl_factor: f64,
    /// Geometric-mean volume per hour in base units.
    pub base_volume: f64,
    /// ln V AR(1) coefficient, coupling to |r|/sigma, to the latent vol state, noise sd.
    pub volume_phi: f64,
    pub volume_g: f64,
    pub volume_kappa: f64,
    pub volume_noise: f64,
    /// Calm quoted spread in basis points, its vol exponent, lognormal noise sd and floor (bps).
    pub spread_bps: f64,
    pub spread_exponent: f64,
    pub spread_noise: f64,
    pub spread_floor_bps: f64,
    /// Elasticity of the spread to unexpectedly thin volume (spread * exp(-k * volume shock)).
    pub spread_liquidity: f64,
}

impl SymbolProfile {
    fn base(name: &str) -> Self {
        SymbolProfile {
            name: name.to_string(),
            initial_price: 100.0,
            sigma: 0.0082,
            garch_alpha: 0.02,
            garch_gamma: 0.10,
            garch_beta: 0.91,
            nu: 6.0,
            theta: -0.03,
            season_exponent: 1.0,
            jump_loading: 1.0,
            hl_factor: 1.08,
            base_volume: 10_000.0,
            volume_phi: 0.50,
            volume_g: 0.20,
            volume_kappa: 1.0,
            volume_noise: 0.30,
            spread_bps: 1.0,
            spread_exponent: 1.5,
            spread_noise: 0.3,
            spread_floor_bps: 0.2,
            spread_liquidity: 0.5,
        }
    }

    pub fn btc() -> Self {
        Self { initial_price: 30_000.0, base_volume: 2_559.0, ..Self::base("BTCUSDT") }
    }

    pub fn eth() -> Self {
        Self {
            initial_price: 1_900.0,
            sigma: 0.0100,
            season_exponent: 1.35,
            volume_g: 0.30,
            nu: 6.5,
            jump_loading: 1.2,
            base_volume: 17_194.0,
            spread_bps: 1.2,
            ..Self::base("ETHUSDT")
        }
    }

    pub fn sol() -> Self {
        Self {
            initial_price: 34.0,
            sigma: 0.0135,
            garch_alpha: 0.05,
            garch_gamma: 0.04,
            nu: 5.5,
            volume_g: 0.25,
            season_exponent: 1.1,
            jump_loading: 1.5,
            base_volume: 126_733.0,
            spread_bps: 2.0,
            ..Self::base("SOLUSDT")
        }
    }

    /// ETH-like dynamics for symbols without their own calibration.
    pub fn generic(name: &str) -> Self {
        Self { name: name.to_string(), ..Self { initial_price: 100.0, base_volume: 10_000.0, ..Self::eth() } }
    }

    /// The calibrated profile for BTC/ETH/SOL (any quote asset), generic otherwise.
    pub fn for_symbol(name: &str) -> Self {
        let upper = name.to_ascii_uppercase();
        let mut p = if upper.starts_with("BTC") {
            Self::btc()
        } else if upper.starts_with("ETH") {
            Self::eth()
        } else if upper.starts_with("SOL") {
            Self::sol()
        } else {
            Self::generic(name)
        };
        p.name = name.to_string();
        p
    }

    /// Which calibration a symbol resolves to ("btc", "eth", "sol" or "generic").
    pub fn family(name: &str) -> &'static str {
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("BTC") {
            "btc"
        } else if upper.starts_with("ETH") {
            "eth"
        } else if upper.starts_with("SOL") {
            "sol"
        } else {
            "generic"
        }
    }
}

/// Default calm and stress correlations between two symbols (REALISM multi-asset spec:
/// calm .85/.62/.66 and stress .90/.74/.77 for BTC-ETH/BTC-SOL/ETH-SOL reproduce the measured
/// full-sample .871/.677/.707). Generic symbols: calm .60, stress .75 with everything.
pub fn default_pair_correlation(a: &str, b: &str) -> (f64, f64) {
    let (fa, fb) = (SymbolProfile::family(a), SymbolProfile::family(b));
    let key = if fa <= fb { (fa, fb) } else { (fb, fa) };
    match key {
        ("btc", "btc") | ("eth", "eth") | ("sol", "sol") => (0.95, 0.97),
        ("btc", "eth") => (0.85, 0.90),
        ("btc", "sol") => (0.62, 0.74),
        ("eth", "sol") => (0.66, 0.77),
        _ => (0.60, 0.75),
    }
}

/// Names accepted by [`SymbolProfile::set`], in declaration order.
pub const PROFILE_FIELDS: [&str; 20] = [
    "initial_price",
    "sigma",
    "garch_alpha",
    "garch_gamma",
    "garch_beta",
    "nu",
    "theta",
    "season_exponent",
    "jump_loading",
    "hl_factor",
    "base_volume",
    "volume_phi",
    "volume_g",
    "volume_kappa",
    "volume_noise",
    "spread_bps",
    "spread_exponent",
    "spread_noise",
    "spread_floor_bps",
    "spread_liquidity",
];

impl SymbolProfile {
    fn slot_mut(&mut self, field: &str) -> Option<&mut f64> {
        Some(match field {
            "initial_price" => &mut self.initial_price,
            "sigma" => &mut self.sigma,
            "garch_alpha" => &mut self.garch_alpha,
            "garch_gamma" => &mut self.garch_gamma,
            "garch_beta" => &mut self.garch_beta,
            "nu" => &mut self.nu,
            "theta" => &mut self.theta,
            "season_exponent" => &mut self.season_exponent,
            "jump_loading" => &mut self.jump_loading,
            "hl_factor" => &mut self.hl_factor,
            "base_volume" => &mut self.base_volume,
            "volume_phi" => &mut self.volume_phi,
            "volume_g" => &mut self.volume_g,
            "volume_kappa" => &mut self.volume_kappa,
            "volume_noise" => &mut self.volume_noise,
            "spread_bps" => &mut self.spread_bps,
            "spread_exponent" => &mut self.spread_exponent,
            "spread_noise" => &mut self.spread_noise,
            "spread_floor_bps" => &mut self.spread_floor_bps,
            "spread_liquidity" => &mut self.spread_liquidity,
            _ => return None,
        })
    }

    /// Override one field by name (ranges are checked when the spec is built).
    pub fn set(&mut self, field: &str, value: f64) -> crate::Result<()> {
        match self.slot_mut(field) {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => Err(crate::StressError::param(
                field,
                format!("unknown symbol-profile parameter; allowed: {}", PROFILE_FIELDS.join(", ")),
            )),
        }
    }

    /// All fields as (name, value) pairs, in [`PROFILE_FIELDS`] order.
    pub fn fields(&self) -> Vec<(&'static str, f64)> {
        let mut p = self.clone();
        PROFILE_FIELDS.iter().filter_map(|f| p.slot_mut(f).map(|v| (*f, *v))).collect()
    }
}
