"""Protocols a user's own trading-system components satisfy to run inside the executor.

Each slot of :class:`~stresslab.ScenarioExecutor` takes either a native component
(:mod:`stresslab.risk`, run in Rust) or a Python object with the per-call method of the matching
Protocol below. Where a Protocol also names a batch method, an object that has it is called once
per batch of bars instead (faster; the context is then the one at the batch start, as for batch
strategies). See :mod:`stresslab.mocks` for small readable examples of each.

Order within a bar t (after its close; the decision executes from bar t+1's open):

1. safety governor ``check_emergency(context)``: a trigger name (str) stops trading: open orders
   cancelled, positions flattened (or frozen, per the object's ``action`` attribute), new risk
   blocked for ``cooldown_bars`` bars (attribute, default 24; None = for good);
2. meta strategy controller ``select_mode(context)``: a mode name (or ``(mode, reason)``);
   a change applies the policy store's limits for that mode;
3. the strategy's decision for bar t, then orchestrator ``evaluate_signal(signal, context)``,
   risk guard ``check_risk(signal, context)``, portfolio balancer ``balance(targets, context)``;
   user components run before the native ones of the same run;
4. the event bus ``publish(event)`` receives every event, delivered in batches (after each
   batch of bars); ``publish_batch(events)`` with a polars DataFrame is used when present.

The governor and the controller are called every bar (they must act before the next bar
executes). Components may define ``reset()``; it is called at the start of every run.

Failures: an exception or a return value of the wrong type is recorded (component name and
message, ``ScenarioResult.component_failures``) and the run goes on in the component's safe state:
a failed orchestrator, risk guard or balancer refuses the change (the target stays), a failed
governor stops trading (trigger ``component_failure``), a failed controller keeps the mode, a
failed event bus loses that batch of events.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import InvalidParameterError

__all__ = [
    "TargetSignal",
    "RiskContext",
    "OrchestratorProtocol",
    "RiskGuardProtocol",
    "PortfolioBalancerProtocol",
    "SafetyGovernorProtocol",
    "MetaStrategyControllerProtocol",
    "PolicyStoreProtocol",
    "EventBusProtocol",
    "PROTOCOLS",
    "check_component",
]


@dataclass
class TargetSignal:
    """One symbol's changed target, as the pre-trade components see it.

    ``target`` and ``current`` are in the run's target terms (``kind``: 'weight' = fraction of
    equity, or 'units'); ``position`` in units; ``price`` the last close; ``confidence`` in [0, 1].
    """

    symbol: str
    index: int
    bar: int
    timestamp: int
    target: float
    current: float
    position: float
    price: float
    confidence: float = 1.0
    kind: str = "weight"

    def with_target(self, target: float) -> TargetSignal:
        """A copy with another target (what an orchestrator returns to resize a signal)."""
        return dataclasses.replace(self, target=float(target))


@dataclass
class RiskContext:
    """The account and market after bar ``bar``'s close.

    ``positions`` (units), ``prices`` (last valid close), ``targets`` (current targets, NaN =
    none), ``volume`` (this bar's), ``corrupt`` (bar flagged corrupt or unusable) are one entry
    per symbol. ``proposed`` is the decision row being filtered (NaN = keep the target); the
    adapters update it as each symbol is decided. ``drawdown_pct`` is in percent below
    ``peak_equity``; ``day_start_equity`` is None unless the native risk guard tracks it.
    """

    bar: int
    timestamp: int
    symbols: list[str]
    equity: float
    cash: float
    peak_equity: float
    drawdown_pct: float
    positions: np.ndarray
    prices: np.ndarray
    targets: np.ndarray
    volume: np.ndarray
    corrupt: list[bool]
    failure_streak: int
    mode: str
    stopped: bool
    day_start_equity: float | None = None
    open_orders: int = 0
    kind: str = "weight"
    proposed: np.ndarray | None = None

    @classmethod
    def from_state(cls, state: dict[str, Any], symbols: list[str], kind: str) -> RiskContext:
        return cls(symbols=symbols, kind=kind, **state)


@runtime_checkable
class OrchestratorProtocol(Protocol):
    """Filters and sizes signals: return the signal (possibly ``with_target``), or None to drop it.
    Optional batch method: ``evaluate_batch(decisions, context) -> decisions`` (NaN = keep)."""

    def evaluate_signal(self, signal: TargetSignal, context: RiskContext) -> TargetSignal | None: ...


@runtime_checkable
class RiskGuardProtocol(Protocol):
    """Pre-trade check: ``(allowed, reason)``, or ``(allowed, reason, target)`` to allow a cut
    target instead. Optional batch method: ``check_batch(decisions, context) -> decisions``."""

    def check_risk(self, signal: TargetSignal, context: RiskContext) -> tuple[Any, ...]: ...


@runtime_checkable
class PortfolioBalancerProtocol(Protocol):
    """Portfolio constraints: the full target vector (one per symbol) in, the constrained one out.
    Optional batch method: ``balance_batch(decisions, context) -> decisions``."""

    def balance(self, targets: np.ndarray, context: RiskContext) -> np.ndarray: ...


@runtime_checkable
class SafetyGovernorProtocol(Protocol):
    """Emergency stop check after each bar: a trigger name to stop, None (or '') otherwise.
    Attributes read once: ``action`` ('flatten' or 'freeze'), ``cooldown_bars`` (int or None)."""

    def check_emergency(self, context: RiskContext) -> str | None: ...


@runtime_checkable
class MetaStrategyControllerProtocol(Protocol):
    """Policy mode after each bar: a mode name ('NORMAL', 'DEFENSIVE', 'CAPITAL_PRESERVATION',
    'HALT'), or ``(mode, reason)``, or None to keep the current mode."""

    def select_mode(self, context: RiskContext) -> Any: ...


@runtime_checkable
class PolicyStoreProtocol(Protocol):
    """Limits of a mode: a dict with ``size_multiplier``, ``max_gross_leverage`` (None: no cap)
    and ``allow_entries`` (missing keys take the defaults). Read once per run for every mode;
    an optional ``set_mode(mode)`` is told of every change."""

    def get_limits(self, mode: str) -> dict[str, Any]: ...


@runtime_checkable
class EventBusProtocol(Protocol):
    """Receives every event as a dict (bar, timestamp, kind, symbol, qty, price, value, reason).
    Optional ``publish_batch(events: polars.DataFrame)`` receives them a batch at a time."""

    def publish(self, event: dict[str, Any]) -> Any: ...


PROTOCOLS: dict[str, type] = {
    "orchestrator": OrchestratorProtocol,
    "risk_guard": RiskGuardProtocol,
    "portfolio_balancer": PortfolioBalancerProtocol,
    "safety_governor": SafetyGovernorProtocol,
    "msc": MetaStrategyControllerProtocol,
    "policy_store": PolicyStoreProtocol,
    "event_bus": EventBusProtocol,
}
"""The Protocol of each executor slot."""

BATCH_METHODS: dict[str, str] = {
    "orchestrator": "evaluate_batch",
    "risk_guard": "check_batch",
    "portfolio_balancer": "balance_batch",
}
"""The optional batch method of each pre-trade slot."""


def check_component(slot: str, obj: Any) -> None:
    """Raise InvalidParameterError naming the missing method and the Protocol if ``obj`` does
    not fit ``slot``."""
    proto = PROTOCOLS[slot]
    methods = [m for m in vars(proto) if not m.startswith("_") and callable(getattr(proto, m))]
    missing = [m for m in methods if not callable(getattr(obj, m, None))]
    if missing:
        raise InvalidParameterError(
            f"{slot}: {type(obj).__name__} does not satisfy {proto.__name__}: missing method "
            f"{', '.join(f'{m}()' for m in missing)}",
            slot,
        )
