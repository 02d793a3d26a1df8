"""Runs a user's Python risk components around the native engine (see :mod:`stresslab.protocols`).

The executor steps the engine; this module checks the components given to it, builds the engine's
risk configuration, calls the Python components at the right points and
turns their answers into engine calls: batch methods once per batch on the decision rows, per-call
methods bar by bar (governor and controller after the mark, then orchestrator, risk guard and
balancer on the bar's decision), and the event bus after each batch. Every call is guarded: an
exception or an answer of the wrong type is recorded on the engine with the component's name and
the run continues in the component's safe state (documented in :mod:`stresslab.protocols`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from .errors import InvalidParameterError
from .protocols import BATCH_METHODS, RiskContext, TargetSignal, check_component
from .risk import NATIVE_COMPONENTS, PolicyMode, PolicyStore, risk_config
from .strategies import BarBatch, StrategyContext

__all__ = [
    "ComponentLoop",
    "Precomputed",
    "check_components",
    "engine_risk_config",
    "native_policy",
    "publish_events",
]

_PRE_TRADE = ("orchestrator", "risk_guard", "portfolio_balancer")


def _describe(obj: Any, method: str, exc: BaseException | str) -> str:
    what = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return f"{type(obj).__name__}.{method}: {what}"


def _is_python(slot: str, obj: Any) -> bool:
    return obj is not None and not isinstance(obj, NATIVE_COMPONENTS.get(slot, ()))


def native_policy(store: Any) -> tuple[PolicyStore | None, str | None]:
    """A user's policy store read once into the native one: (store, None) or (None, failure)."""
    try:
        limits = {m.value.lower(): dict(store.get_limits(m.value)) for m in PolicyMode}
        return PolicyStore(**limits, initial_mode=getattr(store, "initial_mode", "NORMAL")), None
    except Exception as exc:  # recorded by the caller; the run uses the default limits
        return None, _describe(store, "get_limits", exc)


class ComponentLoop:
    """The Python components of one run and where the executor must call them."""

    def __init__(self, components: dict[str, Any], symbols: list[str], kind: str, event_bus: Any = None):
        self.symbols = symbols
        self.kind = kind
        self.bus = event_bus
        py = {slot: obj for slot, obj in components.items() if _is_python(slot, obj)}
        self.batch_pre: list[tuple[str, Any, str]] = []
        self.call_pre: list[tuple[str, Any]] = []
        for slot in _PRE_TRADE:
            obj = py.get(slot)
            if obj is None:
                continue
            batch = BATCH_METHODS[slot]
            if callable(getattr(obj, batch, None)):
                self.batch_pre.append((slot, obj, batch))
            else:
                self.call_pre.append((slot, obj))
        self.governor = py.get("safety_governor")
        self.msc = py.get("msc")
        self.policy_store = py.get("policy_store")
        self.per_bar = bool(self.call_pre) or self.governor is not None or self.msc is not None
        self.delivered = 0
        self.batch_denials = 0
        for obj in py.values():
            if callable(getattr(obj, "reset", None)):
                obj.reset()
        if self.bus is not None and callable(getattr(self.bus, "reset", None)):
            self.bus.reset()

    @property
    def active(self) -> bool:
        """Whether the run needs the Python loop (an event bus alone does not)."""
        return self.per_bar or bool(self.batch_pre)

    def _context(self, engine: Any, proposed: np.ndarray | None = None) -> RiskContext:
        ctx = RiskContext.from_state(engine.risk_state(), self.symbols, self.kind)
        ctx.proposed = proposed
        return ctx

    # -- batch methods ---------------------------------------------------------------------------
    def pre_batch(self, engine: Any, decisions: np.ndarray) -> np.ndarray:
        """Pass a batch of decision rows through the components' batch methods."""
        if not self.batch_pre:
            return decisions
        ctx = self._context(engine, decisions)
        for slot, obj, method in self.batch_pre:
            try:
                out = np.asarray(getattr(obj, method)(decisions.copy(), ctx), dtype=np.float64)
                if out.shape != decisions.shape:
                    raise TypeError(f"returned shape {out.shape}, expected {decisions.shape} (bars x symbols)")
                if np.isinf(out).any():
                    raise TypeError("returned infinite targets")
            except Exception as exc:
                engine.component_failed(slot, _describe(obj, method, exc))
                out = np.full_like(decisions, np.nan)  # safe state: every target stays as it is
            self.batch_denials += int((~np.isnan(decisions) & np.isnan(out)).sum())
            decisions = out
            ctx.proposed = decisions
        return decisions

    # -- per bar ----------------------------------------------------------------------------------
    def after_mark(self, engine: Any) -> None:
        """Governor and controller after the bar's close."""
        if self.governor is None and self.msc is None:
            return
        ctx = self._context(engine)
        if self.governor is not None and not ctx.stopped:
            self._govern(engine, ctx)
        if self.msc is not None:
            self._select_mode(engine, ctx)

    def _govern(self, engine: Any, ctx: RiskContext) -> None:
        gov = self.governor
        try:
            res = gov.check_emergency(ctx)
        except Exception as exc:
            engine.component_failed("safety_governor", _describe(gov, "check_emergency", exc))
            engine.emergency_stop("safety_governor failed", True)
            return
        if res is None or res is False or res == "":
            return
        if res is True:
            engine.emergency_stop("external")
        elif isinstance(res, str):
            engine.emergency_stop(res)
        else:
            msg = f"returned {type(res).__name__}, expected a trigger name (str) or None"
            engine.component_failed("safety_governor", _describe(gov, "check_emergency", msg))
            engine.emergency_stop("safety_governor failed", True)

    def _select_mode(self, engine: Any, ctx: RiskContext) -> None:
        msc = self.msc
        try:
            res = msc.select_mode(ctx)
            if res is None:
                return
            if isinstance(res, tuple) and len(res) == 2:
                mode, reason = res
            else:
                mode, reason = res, "external"
            mode = getattr(mode, "value", mode)
            if not isinstance(mode, str) or not isinstance(reason, str):
                raise TypeError(f"returned {res!r}, expected a mode name or (mode, reason)")
            if mode.upper() == ctx.mode:
                return
            engine.set_mode(mode.upper(), reason)  # an unknown mode raises: recorded below
        except Exception as exc:
            engine.component_failed("msc", _describe(msc, "select_mode", exc))
            return
        store = self.policy_store
        if store is not None and callable(getattr(store, "set_mode", None)):
            try:
                store.set_mode(mode.upper())
            except Exception as exc:
                engine.component_failed("policy_store", _describe(store, "set_mode", exc))

    def decide_row(self, engine: Any, row: np.ndarray, confidence: np.ndarray | None) -> np.ndarray:
        """Pass bar t's decision row through the per-call pre-trade components."""
        if not self.call_pre:
            return row
        row = np.array(row, dtype=np.float64)
        ctx = self._context(engine, row)
        for slot, obj in self.call_pre:
            if slot == "portfolio_balancer":
                self._balance(engine, obj, row, ctx)
            else:
                self._per_signal(engine, slot, obj, row, ctx, confidence)
        return row

    def _signal(self, ctx: RiskContext, s: int, x: float, confidence: np.ndarray | None) -> TargetSignal:
        return TargetSignal(
            symbol=self.symbols[s],
            index=s,
            bar=ctx.bar,
            timestamp=ctx.timestamp,
            target=float(x),
            current=float(ctx.targets[s]),
            position=float(ctx.positions[s]),
            price=float(ctx.prices[s]),
            confidence=1.0 if confidence is None else float(confidence[s]),
            kind=self.kind,
        )

    def _per_signal(
        self, engine: Any, slot: str, obj: Any, row: np.ndarray, ctx: RiskContext, confidence: np.ndarray | None
    ) -> None:
        method = "evaluate_signal" if slot == "orchestrator" else "check_risk"
        for s in range(len(row)):
            x = row[s]
            if math.isnan(x) or x == ctx.targets[s]:
                continue  # no change: nothing to judge
            sig = self._signal(ctx, s, x, confidence)
            try:
                res = getattr(obj, method)(sig, ctx)
                new = _orchestrated(res) if slot == "orchestrator" else _guarded(res, x)
            except Exception as exc:
                engine.component_failed(slot, _describe(obj, method, exc))
                new = math.nan  # safe state: the target stays
            if math.isnan(new):
                engine.deny_external(s, float(x))
            row[s] = new

    def _balance(self, engine: Any, obj: Any, row: np.ndarray, ctx: RiskContext) -> None:
        full = np.where(np.isnan(row), ctx.targets, row)
        try:
            out = np.asarray(obj.balance(full.copy(), ctx), dtype=np.float64)
            if out.shape != full.shape or not np.isfinite(out[~np.isnan(full)]).all():
                raise TypeError(f"returned {out!r}, expected {len(full)} finite targets (one per symbol)")
        except Exception as exc:
            engine.component_failed("portfolio_balancer", _describe(obj, "balance", exc))
            row[:] = np.nan  # safe state: every target stays
            return
        moved = ~((out == full) | (np.isnan(out) & np.isnan(full)))
        row[moved] = out[moved]

    # -- events -----------------------------------------------------------------------------------
    def deliver(self, engine: Any, timestamps: np.ndarray) -> None:
        """Hand the events since the last delivery to the bus."""
        if self.bus is None:
            return
        n = engine.n_events()
        if n == self.delivered:
            return
        cols = engine.events_since(self.delivered)
        self.delivered = n
        failure = publish_events(self.bus, cols, self.symbols, timestamps)
        if failure:
            engine.component_failed("event_bus", failure)


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.floating, np.integer)):
        raise TypeError(f"{what}: expected a number, got {type(x).__name__}")
    v = float(x)
    if math.isinf(v):
        raise TypeError(f"{what}: infinite target")
    return v


def _orchestrated(res: Any) -> float:
    """An orchestrator's answer -> the target (NaN = dropped)."""
    if res is None:
        return math.nan
    if isinstance(res, TargetSignal):
        return _number(res.target, "signal.target")
    return _number(res, "evaluate_signal")


def _guarded(res: Any, proposed: float) -> float:
    """A risk guard's answer -> the target (NaN = refused)."""
    if isinstance(res, (bool, np.bool_)):
        return proposed if res else math.nan
    if not isinstance(res, tuple) or len(res) not in (2, 3) or not isinstance(res[0], (bool, np.bool_)):
        raise TypeError(f"returned {res!r}, expected (allowed: bool, reason: str) or (allowed, reason, target)")
    if not res[0]:
        return math.nan
    return _number(res[2], "check_risk target") if len(res) == 3 else proposed


def publish_events(bus: Any, cols: dict[str, Any], symbols: list[str], timestamps: np.ndarray) -> str | None:
    """Deliver event columns to a bus (``publish_batch`` with a DataFrame when it has one, else
    ``publish`` per event dict). Returns a failure message, or None."""
    bars = np.asarray(cols["bar"], dtype=np.int64)
    if bars.size == 0:
        return None
    ts = np.asarray(timestamps, dtype=np.int64)[np.clip(bars, 0, max(len(timestamps) - 1, 0))]
    sym = [symbols[i] if i >= 0 else None for i in np.asarray(cols["symbol"], dtype=np.int64)]
    table = {
        "bar": bars,
        "timestamp": ts,
        "kind": cols["kind"],
        "symbol": sym,
        "qty": cols["qty"],
        "price": cols["price"],
        "value": cols["value"],
        "reason": cols["reason"],
    }
    try:
        if callable(getattr(bus, "publish_batch", None)):
            bus.publish_batch(pl.DataFrame(table).with_columns(pl.col("timestamp").cast(pl.Datetime("ms", "UTC"))))
        else:
            for row in pl.DataFrame(table).iter_rows(named=True):
                bus.publish(row)
    except Exception as exc:
        return _describe(bus, "publish", exc)
    return None


def check_components(components: dict[str, Any], event_bus: Any) -> None:
    """Each slot takes its native config or an object satisfying its Protocol."""
    for slot, comp in components.items():
        if isinstance(comp, NATIVE_COMPONENTS[slot]):
            continue
        home = [s for s, cls in NATIVE_COMPONENTS.items() if isinstance(comp, cls)]
        if home:
            raise InvalidParameterError(
                f"{slot}: got a native {type(comp).__name__}, which belongs in {home[0]}=", slot
            )
        check_component(slot, comp)
    gov = components.get("safety_governor")
    if gov is not None and not isinstance(gov, NATIVE_COMPONENTS["safety_governor"]):
        if getattr(gov, "action", "flatten") not in ("flatten", "freeze"):
            raise InvalidParameterError(
                f"safety_governor: attribute action must be 'flatten' or 'freeze', got {gov.action!r}",
                "safety_governor",
            )
        cd = getattr(gov, "cooldown_bars", 24)
        if cd is not None and (isinstance(cd, bool) or not isinstance(cd, int) or cd < 1):
            raise InvalidParameterError(
                f"safety_governor: attribute cooldown_bars must be an integer >= 1 or None, got {cd!r}",
                "safety_governor",
            )
    if event_bus is not None:
        check_component("event_bus", event_bus)


class Precomputed:
    """A native strategy's decision rows, replayed through the Python loop."""

    def __init__(self, rows: np.ndarray, target: str):
        self.rows = rows
        self.target = target

    def on_batch(self, bars: BarBatch, context: StrategyContext) -> np.ndarray:
        return self.rows[bars.start : bars.stop]


def engine_risk_config(components: dict[str, Any]) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The engine's risk dict for a run, with the state a user's governor or controller needs (a
    governor without native triggers, the user's policy store read once), and setup failures."""
    cfg = risk_config(components) or {slot: None for slot in NATIVE_COMPONENTS}
    failures: list[tuple[str, str]] = []
    gov = components.get("safety_governor")
    if gov is not None and cfg["safety_governor"] is None:
        cooldown = getattr(gov, "cooldown_bars", 24)
        cfg["safety_governor"] = {
            "freeze": float(getattr(gov, "action", "flatten") == "freeze"),
            "cooldown_bars": None if cooldown is None else float(cooldown),
        }
    store = components.get("policy_store")
    if store is not None and cfg["policy_store"] is None:
        native, failure = native_policy(store)
        if native is not None:
            cfg["policy_store"] = native.to_config()
        else:
            failures.append(("policy_store", f"{failure}; the default limits are used"))
    if all(v is None for v in cfg.values()):
        return None, failures
    return cfg, failures
