"""Ready-made mock components: small, readable examples of every Protocol.

They are plain Python classes with the per-call methods of :mod:`stresslab.protocols`, so a user
without a full trading system can start at once::

    from stresslab import ScenarioExecutor, Scenario
    from stresslab.mocks import *

    ex = ScenarioExecutor(
        MockStrategyEngine(), MockOrchestrator(), MockRiskGuard(), MockPortfolioBalancer(),
        MockSafetyGovernor(), MockMetaStrategyController(), MockPolicyStore(),
        event_bus=MockEventBus(),
    )
    result = ex.run(Scenario("crash", "flash_crash", {"drop_pct": 0.3}))

The strategy really trades (a moving-average trend rule), so the numbers are real. Being Python,
they run bar by bar; the native components of :mod:`stresslab.risk` do the same jobs in Rust.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

import numpy as np

from .protocols import RiskContext, TargetSignal
from .strategies import Signal

__all__ = [
    "MockStrategyEngine",
    "MockOrchestrator",
    "MockRiskGuard",
    "MockPortfolioBalancer",
    "MockSafetyGovernor",
    "MockMetaStrategyController",
    "MockPolicyStore",
    "MockEventBus",
]


class MockStrategyEngine:
    """Trend rule: long a symbol while its fast moving average of closes is above the slow one.

    Confidence grows with the gap between the averages (so an orchestrator has something to read).
    """

    def __init__(self, fast: int = 12, slow: int = 48, weight: float | None = None):
        self.fast, self.slow, self.weight = fast, slow, weight
        self.closes: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self.closes = {}

    def generate_signals(self, bar: dict[str, Any], context: Any) -> list[Signal]:
        # one symbol: {"symbol": ..., "close": ...}; several: {symbol: {"close": ...}}
        per_symbol = {bar["symbol"]: bar} if "symbol" in bar else bar
        signals = []
        for symbol, b in per_symbol.items():
            history = self.closes.setdefault(symbol, deque(maxlen=self.slow))
            if np.isfinite(b["close"]) and b["close"] > 0:
                history.append(b["close"])
            if len(history) < self.slow:
                continue
            fast = sum(list(history)[-self.fast :]) / self.fast
            slow = sum(history) / self.slow
            gap = abs(fast / slow - 1.0)
            confidence = min(1.0, 0.5 + 50.0 * gap)
            action = "buy" if fast > slow else "close"
            signals.append(Signal(symbol, action, self.weight, confidence))
        return signals


class MockOrchestrator:
    """Drops signals that add risk with a confidence below ``min_confidence``."""

    def __init__(self, min_confidence: float = 0.5):
        self.min_confidence = min_confidence
        self.dropped = 0

    def evaluate_signal(self, signal: TargetSignal, context: RiskContext) -> TargetSignal | None:
        adds_risk = abs(signal.target) > abs(signal.current) or signal.target * signal.current < 0
        if adds_risk and signal.confidence < self.min_confidence:
            self.dropped += 1
            return None
        return signal


class MockRiskGuard:
    """No trading on corrupt bars; a position above ``max_weight`` of equity is cut to it."""

    def __init__(self, max_weight: float = 1.0):
        self.max_weight = max_weight

    def check_risk(self, signal: TargetSignal, context: RiskContext) -> tuple[Any, ...]:
        if context.corrupt[signal.index]:
            return False, "corrupt_data"
        if abs(signal.target) > self.max_weight:
            return True, "max_weight", float(np.sign(signal.target) * self.max_weight)
        return True, ""


class MockPortfolioBalancer:
    """Scales every target down when the gross exposure would exceed ``max_gross``."""

    def __init__(self, max_gross: float = 1.5):
        self.max_gross = max_gross

    def balance(self, targets: np.ndarray, context: RiskContext) -> np.ndarray:
        gross = float(np.nansum(np.abs(targets)))
        return targets * (self.max_gross / gross) if gross > self.max_gross else targets


class MockSafetyGovernor:
    """Emergency stop when equity falls ``max_drawdown_pct`` percent below its peak.

    The peak restarts when the executor re-arms it after a stop's cool-down (the governor is not
    called while stopped, so a jump in bars means it was re-armed).
    """

    action = "flatten"

    def __init__(self, max_drawdown_pct: float = 10.0, cooldown_bars: int | None = 24):
        self.max_drawdown_pct = max_drawdown_pct
        self.cooldown_bars = cooldown_bars
        self.reset()

    def reset(self) -> None:
        self.peak = 0.0
        self.last_bar = -1

    def check_emergency(self, context: RiskContext) -> str | None:
        if context.bar != self.last_bar + 1:
            self.peak = 0.0  # re-armed after a stop
        self.last_bar = context.bar
        self.peak = max(self.peak, context.equity)
        drawdown_pct = 100.0 * (1.0 - context.equity / self.peak)
        return "drawdown" if drawdown_pct > self.max_drawdown_pct else None


class MockMetaStrategyController:
    """DEFENSIVE above ``defensive_pct`` drawdown, HALT above ``halt_pct``; back to NORMAL only
    below ``defensive_pct - band`` (hysteresis, so the mode does not flap)."""

    def __init__(self, defensive_pct: float = 5.0, halt_pct: float = 15.0, band: float = 1.0):
        self.defensive_pct, self.halt_pct, self.band = defensive_pct, halt_pct, band

    def select_mode(self, context: RiskContext) -> tuple[str, str] | None:
        dd = context.drawdown_pct
        if dd > self.halt_pct and context.mode != "HALT":
            return "HALT", f"drawdown {dd:.1f}%"
        if dd > self.defensive_pct and context.mode == "NORMAL":
            return "DEFENSIVE", f"drawdown {dd:.1f}%"
        if dd < self.defensive_pct - self.band and context.mode != "NORMAL":
            return "NORMAL", "recovered"
        return None


class MockPolicyStore:
    """Limits per mode; remembers the current mode."""

    LIMITS = {
        "NORMAL": {"size_multiplier": 1.0, "max_gross_leverage": None, "allow_entries": True},
        "DEFENSIVE": {"size_multiplier": 0.5, "max_gross_leverage": 1.0, "allow_entries": True},
        "CAPITAL_PRESERVATION": {"size_multiplier": 0.25, "max_gross_leverage": 0.5, "allow_entries": False},
        "HALT": {"size_multiplier": 0.0, "max_gross_leverage": 0.0, "allow_entries": False},
    }

    def __init__(self) -> None:
        self.mode = "NORMAL"
        self.history: list[str] = []

    def reset(self) -> None:
        self.mode = "NORMAL"
        self.history = []

    def get_limits(self, mode: str) -> dict[str, Any]:
        return dict(self.LIMITS[mode])

    def set_mode(self, mode: str) -> None:
        self.history.append(mode)
        self.mode = mode


class MockEventBus:
    """Keeps every event it receives and counts them by kind."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.events = []

    def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    @property
    def counts(self) -> Counter[str]:
        return Counter(e["kind"] for e in self.events)
