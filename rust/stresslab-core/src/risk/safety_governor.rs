//! Safety governor: the emergency stop system (ESS).
//!
//! Checked after every bar's close while armed, in this order (the first that fires names the
//! stop):
//! - `drawdown`: equity more than `max_drawdown` below its peak since the governor (re-)armed;
//! - `loss_velocity`: equity more than `loss_velocity` below the equity `loss_velocity_bars` ago;
//! - `failure_streak`: `max_failure_streak` exchange rejections in a row (outages, failures, no
//!   liquidity; a fill ends the streak);
//! - `data_quality`: more than `max_corrupt_bars` corrupt (symbol, bar) pairs in the last
//!   `corrupt_window_bars` bars;
//! - `volatility`: a symbol's short-term volatility (EWMA half-life `vol_short_bars`) above
//!   `max_volatility_mult` times its usual level (half-life `vol_long_bars`).
//!
//! On a stop the engine cancels every open order and, per `action`, flattens every position or
//! freezes (keeps positions, drops pending targets). New risk is blocked for `cooldown_bars`
//! bars; then the governor re-arms with its references reset to the present (the peak, the loss
//! window, the streak and the corrupt-bar count start afresh), so one crash is one stop.
//! `cooldown_bars = None` keeps the stop until the end of the run.

use super::indicators::{LossWindow, VolRatio, WindowCount};
use crate::error::{check_range, Result, StressError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopAction {
    Flatten,
    Freeze,
}

impl StopAction {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "flatten" => Ok(StopAction::Flatten),
            "freeze" => Ok(StopAction::Freeze),
            other => Err(StressError::param("action", format!("must be 'flatten' or 'freeze', got {other:?}"))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StopAction::Flatten => "flatten",
            StopAction::Freeze => "freeze",
        }
    }
}

/// Why the governor stopped (names used in events and results).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Drawdown,
    LossVelocity,
    FailureStreak,
    DataQuality,
    Volatility,
    /// Raised by a user's Python governor (its own name is kept in the stop record).
    External,
    /// A user component failed; the stack went to the safe state.
    ComponentFailure,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Drawdown => "drawdown",
            Trigger::LossVelocity => "loss_velocity",
            Trigger::FailureStreak => "failure_streak",
            Trigger::DataQuality => "data_quality",
            Trigger::Volatility => "volatility",
            Trigger::External => "external",
            Trigger::ComponentFailure => "component_failure",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GovernorConfig {
    pub max_drawdown: Option<f64>,
    pub loss_velocity: Option<f64>,
    pub loss_velocity_bars: usize,
    pub max_failure_streak: Option<u32>,
    pub max_corrupt_bars: Option<u32>,
    pub corrupt_window_bars: usize,
    pub max_volatility_mult: Option<f64>,
    pub vol_short_bars: f64,
    pub vol_long_bars: f64,
    pub action: StopAction,
    pub cooldown_bars: Option<usize>,
}

impl Default for GovernorConfig {
    fn default() -> Self {
        GovernorConfig {
            max_drawdown: None,
            loss_velocity: None,
            loss_velocity_bars: 24,
            max_failure_streak: None,
            max_corrupt_bars: None,
            corrupt_window_bars: 24,
            max_volatility_mult: None,
            vol_short_bars: 6.0,
            vol_long_bars: 168.0,
            action: StopAction::Flatten,
            cooldown_bars: Some(24),
        }
    }
}

impl GovernorConfig {
    pub fn validate(&self) -> Result<()> {
        if let Some(x) = self.max_drawdown {
            check_range("max_drawdown_pct", x, 1e-9, 1.0)?;
        }
        if let Some(x) = self.loss_velocity {
            check_range("loss_velocity_pct", x, 1e-9, 1.0)?;
        }
        if self.loss_velocity_bars < 1 {
            return Err(StressError::param("loss_velocity_bars", "must be an integer >= 1, got 0"));
        }
        if self.max_failure_streak == Some(0) {
            return Err(StressError::param("max_failure_streak", "must be an integer >= 1 (or None), got 0"));
        }
        if self.corrupt_window_bars < 1 {
            return Err(StressError::param("corrupt_window_bars", "must be an integer >= 1, got 0"));
        }
        if let Some(m) = self.max_volatility_mult {
            check_range("max_volatility_mult", m, 1.0, 1e6)?;
        }
        check_range("vol_short_bars", self.vol_short_bars, 1.0, 1e7)?;
        check_range("vol_long_bars", self.vol_long_bars, 1.0, 1e7)?;
        if self.vol_short_bars >= self.vol_long_bars {
            return Err(StressError::param(
                "vol_short_bars",
                format!(
                    "must be shorter than vol_long_bars, got vol_short_bars={} >= vol_long_bars={}",
                    self.vol_short_bars, self.vol_long_bars
                ),
            ));
        }
        if self.cooldown_bars == Some(0) {
            return Err(StressError::param("cooldown_bars", "must be an integer >= 1 (or None: stay stopped), got 0"));
        }
        Ok(())
    }
}

/// What the governor decided after a bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GovernorEvent {
    Nothing,
    Stop(Trigger),
    Rearm,
}

#[derive(Clone, Debug)]
pub struct SafetyGovernor {
    pub cfg: GovernorConfig,
    peak: f64,
    loss: Option<LossWindow>,
    corrupt: Option<WindowCount>,
    vol_mult_sq: Option<f64>,
    streak_base: u32,
    /// Bar the current stop ends (re-arm), when stopped.
    stopped_until: Option<Option<usize>>,
}

impl SafetyGovernor {
    pub fn new(cfg: GovernorConfig, initial_equity: f64) -> Self {
        let loss = cfg.loss_velocity.map(|_| LossWindow::new(cfg.loss_velocity_bars, initial_equity));
        let corrupt = cfg.max_corrupt_bars.map(|_| WindowCount::new(cfg.corrupt_window_bars));
        let vol_mult_sq = cfg.max_volatility_mult.map(|m| m * m);
        SafetyGovernor { cfg, peak: initial_equity, loss, corrupt, vol_mult_sq, streak_base: 0, stopped_until: None }
    }

    /// Whether a stop is in force (new risk blocked).
    #[inline]
    pub fn stopped(&self) -> bool {
        self.stopped_until.is_some()
    }

    /// The volatility tracker this governor reads (None: no volatility trigger). The stack owns
    /// it, so a controller with the same half-lives shares it.
    pub fn volatility_tracker(&self, n_symbols: usize) -> Option<VolRatio> {
        self.vol_mult_sq.map(|_| VolRatio::new(n_symbols, self.cfg.vol_short_bars, self.cfg.vol_long_bars))
    }

    pub fn peak(&self) -> f64 {
        self.peak
    }

    /// After bar t's close: update the references and decide. `failure_streak` is the engine's
    /// count of consecutive rejections; `corrupt_now` the corrupt (symbol, bar) pairs of bar t;
    /// `vol` the tracker from [`Self::volatility_tracker`], fed with bar t.
    #[inline]
    pub fn after_mark(
        &mut self,
        t: usize,
        equity: f64,
        failure_streak: u32,
        corrupt_now: u32,
        vol: Option<&VolRatio>,
    ) -> GovernorEvent {
        let ev = self.decide(t, equity, failure_streak, corrupt_now, vol);
        self.advance(equity, failure_streak, corrupt_now);
        match ev {
            GovernorEvent::Stop(_) => self.stop(t),
            GovernorEvent::Rearm => self.rearm(equity, failure_streak),
            GovernorEvent::Nothing => {}
        }
        ev
    }

    /// What [`Self::after_mark`] decides for bar t, without changing any state: the references
    /// are read as they will be once bar t is in them.
    #[inline(always)]
    pub fn decide(
        &self,
        t: usize,
        equity: f64,
        failure_streak: u32,
        corrupt_now: u32,
        vol: Option<&VolRatio>,
    ) -> GovernorEvent {
        if let Some(until) = self.stopped_until {
            return if until.is_some_and(|u| t >= u) { GovernorEvent::Rearm } else { GovernorEvent::Nothing };
        }
        match self.trigger(equity, failure_streak, corrupt_now, vol) {
            Some(tr) => GovernorEvent::Stop(tr),
            None => GovernorEvent::Nothing,
        }
    }

    /// The first armed trigger that fires on bar t, in the documented order.
    #[inline(always)]
    fn trigger(&self, equity: f64, failure_streak: u32, corrupt_now: u32, vol: Option<&VolRatio>) -> Option<Trigger> {
        let cfg = &self.cfg;
        // a fill ended the old streak when the count fell below its base
        let streak_base = if failure_streak < self.streak_base { 0 } else { self.streak_base };
        let peak = if equity > self.peak { equity } else { self.peak };
        if cfg.max_drawdown.is_some_and(|l| equity < peak * (1.0 - l)) {
            return Some(Trigger::Drawdown);
        }
        if let (Some(w), Some(l)) = (self.loss.as_ref(), cfg.loss_velocity) {
            if w.beyond(equity, l) {
                return Some(Trigger::LossVelocity);
            }
        }
        if cfg.max_failure_streak.is_some_and(|m| failure_streak - streak_base >= m) {
            return Some(Trigger::FailureStreak);
        }
        if let (Some(w), Some(m)) = (self.corrupt.as_ref(), cfg.max_corrupt_bars) {
            if w.peek(corrupt_now) > m {
                return Some(Trigger::DataQuality);
            }
        }
        if let (Some(v), Some(m)) = (vol, self.vol_mult_sq) {
            if v.exceeds(m) {
                return Some(Trigger::Volatility);
            }
        }
        None
    }

    /// Whether no bar t < t_b of a span can stop or re-arm, from bounds over the span: equity in
    /// [lo, hi] (positive, finite), the rejection count fixed, `corrupt` the span's corrupt pairs
    /// per bar (the volatility trigger is the trackers' test, [`Self::volatility_limit`]).
    pub fn quiet_span(&self, t_b: usize, lo: f64, hi: f64, failure_streak: u32, corrupt: &[u32]) -> bool {
        if let Some(until) = self.stopped_until {
            // stopped: nothing fires, it re-arms on the first bar t >= until
            return until.is_none_or(|u| u >= t_b);
        }
        let cfg = &self.cfg;
        let streak_base = if failure_streak < self.streak_base { 0 } else { self.streak_base };
        if cfg.max_failure_streak.is_some_and(|m| failure_streak - streak_base >= m) {
            return false;
        }
        // every bar's peak is at most this; its drawdown test compares the bar's equity (>= lo)
        let peak = if hi > self.peak { hi } else { self.peak };
        if cfg.max_drawdown.is_some_and(|l| !(lo >= peak * (1.0 - l))) {
            return false;
        }
        if let (Some(w), Some(l)) = (self.loss.as_ref(), cfg.loss_velocity) {
            let old = w.max();
            let old = if hi > old { hi } else { old };
            if !(lo >= old * (1.0 - l)) {
                return false;
            }
        }
        if let (Some(w), Some(m)) = (self.corrupt.as_ref(), cfg.max_corrupt_bars) {
            // with no corrupt bar in the span the windowed count only falls
            if w.sum() > m || corrupt.iter().any(|&c| c > 0) {
                return false;
            }
        }
        true
    }

    /// The volatility trigger's limit on the short/long variance ratio, if armed.
    pub fn volatility_limit(&self) -> Option<f64> {
        self.vol_mult_sq.filter(|_| self.stopped_until.is_none())
    }

    /// [`Self::advance`] for every bar of a span (`corrupt` per bar, or empty when not watched).
    pub fn advance_span(&mut self, equity: &[f64], failure_streak: u32, corrupt: &[u32]) {
        for (k, &e) in equity.iter().enumerate() {
            self.advance(e, failure_streak, corrupt.get(k).copied().unwrap_or(0));
        }
    }

    /// Put bar t into the references (peak, loss window, corrupt-bar window, streak base): what
    /// every bar does, stopped or not, before a stop or a re-arm acts.
    #[inline]
    pub fn advance(&mut self, equity: f64, failure_streak: u32, corrupt_now: u32) {
        if failure_streak < self.streak_base {
            self.streak_base = 0; // a fill ended the old streak
        }
        if equity > self.peak {
            self.peak = equity;
        }
        if let Some(w) = self.loss.as_mut() {
            w.push(equity);
        }
        if let Some(w) = self.corrupt.as_mut() {
            w.push(corrupt_now);
        }
    }

    /// Enter the stopped state at bar t (a native trigger or an external one).
    #[cold]
    pub fn stop(&mut self, t: usize) {
        self.stopped_until = Some(self.cfg.cooldown_bars.map(|c| t.saturating_add(c)));
    }

    #[cold]
    fn rearm(&mut self, equity: f64, failure_streak: u32) {
        self.stopped_until = None;
        self.peak = equity;
        if let Some(w) = self.loss.as_mut() {
            w.reset(equity);
        }
        if let Some(w) = self.corrupt.as_mut() {
            w.reset();
        }
        self.streak_base = failure_streak;
    }
}
