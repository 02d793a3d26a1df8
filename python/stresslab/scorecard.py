"""The risk stack's own scorecard: did the fail-safes fire when they should, and only then?

For one scenario, :func:`risk_scorecard` runs three times with the same seed and bars:

* the stressed run with the risk stack (the result being scored);
* the paired run: the same stressed bars with every risk component off (fail-safes off), which
  gives the loss the stack avoided;
* the calm baseline: the unstressed bars with the stack, where any emergency stop is a false trip.

The scorecard (a dict, stored in ``ScenarioResult.risk_scorecard`` by
``ScenarioExecutor(..., scorecard=True)``):

* ``stress_onset_bar``: first bar any stress transform flagged (``stress_flags``), or the
  ``onset`` given;
* ``fired``: per component present, whether it acted (governor: a stop; controller: a mode above
  NORMAL; guard / orchestrator: a denial; balancer: a rebalance), and ``triggers``: the
  governor's stops per trigger (every configured trigger listed, 0 if it never fired);
* ``first_halt_bar`` / ``bars_to_halt``: the first emergency stop (or HALT mode) and its
  distance in bars from the stress onset;
* ``loss_avoided`` (currency) and ``loss_avoided_pct`` (percent of initial capital): final
  equity with the stack minus without; ``drawdown_avoided_pct``: max drawdown without minus with
  (percentage points);
* ``false_trips``: emergency stops on the calm baseline, ``calm_escalations``: policy changes to
  a more severe mode there (None when no calm baseline is available).
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from typing import Any

import polars as pl

from .results import ScenarioResult
from .risk import PolicyMode, SafetyGovernor
from .scenarios import Scenario, ScenarioType

__all__ = ["risk_scorecard", "attach_scorecard"]

_GUARD = {
    "corrupt_data",
    "daily_loss_limit",
    "no_equity",
    "max_position",
    "max_notional",
    "max_order_volume",
    "max_leverage",
}
_ORCH = {"low_confidence", "cooldown", "max_positions"}
_SEVERITY = {m.value: i for i, m in enumerate(PolicyMode)}


def _calm(scenario: Scenario) -> Scenario:
    # same name and seed: the same base market and the same exchange random streams
    return dataclasses.replace(scenario, type=ScenarioType.MIXED_CUSTOM, parameters={})


def _first_halt(r: ScenarioResult) -> int | None:
    bars = [s["bar"] for s in r.emergency_stop_log]
    ts = list(r.timestamps)
    for time, _, to, _ in r.policy_transitions:
        if to == PolicyMode.HALT.value and time is not None:
            ms = int(time.timestamp() * 1000)
            if ms in ts:
                bars.append(ts.index(ms))
    return min(bars) if bars else None


def _escalations(r: ScenarioResult) -> int:
    return sum(1 for _, f, t, _ in r.policy_transitions if _SEVERITY.get(t, 0) > _SEVERITY.get(f, 0))


def risk_scorecard(
    executor: Any,
    scenario: Scenario,
    data: pl.DataFrame | None = None,
    *,
    calm_data: pl.DataFrame | None = None,
    onset: int | None = None,
    result: ScenarioResult | None = None,
) -> dict[str, Any]:
    """Score ``executor``'s risk stack on ``scenario`` (see the module docstring).

    Args:
        data: the bars the scenario stresses (None: the loader's).
        calm_data: bars for the calm baseline when ``scenario`` is itself unstressed (bars
            stressed by hand); otherwise the scenario's bars without stress are used.
        onset: stress onset bar when the bars carry no ``stress_flags``.
        result: the stressed run's result if already computed.
    """
    plain = copy.copy(executor)
    plain.scorecard = False
    plain.event_bus = None  # the user's bus sees the scored run only
    stressed = result if result is not None else plain.run(scenario, data)
    paired = plain.without_risk().run(scenario, data)
    calm: ScenarioResult | None = None
    if not scenario.is_unstressed:
        calm = plain.run(_calm(scenario), data)
    elif calm_data is not None:
        calm = plain.run(scenario, calm_data)
    onset = onset if onset is not None else stressed.stress_onset_bar
    comps = executor.components
    reasons = stressed.risk_denial_reasons
    fired: dict[str, bool] = {}
    if "safety_governor" in comps:
        fired["safety_governor"] = stressed.emergency_stops > 0
    if "msc" in comps:
        fired["msc"] = _escalations(stressed) > 0
    if "risk_guard" in comps:
        fired["risk_guard"] = any(reasons.get(k, 0) for k in _GUARD) or reasons.get("external", 0) > 0
    if "orchestrator" in comps:
        fired["orchestrator"] = any(reasons.get(k, 0) for k in _ORCH)
    if "portfolio_balancer" in comps:
        fired["portfolio_balancer"] = stressed.rebalances > 0
    gov = comps.get("safety_governor")
    triggers: Counter[str] = Counter({t: 0 for t in (gov.triggers if isinstance(gov, SafetyGovernor) else [])})
    triggers.update(s["trigger"] for s in stressed.emergency_stop_log)
    halt = _first_halt(stressed)
    capital = executor.initial_capital
    return {
        "stress_onset_bar": onset,
        "fired": fired,
        "triggers": dict(triggers),
        "first_halt_bar": halt,
        "bars_to_halt": halt - onset if halt is not None and onset is not None and halt >= onset else None,
        "final_equity": stressed.final_equity,
        "paired_final_equity": paired.final_equity,
        "loss_avoided": stressed.final_equity - paired.final_equity,
        "loss_avoided_pct": 100.0 * (stressed.final_equity - paired.final_equity) / capital,
        "drawdown_avoided_pct": paired.max_drawdown - stressed.max_drawdown,
        "false_trips": calm.emergency_stops if calm is not None and calm.success else None,
        "calm_escalations": _escalations(calm) if calm is not None and calm.success else None,
    }


def attach_scorecard(executor: Any, scenario: Scenario, data: pl.DataFrame | None, result: ScenarioResult) -> None:
    """Score the run that produced ``result`` and store it in ``result.risk_scorecard``."""
    result.risk_scorecard = risk_scorecard(executor, scenario, data, result=result)
