//! The event log: every signal, order, fill, rejection, cancel, latency spike, strategy failure and
//! risk event (denial, rebalance, emergency stop, re-arm, policy change, model or component failure), in order.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Fill,
    PartialFill,
    Rejected,
    Cancelled,
    LatencySpike,
    StrategyFailure,
    RiskDenial,
    EmergencyStop,
    PolicyChange,
    ModelFailure,
    /// A target change the engine took (only with `record_signals`).
    Signal,
    /// An order sent to the exchange for a target (only with `record_signals`).
    Order,
    /// A portfolio-balancer adjustment of a target.
    Rebalance,
    /// The safety governor re-armed after a stop's cool-down.
    Rearm,
    /// A user's component (orchestrator, guard, governor, ...) raised or returned garbage.
    ComponentFailure,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Fill => "fill",
            EventKind::PartialFill => "partial_fill",
            EventKind::Rejected => "rejected",
            EventKind::Cancelled => "cancelled",
            EventKind::LatencySpike => "latency_spike",
            EventKind::StrategyFailure => "strategy_failure",
            EventKind::RiskDenial => "risk_denial",
            EventKind::EmergencyStop => "emergency_stop",
            EventKind::PolicyChange => "policy_change",
            EventKind::ModelFailure => "model_failure",
            EventKind::Signal => "signal",
            EventKind::Order => "order",
            EventKind::Rebalance => "rebalance",
            EventKind::Rearm => "rearm",
            EventKind::ComponentFailure => "component_failure",
        }
    }
}

/// One event. `symbol` is -1 for account-wide events; `value` carries the kind's number
/// (fee for fills, latency in ms for spikes, ...); `reason` a short machine-readable cause.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub bar: usize,
    pub kind: EventKind,
    pub symbol: i64,
    pub qty: f64,
    pub price: f64,
    pub value: f64,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct EventLog {
    pub enabled: bool,
    pub events: Vec<Event>,
}

impl EventLog {
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        bar: usize,
        kind: EventKind,
        symbol: i64,
        qty: f64,
        price: f64,
        value: f64,
        reason: &'static str,
    ) {
        if self.enabled {
            self.events.push(Event { bar, kind, symbol, qty, price, value, reason });
        }
    }
}
