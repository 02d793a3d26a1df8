"""ScenarioExecutor: runs a strategy through a scenario's (stressed) market.

The bar loop, exchange, accounting and metrics run in Rust. A native strategy runs there too;
a Python strategy is called once per batch of ``batch_size`` bars (see
:mod:`stresslab.strategies` for the interfaces and the timing rule).

Risk components (orchestrator, risk_guard, portfolio_balancer, safety_governor, msc,
policy_store) are native configs from :mod:`stresslab.risk` (run in Rust, no Python in the loop)
or Python objects satisfying :mod:`stresslab.protocols` (run by :mod:`stresslab.risk_adapters`).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import polars as pl

from . import _core
from .data.schema import epoch_ms_expr
from .ensemble import ModelEnsemble, is_ensemble
from .errors import InvalidParameterError
from .exchange import ExchangeSimulator
from .loader import ScenarioLoader
from .results import ScenarioResult
from .risk_adapters import ComponentLoop, Precomputed, check_components, engine_risk_config, publish_events
from .scenarios import Scenario
from .strategies import (
    BarBatch,
    BatchStrategy,
    NativeStrategy,
    PerBarAdapter,
    PerBarStrategy,
    SmaCross,
    StrategyContext,
)

__all__ = ["ScenarioExecutor", "market_arrays"]

_PRICE_COLS = ("open", "high", "low", "close", "volume")
_RISK_COMPONENTS = ("orchestrator", "risk_guard", "portfolio_balancer", "safety_governor", "msc", "policy_store")
CORRUPT_FLAG = 16
"""Bit of ``stress_flags`` that the data-corruption transform sets."""


def market_arrays(df: pl.DataFrame) -> dict[str, Any]:
    """Long bars -> the engine's columns: (n_symbols, n_bars) float arrays on one clock.

    Symbols missing a bar that another symbol has get NaN there (the exchange rejects orders on
    such bars and marks positions at the last valid close).
    """
    missing = [c for c in ("timestamp", "symbol", *_PRICE_COLS) if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"data: missing columns {missing}; expected timestamp, symbol, open, high, low, close, volume "
            f"(spread optional); found {df.columns}",
            "data",
        )
    if "path" in df.columns:
        if df["path"].n_unique() > 1:
            raise InvalidParameterError("data: holds several paths; run one path at a time", "data")
        df = df.drop("path")
    symbols = list(dict.fromkeys(df["symbol"].to_list()))
    ts_ms = epoch_ms_expr(df.schema["timestamp"])
    df = df.with_columns((pl.col("timestamp").cast(pl.Int64) if ts_ms is None else ts_ms).alias("_ts"))
    has_spread = "spread" in df.columns
    has_flags = "stress_flags" in df.columns
    # A corrupted feed: rows out of time order and repeated bars. The engine walks one clock, so
    # each (symbol, time) keeps its first row; both are counted as data-quality issues.
    prev = pl.col("_ts").shift(1).over("symbol")
    out_of_order = int(df.select((pl.col("_ts") < prev).sum()).item() or 0)
    n_rows = df.height
    df = df.unique(subset=["symbol", "_ts"], keep="first", maintain_order=True)
    duplicates = n_rows - df.height
    df = df.sort(["symbol", "_ts"]) if len(symbols) > 1 else df.sort("_ts")
    per_symbol = df.group_by("symbol", maintain_order=True).agg(pl.len()).to_dict(as_series=False)
    counts = dict(zip(per_symbol["symbol"], per_symbol["len"], strict=True))
    first = df.filter(pl.col("symbol") == symbols[0])["_ts"].to_numpy()
    same_clock = len(set(counts.values())) == 1 and all(
        np.array_equal(first, df.filter(pl.col("symbol") == s)["_ts"].to_numpy()) for s in symbols[1:]
    )
    cols = [*_PRICE_COLS] + (["spread"] if has_spread else []) + (["stress_flags"] if has_flags else [])
    if same_clock:
        order = {s: i for i, s in enumerate(symbols)}
        df = df.with_columns(pl.col("symbol").replace_strict(order, return_dtype=pl.Int64).alias("_k")).sort(
            ["_k", "_ts"]
        )
        timestamps = first
        n = len(timestamps)
        out = {c: df[c].to_numpy().reshape(len(symbols), n) for c in cols}
    else:
        timestamps = np.unique(df["_ts"].to_numpy())
        out = {}
        for c in cols:
            wide = (
                df.pivot(on="symbol", index="_ts", values=c)
                .join(pl.DataFrame({"_ts": timestamps}), on="_ts", how="right")
                .sort("_ts")
            )
            out[c] = np.stack([wide[s].to_numpy().astype(float) for s in symbols])
    missing = len(symbols) * len(timestamps) - df.height
    market: dict[str, Any] = {
        "symbols": symbols,
        "timestamps": np.ascontiguousarray(timestamps, dtype=np.int64),
        "feed_issues": {"duplicates": duplicates, "out_of_order": out_of_order, "missing_bars": missing},
    }
    for c in _PRICE_COLS:
        market[c] = np.ascontiguousarray(out[c], dtype=np.float64)
    market["spread"] = np.ascontiguousarray(out["spread"], dtype=np.float64) if has_spread else None
    if has_flags:
        market["flags"] = np.ascontiguousarray(np.nan_to_num(out["stress_flags"]).astype(np.uint32))
    else:
        market["flags"] = None
    return market


def _data_quality_issues(market: dict[str, Any]) -> int:
    """(symbol, bar) pairs flagged corrupt by the stress transform (``stress_flags`` bit 16) or
    whose prices cannot be traded: NaN/inf, non-positive, or high/low inconsistent."""
    o, h, low, c = (market[k] for k in ("open", "high", "low", "close"))
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(low) & np.isfinite(c))
        bad |= (low <= 0) | (h < np.maximum(o, c)) | (low > np.minimum(o, c))
        bad |= ~np.isfinite(market["volume"]) | (market["volume"] < 0)
    feed = market.get("feed_issues", {})
    if market.get("flags") is not None:
        # ground truth of the data-corruption transform; a duplicated row's flagged copy was
        # dropped on ingestion, so duplicates are added back
        bad |= (market["flags"] & CORRUPT_FLAG) != 0
        return int(bad.sum()) + feed.get("duplicates", 0)
    # missing bars already show as NaN rows above
    return int(bad.sum()) + feed.get("duplicates", 0) + feed.get("out_of_order", 0)


def _stress_onset(market: dict[str, Any]) -> int | None:
    """First bar any transform stressed (any ``stress_flags`` bit), if the data says."""
    flags = market.get("flags")
    if flags is None:
        return None
    hit = np.flatnonzero((flags != 0).any(axis=0))
    return int(hit[0]) if hit.size else None


class ScenarioExecutor:
    """Runs one scenario through a whole trading system (the seed's signature).

    Args:
        runtime_engine: the strategy: a native one (:mod:`stresslab.strategies`), an object with
            ``on_batch(bars, context)``, a seed-style object with ``generate_signals``, or an
            object with a ``models`` list (:mod:`stresslab.ensemble`). Default: ``SmaCross(24, 96)``.
        orchestrator, risk_guard, portfolio_balancer, safety_governor, msc, policy_store: the
            risk stack, each a native config of :mod:`stresslab.risk` or a Python object with the
            methods of its Protocol (:mod:`stresslab.protocols`); None passes everything through.
            ``**stresslab.risk.default_stack()`` gives a full native stack.
        exchange_simulator: an :class:`ExchangeSimulator` (default configuration if None).
        event_bus: an object with ``publish(event)`` (optionally ``publish_batch(df)``): receives
            every event, in batches.
        initial_capital: starting cash (> 0).
        batch_size: bars per Python call (>= 1); 1 is exact bar-by-bar.
        target: 'weight' (fraction of equity) or 'units' for Python strategies' decisions.
        scorecard: score the risk stack on every run (paired run without it, calm baseline;
            see :mod:`stresslab.scorecard`); triples the work.
    """

    def __init__(
        self,
        runtime_engine: Any = None,
        orchestrator: Any = None,
        risk_guard: Any = None,
        portfolio_balancer: Any = None,
        safety_governor: Any = None,
        msc: Any = None,
        policy_store: Any = None,
        exchange_simulator: ExchangeSimulator | None = None,
        event_bus: Any = None,
        initial_capital: float = 100_000.0,
        *,
        batch_size: int = 1024,
        loader: ScenarioLoader | None = None,
        target: str | None = None,
        rebalance: bool = False,
        max_abs_target: float = 10.0,
        record_events: bool = True,
        keep_equity_curve: bool = True,
        periods_per_year: float | None = None,
        scorecard: bool = False,
    ):
        self.components = {
            name: comp
            for name, comp in zip(
                _RISK_COMPONENTS, (orchestrator, risk_guard, portfolio_balancer, safety_governor, msc, policy_store)
            )
            if comp is not None
        }
        check_components(self.components, event_bus)
        if isinstance(initial_capital, bool) or not isinstance(initial_capital, (int, float)):
            raise InvalidParameterError(
                f"initial_capital: must be a number > 0, got {initial_capital!r}", "initial_capital"
            )
        if not (math.isfinite(initial_capital) and initial_capital > 0):
            raise InvalidParameterError(f"initial_capital: must be > 0, got {initial_capital}", "initial_capital")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidParameterError(f"batch_size: must be an integer >= 1, got {batch_size!r}", "batch_size")
        if target not in (None, "weight", "units"):
            raise InvalidParameterError(f"target: must be 'weight' or 'units', got {target!r}", "target")
        strategy = runtime_engine if runtime_engine is not None else SmaCross(24, 96)
        if not is_ensemble(strategy) and not isinstance(strategy, (NativeStrategy, BatchStrategy, PerBarStrategy)):
            raise InvalidParameterError(
                f"runtime_engine: {type(strategy).__name__} is not a strategy: it needs on_batch(bars, context) "
                "(BatchStrategy), generate_signals(bar, context) (PerBarStrategy), or a native strategy",
                "runtime_engine",
            )
        self.runtime_engine = strategy
        self.exchange_simulator = exchange_simulator or ExchangeSimulator()
        self.event_bus = event_bus
        self.initial_capital = float(initial_capital)
        self.batch_size = batch_size
        self.loader = loader or ScenarioLoader()
        self.target = target
        self.rebalance = bool(rebalance)
        self.max_abs_target = float(max_abs_target)
        self.record_events = record_events
        self.keep_equity_curve = keep_equity_curve
        self.periods_per_year = periods_per_year
        self.scorecard = bool(scorecard)

    def without_risk(self) -> ScenarioExecutor:
        """The same executor with every risk component off (the scorecard's paired run)."""
        twin = copy.copy(self)
        twin.components = {}
        twin.scorecard = False
        return twin

    # ------------------------------------------------------------------------------------------
    def run(self, scenario: Scenario, data: pl.DataFrame | None = None) -> ScenarioResult:
        """Run ``scenario`` (on ``data`` after applying its stress, or on the loader's bars).

        Never raises for a failing scenario: the result has success=False and a note.
        """
        try:
            result = self.run_bars(scenario, self.load_bars(scenario, data))
        except Exception as exc:  # a failing scenario must not take the batch down
            return ScenarioResult.failed(scenario, scenario.name, exc)
        if self.scorecard and self.components and result.success:
            from .scorecard import attach_scorecard

            attach_scorecard(self, scenario, data, result)
        return result

    def load_bars(self, scenario: Scenario, data: pl.DataFrame | None = None) -> pl.DataFrame:
        """The scenario's stressed bars (from ``data`` or the loader)."""
        if data is None:
            return self.loader.load_data(scenario)
        return data if scenario.is_unstressed else self.loader.apply_stress(data, scenario)

    def _configs(self, scenario: Scenario, market: dict, path: int) -> tuple[ExchangeSimulator, dict, list]:
        params = scenario.resolved_parameters()
        exchange = self.exchange_simulator.with_scenario(
            params, len(market["timestamps"]), lambda at: _bar_index(at, market["timestamps"])
        )
        target = self.target or getattr(self.runtime_engine, "target", "weight")
        engine_cfg = {
            "initial_capital": self.initial_capital,
            "target": target,
            "rebalance": self.rebalance,
            "rebalance_threshold": 0.0,
            "max_abs_target": self.max_abs_target,
            "keep_equity_curve": self.keep_equity_curve,
            "keep_trades": True,
            "record_events": self.record_events,
            "periods_per_year": self.periods_per_year,
            "seed": scenario.seed,
            "scenario": _core.scenario_key(scenario.name),
            "path": path,
        }
        engine_cfg["risk"], setup_failures = engine_risk_config(self.components)
        engine_cfg["record_signals"] = self.event_bus is not None
        return exchange, engine_cfg, setup_failures

    def native_job(self, scenario: Scenario, df: pl.DataFrame, path: int = 0) -> tuple | None:
        """(market, strategy spec, exchange config, engine config) when the whole system is native
        (native strategy and risk components, no event bus): the run can go to Rust with others
        (:class:`StressTestRunner`). None otherwise (then use :meth:`run_bars`)."""
        if not isinstance(self.runtime_engine, NativeStrategy) or self.event_bus is not None:
            return None
        market = market_arrays(df)
        exchange, engine_cfg, _ = self._configs(scenario, market, path)
        loop = ComponentLoop(self.components, market["symbols"], engine_cfg["target"], self.event_bus)
        if loop.active:
            return None
        spec = self.runtime_engine.spec()
        if spec["kind"] == "target_signals" and spec["targets"].shape[1] == 1 and len(market["symbols"]) > 1:
            raise InvalidParameterError("targets: one column given but the data has several symbols", "targets")
        return market, spec, exchange.to_config(), engine_cfg

    def result_from_output(
        self, scenario: Scenario, market: dict, out: dict, setup_failures: list | None = None
    ) -> ScenarioResult:
        if setup_failures is None:
            _, setup_failures = engine_risk_config(self.components)
        out["risk"]["component_failures"][:0] = [(0, slot, msg) for slot, msg in setup_failures]
        notes = [f"{len(market['symbols'])} symbols x {len(market['timestamps'])} bars"]
        if out["strategy_failures"]:
            notes.append(f"strategy failed {len(out['strategy_failures'])} time(s); the run went flat each time")
        return ScenarioResult.from_output(
            scenario,
            out,
            market["symbols"],
            market["timestamps"],
            data_quality_issues=_data_quality_issues(market),
            stress_onset_bar=_stress_onset(market),
            notes=notes,
        )

    def run_bars(self, scenario: Scenario, df: pl.DataFrame, path: int = 0) -> ScenarioResult:
        """Run on already-stressed bars (raises on bad input)."""
        market = market_arrays(df)
        exchange, engine_cfg, setup_failures = self._configs(scenario, market, path)
        strategy = self.runtime_engine
        target = engine_cfg["target"]
        loop = ComponentLoop(self.components, market["symbols"], target, self.event_bus)
        if isinstance(strategy, NativeStrategy):
            spec = strategy.spec()
            if spec["kind"] == "target_signals" and spec["targets"].shape[1] == 1 and len(market["symbols"]) > 1:
                raise InvalidParameterError("targets: one column given but the data has several symbols", "targets")
            if loop.active:  # Python components between a native strategy and the engine
                rows = _core.native_targets(market, spec)
                out = self._run_python(Precomputed(rows, target), market, exchange, engine_cfg, loop)
            else:
                out = _core.run_native_strategy(market, spec, exchange.to_config(), engine_cfg)
                if self.event_bus is not None:
                    failure = publish_events(self.event_bus, out["events"], market["symbols"], market["timestamps"])
                    if failure:
                        setup_failures.append(("event_bus", failure))
        else:
            try:
                strategy = copy.deepcopy(strategy)  # each run starts from the strategy's initial state
            except Exception:  # an uncopyable strategy object is used as it is (and reset if it can)
                pass
            out = self._run_python(strategy, market, exchange, engine_cfg, loop)
        return self.result_from_output(scenario, market, out, setup_failures)

    def _run_python(
        self, strategy: Any, market: dict, exchange: ExchangeSimulator, cfg: dict, loop: ComponentLoop | None = None
    ) -> dict:
        if loop is None:
            loop = ComponentLoop(self.components, market["symbols"], cfg["target"], self.event_bus)
        engine = _core.PyEngine(market, exchange.to_config(), cfg)
        if callable(getattr(strategy, "reset", None)):
            strategy.reset()  # a strategy object reused across runs starts afresh (as native ones do)
        ensemble = None
        if is_ensemble(strategy):
            strategy = ensemble = ModelEnsemble(strategy, self.max_abs_target)
        elif not isinstance(strategy, BatchStrategy):
            strategy = PerBarAdapter(strategy)
        precomputed = isinstance(strategy, Precomputed)
        bar_by_bar = isinstance(strategy, PerBarAdapter) or (ensemble is not None and ensemble.bar_by_bar)
        batch = 1 if bar_by_bar else self.batch_size
        symbols = market["symbols"]
        n_sym = len(symbols)
        market["_T"] = {c: market[c].T for c in _PRICE_COLS}
        market["_T"]["spread"] = (
            market["spread"].T if market["spread"] is not None else np.full((len(market["timestamps"]), n_sym), np.nan)
        )
        ctx = StrategyContext(symbols=symbols)
        timestamps = market["timestamps"]
        n = engine.n_bars
        for t0 in range(0, n, batch):
            t1 = min(n, t0 + batch)
            ctx.cash, ctx.equity, ctx.positions, ctx.open_orders = engine.context()
            ctx.bar_index = t0
            try:
                raw = strategy.on_batch(BarBatch(market, t0, t1), ctx)
                decisions = _as_decisions(raw, t1 - t0, n_sym, allow_nan=precomputed, check_values=loop.per_bar)
                confidence = _confidence(strategy, t1 - t0, n_sym)
                failed = None
            except Exception as exc:  # a user's strategy that raises is recorded, not fatal
                failed = f"{type(exc).__name__}: {exc}"
            if ensemble is not None:
                for bar, model, message in ensemble.take_failures():
                    engine.model_failed(bar, model, message)
            if failed is not None:
                engine.strategy_failed(t0, failed)
                if loop.per_bar:
                    for t in range(t0, t1):
                        engine.process(t)
                        loop.after_mark(engine)
                else:
                    engine.skip_batch(t0, t1)
            else:
                decisions = loop.pre_batch(engine, decisions)
                if not loop.per_bar:
                    engine.step_batch(t0, decisions, confidence, allow_hold=precomputed)
                else:
                    for k, t in enumerate(range(t0, t1)):
                        engine.process(t)
                        loop.after_mark(engine)
                        c = None if confidence is None else confidence[k]
                        engine.decide(loop.decide_row(engine, decisions[k], c), c)
            loop.deliver(engine, timestamps)
        out = engine.finish()
        if loop.batch_denials:
            denials = out["risk"]["denials"]
            denials["external"] = denials.get("external", 0) + loop.batch_denials
        return out


def _confidence(strategy: Any, n_rows: int, n_sym: int) -> np.ndarray | None:
    """The confidence rows of the last batch, when the strategy gives them (per-bar signals do)."""
    conf = getattr(strategy, "last_confidence", None)
    if conf is None:
        return None
    arr = np.ascontiguousarray(conf, dtype=np.float64)
    if arr.shape != (n_rows, n_sym) or not ((arr >= 0) & (arr <= 1)).all():
        raise ValueError(f"last_confidence must be ({n_rows}, {n_sym}) values in [0, 1], got shape {arr.shape}")
    return arr


def _as_decisions(raw: Any, n_rows: int, n_sym: int, allow_nan: bool = False, check_values: bool = True) -> np.ndarray:
    """The decision rows as a (n_rows, n_sym) float array. ``check_values=False`` leaves the NaN/inf
    check to the engine (``step_batch`` does it in Rust, which saves a numpy pass per call)."""
    arr = np.asarray(raw, dtype=np.float64)
    if arr.ndim == 1 and n_sym == 1:
        arr = arr[:, None]
    elif arr.ndim == 1 and arr.shape[0] == n_sym and n_rows == 1:
        arr = arr[None, :]
    if arr.shape != (n_rows, n_sym):
        raise ValueError(f"decisions must have shape ({n_rows}, {n_sym}) (bars x symbols), got {arr.shape}")
    if check_values and (np.isinf(arr).any() or (not allow_nan and np.isnan(arr).any())):
        raise ValueError("decisions contain NaN or infinite values")
    return np.ascontiguousarray(arr)


def _bar_index(at: Any, timestamps: np.ndarray) -> int:
    if isinstance(at, int):
        return at
    if at in (None, "random"):
        return len(timestamps) // 2
    from .scenarios import _parse_time

    ms = int(_parse_time(at, "outage_at").timestamp() * 1000)
    return int(np.searchsorted(timestamps, ms))
