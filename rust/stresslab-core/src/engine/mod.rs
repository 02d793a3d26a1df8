//! The bar loop: strategy decisions -> exchange -> account -> metrics, one bar at a time.
//!
//! Timing rule (no look-ahead): a decision made after bar t's close executes no earlier than bar
//! t+1's open. Per bar t the engine (1) executes what is pending at the open of t (targets not yet
//! reached, open orders), (2) marks the account at the close of t and feeds the metrics, then
//! (3) takes the decision made on bar t ([`Engine::apply_targets`] / [`Engine::submit_order`]).
//!
//! Targets are event-based: a new target (weight of equity or units) is traded towards once and
//! retried while a rejection or a participation cap leaves it unmet (partial-fill policy `Retry`);
//! repeating the same target does not trade again unless `rebalance` is on.
//!
//! Python strategies drive the same engine batch by batch (the binding calls `process_bar` and
//! `apply_targets` for each bar of a batch whose decisions it got from Python in one call).
//!
//! Risk stack ([`crate::risk`], optional, [`Engine::with_risk`]): `apply_targets` passes the
//! decision through [`RiskStack::filter`] first, and `process_bar` ends with
//! [`RiskStack::after_mark`] (emergency stop, policy mode, rebalancing). Without a stack both are
//! a single `is_some` check, so a plain run does exactly what it did before.

mod block;
pub mod events;

use std::sync::Arc;

use crate::account::{Account, Trade};
use crate::error::{check_positive, check_range, Result, StressError};
use crate::exchange::{ExchangeConfig, ExchangeSim, Execution, PartialFillPolicy, Rejection};
use crate::market::MarketData;
use crate::metrics::{Metrics, MetricsAccumulator, MetricsConfig};
use crate::orders::{Liquidity, Order, OrderType};
use crate::risk::{PostMark, RiskConfig, RiskReport, RiskStack, RiskView, StopAction, Trigger};
use crate::rng::{Domain, Stream};
use crate::strategy::Strategy;
pub use events::{Event, EventKind, EventLog};

/// The data-corruption bit of the per-bar stress flags (`stress::TransformKind::DataCorruption`).
pub const CORRUPTED_FLAG: u32 = crate::stress::TransformKind::DataCorruption.flag();

/// How targets are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Fraction of equity per symbol (1.0 = fully invested, -0.5 = half short).
    Weight,
    /// Units of the base asset per symbol.
    Units,
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub initial_capital: f64,
    pub target_kind: TargetKind,
    /// Trade back to the target every bar (when off, only a changed target trades).
    pub rebalance: bool,
    /// In rebalance mode, skip trades smaller than this fraction of equity.
    pub rebalance_threshold: f64,
    /// Largest |target| accepted (weights: leverage per symbol).
    pub max_abs_target: f64,
    /// Trades below this notional are skipped (float dust).
    pub min_trade_notional: f64,
    pub keep_equity_curve: bool,
    pub keep_trades: bool,
    pub record_events: bool,
    /// Bars per year for annualising; None: from the bar interval (365 x 24 h / interval).
    pub periods_per_year: Option<f64>,
    pub seed: u64,
    pub scenario: u64,
    pub path: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            initial_capital: 100_000.0,
            target_kind: TargetKind::Weight,
            rebalance: false,
            rebalance_threshold: 0.0,
            max_abs_target: 10.0,
            min_trade_notional: 1e-9,
            keep_equity_curve: true,
            keep_trades: true,
            record_events: true,
            periods_per_year: None,
            seed: 42,
            scenario: 0,
            path: 0,
        }
    }
}

impl EngineConfig {
    pub fn validate(&self) -> Result<()> {
        check_positive("initial_capital", self.initial_capital)?;
        check_range("rebalance_threshold", self.rebalance_threshold, 0.0, 1.0)?;
        check_positive("max_abs_target", self.max_abs_target)?;
        check_range("min_trade_notional", self.min_trade_notional, 0.0, f64::MAX)?;
        if let Some(p) = self.periods_per_year {
            check_positive("periods_per_year", p)?;
        }
        Ok(())
    }
}

/// Everything a run produces.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub metrics: Metrics,
    pub equity_curve: Vec<f64>,
    pub trades: Vec<Trade>,
    pub events: Vec<Event>,
    pub fills: u64,
    pub partial_fills: u64,
    /// Orders the exchange rejected (failures, outages, invalid prices, no liquidity).
    pub execution_failures: u64,
    pub rejections: [u64; 4],
    pub latency_spikes: u64,
    pub cancelled_orders: u64,
    pub strategy_failures: Vec<(usize, String)>,
    pub final_positions: Vec<f64>,
    pub final_cash: f64,
    /// Emergency stops, policy transitions, denials (empty without a risk stack).
    pub risk: RiskReport,
    /// (bar, component, message) of user components that raised or returned garbage.
    pub component_failures: Vec<(usize, String, String)>,
    /// (bar, model, message) of strategy models that failed (the others kept running).
    pub model_failures: Vec<(usize, String, String)>,
}

/// The state of one run.
pub struct Engine {
    pub md: Arc<MarketData>,
    pub cfg: EngineConfig,
    pub exchange: ExchangeSim,
    pub account: Account,
    metrics: MetricsAccumulator,
    rng: Stream,
    targets: Vec<f64>,
    pending: Vec<bool>,
    any_pending: bool,
    orders: Vec<Order>,
    next_order_id: u64,
    last_price: Vec<f64>,
    pub events: EventLog,
    equity_curve: Vec<f64>,
    fills: u64,
    partial_fills: u64,
    rejections: [u64; 4],
    cancelled: u64,
    strategy_failures: Vec<(usize, String)>,
    last_equity: f64,
    next_bar: usize,
    any_traded: bool,
    risk: Option<Box<RiskStack>>,
    /// Scratch row for decisions passing through the risk stack.
    risk_row: Vec<f64>,
    /// Consecutive exchange rejections (outage, failure, no liquidity); a fill resets it.
    failure_streak: u32,
    record_signals: bool,
    component_failures: Vec<(usize, String, String)>,
    model_failures: Vec<(usize, String, String)>,
    /// Scratch rows of [`Engine::mark_quiet`] (allocated on first use).
    scratch: Vec<f64>,
}

fn rejection_index(r: Rejection) -> usize {
    match r {
        Rejection::Outage => 0,
        Rejection::Failure => 1,
        Rejection::InvalidPrice => 2,
        Rejection::NoLiquidity => 3,
    }
}

impl Engine {
    pub fn new(md: Arc<MarketData>, exchange: ExchangeConfig, cfg: EngineConfig) -> Result<Self> {
        Self::with_risk(md, exchange, cfg, None)
    }

    /// An engine with a risk stack (validated here; an empty configuration means none).
    pub fn with_risk(
        md: Arc<MarketData>,
        exchange: ExchangeConfig,
        cfg: EngineConfig,
        risk: Option<RiskConfig>,
    ) -> Result<Self> {
        cfg.validate()?;
        let risk = match risk {
            Some(r) if !r.is_empty() => Some(Box::new(RiskStack::new(r, &md, cfg.initial_capital)?)),
            Some(r) => {
                r.validate()?;
                None
            }
            None => None,
        };
        let n = md.n_symbols();
        let interval = md.interval_ms() as f64;
        let periods = cfg.periods_per_year.unwrap_or(365.0 * 24.0 * 3_600_000.0 / interval);
        let mcfg =
            MetricsConfig { periods_per_year: periods, initial_equity: cfg.initial_capital, ..Default::default() };
        let metrics = MetricsAccumulator::with_capacity(mcfg, md.n_bars)?;
        let exchange = ExchangeSim::new(exchange, n, interval)?;
        let mut account = Account::new(cfg.initial_capital, n);
        account.keep_trades = cfg.keep_trades;
        // first valid open is the mark before any close is seen
        let last_price = (0..n).map(|s| md.open[md.idx(s, 0)]).collect();
        Ok(Engine {
            rng: Stream::new(Domain::Exchange, cfg.seed, cfg.scenario, cfg.path, 0),
            events: EventLog { enabled: cfg.record_events, events: Vec::new() },
            equity_curve: if cfg.keep_equity_curve { Vec::with_capacity(md.n_bars) } else { Vec::new() },
            targets: vec![0.0; n],
            pending: vec![false; n],
            any_pending: false,
            orders: Vec::new(),
            next_order_id: 1,
            last_price,
            fills: 0,
            partial_fills: 0,
            rejections: [0; 4],
            cancelled: 0,
            strategy_failures: Vec::new(),
            last_equity: cfg.initial_capital,
            next_bar: 0,
            any_traded: false,
            risk,
            risk_row: Vec::with_capacity(n),
            failure_streak: 0,
            record_signals: false,
            component_failures: Vec::new(),
            model_failures: Vec::new(),
            scratch: Vec::new(),
            md,
            cfg,
            exchange,
            account,
            metrics,
        })
    }

    pub fn n_bars(&self) -> usize {
        self.md.n_bars
    }

    /// Index of the next bar `process_bar` expects.
    pub fn next_bar(&self) -> usize {
        self.next_bar
    }

    /// Equity at the last close processed.
    pub fn equity(&self) -> f64 {
        self.last_equity
    }

    pub fn positions(&self) -> &[f64] {
        &self.account.qty
    }

    pub fn targets(&self) -> &[f64] {
        &self.targets
    }

    pub fn open_orders(&self) -> &[Order] {
        &self.orders
    }

    pub fn current_drawdown_pct(&self) -> f64 {
        self.metrics.current_drawdown_pct()
    }

    /// Equity at each processed bar's close (empty when the curve is not kept).
    pub fn equity_curve(&self) -> &[f64] {
        &self.equity_curve
    }

    /// Highest equity so far (initial capital included).
    pub fn peak_equity(&self) -> f64 {
        self.metrics.peak_equity()
    }

    /// Record `Signal` (target taken) and `Order` (target order sent) events too.
    pub fn set_record_signals(&mut self, on: bool) {
        self.record_signals = on;
    }

    pub fn risk(&self) -> Option<&RiskStack> {
        self.risk.as_deref()
    }

    /// Consecutive exchange rejections so far.
    pub fn failure_streak(&self) -> u32 {
        self.failure_streak
    }

    /// Last valid close per symbol (the mark).
    pub fn last_prices(&self) -> &[f64] {
        &self.last_price
    }

    /// Move the marks to bar t's clean closes; equity and gross exposure at them.
    #[inline(always)]
    fn mark_close(&mut self, t: usize) -> (f64, f64) {
        let md = &*self.md;
        let mut eq = self.account.cash;
        let mut gross = 0.0;
        for s in 0..md.n_symbols() {
            let i = s * md.n_bars + t;
            let c = md.close[i];
            // A print the data-corruption transform made (ground truth in the flags) is what the
            // strategy sees, not what the position is worth: equity stays marked at the last clean close.
            if block::clean(c, md.flags[i]) {
                self.last_price[s] = c;
            }
            let q = self.account.qty[s];
            if q != 0.0 {
                let v = q * self.last_price[s];
                eq += v;
                gross += v.abs();
            }
        }
        (eq, gross)
    }

    /// Execute pending work at bar t's open, then mark at its close.
    pub fn process_bar(&mut self, t: usize) {
        debug_assert_eq!(t, self.next_bar);
        if self.any_pending || !self.orders.is_empty() {
            self.execute_at_open(t);
            self.any_traded = true;
        }
        let (eq, gross) = self.mark_close(t);
        let turnover = if self.any_traded { self.account.take_turnover() } else { 0.0 };
        self.any_traded = false;
        self.metrics.on_bar(eq, gross, turnover);
        if self.account.has_closed() {
            for (pnl, held) in self.account.drain_closed() {
                self.metrics.on_trade(pnl, held);
            }
        }
        if self.cfg.keep_equity_curve {
            self.equity_curve.push(eq);
        }
        self.last_equity = eq;
        if self.exchange.needs_stats() {
            let md = &*self.md;
            for s in 0..md.n_symbols() {
                let bar = md.bar(s, t);
                self.exchange.observe(s, &bar);
            }
        }
        self.next_bar = t + 1;
        if self.risk.as_ref().is_some_and(|r| r.needs_after_mark()) {
            self.risk_after_mark(t);
        }
    }

    /// The stack's view of the engine at bar t (fields passed one by one so that the event log
    /// can be borrowed mutably next to it).
    fn risk_view<'a>(
        t: usize,
        md: &'a MarketData,
        equity: f64,
        positions: &'a [f64],
        prices: &'a [f64],
        targets: &'a [f64],
        kind: TargetKind,
    ) -> RiskView<'a> {
        RiskView { t, md, equity, positions, prices, targets, kind }
    }

    #[inline(always)]
    fn risk_after_mark(&mut self, t: usize) {
        let Some(risk) = self.risk.as_mut() else { return };
        let v = Self::risk_view(
            t,
            &self.md,
            self.last_equity,
            &self.account.qty,
            &self.last_price,
            &self.targets,
            self.cfg.target_kind,
        );
        let post = risk.after_mark(&v, self.failure_streak, &mut self.events);
        if post != PostMark::default() {
            if let Some(mut risk) = self.risk.take() {
                self.carry_out(t, &mut risk, post);
                self.risk = Some(risk);
            }
        }
    }

    /// Do what the stack decided after bar t.
    #[cold]
    fn carry_out(&mut self, t: usize, risk: &mut RiskStack, post: PostMark) {
        match post.stop {
            Some(StopAction::Flatten) => {
                self.cancel_all(t, "emergency_stop");
                self.flatten();
            }
            Some(StopAction::Freeze) => {
                self.cancel_all(t, "emergency_stop");
                self.freeze();
            }
            None => {}
        }
        if post.rebalance {
            let row = risk.rebalance_targets().to_vec();
            self.set_targets(&row);
        }
        if post.reissue {
            let raw = risk.raw_targets().to_vec();
            self.decide_with(risk, &raw, None);
        }
    }

    /// Pass a decision row through the stack, then take what is left of it.
    fn decide_with(&mut self, risk: &mut RiskStack, targets: &[f64], confidence: Option<&[f64]>) {
        let mut row = std::mem::take(&mut self.risk_row);
        row.clear();
        row.extend_from_slice(targets);
        {
            let v = Self::risk_view(
                self.next_bar.saturating_sub(1),
                &self.md,
                self.last_equity,
                &self.account.qty,
                &self.last_price,
                &self.targets,
                self.cfg.target_kind,
            );
            risk.filter(&v, &mut row, confidence, self.cfg.rebalance, &mut self.events);
        }
        self.set_targets(&row);
        self.risk_row = row;
    }

    fn execute_at_open(&mut self, t: usize) {
        let md = Arc::clone(&self.md);
        let n = md.n_symbols();
        // equity at the open (reference for weight targets)
        let mut eq_open = self.account.cash;
        for s in 0..n {
            let o = md.open[md.idx(s, t)];
            let p = if o.is_finite() && o > 0.0 { o } else { self.last_price[s] };
            eq_open += self.account.qty[s] * p;
        }
        for s in 0..n {
            let bar = md.bar(s, t);
            let mut available = self.exchange.capacity(&bar);
            // explicit orders first, oldest first
            if !self.orders.is_empty() {
                self.execute_orders(t, s, &bar, &mut available);
            }
            if self.pending[s] {
                self.execute_target(t, s, &bar, eq_open, &mut available);
            }
        }
        self.any_pending = self.pending.iter().any(|p| *p);
    }

    fn execute_orders(&mut self, t: usize, s: usize, bar: &crate::market::Bar, available: &mut f64) {
        let mut i = 0;
        while i < self.orders.len() {
            if self.orders[i].symbol != s {
                i += 1;
                continue;
            }
            let age = t.saturating_sub(self.orders[i].submitted + 1);
            if age >= self.exchange.cfg.max_order_age_bars {
                let o = self.orders.remove(i);
                self.cancelled += 1;
                self.events.push(t, EventKind::Cancelled, s as i64, o.remaining, o.price, 0.0, "expired");
                continue;
            }
            let order = self.orders[i].clone();
            match self.exchange.execute(&order, bar, t, available, &mut self.rng) {
                Execution::Filled(f) => {
                    self.record_fill(t, &f, order.remaining);
                    let rest = order.remaining - f.qty;
                    if rest.abs() <= 1e-12 * order.qty.abs()
                        || self.exchange.cfg.partial_fill_policy == PartialFillPolicy::Cancel
                    {
                        if rest.abs() > 1e-12 * order.qty.abs() {
                            self.cancelled += 1;
                            self.events.push(
                                t,
                                EventKind::Cancelled,
                                s as i64,
                                rest,
                                order.price,
                                0.0,
                                "partial_fill_policy",
                            );
                        }
                        self.orders.remove(i);
                    } else {
                        self.orders[i].remaining = rest;
                        i += 1;
                    }
                }
                Execution::NotTriggered => i += 1,
                Execution::Rejected(r) => {
                    self.record_rejection(t, s, order.remaining, bar.open, r);
                    self.orders.remove(i);
                }
            }
        }
    }

    fn execute_target(&mut self, t: usize, s: usize, bar: &crate::market::Bar, eq_open: f64, available: &mut f64) {
        let q = self.account.qty[s];
        let target = self.targets[s];
        let open = bar.open;
        if !bar.is_tradeable() {
            self.record_rejection(t, s, target - q, open, Rejection::InvalidPrice);
            return; // stays pending: retried at the next valid bar
        }
        let qty = match self.cfg.target_kind {
            TargetKind::Units => target - q,
            TargetKind::Weight => {
                let d = target * eq_open - q * open;
                if target == 0.0 {
                    -q
                } else if d > 0.0 {
                    // size a buy so cash covers price and fee: d = qty * fill * (1 + fee)
                    let fee = self.exchange.cfg.taker_fee_pct;
                    let cfg = &self.exchange.cfg;
                    let est = crate::exchange::fill_model::fill_price(cfg, bar, open, 1.0, 0.0, Liquidity::Taker);
                    let mut qty = d / (est * (1.0 + fee));
                    if cfg.impact_coef > 0.0 {
                        let est2 = crate::exchange::fill_model::fill_price(cfg, bar, open, 1.0, qty, Liquidity::Taker);
                        qty = d / (est2 * (1.0 + fee));
                    }
                    qty
                } else {
                    d / open
                }
            }
        };
        let notional = (qty * open).abs();
        let skip = notional <= self.cfg.min_trade_notional
            || (self.cfg.rebalance && notional < self.cfg.rebalance_threshold * eq_open.abs());
        if skip || !qty.is_finite() {
            self.pending[s] = false;
            return;
        }
        if self.record_signals {
            self.events.push(t, EventKind::Order, s as i64, qty, open, 0.0, "market");
        }
        let order = Order {
            id: self.next_order_id,
            symbol: s,
            qty,
            kind: OrderType::Market,
            price: f64::NAN,
            submitted: t.saturating_sub(1),
            remaining: qty,
            from_target: true,
        };
        self.next_order_id += 1;
        match self.exchange.execute(&order, bar, t, available, &mut self.rng) {
            Execution::Filled(f) => {
                self.record_fill(t, &f, qty);
                let full = (f.qty - qty).abs() <= 1e-12 * qty.abs();
                if full || self.exchange.cfg.partial_fill_policy == PartialFillPolicy::Cancel {
                    self.pending[s] = false;
                }
            }
            Execution::NotTriggered => {}
            Execution::Rejected(r) => self.record_rejection(t, s, qty, open, r),
        }
    }

    fn record_fill(&mut self, t: usize, f: &crate::orders::Fill, wanted: f64) {
        self.account.apply_fill(f);
        self.fills += 1;
        self.failure_streak = 0;
        let partial = (f.qty - wanted).abs() > 1e-12 * wanted.abs();
        if partial {
            self.partial_fills += 1;
        }
        let kind = if partial { EventKind::PartialFill } else { EventKind::Fill };
        let reason = if f.liquidity == Liquidity::Maker { "maker" } else { "taker" };
        self.events.push(t, kind, f.symbol as i64, f.qty, f.price, f.fee, reason);
        if f.latency_ms > self.exchange.cfg.latency_spike_threshold_ms && self.exchange.cfg.base_latency_ms > 0.0 {
            self.events.push(t, EventKind::LatencySpike, f.symbol as i64, f.qty, f.price, f.latency_ms, "latency");
        }
    }

    fn record_rejection(&mut self, t: usize, s: usize, qty: f64, price: f64, r: Rejection) {
        self.rejections[rejection_index(r)] += 1;
        if r != Rejection::InvalidPrice {
            self.failure_streak += 1;
        }
        self.events.push(t, EventKind::Rejected, s as i64, qty, price, 0.0, r.name());
    }

    /// Take the decision made on bar t (already processed): NaN entries keep the current target.
    /// With a risk stack the decision passes through it first.
    #[inline]
    pub fn apply_targets(&mut self, targets: &[f64]) {
        match self.risk.as_mut() {
            Some(risk) => {
                // the common case: a decision that changes nothing needs no checks
                let t = self.next_bar.saturating_sub(1);
                if !risk.unchanged(targets, &self.targets, self.cfg.rebalance, t, true) {
                    self.apply_decision(targets, None);
                }
            }
            None => self.set_targets(targets),
        }
    }

    /// A decision with one confidence per symbol (read by the orchestrator; 1 when None).
    #[inline(never)]
    pub fn apply_decision(&mut self, targets: &[f64], confidence: Option<&[f64]>) {
        if let Some(risk) = self.risk.as_mut() {
            let t = self.next_bar.saturating_sub(1);
            if risk.unchanged(targets, &self.targets, self.cfg.rebalance, t, confidence.is_none()) {
                return; // nothing to check, nothing to trade
            }
        }
        match self.risk.take() {
            Some(mut risk) => {
                self.decide_with(&mut risk, targets, confidence);
                self.risk = Some(risk);
            }
            None => self.set_targets(targets),
        }
    }

    /// Take targets as they are (no risk stack): what safe-state actions use.
    fn set_targets(&mut self, targets: &[f64]) {
        let t = self.next_bar.saturating_sub(1);
        for (s, x) in targets.iter().enumerate() {
            if x.is_nan() {
                continue;
            }
            if *x != self.targets[s] || self.cfg.rebalance {
                if self.record_signals {
                    self.events.push(t, EventKind::Signal, s as i64, *x, f64::NAN, self.targets[s], "target");
                }
                self.targets[s] = *x;
                self.pending[s] = true;
                self.any_pending = true;
            }
        }
    }

    /// Check a decision row before it reaches the engine: finite (or NaN = hold), within limits.
    pub fn check_targets(&self, targets: &[f64]) -> std::result::Result<(), String> {
        if targets.len() != self.md.n_symbols() {
            return Err(format!("expected {} targets (one per symbol), got {}", self.md.n_symbols(), targets.len()));
        }
        for (s, x) in targets.iter().enumerate() {
            if x.is_infinite() || x.abs() > self.cfg.max_abs_target {
                return Err(format!(
                    "target {x} for {} is beyond the limit |target| <= {}",
                    self.md.symbols[s], self.cfg.max_abs_target
                ));
            }
        }
        Ok(())
    }

    /// Submit an explicit order decided on the last processed bar (fills from the next bar on).
    pub fn submit_order(&mut self, symbol: usize, qty: f64, kind: OrderType, price: f64) -> Result<u64> {
        if symbol >= self.md.n_symbols() {
            return Err(StressError::param("symbol", format!("index {symbol} out of range")));
        }
        let id = self.next_order_id;
        let order = Order::new(id, symbol, qty, kind, price, self.next_bar.saturating_sub(1))?;
        self.next_order_id += 1;
        self.orders.push(order);
        Ok(id)
    }

    /// Cancel every open order and forget pending targets (the strategy failed or a risk stop).
    pub fn cancel_all(&mut self, t: usize, reason: &'static str) {
        for o in self.orders.drain(..) {
            self.cancelled += 1;
            self.events.push(t, EventKind::Cancelled, o.symbol as i64, o.remaining, o.price, 0.0, reason);
        }
    }

    /// Go flat from the next bar on: all targets 0 (weights or units alike). Bypasses the risk
    /// stack (it is the safe state the stack itself asks for).
    pub fn flatten(&mut self) {
        let zeros = vec![0.0; self.md.n_symbols()];
        self.set_targets(&zeros);
    }

    /// Keep the positions as they are: pending targets are dropped and forgotten (NaN), so the
    /// next decision for a symbol trades again.
    pub fn freeze(&mut self) {
        self.pending.iter_mut().for_each(|p| *p = false);
        self.any_pending = false;
        self.targets.iter_mut().for_each(|x| *x = f64::NAN);
    }

    /// An emergency stop raised outside the native triggers at the last processed bar: a
    /// user's governor (`trigger` its name) or a failed component. Returns whether it took
    /// effect (not when a stop is already in force or the run has no governor state).
    pub fn external_stop(&mut self, trigger: String, component_failure: bool) -> bool {
        let t = self.next_bar.saturating_sub(1);
        let Some(mut risk) = self.risk.take() else { return false };
        let kind = if component_failure { Trigger::ComponentFailure } else { Trigger::External };
        let action = risk.external_stop(t, kind, trigger, self.last_equity, &mut self.events);
        let post = PostMark { stop: action, ..Default::default() };
        self.carry_out(t, &mut risk, post);
        self.risk = Some(risk);
        action.is_some()
    }

    /// A policy mode change decided outside the native controller (a user's controller).
    /// The strategy's last targets are sent through the stack again under the new limits.
    pub fn set_mode(&mut self, mode: crate::risk::Mode, reason: String) -> bool {
        let t = self.next_bar.saturating_sub(1);
        let Some(mut risk) = self.risk.take() else { return false };
        let changed = risk.change_mode(t, mode, "external", reason, &mut self.events);
        if changed {
            self.carry_out(t, &mut risk, PostMark { reissue: true, ..Default::default() });
        }
        self.risk = Some(risk);
        changed
    }

    /// A user's component refused symbol s's change at the last processed bar.
    pub fn deny_external(&mut self, s: usize, proposed: f64) {
        let t = self.next_bar.saturating_sub(1);
        if let Some(risk) = self.risk.as_mut() {
            risk.deny_external(t, s, proposed, &mut self.events);
        } else {
            self.events.push(t, EventKind::RiskDenial, s as i64, proposed, f64::NAN, 0.0, "external");
        }
    }

    /// Record a user component's failure at the last processed bar (the caller puts the run in
    /// the component's safe state).
    pub fn component_failed(&mut self, component: String, message: String) {
        let t = self.next_bar.saturating_sub(1);
        self.events.push(t, EventKind::ComponentFailure, -1, 0.0, 0.0, 0.0, "component_failure");
        self.component_failures.push((t, component, message));
    }

    /// Record a failed strategy model at bar t (the other models keep running).
    pub fn model_failed(&mut self, t: usize, model: String, message: String) {
        self.events.push(t, EventKind::ModelFailure, -1, 0.0, 0.0, 0.0, "model_failure");
        self.model_failures.push((t, model, message));
    }

    /// Record a failed strategy call covering bars [t0, t1) and go flat.
    pub fn strategy_failed(&mut self, t0: usize, message: String) {
        self.events.push(t0, EventKind::StrategyFailure, -1, 0.0, 0.0, 0.0, "strategy_failure");
        self.strategy_failures.push((t0, message));
        self.cancel_all(t0, "strategy_failure");
        self.flatten();
    }

    /// Close the books: open positions become trades marked at the last prices.
    pub fn finish(mut self) -> RunOutput {
        let last = self.next_bar.saturating_sub(1);
        self.account.finish(last, &self.last_price);
        for (pnl, held) in self.account.drain_closed() {
            self.metrics.on_trade(pnl, held);
        }
        self.metrics.add_costs(self.account.fees_paid, self.account.slippage_paid);
        let metrics = self.metrics.finish();
        RunOutput {
            metrics,
            equity_curve: self.equity_curve,
            trades: std::mem::take(&mut self.account.trades),
            events: self.events.events,
            fills: self.fills,
            partial_fills: self.partial_fills,
            execution_failures: self.rejections.iter().sum(),
            rejections: self.rejections,
            latency_spikes: self.exchange.latency_spikes,
            cancelled_orders: self.cancelled,
            strategy_failures: self.strategy_failures,
            final_positions: self.account.qty.clone(),
            final_cash: self.account.cash,
            risk: self.risk.map(|r| r.report()).unwrap_or_default(),
            component_failures: self.component_failures,
            model_failures: self.model_failures,
        }
    }
}

/// Run a native strategy over all bars (no Python anywhere).
pub fn run_native(
    md: Arc<MarketData>,
    strategy: &mut dyn Strategy,
    exchange: ExchangeConfig,
    cfg: EngineConfig,
) -> Result<RunOutput> {
    run_native_with_risk(md, strategy, exchange, cfg, None, false)
}

/// Run a native strategy through a native risk stack (no Python anywhere); `record_signals`
/// adds signal and order events to the log.
pub fn run_native_with_risk(
    md: Arc<MarketData>,
    strategy: &mut dyn Strategy,
    exchange: ExchangeConfig,
    cfg: EngineConfig,
    risk: Option<RiskConfig>,
    record_signals: bool,
) -> Result<RunOutput> {
    let n_bars = md.n_bars;
    let n = md.n_symbols();
    let data = Arc::clone(&md);
    let mut e = Engine::with_risk(md, exchange, cfg, risk)?;
    e.set_record_signals(record_signals);
    strategy.reset();
    // decisions a block at a time (native strategies read only the market, never the engine),
    // each row starting as the previous one: NaN until the strategy first says something
    let mut rows = vec![f64::NAN; DECISION_BLOCK * n];
    let mut t0 = 0;
    while t0 < n_bars {
        let len = (n_bars - t0).min(DECISION_BLOCK);
        let block = &mut rows[..len * n];
        strategy.on_bars(&data, t0, block);
        e.run_block(t0, block);
        rows.copy_within((len - 1) * n..len * n, 0);
        t0 += len;
    }
    Ok(e.finish())
}

/// Bars of decisions a native strategy makes per call in [`run_native_with_risk`].
const DECISION_BLOCK: usize = 1024;

#[cfg(test)]
mod tests;
