//! Policy modes: the meta strategy controller (MSC) picks a mode from market and account state,
//! the policy store holds each mode's limits, which the other components read.
//!
//! Modes, from calm to severe: NORMAL, DEFENSIVE, CAPITAL_PRESERVATION, HALT. A mode's limits
//! ([`ModeLimits`]): `size_multiplier` scales every target, `max_gross_leverage` caps the gross
//! weight, `allow_entries` = false refuses new positions. A more severe mode may not have looser
//! limits than a calmer one (checked at construction).
//!
//! The MSC reads two indicators after each bar: the drawdown from the equity's all-time peak and
//! the market's volatility ratio (the largest short/long volatility ratio over the symbols). Each
//! has up to three thresholds, one per mode above NORMAL, ascending. Hysteresis: the mode rises
//! at once to the most severe level any indicator has reached; it falls only when every indicator
//! is below its threshold by `hysteresis` (relative: a 10% threshold with hysteresis 0.2 is left
//! below 8%) and the mode has lasted `min_bars_in_mode` bars. A signal oscillating around a
//! threshold therefore changes the mode once, not on every crossing.

use super::indicators::{RollingPeak, VolRatio};
use crate::error::{check_range, Result, StressError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Normal = 0,
    Defensive = 1,
    CapitalPreservation = 2,
    Halt = 3,
}

pub const MODES: [Mode; 4] = [Mode::Normal, Mode::Defensive, Mode::CapitalPreservation, Mode::Halt];

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Normal => "NORMAL",
            Mode::Defensive => "DEFENSIVE",
            Mode::CapitalPreservation => "CAPITAL_PRESERVATION",
            Mode::Halt => "HALT",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        MODES.into_iter().find(|m| m.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            StressError::param(
                "mode",
                format!("unknown policy mode {s:?}; allowed: NORMAL, DEFENSIVE, CAPITAL_PRESERVATION, HALT"),
            )
        })
    }

    fn from_level(k: usize) -> Mode {
        MODES[k.min(3)]
    }
}

/// The limits a mode imposes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModeLimits {
    /// Every target is multiplied by this (0 = flat).
    pub size_multiplier: f64,
    /// Gross weight cap (None: no cap).
    pub max_gross_leverage: Option<f64>,
    /// Whether new positions may be opened.
    pub allow_entries: bool,
}

/// The policy store: limits per mode (indexed by [`Mode`]) and the mode a run starts in.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyConfig {
    pub limits: [ModeLimits; 4],
    pub initial_mode: Mode,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            limits: [
                ModeLimits { size_multiplier: 1.0, max_gross_leverage: None, allow_entries: true },
                ModeLimits { size_multiplier: 0.5, max_gross_leverage: None, allow_entries: true },
                ModeLimits { size_multiplier: 0.25, max_gross_leverage: Some(1.0), allow_entries: false },
                ModeLimits { size_multiplier: 0.0, max_gross_leverage: Some(0.0), allow_entries: false },
            ],
            initial_mode: Mode::Normal,
        }
    }
}

impl PolicyConfig {
    pub fn validate(&self) -> Result<()> {
        for (m, l) in MODES.iter().zip(&self.limits) {
            check_range(&format!("{}.size_multiplier", m.name()), l.size_multiplier, 0.0, 10.0)?;
            if let Some(g) = l.max_gross_leverage {
                check_range(&format!("{}.max_gross_leverage", m.name()), g, 0.0, 1000.0)?;
            }
        }
        for k in 1..4 {
            let (calm, severe) = (&self.limits[k - 1], &self.limits[k]);
            let (cn, sn) = (MODES[k - 1].name(), MODES[k].name());
            if severe.size_multiplier > calm.size_multiplier {
                return Err(StressError::param(
                    format!("{sn}.size_multiplier"),
                    format!(
                        "must not exceed {cn}.size_multiplier ({} > {}): a more severe mode may not take more risk",
                        severe.size_multiplier, calm.size_multiplier
                    ),
                ));
            }
            let cg = calm.max_gross_leverage.unwrap_or(f64::INFINITY);
            let sg = severe.max_gross_leverage.unwrap_or(f64::INFINITY);
            if sg > cg {
                return Err(StressError::param(
                    format!("{sn}.max_gross_leverage"),
                    format!("must not exceed {cn}.max_gross_leverage ({sg} > {cg}): a more severe mode may not take more risk"),
                ));
            }
            if severe.allow_entries && !calm.allow_entries {
                return Err(StressError::param(
                    format!("{sn}.allow_entries"),
                    format!(
                        "cannot be True while {cn}.allow_entries is False: a more severe mode may not take more risk"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MscConfig {
    /// Drawdown thresholds (fractions) for DEFENSIVE, CAPITAL_PRESERVATION, HALT.
    pub drawdown: [Option<f64>; 3],
    /// Volatility-ratio thresholds (multiples of usual volatility) for the same modes.
    pub vol_mult: [Option<f64>; 3],
    /// Relative distance below a threshold needed to leave its mode (0..1).
    pub hysteresis: f64,
    pub min_bars_in_mode: usize,
    /// The drawdown is measured from the peak of the last this many bars (None: all-time), so a
    /// flat book in HALT can return to NORMAL once the old peak has left the window.
    pub drawdown_window_bars: Option<usize>,
    pub vol_short_bars: f64,
    pub vol_long_bars: f64,
}

impl Default for MscConfig {
    fn default() -> Self {
        MscConfig {
            drawdown: [Some(0.05), Some(0.10), Some(0.20)],
            vol_mult: [None, None, None],
            hysteresis: 0.2,
            min_bars_in_mode: 6,
            drawdown_window_bars: Some(720),
            vol_short_bars: 6.0,
            vol_long_bars: 168.0,
        }
    }
}

const LEVEL_FIELDS: [&str; 3] = ["defensive", "preservation", "halt"];

fn check_ascending(kind: &str, th: &[Option<f64>; 3], lo: f64, hi: f64) -> Result<()> {
    let mut prev: Option<(usize, f64)> = None;
    for (k, x) in th.iter().enumerate() {
        if let Some(x) = *x {
            let field = format!("{}_{kind}", LEVEL_FIELDS[k]);
            check_range(&field, x, lo, hi)?;
            if let Some((pk, p)) = prev {
                if x <= p {
                    return Err(StressError::param(
                        field.clone(),
                        format!(
                            "thresholds must rise with severity: {field} ({x}) must be above {}_{kind} ({p})",
                            LEVEL_FIELDS[pk]
                        ),
                    ));
                }
            }
            prev = Some((k, x));
        }
    }
    Ok(())
}

impl MscConfig {
    pub fn validate(&self) -> Result<()> {
        check_ascending("drawdown_pct", &self.drawdown, 1e-9, 1.0)?;
        check_ascending("vol_mult", &self.vol_mult, 1.0, 1e6)?;
        if self.drawdown.iter().chain(&self.vol_mult).all(|x| x.is_none()) {
            return Err(StressError::param(
                "thresholds",
                "the controller needs at least one threshold (a *_drawdown_pct or *_vol_mult)",
            ));
        }
        check_range("hysteresis_pct", self.hysteresis, 0.0, 1.0)?;
        if self.drawdown_window_bars == Some(0) {
            return Err(StressError::param(
                "drawdown_window_bars",
                "must be an integer >= 1 (or None: all-time), got 0",
            ));
        }
        check_range("vol_short_bars", self.vol_short_bars, 1.0, 1e7)?;
        check_range("vol_long_bars", self.vol_long_bars, 1.0, 1e7)?;
        if self.vol_short_bars >= self.vol_long_bars {
            return Err(StressError::param(
                "vol_short_bars",
                format!("must be shorter than vol_long_bars, got {} >= {}", self.vol_short_bars, self.vol_long_bars),
            ));
        }
        Ok(())
    }
}

/// What the controller needs of the volatility trackers over a span ([`MetaStrategyController::quiet_span`]):
/// every warmed-up symbol's variance ratio below `below` on every bar (no level entered), and
/// with `hold`, some warmed-up symbol's ratio at least `hold` on every bar (the mode is held).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpanVolatility {
    pub below: f64,
    pub hold: Option<f64>,
}

/// The controller's running state.
#[derive(Clone, Debug)]
pub struct MetaStrategyController {
    pub cfg: MscConfig,
    peak: RollingPeak,
    /// Per level, equity factors (enter, exit): the drawdown reaches a threshold when
    /// equity <= peak x factor (compared without dividing).
    dd_factor: [(f64, f64); 3],
    /// Per level, squared volatility-ratio thresholds (enter, exit).
    vol_sq: [(f64, f64); 3],
    tracks_volatility: bool,
    mode_since: usize,
    /// Per current mode, the loosest of the enter thresholds above it (drawdown factor: the
    /// largest; volatility: the smallest) and of the exit thresholds from its own level up: with
    /// a peak >= 0 (and variances >= 0), "any level reached" is that one comparison.
    enter_any: [(f64, f64); 4],
    hold_any: [(f64, f64); 4],
}

/// Highest level (1..=3) whose threshold is reached, 0 if none; `reached(k)` tests level k+1.
#[inline]
fn level(reached: impl Fn(usize) -> bool) -> usize {
    (0..3).rev().find(|&k| reached(k)).map_or(0, |k| k + 1)
}

impl MetaStrategyController {
    pub fn new(cfg: MscConfig, initial_equity: f64) -> Self {
        let h = 1.0 - cfg.hysteresis;
        // a missing level never triggers: factor -inf (equity <= -inf is false), threshold +inf
        let dd_factor =
            cfg.drawdown.map(|x| x.map_or((f64::NEG_INFINITY, f64::NEG_INFINITY), |x| (1.0 - x, 1.0 - x * h)));
        let vol_sq = cfg.vol_mult.map(|m| m.map_or((f64::INFINITY, f64::INFINITY), |m| (m * m, (m * h) * (m * h))));
        let loosest = |from: usize, exit: bool| {
            let pick = |x: (f64, f64)| if exit { x.1 } else { x.0 };
            let f = dd_factor[from..].iter().map(|x| pick(*x)).fold(f64::NEG_INFINITY, f64::max);
            let v = vol_sq[from..].iter().map(|x| pick(*x)).fold(f64::INFINITY, f64::min);
            (f, v)
        };
        let enter_any = [0, 1, 2, 3].map(|cur| loosest(cur, false));
        let hold_any = [0, 1, 2, 3].map(|cur: usize| loosest(cur.saturating_sub(1), true));
        MetaStrategyController {
            peak: RollingPeak::new(cfg.drawdown_window_bars, initial_equity),
            dd_factor,
            vol_sq,
            enter_any,
            hold_any,
            tracks_volatility: cfg.vol_mult.iter().any(|x| x.is_some()),
            mode_since: 0,
            cfg,
        }
    }

    /// The volatility tracker this controller reads (None: no volatility thresholds).
    pub fn volatility_tracker(&self, n_symbols: usize) -> Option<VolRatio> {
        self.tracks_volatility.then(|| VolRatio::new(n_symbols, self.cfg.vol_short_bars, self.cfg.vol_long_bars))
    }

    /// After bar t's close (`vol` fed with bar t): the new mode and the indicator that moved it,
    /// if it changes.
    #[inline]
    pub fn after_mark(
        &mut self,
        t: usize,
        equity: f64,
        current: Mode,
        vol: Option<&VolRatio>,
    ) -> Option<(Mode, &'static str)> {
        let change = self.decide(t, equity, current, vol);
        self.advance(equity);
        if change.is_some() {
            self.mode_since = t;
        }
        change
    }

    /// What [`Self::after_mark`] decides for bar t, without changing any state.
    #[inline(always)]
    pub fn decide(&self, t: usize, equity: f64, current: Mode, vol: Option<&VolRatio>) -> Option<(Mode, &'static str)> {
        let peak = self.peak.peek(equity);
        let cur = current as usize;
        // the common case in two or four comparisons: no level above the current one is reached
        // and the current one is held (or cannot be left yet); the per-level tests of
        // `decide_levels` give the same answer (a product with a peak >= 0 is monotone in the
        // threshold, and so is a variance ratio test with a long variance >= 0)
        if peak >= 0.0 {
            let reached = |(f, v): (f64, f64)| equity <= peak * f || vol.is_some_and(|x| x.reaches(v));
            if !reached(self.enter_any[cur])
                && (cur == 0 || t - self.mode_since < self.cfg.min_bars_in_mode || reached(self.hold_any[cur]))
            {
                return None;
            }
        }
        self.decide_levels(t, equity, peak, cur, vol)
    }

    /// [`Self::decide`] level by level (a mode changes, or a negative peak).
    #[cold]
    #[inline(never)]
    fn decide_levels(
        &self,
        t: usize,
        equity: f64,
        peak: f64,
        cur: usize,
        vol: Option<&VolRatio>,
    ) -> Option<(Mode, &'static str)> {
        let f = &self.dd_factor;
        let th = &self.vol_sq;
        // level k+1 reached by the drawdown / the volatility, entering or (exit) staying
        let dd = |k: usize, exit: bool| equity <= peak * if exit { f[k].1 } else { f[k].0 };
        let vo = |k: usize, exit: bool| vol.is_some_and(|v| v.reaches(if exit { th[k].1 } else { th[k].0 }));
        // the mode rises at once to the most severe level reached above it ...
        if (cur..3).any(|k| dd(k, false) || vo(k, false)) {
            let up_dd = level(|k| dd(k, false));
            let up_v = level(|k| vo(k, false));
            let up = up_dd.max(up_v);
            let why = if up_dd >= up_v { "drawdown" } else { "volatility" };
            return Some((Mode::from_level(up), why));
        }
        // ... and falls once no level from its own up is held (within its hysteresis band)
        if cur > 0
            && !(cur - 1..3).any(|k| dd(k, true) || vo(k, true))
            && t - self.mode_since >= self.cfg.min_bars_in_mode
        {
            let stay = level(|k| dd(k, true)).max(level(|k| vo(k, true)));
            return Some((Mode::from_level(stay), "recovered"));
        }
        None
    }

    /// Whether no bar t_b - n..t_b (equity in [lo, hi], positive and finite) can change the mode,
    /// as far as the drawdown tells: None when the bounds cannot clear the span; otherwise what
    /// the volatility trackers must confirm on every bar of it, [`SpanVolatility`]. No level above
    /// the current one is entered when the lowest equity is above the highest peak times the
    /// loosest enter factor; the current mode is not left while its dwell time runs, or when the
    /// highest equity is within the loosest hold band of the lowest peak the window keeps, or
    /// (left to the trackers) when the volatility stays within the hold band on every bar.
    pub fn quiet_span(&self, mode: Mode, lo: f64, hi: f64, t_b: usize, n: usize) -> Option<SpanVolatility> {
        let cur = mode as usize;
        // every bar's window peak is at most this (and positive: it includes the bar's equity)
        let p = self.peak.upper_bound();
        let p = if hi > p { hi } else { p };
        let (f, v) = self.enter_any[cur];
        if !(lo > p * f) {
            return None;
        }
        let mut hold = None;
        if cur > 0 && t_b - 1 - self.mode_since >= self.cfg.min_bars_in_mode {
            let low_peak = self.peak.lower_bound(n);
            let (hf, hv) = self.hold_any[cur];
            if !(low_peak > 0.0 && hi <= low_peak * hf) {
                if !self.tracks_volatility {
                    return None;
                }
                hold = Some(hv);
            }
        }
        // (without volatility thresholds `v` is infinite: no test)
        Some(SpanVolatility { below: v, hold })
    }

    /// Put bar t's equity into the drawdown peak.
    #[inline]
    pub fn advance(&mut self, equity: f64) {
        self.peak.push(0, equity);
    }

    /// An external mode change (a user's controller) restarts the dwell time.
    pub fn note_change(&mut self, t: usize) {
        self.mode_since = t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msc(h: f64, min_bars: usize) -> MetaStrategyController {
        let cfg = MscConfig {
            drawdown: [Some(0.05), Some(0.10), Some(0.20)],
            hysteresis: h,
            min_bars_in_mode: min_bars,
            drawdown_window_bars: None,
            ..Default::default()
        };
        cfg.validate().expect("valid");
        MetaStrategyController::new(cfg, 100.0)
    }

    /// Drive the controller with equity giving drawdowns `dd` (from a peak of 100).
    fn run(m: &mut MetaStrategyController, dd: &[f64]) -> Vec<Mode> {
        let mut mode = Mode::Normal;
        let mut out = Vec::new();
        for (t, d) in dd.iter().enumerate() {
            if let Some((to, _)) = m.after_mark(t, 100.0 * (1.0 - d), mode, None) {
                mode = to;
            }
            out.push(mode);
        }
        out
    }

    #[test]
    fn hysteresis_stops_flapping_around_a_threshold() {
        let dd: Vec<f64> = (0..200).map(|t| if t % 2 == 0 { 0.049 } else { 0.051 }).collect();
        let modes = run(&mut msc(0.2, 6), &dd);
        let changes = modes.windows(2).filter(|w| w[0] != w[1]).count();
        assert_eq!(modes[1], Mode::Defensive);
        assert_eq!(changes, 1, "one change (at bar 1), none after");
        // without hysteresis and dwell time it flaps on every crossing
        let modes = run(&mut msc(0.0, 0), &dd);
        assert!(modes.windows(2).filter(|w| w[0] != w[1]).count() > 150);
    }

    #[test]
    fn escalates_at_once_and_steps_down_after_recovery() {
        let mut dd = vec![0.0; 5];
        dd.extend([0.25; 3]); // straight to HALT
        dd.extend([0.15; 10]); // below halt*0.8 = 0.16 -> CAPITAL_PRESERVATION after the dwell
        dd.extend([0.0; 10]);
        let modes = run(&mut msc(0.2, 6), &dd);
        assert_eq!(modes[5], Mode::Halt);
        assert_eq!(modes[10], Mode::Halt); // dwell: 6 bars
        assert_eq!(modes[11], Mode::CapitalPreservation);
        assert_eq!(*modes.last().expect("bars"), Mode::Normal);
    }

    #[test]
    fn a_missing_level_is_skipped() {
        let cfg =
            MscConfig { drawdown: [None, Some(0.10), Some(0.20)], drawdown_window_bars: None, ..Default::default() };
        let mut m = MetaStrategyController::new(cfg, 100.0);
        assert_eq!(run(&mut m, &[0.0, 0.12, 0.25]), vec![Mode::Normal, Mode::CapitalPreservation, Mode::Halt]);
    }

    #[test]
    fn contradictory_limits_rejected() {
        let cfg = MscConfig { drawdown: [Some(0.1), Some(0.05), None], ..Default::default() };
        let err = cfg.validate().expect_err("descending thresholds");
        assert!(err.to_string().contains("preservation_drawdown_pct"), "{err}");
        let mut p = PolicyConfig::default();
        p.limits[3].size_multiplier = 2.0;
        assert!(p.validate().is_err());
    }
}
