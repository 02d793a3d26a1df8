"""ExchangeSimulator: the configuration of the Rust exchange model.

Costs of a taker fill, as fractions of the reference price (the bar open, moved by the latency
drift): half the quoted spread (``spread`` column; ``default_spread_pct`` where unknown) +
``base_slippage_pct`` + ``vol_slippage_coef`` x the bar's Parkinson volatility + square-root
impact ``impact_coef`` x sigma x sqrt(qty / bar volume); plus the taker fee. Limits fill at their
price (maker fee) only when the bar trades through them by ``limit_penetration_bps`` (a mere
touch fills with ``touch_fill_prob``); stops fill at the worse of the stop and the open (a gap
goes through). At most ``participation_rate`` of a bar's volume fills; the rest is retried or
cancelled (``partial_fill_policy``). Orders are rejected with probability ``failure_rate``
scaled up by stress (bar volatility above and volume below their usual levels) and always during
``outages``. Latency is lognormal around ``base_latency_ms`` with spikes.

Every component can be switched off: :meth:`ExchangeSimulator.frictionless` is the plain
fixed-fee, fixed-slippage backtest that other engines compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from . import _core
from .errors import InvalidParameterError

__all__ = ["ExchangeSimulator"]

_FLAGS = ("use_spread", "clamp_to_bar")


@dataclass(frozen=True)
class ExchangeSimulator:
    base_slippage_pct: float = 0.001
    base_latency_ms: float = 50.0
    failure_rate: float = 0.001
    maker_fee_pct: float = 0.001
    taker_fee_pct: float = 0.001
    use_spread: bool = True
    default_spread_pct: float = 0.0002
    vol_slippage_coef: float = 0.1
    impact_coef: float = 0.7
    participation_rate: float = 0.1
    partial_fill_policy: str = "retry"
    max_order_age_bars: float = math.inf
    failure_vol_sensitivity: float = 1.0
    failure_liquidity_sensitivity: float = 1.0
    max_failure_rate: float = 0.5
    latency_sigma: float = 0.5
    latency_spike_prob: float = 0.001
    latency_spike_mult: float = 50.0
    latency_spike_threshold_ms: float = 1000.0
    limit_penetration_bps: float = 0.0
    touch_fill_prob: float = 0.0
    clamp_to_bar: bool = True
    outages: tuple[tuple[int, int], ...] = field(default_factory=tuple)
    stats_halflife_bars: float = 168.0

    def __post_init__(self) -> None:
        outages = tuple((int(a), int(b)) for a, b in self.outages)
        object.__setattr__(self, "outages", outages)
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _FLAGS and not isinstance(v, bool):
                raise InvalidParameterError(f"{f.name}: must be True or False, got {v!r}", f.name)
            if f.name not in _FLAGS + ("partial_fill_policy", "outages"):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                    raise InvalidParameterError(f"{f.name}: must be a number, got {v!r}", f.name)
        for name in ("base_slippage_pct", "failure_rate", "maker_fee_pct", "taker_fee_pct", "default_spread_pct"):
            v = getattr(self, name)
            if v > 1:
                raise InvalidParameterError(
                    f"{name}: is a fraction (0.001 = 0.1%); got {v}, did you mean {v / 100:g}?", name
                )
        _core.check_exchange_config(self.to_config())

    @classmethod
    def frictionless(cls, fee_pct: float = 0.0, slippage_pct: float = 0.0) -> ExchangeSimulator:
        """Fixed fee and fixed slippage only: no spread, impact, volume cap, failures or latency."""
        return cls(
            base_slippage_pct=slippage_pct,
            maker_fee_pct=fee_pct,
            taker_fee_pct=fee_pct,
            use_spread=False,
            vol_slippage_coef=0.0,
            impact_coef=0.0,
            participation_rate=math.inf,
            failure_rate=0.0,
            base_latency_ms=0.0,
            latency_spike_prob=0.0,
            clamp_to_bar=False,
        )

    def with_scenario(self, parameters: dict[str, Any], n_bars: int, bar_index_of: Any = None) -> ExchangeSimulator:
        """This configuration stressed by a scenario's execution parameters (failure_rate,
        latency_multiplier, latency_spike_prob, outage_at/outage_bars)."""
        changes: dict[str, Any] = {}
        if parameters.get("failure_rate") is not None:
            changes["failure_rate"] = max(self.failure_rate, float(parameters["failure_rate"]))
        if parameters.get("latency_multiplier") is not None:
            changes["base_latency_ms"] = self.base_latency_ms * float(parameters["latency_multiplier"])
        if parameters.get("latency_spike_prob") is not None:
            changes["latency_spike_prob"] = float(parameters["latency_spike_prob"])
        if parameters.get("outage_bars"):
            at = parameters.get("outage_at")
            start = bar_index_of(at) if (bar_index_of is not None and at is not None) else n_bars // 2
            end = min(n_bars, start + int(parameters["outage_bars"]))
            if end > start:
                changes["outages"] = (*self.outages, (start, end))
        return replace(self, **changes) if changes else self

    def to_config(self) -> dict[str, Any]:
        numbers = {
            f.name: float(getattr(self, f.name))
            for f in fields(self)
            if f.name not in _FLAGS + ("partial_fill_policy", "outages")
        }
        return {
            "numbers": numbers,
            "use_spread": self.use_spread,
            "clamp_to_bar": self.clamp_to_bar,
            "partial_fill_policy": self.partial_fill_policy,
            "outages": [tuple(o) for o in self.outages],
        }
