"""ScenarioResult: what one scenario run produced, with the seed's fields.

Units: ``max_drawdown``, ``winrate`` and ``total_return_pct`` are percentages (20.0 = 20%);
``total_return`` is a fraction; ``sharpe_ratio`` is annualised. Undefined metrics are NaN and
``metrics["undefined"]`` says why (no losing trade, zero variance, ...).

Risk stack fields: ``emergency_stops`` (count) with ``emergency_stop_log`` (time, bar, trigger,
action, equity, drawdown_pct, rearmed_time; also :meth:`ScenarioResult.emergency_stops_df`),
``policy_transitions`` (time, from, to, reason), ``failed_models`` (count of distinct models)
with ``model_failures`` (time, model, message), ``component_failures`` (time, component,
message), ``risk_denials`` with ``risk_denial_reasons``, ``data_quality_issues`` (corrupt or
unusable (symbol, bar) pairs), ``stress_onset_bar`` and ``risk_scorecard`` (see
:mod:`stresslab.scorecard`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import polars as pl

from .scenarios import Scenario

__all__ = ["ScenarioResult"]


@dataclass
class ScenarioResult:
    scenario_name: str
    scenario_type: str
    success: bool = True
    total_trades: int = 0
    winrate: float = math.nan
    max_drawdown: float = math.nan
    max_dd_duration: int = 0
    profit_factor: float = math.nan
    sharpe_ratio: float = math.nan
    sortino: float = math.nan
    calmar: float = math.nan
    total_return: float = math.nan
    final_equity: float = math.nan
    fees_paid: float = 0.0
    slippage_paid: float = 0.0
    exposure: float = math.nan
    emergency_stops: int = 0
    execution_failures: int = 0
    latency_spikes: int = 0
    failed_models: int = 0
    failed_strategies: list[tuple[int, str]] = field(default_factory=list)
    data_quality_issues: int = 0
    policy_transitions: list[tuple[Any, str, str, str]] = field(default_factory=list)
    equity_curve: np.ndarray = field(default_factory=lambda: np.empty(0))
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    symbols: list[str] = field(default_factory=list)
    timestamps: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    trades: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, Any] = field(default_factory=dict)
    emergency_stop_log: list[dict[str, Any]] = field(default_factory=list)
    model_failures: list[tuple[Any, str, str]] = field(default_factory=list)
    component_failures: list[tuple[Any, str, str]] = field(default_factory=list)
    risk_denials: int = 0
    risk_denial_reasons: dict[str, int] = field(default_factory=dict)
    rebalances: int = 0
    final_mode: str | None = None
    stress_onset_bar: int | None = None
    risk_scorecard: dict[str, Any] | None = None

    @classmethod
    def from_output(
        cls, scenario: Scenario, out: dict[str, Any], symbols: list[str], timestamps: np.ndarray, **extra: Any
    ) -> ScenarioResult:
        m = out["metrics"]
        failed = [(int(b), str(msg)) for b, msg in out["strategy_failures"]]
        counters = {k: out[k] for k in ("fills", "partial_fills", "rejections", "cancelled_orders", "final_cash")}
        counters["final_positions"] = dict(zip(symbols, map(float, out["final_positions"]), strict=True))
        return cls(
            scenario_name=scenario.name,
            scenario_type=scenario.type.name,
            success=True,
            total_trades=int(m["total_trades"]),
            winrate=m["winrate"],
            max_drawdown=m["max_drawdown"],
            max_dd_duration=int(m["max_dd_duration"]),
            profit_factor=m["profit_factor"],
            sharpe_ratio=m["sharpe_ratio"],
            sortino=m["sortino"],
            calmar=m["calmar"],
            total_return=m["total_return"],
            final_equity=m["final_equity"],
            fees_paid=m["fees_paid"],
            slippage_paid=m["slippage_paid"],
            exposure=m["exposure"],
            execution_failures=int(out["execution_failures"]),
            latency_spikes=int(out["latency_spikes"]),
            failed_strategies=failed,
            equity_curve=out["equity_curve"],
            metrics=m,
            symbols=list(symbols),
            timestamps=timestamps,
            trades=out["trades"],
            events=out["events"],
            counters=counters,
            **_risk_fields(out.get("risk"), timestamps),
            **extra,
        )

    @classmethod
    def failed(cls, scenario: Scenario | None, name: str, error: BaseException) -> ScenarioResult:
        return cls(
            scenario_name=scenario.name if scenario is not None else name,
            scenario_type=scenario.type.name if scenario is not None else "UNKNOWN",
            success=False,
            notes=[f"scenario failed: {type(error).__name__}: {error}"],
        )

    # -- tables --------------------------------------------------------------------------------
    def _time(self, bars: np.ndarray) -> pl.Series:
        ts = self.timestamps[np.clip(bars, 0, max(len(self.timestamps) - 1, 0))] if len(self.timestamps) else bars
        return pl.Series(np.asarray(ts, dtype="int64")).cast(pl.Datetime("ms", "UTC"))

    def equity_curve_df(self) -> pl.DataFrame:
        """Equity per bar (marked at the close), with drawdown in percent."""
        eq = np.asarray(self.equity_curve)
        if eq.size == 0:
            return pl.DataFrame({"timestamp": [], "equity": [], "drawdown_pct": []})
        peak = np.maximum.accumulate(np.concatenate([[self.metrics.get("initial_equity", eq[0])], eq]))[1:]
        return pl.DataFrame(
            {
                "timestamp": self._time(np.arange(eq.size)),
                "equity": eq,
                "drawdown_pct": (1.0 - eq / peak) * 100.0,
            }
        )

    def trades_df(self) -> pl.DataFrame:
        """Round trips: symbol, entry/exit time, side, size, prices, PnL net of fees."""
        t = self.trades
        if not t:
            return pl.DataFrame()
        sym = np.asarray(t["symbol"], dtype=np.int64)
        return pl.DataFrame(
            {
                "symbol": [self.symbols[i] for i in sym],
                "entry_time": self._time(np.asarray(t["entry_bar"])),
                "exit_time": self._time(np.asarray(t["exit_bar"])),
                "side": np.where(np.asarray(t["side"]) > 0, "long", "short"),
                "max_qty": t["max_qty"],
                "entry_price": t["entry_price"],
                "exit_price": t["exit_price"],
                "pnl": t["pnl"],
                "fees": t["fees"],
                "closed": t["closed"],
            }
        )

    def events_df(self) -> pl.DataFrame:
        """Every event in order: fills, rejections (with reason), cancels, latency spikes, ..."""
        e = self.events
        if not e:
            return pl.DataFrame()
        sym = np.asarray(e["symbol"], dtype=np.int64)
        return pl.DataFrame(
            {
                "bar": e["bar"],
                "timestamp": self._time(np.asarray(e["bar"])),
                "kind": e["kind"],
                "symbol": [self.symbols[i] if i >= 0 else None for i in sym],
                "qty": e["qty"],
                "price": e["price"],
                "value": e["value"],
                "reason": e["reason"],
            }
        )

    def emergency_stops_df(self) -> pl.DataFrame:
        """One row per emergency stop: time, bar, trigger, action, equity, drawdown_pct, rearmed_time."""
        cols = ["time", "bar", "trigger", "action", "equity", "drawdown_pct", "rearmed_time"]
        if not self.emergency_stop_log:
            return pl.DataFrame({c: [] for c in cols})
        return pl.DataFrame(self.emergency_stop_log).select(cols)

    def summary(self) -> dict[str, Any]:
        """The headline numbers as a flat dict (what the runner's summary aggregates)."""
        return {
            "scenario": self.scenario_name,
            "type": self.scenario_type,
            "success": self.success,
            "total_return_pct": self.total_return * 100 if self.success else math.nan,
            "max_drawdown": self.max_drawdown,
            "sharpe_ratio": self.sharpe_ratio,
            "winrate": self.winrate,
            "profit_factor": self.profit_factor,
            "total_trades": self.total_trades,
            "emergency_stops": self.emergency_stops,
            "execution_failures": self.execution_failures,
            "latency_spikes": self.latency_spikes,
            "failed_models": self.failed_models,
            "failed_strategies": len(self.failed_strategies),
            "data_quality_issues": self.data_quality_issues,
            "policy_transitions": len(self.policy_transitions),
        }


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _time_of(timestamps: np.ndarray, bar: int | None) -> datetime | None:
    if bar is None or len(timestamps) == 0:
        return None
    return _EPOCH + timedelta(milliseconds=int(timestamps[min(max(int(bar), 0), len(timestamps) - 1)]))


def _risk_fields(risk: dict[str, Any] | None, timestamps: np.ndarray) -> dict[str, Any]:
    """The risk stack's report (from the engine) as ScenarioResult fields, with times."""
    if not risk:
        return {}
    stops = [
        {
            "time": _time_of(timestamps, s["bar"]),
            "bar": int(s["bar"]),
            "trigger": s["trigger"],
            "action": s["action"],
            "equity": float(s["equity"]),
            "drawdown_pct": 100.0 * float(s["drawdown"]),
            "rearmed_time": _time_of(timestamps, s["rearmed_bar"]),
        }
        for s in risk["emergency_stops"]
    ]
    models = [(_time_of(timestamps, b), name, msg) for b, name, msg in risk["model_failures"]]
    return {
        "emergency_stops": len(stops),
        "emergency_stop_log": stops,
        "policy_transitions": [(_time_of(timestamps, b), f, t, why) for b, f, t, why in risk["policy_transitions"]],
        "failed_models": len({name for _, name, _ in models}),
        "model_failures": models,
        "component_failures": [(_time_of(timestamps, b), c, msg) for b, c, msg in risk["component_failures"]],
        "risk_denials": int(sum(risk["denials"].values())),
        "risk_denial_reasons": {k: int(v) for k, v in risk["denials"].items() if v},
        "rebalances": int(risk["rebalances"]),
        "final_mode": risk["final_mode"],
    }
