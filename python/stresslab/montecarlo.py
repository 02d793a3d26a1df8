"""Monte Carlo sweeps: every scenario x parameter-grid point x path, in parallel, one row per path.

``monte_carlo(scenarios, strategy, n_paths=1000, seed=None, grid={...})`` runs, for each
combination, paths 0..n_paths-1 of the scenario's synthetic market, stressed by its transforms,
through the native strategy, exchange and accounting, all in Rust on ``max_workers`` threads with
the GIL released. Only a summary row per path is kept (memory is flat in the number of paths);
equity curves are recomputed afterwards for the ``keep_worst`` deepest-drawdown paths of each
combination (a path depends only on its index, so re-running it alone reproduces it exactly).
Rows stream to a Parquet file as they come (``parquet_path``). Ctrl-C keeps the chunks that
finished (``result.interrupted`` says so). The same seed gives the same table on any thread count.

Path 0 of a scenario is the very run ``ScenarioExecutor(strategy).run(scenario)`` makes.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from . import _core
from .errors import InvalidParameterError
from .exchange import ExchangeSimulator
from .market import _market_kwargs
from .scenarios import MAX_SEED, Scenario, ScenarioType
from .strategies import NativeStrategy, SmaCross

__all__ = ["monte_carlo", "MonteCarloResult"]

QUANTILES = (0.01, 0.05, 0.50, 0.95)


@dataclass
class MonteCarloResult:
    """``table``: one row per path (scenario, grid parameters, path, every metric and counter).
    ``summary``: one row per scenario x grid point with quantiles (p1, p5, p50, p95) of max
    drawdown (%) and total return (%), probability of ruin, expected shortfall of the return
    (mean of the worst 5% of paths, %), emergency-stop frequency, and bars per second.
    ``worst_paths``: {(scenario, grid point, path): equity curve} for the deepest drawdowns."""

    table: pl.DataFrame
    summary: pl.DataFrame
    worst_paths: dict[tuple, np.ndarray] = field(default_factory=dict)
    interrupted: bool = False
    elapsed_s: float = 0.0
    bars: int = 0

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.elapsed_s if self.elapsed_s > 0 else math.nan


def _grid_points(grid: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    if not grid:
        return [{}]
    if not isinstance(grid, Mapping):
        raise InvalidParameterError("grid: must be a mapping parameter -> list of values", "grid")
    names = list(grid)
    for k in names:
        v = grid[k]
        if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or len(v) == 0:
            raise InvalidParameterError(f"grid: values of {k!r} must be a non-empty list", k)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in names))]


def _market_dict(sc: Scenario) -> dict[str, Any]:
    mp = dict(sc.market_params)
    correlation = mp.pop("correlation", None)
    stress_correlation = mp.pop("stress_correlation", None)
    market = mp.pop("market", None)
    profiles = {k: v for k, v in mp.items() if isinstance(v, dict)} or None
    flat = {k: v for k, v in mp.items() if not isinstance(v, dict)}
    kw = _market_kwargs(
        sc.symbols, sc.bar_count, sc.interval, sc.seed, 1, sc.market_model, sc.start_time, sc.name,
        sc.initial_prices or None, correlation, stress_correlation, profiles, market, flat,
    )  # fmt: skip
    kw.pop("n_paths")
    return kw


def monte_carlo(
    scenarios: Scenario | Sequence[Scenario],
    strategy: NativeStrategy | None = None,
    n_paths: int = 1000,
    seed: int | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    exchange_simulator: ExchangeSimulator | None = None,
    initial_capital: float = 100_000.0,
    max_workers: int | None = None,
    chunk_size: int | None = None,
    keep_worst: int = 5,
    keep_curves: Sequence[int] = (),
    parquet_path: str | os.PathLike | None = None,
    progress: bool | None = None,
    source: str = "synthetic",
    risk: dict[str, Any] | None = None,
    data: pl.DataFrame | None = None,
    block_length: float | None = None,
    bootstrap_bars: int | None = None,
) -> MonteCarloResult:
    """Sweep scenarios x grid x paths (see the module docs).

    Args:
        scenarios: one Scenario or a list (synthetic ones; HISTORIC_REPLAY is not sampled here).
        strategy: a native strategy (default SmaCross(24, 96)).
        n_paths: paths per scenario and grid point (>= 1).
        seed: overrides every scenario's seed when given.
        grid: scenario parameter -> list of values; every combination is run.
        keep_worst: equity curves kept for this many deepest-drawdown paths per combination.
        keep_curves: path indices whose curves are kept in any case.
        parquet_path: stream the per-path rows to this Parquet file.
        risk: the native risk stack for every path, e.g. ``stresslab.risk.default_stack()`` (a dict
            slot -> native component of :mod:`stresslab.risk`); Python components are not allowed
            in sweeps. Emergency stops and policy transitions are counted per path.
        source: 'synthetic' (the scenario's market model) or 'bootstrap': paths resampled by a
            stationary block bootstrap (Politis-Romano) from real bars, ``data`` or, when None,
            the scenario's own bars (a HISTORIC_REPLAY of bundled data, for instance); the
            scenario's stress is applied on top.
        block_length: mean block length in bars for the bootstrap (None: Politis-White automatic).
        bootstrap_bars: bars per bootstrapped path (default: as many as the source has returns).
    """
    from .transforms import scenario_steps

    scs = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    if not scs:
        raise InvalidParameterError("scenarios: the list is empty; give at least one Scenario", "scenarios")
    names = [s.name for s in scs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise InvalidParameterError(f"scenarios: duplicate scenario name(s) {sorted(dup)}", "scenarios")
    if source not in ("synthetic", "bootstrap"):
        raise InvalidParameterError(f"source: must be 'synthetic' or 'bootstrap', got {source!r}", "source")
    for s in scs:
        if s.type is ScenarioType.HISTORIC_REPLAY and source == "synthetic":
            raise InvalidParameterError(
                f"scenarios: {s.name!r} is a historic replay; sweep it with source='bootstrap' (resampled real "
                "history)",
                "scenarios",
            )
    strategy = strategy if strategy is not None else SmaCross(24, 96)
    if not isinstance(strategy, NativeStrategy):
        raise InvalidParameterError(
            "strategy: sweeps run native strategies (stresslab.strategies); use StressTestRunner for Python ones",
            "strategy",
        )
    if isinstance(n_paths, bool) or not isinstance(n_paths, int) or n_paths < 1:
        raise InvalidParameterError(f"n_paths: must be an integer >= 1, got {n_paths!r}", "n_paths")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED):
        raise InvalidParameterError(f"seed: must be an integer in [0, 2**64 - 1], got {seed!r}", "seed")
    workers = max_workers if max_workers is not None else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"max_workers: must be an integer >= 1, got {max_workers!r}", "max_workers")
    points = _grid_points(grid)
    # validate every combination before anything runs (an unknown grid parameter is an error)
    combos: list[tuple[Scenario, dict[str, Any]]] = []
    for s in scs:
        for point in points:
            try:
                params = {**s.parameters, **point}
                sc = replace(s, parameters=params, seed=seed if seed is not None else s.seed)
            except InvalidParameterError as exc:
                raise InvalidParameterError(f"grid: {exc}", exc.field) from exc
            combos.append((sc, point))
    exchange_simulator = exchange_simulator or ExchangeSimulator()
    risk_cfg = _native_risk(risk)
    chunk = chunk_size or max(64, 16 * workers)
    spec = strategy.spec()
    writer = None
    frames: list[pl.DataFrame] = []
    interrupted = False
    bars_done = 0
    t0 = time.perf_counter()
    jobs = []
    sources: dict[str, dict[str, Any]] = {}
    for sc, point in combos:
        if source == "bootstrap":
            boot = sources.get(sc.name)
            if boot is None:
                boot = sources[sc.name] = _bootstrap_spec(sc, data, block_length, bootstrap_bars)
            cols = boot["columns"]
            market = _market_dict(replace(sc, type=ScenarioType.MIXED_CUSTOM, parameters={}, symbols=cols["symbols"]))
            nb = bootstrap_bars or len(cols["timestamps"]) - 1
            timestamps = np.asarray(cols["timestamps"][1:][:nb], dtype=np.int64)
        else:
            boot = None
            market = _market_dict(sc)
            nb = market["n_bars"]
            timestamps = market["start_ms"] + market["interval_ms"] * np.arange(nb, dtype=np.int64)
        steps = [st._native() for st in scenario_steps(sc)]
        exch = exchange_simulator.with_scenario(
            sc.resolved_parameters(), nb, lambda at, ts=timestamps: _bar_index(at, ts)
        ).to_config()
        engine = {
            "initial_capital": float(initial_capital), "target": "weight", "rebalance": False,
            "rebalance_threshold": 0.0, "max_abs_target": 10.0, "keep_equity_curve": False, "keep_trades": False,
            "record_events": False, "periods_per_year": None, "seed": sc.seed,
            "scenario": _core.scenario_key(sc.name), "path": 0, "risk": risk_cfg,
        }  # fmt: skip
        jobs.append((sc, point, market, steps, exch, engine, boot, nb))
    try:
        from .runner import _Progress

        total_chunks = len(jobs) * math.ceil(n_paths / chunk)
        with _Progress(total_chunks, progress) as bar:
            for sc, point, market, steps, exch, engine, boot, nb in jobs:
                for first in range(0, n_paths, chunk):
                    n = min(chunk, n_paths - first)
                    cols = _core.run_sweep(
                        market, steps, spec, exch, engine, first, n, workers, [p for p in keep_curves], boot
                    )
                    cols.pop("equity_curves")
                    df = _rows(sc, point, cols)
                    frames.append(df)
                    bars_done += n * nb * len(market["symbols"])
                    if parquet_path is not None:
                        writer = _write(writer, parquet_path, df)
                    bar.advance()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if writer is not None:
            writer.close()
    elapsed = time.perf_counter() - t0
    table = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    summary = _summary(table, [k for k in (grid or {})], elapsed) if frames else pl.DataFrame()
    worst: dict[tuple, np.ndarray] = {}
    if keep_worst > 0 and frames and not interrupted:
        for sc, point, market, steps, exch, engine, boot, _nb in jobs:
            sel = table.filter(pl.col("scenario") == sc.name)
            for k, v in point.items():
                sel = sel.filter(pl.col(f"param_{k}") == v)
            paths = sel.sort("max_drawdown", descending=True, nulls_last=True)["path"].head(keep_worst).to_list()
            for p in paths:
                cols = _core.run_sweep(market, steps, spec, exch, engine, int(p), 1, 1, [int(p)], boot)
                curve = cols["equity_curves"].get(int(p))
                if curve is not None:
                    worst[(sc.name, tuple(sorted(point.items())), int(p))] = curve
    return MonteCarloResult(table, summary, worst, interrupted, elapsed, bars_done)


def _native_risk(risk: dict[str, Any] | None) -> dict[str, Any] | None:
    if not risk:
        return None
    from .risk import _Native, risk_config

    if not isinstance(risk, dict):
        raise InvalidParameterError("risk: must be a dict slot -> native component (see default_stack())", "risk")
    python = [slot for slot, c in risk.items() if c is not None and not isinstance(c, _Native)]
    if python:
        raise InvalidParameterError(
            f"risk: sweeps run native components only; {python} are Python objects (use StressTestRunner)", "risk"
        )
    return risk_config(risk)


def _bootstrap_spec(
    sc: Scenario, data: pl.DataFrame | None, block_length: float | None, n_bars: int | None
) -> dict[str, Any]:
    from .bootstrap import _check_block_length, _source_columns
    from .loader import ScenarioLoader

    df = data if data is not None else ScenarioLoader().load_market(sc)
    return {"columns": _source_columns(df), "n_bars": n_bars, "block_length": _check_block_length(block_length)}


def _rows(sc: Scenario, point: dict[str, Any], cols: dict[str, Any]) -> pl.DataFrame:
    n = len(cols["path"])
    df = pl.DataFrame({k: v for k, v in cols.items()})
    extra = [pl.lit(sc.name).alias("scenario"), pl.lit(sc.type.name).alias("scenario_type")]
    for k, v in point.items():
        extra.append(pl.lit(v if not isinstance(v, (list, tuple)) else str(v)).alias(f"param_{k}"))
    out = df.with_columns(extra)
    lead = ["scenario", "scenario_type", *[f"param_{k}" for k in point], "path"]
    assert out.height == n
    return out.select(lead + [c for c in out.columns if c not in lead])


def _write(writer, path, df: pl.DataFrame):
    import pyarrow.parquet as pq

    table = df.to_arrow()
    if writer is None:
        writer = pq.ParquetWriter(str(path), table.schema)
    writer.write_table(table.cast(writer.schema))
    return writer


def _summary(table: pl.DataFrame, grid_keys: list[str], elapsed: float) -> pl.DataFrame:
    keys = ["scenario", *[f"param_{k}" for k in grid_keys]]
    ret = pl.col("total_return") * 100.0
    aggs = [pl.len().alias("paths")]
    for q in QUANTILES:
        tag = f"p{round(q * 100)}"
        aggs.append(pl.col("max_drawdown").quantile(q, "linear").alias(f"max_drawdown_{tag}"))
        aggs.append(ret.quantile(q, "linear").alias(f"total_return_pct_{tag}"))
    aggs += [
        pl.col("ruined").cast(pl.Float64).mean().alias("prob_ruin"),
        ret.filter(ret <= ret.quantile(0.05, "linear")).mean().alias("expected_shortfall_pct_5"),
        pl.col("sharpe_ratio").median().alias("sharpe_p50"),
        pl.col("execution_failures").mean().alias("execution_failures_mean"),
    ]
    if "emergency_stops" in table.columns:
        aggs.append((pl.col("emergency_stops") > 0).cast(pl.Float64).mean().alias("emergency_stop_frequency"))
    else:
        aggs.append(pl.lit(0.0).alias("emergency_stop_frequency"))
    return table.group_by(keys, maintain_order=True).agg(aggs)


def _bar_index(at: Any, timestamps: np.ndarray) -> int:
    from .executor import _bar_index as idx

    return idx(at, timestamps)
