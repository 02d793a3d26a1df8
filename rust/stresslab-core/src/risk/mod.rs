//! The risk stack: the components a trading system puts between its strategy and the exchange,
//! run natively inside the bar loop.
//!
//! One concept per module: [`orchestrator`] (filters and sizes signals), [`risk_guard`] (pre-trade
//! checks), [`portfolio_balancer`] (portfolio constraints, rebalancing), [`safety_governor`] (the
//! emergency stop system), [`policy`] (policy modes: meta strategy controller and policy store),
//! [`indicators`] (the running state they read).
//!
//! The engine calls the stack at two points:
//! - [`RiskStack::filter`] between the strategy's decision on bar t and its execution (from bar
//!   t+1's open): the decision row passes policy sizing, orchestrator, policy limits, the
//!   emergency-stop block, risk guard and portfolio balancer in that order; a refused entry
//!   becomes NaN (keep the current target) and is recorded as a risk denial with its reason;
//! - [`RiskStack::after_mark`] after bar t's close is marked: the governor may stop (or re-arm),
//!   the controller may change mode, the balancer may ask for rebalancing; the engine carries
//!   out what it returns ([`PostMark`]).
//!
//! Every component is optional; an omitted one passes everything through, and an engine without
//! a stack never calls into this module (a plain backtest is bit-identical to one without risk).
//! Units inside the core: limits are fractions (0.10 = 10%), weights fractions of equity.

// Per-symbol loops index several parallel arrays (row, targets, positions, prices) at once.
#![allow(clippy::needless_range_loop)]

pub mod indicators;
pub mod orchestrator;
pub mod policy;
pub mod portfolio_balancer;
mod quiet;
mod refusal;
pub mod risk_guard;
pub mod safety_governor;

pub use orchestrator::{Orchestrator, OrchestratorConfig};
pub use policy::{MetaStrategyController, Mode, ModeLimits, MscConfig, PolicyConfig, MODES};
pub use portfolio_balancer::{BalancerConfig, PortfolioBalancer};
pub use quiet::QuietBook;
pub use risk_guard::{RiskGuard, RiskGuardConfig};
pub use safety_governor::{GovernorConfig, GovernorEvent, SafetyGovernor, StopAction, Trigger};

use crate::engine::{EventKind, EventLog, TargetKind};
use crate::error::Result;
use crate::market::MarketData;

/// Which components a run has, with their limits. `None` = not present (passes through).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RiskConfig {
    pub orchestrator: Option<OrchestratorConfig>,
    pub risk_guard: Option<RiskGuardConfig>,
    pub balancer: Option<BalancerConfig>,
    pub governor: Option<GovernorConfig>,
    pub msc: Option<MscConfig>,
    /// The policy store; a controller without one uses [`PolicyConfig::default`].
    pub policy: Option<PolicyConfig>,
}

impl RiskConfig {
    pub fn validate(&self) -> Result<()> {
        if let Some(c) = &self.orchestrator {
            c.validate()?;
        }
        if let Some(c) = &self.risk_guard {
            c.validate()?;
        }
        if let Some(c) = &self.balancer {
            c.validate()?;
        }
        if let Some(c) = &self.governor {
            c.validate()?;
        }
        if let Some(c) = &self.msc {
            c.validate()?;
        }
        if let Some(c) = &self.policy {
            c.validate()?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.orchestrator.is_none()
            && self.risk_guard.is_none()
            && self.balancer.is_none()
            && self.governor.is_none()
            && self.msc.is_none()
            && self.policy.is_none()
    }
}

/// Why a target change was refused or cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    LowConfidence,
    Cooldown,
    MaxPositions,
    PolicyNoEntries,
    PolicyLeverage,
    EmergencyStop,
    CorruptData,
    DailyLossLimit,
    NoEquity,
    MaxPosition,
    MaxNotional,
    MaxOrderVolume,
    MaxLeverage,
    /// Refused by a user's Python component.
    External,
}

pub const REASONS: [Reason; 14] = [
    Reason::LowConfidence,
    Reason::Cooldown,
    Reason::MaxPositions,
    Reason::PolicyNoEntries,
    Reason::PolicyLeverage,
    Reason::EmergencyStop,
    Reason::CorruptData,
    Reason::DailyLossLimit,
    Reason::NoEquity,
    Reason::MaxPosition,
    Reason::MaxNotional,
    Reason::MaxOrderVolume,
    Reason::MaxLeverage,
    Reason::External,
];

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::LowConfidence => "low_confidence",
            Reason::Cooldown => "cooldown",
            Reason::MaxPositions => "max_positions",
            Reason::PolicyNoEntries => "policy_no_entries",
            Reason::PolicyLeverage => "policy_leverage",
            Reason::EmergencyStop => "emergency_stop",
            Reason::CorruptData => "corrupt_data",
            Reason::DailyLossLimit => "daily_loss_limit",
            Reason::NoEquity => "no_equity",
            Reason::MaxPosition => "max_position",
            Reason::MaxNotional => "max_notional",
            Reason::MaxOrderVolume => "max_order_volume",
            Reason::MaxLeverage => "max_leverage",
            Reason::External => "external",
        }
    }
}

/// What the stack reads from the engine at bar t (after its close).
pub struct RiskView<'a> {
    pub t: usize,
    pub md: &'a MarketData,
    pub equity: f64,
    pub positions: &'a [f64],
    /// Last valid close per symbol.
    pub prices: &'a [f64],
    /// The engine's current targets (NaN: none, e.g. after a freeze).
    pub targets: &'a [f64],
    pub kind: TargetKind,
}

impl RiskView<'_> {
    /// A target in the engine's terms as a weight of equity.
    #[inline]
    pub fn weight(&self, s: usize, x: f64) -> f64 {
        match self.kind {
            TargetKind::Weight => x,
            TargetKind::Units => x * self.prices[s] / self.equity,
        }
    }

    #[inline]
    pub fn from_weight(&self, s: usize, w: f64) -> f64 {
        match self.kind {
            TargetKind::Weight => w,
            TargetKind::Units => w * self.equity / self.prices[s],
        }
    }

    /// The held position in target terms.
    #[inline]
    pub fn held(&self, s: usize) -> f64 {
        match self.kind {
            TargetKind::Units => self.positions[s],
            TargetKind::Weight if self.equity > 0.0 => self.positions[s] * self.prices[s] / self.equity,
            TargetKind::Weight => 0.0,
        }
    }

    /// The current target (what a change is measured against).
    #[inline]
    pub fn current(&self, s: usize) -> f64 {
        let x = self.targets[s];
        if x.is_nan() {
            self.held(s)
        } else {
            x
        }
    }

    #[inline]
    pub fn corrupt(&self, s: usize) -> bool {
        indicators::is_corrupt(&self.md.bar(s, self.t))
    }
}

/// Whether moving the target from `cur` to `x` adds risk: a larger size or a side flip.
#[inline]
pub fn adds_risk(cur: f64, x: f64) -> bool {
    x.abs() > cur.abs() || x * cur < 0.0
}

/// Sum of |weight| over the symbols other than s, for a leverage check that goes through the
/// symbols in order: symbols before s count with what was decided for them in this row, symbols
/// after s with their current targets (first come, first served: a request not yet checked does
/// not use up room).
pub(crate) fn gross_other(v: &RiskView, row: &[f64], s: usize) -> f64 {
    (0..row.len())
        .filter(|&j| j != s)
        .map(|j| {
            let y = if j < s && !row[j].is_nan() { row[j] } else { v.current(j) };
            v.weight(j, y).abs()
        })
        .sum()
}

/// The last denial of a symbol: (bar, reason, proposed).
pub(crate) type LastDenial = Option<(usize, Reason, f64)>;

/// Records denials and rebalances into the event log and the counters.
///
/// A strategy that keeps asking for the same refused target (native strategies restate their
/// targets every bar) is one denial, not one per bar: a denial identical to the symbol's denial
/// on the previous bar (same reason and request) is not recorded again.
pub struct Recorder<'a> {
    t: usize,
    log: &'a mut EventLog,
    counts: &'a mut [u64; REASONS.len()],
    rebalances: &'a mut u64,
    last: &'a mut [LastDenial],
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

impl Recorder<'_> {
    /// A refused (allowed = NaN) or cut change of symbol s.
    #[inline]
    pub fn deny(&mut self, s: usize, proposed: f64, allowed: f64, reason: Reason) {
        let repeat = matches!(self.last[s], Some((b, r, p))
            if (b == self.t || b + 1 == self.t) && r == reason && same(p, proposed));
        self.last[s] = Some((self.t, reason, proposed));
        if repeat {
            return;
        }
        self.counts[reason as usize] += 1;
        self.log.push(self.t, EventKind::RiskDenial, s as i64, proposed, allowed, 0.0, reason.name());
    }

    #[inline]
    pub fn rebalance(&mut self, s: usize, from: f64, to: f64, why: &'static str) {
        *self.rebalances += 1;
        self.log.push(self.t, EventKind::Rebalance, s as i64, to, f64::NAN, from, why);
    }
}

/// One emergency stop.
#[derive(Clone, Debug, PartialEq)]
pub struct StopRecord {
    pub bar: usize,
    pub trigger: String,
    pub action: StopAction,
    pub equity: f64,
    /// Drawdown (fraction) from the governor's peak at the stop.
    pub drawdown: f64,
    pub rearmed_bar: Option<usize>,
}

/// One policy mode change.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub bar: usize,
    pub from: Mode,
    pub to: Mode,
    pub reason: String,
}

/// What the stack reports at the end of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RiskReport {
    pub stops: Vec<StopRecord>,
    pub transitions: Vec<Transition>,
    /// (reason, count) for every reason, in [`REASONS`] order.
    pub denials: Vec<(&'static str, u64)>,
    pub rebalances: u64,
    pub final_mode: Option<Mode>,
}

/// What the engine must do after a bar, as decided by the stack.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PostMark {
    /// An emergency stop: cancel orders, then flatten or freeze.
    pub stop: Option<StopAction>,
    /// Send the strategy's last targets through the stack again (mode change, re-arm).
    pub reissue: bool,
    /// Apply the balancer's rebalancing targets ([`RiskStack::rebalance_targets`]) directly.
    pub rebalance: bool,
}

/// The running stack of one path.
#[derive(Clone, Debug)]
pub struct RiskStack {
    orchestrator: Option<Orchestrator>,
    guard: Option<RiskGuard>,
    balancer: Option<PortfolioBalancer>,
    governor: Option<SafetyGovernor>,
    msc: Option<MetaStrategyController>,
    policy: Option<PolicyConfig>,
    mode: Mode,
    /// The current mode's size multiplier (1 without a policy store).
    size_mult: f64,
    /// The strategy's last targets before the stack (NaN: none yet).
    raw: Vec<f64>,
    rebalance_row: Vec<f64>,
    counts: [u64; REASONS.len()],
    last_denial: Vec<LastDenial>,
    rebalances: u64,
    stops: Vec<StopRecord>,
    transitions: Vec<Transition>,
    /// Volatility trackers: the governor's, and the controller's unless it shares the governor's
    /// (same half-lives), so the closes are read once.
    gov_vol: Option<indicators::VolRatio>,
    msc_vol: Option<indicators::VolRatio>,
    msc_shares_vol: bool,
    /// Corrupt (symbol, bar) pairs per bar, counted once when the governor watches them.
    corrupt_per_bar: Vec<u32>,
    /// The last row refused in full for fixed reasons (see [`refusal`]).
    refusal: refusal::Refusal,
}

impl RiskStack {
    /// Build from a configuration (validated here) for a run over `md`.
    pub fn new(cfg: RiskConfig, md: &MarketData, initial_equity: f64) -> Result<Self> {
        cfg.validate()?;
        let n_symbols = md.n_symbols();
        let policy = match (&cfg.policy, &cfg.msc) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(_)) => Some(PolicyConfig::default()),
            (None, None) => None,
        };
        let governor = cfg.governor.map(|g| SafetyGovernor::new(g, initial_equity));
        let msc = cfg.msc.map(|m| MetaStrategyController::new(m, initial_equity));
        let gov_vol = governor.as_ref().and_then(|g| g.volatility_tracker(n_symbols));
        let mut msc_vol = msc.as_ref().and_then(|m| m.volatility_tracker(n_symbols));
        let msc_shares_vol = match (&governor, &msc) {
            (Some(g), Some(m)) => {
                gov_vol.is_some()
                    && msc_vol.is_some()
                    && (g.cfg.vol_short_bars, g.cfg.vol_long_bars) == (m.cfg.vol_short_bars, m.cfg.vol_long_bars)
            }
            _ => false,
        };
        if msc_shares_vol {
            msc_vol = None;
        }
        let corrupt_per_bar = if governor.as_ref().is_some_and(|g| g.cfg.max_corrupt_bars.is_some()) {
            indicators::corrupt_per_bar(md)
        } else {
            Vec::new()
        };
        Ok(RiskStack {
            orchestrator: cfg.orchestrator.map(|c| Orchestrator::new(c, n_symbols)),
            guard: cfg.risk_guard.map(|c| RiskGuard::new(c, initial_equity)),
            balancer: cfg.balancer.map(|c| PortfolioBalancer::new(c, n_symbols)),
            mode: policy.as_ref().map_or(Mode::Normal, |p| p.initial_mode),
            size_mult: policy.as_ref().map_or(1.0, |p| p.limits[p.initial_mode as usize].size_multiplier),
            governor,
            msc,
            policy,
            raw: vec![f64::NAN; n_symbols],
            rebalance_row: vec![f64::NAN; n_symbols],
            counts: [0; REASONS.len()],
            last_denial: vec![None; n_symbols],
            rebalances: 0,
            stops: Vec::new(),
            transitions: Vec::new(),
            gov_vol,
            msc_vol,
            msc_shares_vol,
            corrupt_per_bar,
            refusal: refusal::Refusal::new(n_symbols),
        })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether [`Self::after_mark`] has anything to do (an orchestrator alone, or a guard
    /// without a daily loss limit, keeps no per-bar state).
    #[inline]
    pub fn needs_after_mark(&self) -> bool {
        self.governor.is_some()
            || self.msc.is_some()
            || self.balancer.is_some()
            || self.guard.as_ref().is_some_and(|g| g.cfg.daily_loss_limit.is_some())
    }

    /// Whether an emergency stop is in force.
    pub fn stopped(&self) -> bool {
        self.governor.as_ref().is_some_and(|g| g.stopped())
    }

    pub fn has_governor(&self) -> bool {
        self.governor.is_some()
    }

    /// Equity at the start of the trading day (the risk guard's daily-loss reference), if tracked.
    pub fn day_start_equity(&self) -> Option<f64> {
        self.guard.as_ref().filter(|g| g.cfg.daily_loss_limit.is_some()).map(|g| g.day_start_equity())
    }

    /// The strategy's last targets before the stack.
    pub fn raw_targets(&self) -> &[f64] {
        &self.raw
    }

    /// The balancer's rebalancing targets of the last [`PostMark::rebalance`].
    pub fn rebalance_targets(&self) -> &[f64] {
        &self.rebalance_row
    }

    /// The common case, checked before [`Self::filter`]: a decision of bar t that changes no
    /// target (every entry NaN or equal to the current target once sized by the policy mode), or
    /// (with `repeat_ok`: no confidences) one that repeats a refusal the stack would make again
    /// ([`refusal`]), needs no checks. Records what the filter would record and returns true then.
    #[inline]
    pub fn unchanged(&mut self, targets: &[f64], current: &[f64], rebalance: bool, t: usize, repeat_ok: bool) -> bool {
        let same = self.changes_nothing(targets, current, rebalance)
            || (repeat_ok && !rebalance && self.repeats_refusal(targets, current, t, None));
        if same {
            self.note_unchanged(targets, current, rebalance, t);
        }
        same
    }

    /// Whether a decision changes no target (see [`Self::unchanged`]), without recording it.
    #[inline]
    pub fn changes_nothing(&self, targets: &[f64], current: &[f64], rebalance: bool) -> bool {
        let mult = self.size_mult;
        !rebalance && targets.iter().zip(current).all(|(x, c)| x.is_nan() || *x * mult == *c)
    }

    #[inline]
    fn repeats_refusal(&self, row: &[f64], current: &[f64], t: usize, since: Option<usize>) -> bool {
        self.refusal.repeats(row, current, (self.mode, self.stopped()), t, since, &self.last_denial)
    }

    /// How many decision rows from bar t0 on (`n` targets each, native: no confidences) the
    /// stack would take as unchanged one after the other, as long as nothing else happens.
    /// Records nothing: [`Self::note_unchanged`] does once the caller has taken them.
    pub fn unchanged_run(&self, rows: &[f64], current: &[f64], rebalance: bool, t0: usize) -> usize {
        let n = current.len().max(1);
        let mut since = None;
        for (k, row) in rows.chunks_exact(n).enumerate() {
            if self.changes_nothing(row, current, rebalance) {
                continue;
            }
            if !rebalance && self.repeats_refusal(row, current, t0 + k, since) {
                since = Some(t0 + k);
                continue;
            }
            return k;
        }
        rows.len() / n
    }

    /// Record rows from bar t0 on that [`Self::unchanged_run`] (or [`Self::unchanged`]) found
    /// unchanged: the strategy's targets, and for the last row that changes something (so one
    /// taken as a repeated refusal) the denials' bar.
    pub fn note_unchanged(&mut self, rows: &[f64], current: &[f64], rebalance: bool, t0: usize) {
        self.note_raw(rows);
        if !self.refusal.is_valid() {
            return; // no refusal to repeat
        }
        let n = current.len().max(1);
        if let Some(k) = rows.chunks_exact(n).rposition(|r| !self.changes_nothing(r, current, rebalance)) {
            self.refusal.repeat_at(t0 + k, &mut self.last_denial);
        }
    }

    /// Record the strategy's targets of decision rows taken as unchanged (`n` per row, in bar
    /// order): what [`Self::unchanged`] records for each, the last number per symbol.
    fn note_raw(&mut self, rows: &[f64]) {
        let n = self.raw.len();
        if n == 0 {
            return;
        }
        for (s, r) in self.raw.iter_mut().enumerate() {
            if let Some(x) = rows.iter().skip(s).step_by(n).rev().find(|x| !x.is_nan()) {
                *r = *x;
            }
        }
    }

    /// Filter the decision `row` of bar v.t in place (NaN = keep the current target).
    /// `rebalance`: the engine trades back to unchanged targets too, so every entry counts.
    pub fn filter(
        &mut self,
        v: &RiskView,
        row: &mut [f64],
        confidence: Option<&[f64]>,
        rebalance: bool,
        log: &mut EventLog,
    ) {
        let limits = self.policy.as_ref().map(|p| p.limits[self.mode as usize]);
        let mult = self.size_mult;
        self.refusal.start(row);
        let mut any = false;
        for s in 0..row.len() {
            let x = row[s];
            if x.is_nan() {
                continue;
            }
            self.raw[s] = x;
            let y = x * mult;
            // unchanged targets need no check (the engine would not trade on them)
            if !rebalance && y == v.targets[s] {
                row[s] = f64::NAN;
            } else {
                row[s] = y;
                any = true;
            }
        }
        if !any {
            return;
        }
        let mut rec = Recorder {
            t: v.t,
            log,
            counts: &mut self.counts,
            rebalances: &mut self.rebalances,
            last: &mut self.last_denial,
        };
        if let Some(o) = self.orchestrator.as_mut() {
            o.filter(v, row, confidence, &mut rec);
        }
        if let Some(l) = limits {
            policy_limits(v, row, &l, &mut rec);
        }
        if self.governor.as_ref().is_some_and(|g| g.stopped()) {
            for s in 0..row.len() {
                let x = row[s];
                if !x.is_nan() && adds_risk(v.current(s), x) {
                    rec.deny(s, x, f64::NAN, Reason::EmergencyStop);
                    row[s] = f64::NAN;
                }
            }
        }
        if let Some(g) = self.guard.as_mut() {
            g.filter(v, row, &mut rec);
        }
        if let Some(b) = self.balancer.as_mut() {
            b.filter(v, row, &mut rec);
        }
        if let Some(o) = self.orchestrator.as_mut() {
            for (s, x) in row.iter().enumerate() {
                if !x.is_nan() && *x != v.targets[s] {
                    o.accepted(v.t, s);
                }
            }
        }
        if confidence.is_none() && !rebalance {
            let stopped = self.stopped();
            self.refusal.finish(v.t, row, mult, v.targets, self.mode, stopped, &self.last_denial);
        }
    }

    /// Record a refusal by a user's component (counted like the native ones).
    pub fn deny_external(&mut self, t: usize, s: usize, proposed: f64, log: &mut EventLog) {
        let mut rec = Recorder {
            t,
            log,
            counts: &mut self.counts,
            rebalances: &mut self.rebalances,
            last: &mut self.last_denial,
        };
        rec.deny(s, proposed, f64::NAN, Reason::External);
    }

    /// After bar v.t's close: update the indicators and decide. `failure_streak` counts the
    /// exchange's consecutive rejections.
    #[inline]
    pub fn after_mark(&mut self, v: &RiskView, failure_streak: u32, log: &mut EventLog) -> PostMark {
        let t = v.t;
        let md = v.md;
        self.update_volatility(md, t);
        if let Some(g) = self.guard.as_mut() {
            g.after_mark(md.timestamps[t], v.equity);
        }
        if let Some(b) = self.balancer.as_mut() {
            b.after_mark(md, t);
        }
        let mut out = PostMark::default();
        if let Some(g) = self.governor.as_mut() {
            let corrupt = self.corrupt_per_bar.get(t).copied().unwrap_or(0);
            let ev = g.after_mark(t, v.equity, failure_streak, corrupt, self.gov_vol.as_ref());
            if ev != GovernorEvent::Nothing {
                self.on_governor_event(v, ev, log, &mut out);
            }
        }
        if let Some(m) = self.msc.as_mut() {
            let vol = if self.msc_shares_vol { self.gov_vol.as_ref() } else { self.msc_vol.as_ref() };
            if let Some((to, why)) = m.after_mark(t, v.equity, self.mode, vol) {
                self.change_mode(t, to, why, why.to_string(), log);
                out.reissue = true;
            }
        }
        if out.stop.is_some() {
            out.reissue = false; // the stop's safe state wins this bar
        } else if self.balancer.as_ref().is_some_and(|b| b.may_breach(v)) {
            self.rebalance_drift(v, log, &mut out);
        }
        out
    }

    /// Feed the volatility trackers bar t's closes (taken back by `undo_volatility`).
    #[inline]
    fn update_volatility(&mut self, md: &MarketData, t: usize) {
        // (two if-lets rather than a loop over an array of Options: this runs on every bar)
        if let Some(vol) = self.gov_vol.as_mut() {
            vol.update_bar(md, t);
        }
        if let Some(vol) = self.msc_vol.as_mut() {
            vol.update_bar(md, t);
        }
    }

    // The rare branches of `after_mark` live out of line so the per-bar path stays small.
    #[cold]
    #[inline(never)]
    fn on_governor_event(&mut self, v: &RiskView, ev: GovernorEvent, log: &mut EventLog, out: &mut PostMark) {
        let Some(g) = self.governor.as_ref() else { return };
        match ev {
            GovernorEvent::Stop(tr) => {
                let (action, peak) = (g.cfg.action, g.peak());
                out.stop = Some(action);
                self.record_stop(v.t, tr, tr.name().to_string(), action, v.equity, peak, log);
            }
            GovernorEvent::Rearm => {
                if let Some(last) = self.stops.last_mut() {
                    last.rearmed_bar = Some(v.t);
                }
                log.push(v.t, EventKind::Rearm, -1, 0.0, v.equity, 0.0, "rearm");
                out.reissue = true;
            }
            GovernorEvent::Nothing => {}
        }
    }

    #[cold]
    #[inline(never)]
    fn rebalance_drift(&mut self, v: &RiskView, log: &mut EventLog, out: &mut PostMark) {
        let Some(b) = self.balancer.as_mut() else { return };
        if let Some(why) = b.drift(v, &mut self.rebalance_row) {
            out.rebalance = true;
            let mut rec = Recorder {
                t: v.t,
                log,
                counts: &mut self.counts,
                rebalances: &mut self.rebalances,
                last: &mut self.last_denial,
            };
            for s in 0..self.rebalance_row.len() {
                let y = self.rebalance_row[s];
                if !y.is_nan() {
                    rec.rebalance(s, v.current(s), y, why);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record_stop(
        &mut self,
        t: usize,
        trigger: Trigger,
        name: String,
        action: StopAction,
        equity: f64,
        peak: f64,
        log: &mut EventLog,
    ) {
        let drawdown = if peak > 0.0 { 1.0 - equity / peak } else { 0.0 };
        log.push(t, EventKind::EmergencyStop, -1, 0.0, equity, drawdown, trigger.name());
        self.stops.push(StopRecord { bar: t, trigger: name, action, equity, drawdown, rearmed_bar: None });
    }

    /// A stop raised outside the native triggers (a user's governor, a failed component).
    /// Returns the action to carry out, or None when a stop is already in force or there is no
    /// governor to hold the state.
    pub fn external_stop(
        &mut self,
        t: usize,
        trigger: Trigger,
        name: String,
        equity: f64,
        log: &mut EventLog,
    ) -> Option<StopAction> {
        let g = self.governor.as_mut()?;
        if g.stopped() {
            return None;
        }
        g.stop(t);
        let (action, peak) = (g.cfg.action, g.peak());
        self.record_stop(t, trigger, name, action, equity, peak, log);
        Some(action)
    }

    /// Change the policy mode (the native controller or a user's one). Returns whether it changed.
    #[cold]
    pub fn change_mode(&mut self, t: usize, to: Mode, why: &'static str, reason: String, log: &mut EventLog) -> bool {
        if to == self.mode {
            return false;
        }
        if self.policy.is_none() {
            self.policy = Some(PolicyConfig::default());
        }
        if let Some(m) = self.msc.as_mut() {
            m.note_change(t);
        }
        log.push(t, EventKind::PolicyChange, -1, self.mode as u8 as f64, f64::NAN, to as u8 as f64, why);
        self.transitions.push(Transition { bar: t, from: self.mode, to, reason });
        self.mode = to;
        self.size_mult = self.policy.as_ref().map_or(1.0, |p| p.limits[to as usize].size_multiplier);
        true
    }

    pub fn report(self) -> RiskReport {
        RiskReport {
            denials: REASONS.iter().map(|r| (r.name(), self.counts[*r as usize])).collect(),
            stops: self.stops,
            transitions: self.transitions,
            rebalances: self.rebalances,
            final_mode: self.policy.as_ref().map(|_| self.mode),
        }
    }
}

/// The policy mode's limits: no new positions, gross leverage cap (cuts like the risk guard's).
fn policy_limits(v: &RiskView, row: &mut [f64], l: &ModeLimits, rec: &mut Recorder) {
    for s in 0..row.len() {
        let x = row[s];
        if x.is_nan() {
            continue;
        }
        let cur = v.current(s);
        if !l.allow_entries && cur == 0.0 && x != 0.0 {
            rec.deny(s, x, f64::NAN, Reason::PolicyNoEntries);
            row[s] = f64::NAN;
            continue;
        }
        if let Some(cap) = l.max_gross_leverage {
            if adds_risk(cur, x) && v.equity > 0.0 {
                let room = (cap - gross_other(v, row, s)).max(0.0);
                let w = v.weight(s, x);
                if w.abs() > room {
                    let y = v.from_weight(s, room.copysign(w));
                    let y = if adds_risk(cur, y) { y } else { f64::NAN };
                    rec.deny(s, x, y, Reason::PolicyLeverage);
                    row[s] = y;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
