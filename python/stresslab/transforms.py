"""Stress transforms: turn calm or historical bars into the stressed market of a scenario.

The work happens in Rust (``rust/stresslab-core/src/stress``); this module maps scenarios to
transform steps and hands the bars over as Arrow (zero-copy from polars).

Entry points:

- :class:`ScenarioTransformer` ``.apply(df, scenario)`` (what :class:`~stresslab.ScenarioLoader`
  calls) and ``.apply_with_record(df, scenario) -> (df, record)``;
- one function per transform: :func:`apply_flash_crash`, :func:`apply_volatility_spike`,
  :func:`apply_liquidity_drop`, :func:`apply_spread_explosion`, :func:`apply_data_corruption`,
  :func:`apply_correlation_breakdown`, :func:`apply_pump_and_dump` (``return_record=True``
  also returns the record).

Input: the long format of :func:`stresslab.synthetic_market` (``path`` optional, ``timestamp``,
``symbol``, ``open``, ``high``, ``low``, ``close``, ``volume``, ``spread`` optional; other columns
are carried along). With a ``path`` column each path is stressed independently (the path value
keys its random streams, so path k stressed alone gives the same bars). Historical data without
``spread`` works: spread stresses start from ``base_spread`` (1 bp, REALISM.md's calm BTCUSDT
level) and add a ``spread`` column only when a transform changes spreads.

Output: the same columns (prices, volume and spread as Float64) plus ``stress_flags``, a UInt32
bitmask per row of the transforms that stressed the bar (:data:`STRESS_FLAGS`: 1 flash_crash,
2 volatility_spike, 4 liquidity_drop, 8 spread_explosion, 16 data_corruption,
32 correlation_breakdown, 64 pump_and_dump). An existing ``stress_flags`` column is OR-ed into,
so transforms can be chained. Bars after a crash or pump and dump are rescaled to stay continuous
(their returns are unchanged) but not flagged. Rows come out sorted by (path, symbol, timestamp)
(the order of ``synthetic_market``; other orders are sorted). Data corruption's ``duplicate`` adds
a row, ``gap`` removes one and ``out_of_order`` swaps two.

The record (one row per event): ``path`` (when the input has it), ``symbol``, ``transform``,
``kind`` (phase such as ``crash``/``recovery``, ``pump``/``dump``, ``window``, or the corruption
kind), ``bar`` and ``end_bar`` (indices into the input's (path, symbol) series, end exclusive),
``timestamp`` and ``end_timestamp`` (first and last bar), ``column`` (what a corruption hit),
``level_factor`` (price factor applied after the window) and ``value`` (spike factor, target
correlation, multiplier, ...). The data-corruption rows are the ground truth of what was corrupted.

Positions (``at``): a bar index, an ISO-8601 time, or ``"random"`` (drawn from the seed, the same
time for every symbol of a path). A MIXED_CUSTOM scenario applies its stresses in
:data:`MIXED_ORDER` (documented in ``rust/stresslab-core/src/stress/mixed.rs``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import polars as pl

from . import _core
from .errors import DataError, InvalidParameterError
from .scenarios import MAX_SEED, PARAMETER_SPECS, Scenario, ScenarioType, _parse_time

__all__ = [
    "DEFAULT_BASE_SPREAD",
    "MIXED_ORDER",
    "STRESS_FLAGS",
    "ScenarioTransformer",
    "StressStep",
    "apply_correlation_breakdown",
    "apply_data_corruption",
    "apply_flash_crash",
    "apply_liquidity_drop",
    "apply_pump_and_dump",
    "apply_spread_explosion",
    "apply_stress_steps",
    "apply_volatility_spike",
    "scenario_steps",
]

STRESS_FLAGS: dict[str, int] = dict(_core.stress_flag_bits())
"""Bit of each transform in the ``stress_flags`` column."""
MIXED_ORDER: tuple[str, ...] = tuple(_core.mixed_order())
"""Order in which a MIXED_CUSTOM scenario applies its stresses."""
DEFAULT_BASE_SPREAD = 1e-4
"""Spread (1 bp) assumed for data without a ``spread`` column when a transform changes spreads."""

_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Numeric parameters of each transform (canonical names, as the Rust constructors take them).
_NUMERIC: dict[str, tuple[str, ...]] = {
    "flash_crash": ("drop_pct", "duration_bars", "recovery_bars", "recovery_pct", "volume_mult", "spread_mult"),
    "volatility_spike": ("multiplier", "duration_bars"),
    "liquidity_drop": ("drop_pct", "duration_bars", "spread_elasticity"),
    "spread_explosion": ("spread_mult", "duration_bars"),
    "data_corruption": ("corruption_pct",),
    "correlation_breakdown": ("duration_bars", "target_correlation"),
    "pump_and_dump": ("pump_pct", "pump_bars", "dump_pct", "dump_bars", "volume_mult"),
}
# The string parameter each transform takes, if any.
_CHOICE = {"data_corruption": "corruption_types", "correlation_breakdown": "mode"}

_SINGLE: dict[ScenarioType, str] = {
    ScenarioType.FLASH_CRASH: "flash_crash",
    ScenarioType.VOLATILITY_SPIKE: "volatility_spike",
    ScenarioType.LIQUIDITY_DROP: "liquidity_drop",
    ScenarioType.SPREAD_EXPLOSION: "spread_explosion",
    ScenarioType.DATA_CORRUPTION: "data_corruption",
    ScenarioType.CORRELATION_BREAKDOWN: "correlation_breakdown",
    ScenarioType.PUMP_AND_DUMP: "pump_and_dump",
}

# MIXED_CUSTOM (and HISTORIC_REPLAY) names: transform -> (switch parameters, canonical -> seed name).
# A stress is applied when one of its switch parameters is given.
_MIXED_NAMES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "flash_crash": (
        ("flash_crash_drop_pct",),
        {
            "drop_pct": "flash_crash_drop_pct",
            "duration_bars": "flash_crash_duration_bars",
            "recovery_bars": "flash_crash_recovery_bars",
            "recovery_pct": "flash_crash_recovery_pct",
            "volume_mult": "flash_crash_volume_mult",
            "spread_mult": "flash_crash_spread_mult",
            "at": "flash_crash_at",
        },
    ),
    "volatility_spike": (
        ("volatility_multiplier",),
        {"multiplier": "volatility_multiplier", "duration_bars": "volatility_duration_bars", "at": "volatility_at"},
    ),
    "liquidity_drop": (
        ("liquidity_drop_pct",),
        {
            "drop_pct": "liquidity_drop_pct",
            "duration_bars": "liquidity_duration_bars",
            "spread_elasticity": "liquidity_spread_elasticity",
            "at": "liquidity_at",
        },
    ),
    "spread_explosion": (
        ("spread_mult",),
        {"spread_mult": "spread_mult", "duration_bars": "spread_duration_bars", "at": "spread_at"},
    ),
    "data_corruption": (
        ("corruption_pct",),
        {"corruption_pct": "corruption_pct", "corruption_types": "corruption_types"},
    ),
    "correlation_breakdown": (
        ("correlation_mode", "correlation_target"),
        {
            "mode": "correlation_mode",
            "target_correlation": "correlation_target",
            "duration_bars": "correlation_duration_bars",
            "at": "correlation_at",
        },
    ),
    "pump_and_dump": (
        ("pump_pct",),
        {
            "pump_pct": "pump_pct",
            "pump_bars": "pump_bars",
            "dump_pct": "dump_pct",
            "dump_bars": "dump_bars",
            "volume_mult": "pump_volume_mult",
            "at": "pump_at",
        },
    ),
}


@dataclass(frozen=True)
class StressStep:
    """One transform to apply: canonical parameters, the symbols it hits and where it starts.

    ``aliases`` maps canonical parameter names to the names the user wrote (errors use them).
    """

    transform: str
    params: Mapping[str, Any]
    symbols: Sequence[str] | None = None
    at: Any = "random"
    aliases: Mapping[str, str] = field(default_factory=dict)

    def _native(self) -> dict[str, Any]:
        choice = _CHOICE.get(self.transform)
        numeric = {k: float(v) for k, v in self.params.items() if k != choice and v is not None}
        choices = self.params.get(choice) if choice else None
        if isinstance(choices, str):
            choices = [choices]
        at_kind, at_value = _position(self.at, self.aliases.get("at", "at"))
        return {
            "transform": self.transform,
            "params": numeric,
            "choices": list(choices) if choices else [],
            "symbols": None if self.symbols is None else [str(s) for s in self.symbols],
            "at": at_kind,
            "at_value": at_value,
            "aliases": dict(self.aliases),
        }


def _position(at: Any, name: str) -> tuple[str, int]:
    """('random' | 'bar' | 'time', value) of a position parameter."""
    if at is None or at == "random":
        return "random", 0
    if isinstance(at, bool):
        raise InvalidParameterError(f"{name}: must be a bar index >= 0, an ISO-8601 time or 'random', got {at!r}", name)
    if isinstance(at, int):
        if at < 0:
            raise InvalidParameterError(f"{name}: must be a bar index >= 0, got {at}", name)
        return "bar", at
    if isinstance(at, (str, datetime)):
        dt = _parse_time(at, name)
        return "time", (dt - _EPOCH) // timedelta(milliseconds=1)
    raise InvalidParameterError(f"{name}: must be a bar index >= 0, an ISO-8601 time or 'random', got {at!r}", name)


def scenario_steps(scenario: Scenario) -> list[StressStep]:
    """The transform steps a scenario asks for (empty for an unstressed scenario)."""
    params = scenario.resolved_parameters()
    symbols = params.get("symbols")
    if scenario.type in _SINGLE:
        name = _SINGLE[scenario.type]
        wanted = _NUMERIC[name] + ((_CHOICE[name],) if name in _CHOICE else ())
        canonical = {k: params[k] for k in wanted if params.get(k) is not None}
        return [StressStep(name, canonical, symbols, params.get("at", "random"))]
    steps = []
    given = scenario.parameters
    for name, (switches, names) in _MIXED_NAMES.items():
        if not any(given.get(s) is not None for s in switches):
            continue
        canonical = {c: params[u] for c, u in names.items() if c != "at" and params.get(u) is not None}
        if name == "correlation_breakdown":
            canonical.setdefault("mode", "decorrelate")
        steps.append(StressStep(name, canonical, symbols, params.get(names.get("at", ""), "random"), names))
    return steps


# ---------------------------------------------------------------------------------------------
# Running steps over a frame


def _prepared(df: Any) -> pl.DataFrame:
    """Check the frame's columns and cast the few dtypes the native side does not read directly
    (schema checks only: for a ``synthetic_market`` frame nothing is copied)."""
    if not isinstance(df, pl.DataFrame):
        raise DataError(f"data: must be a polars DataFrame in the long bar format, got {type(df).__name__}")
    missing = [c for c in ("timestamp", "symbol", *_PRICE_COLUMNS) if c not in df.columns]
    if missing:
        raise DataError(
            f"data: missing column(s) {missing}; stress transforms need timestamp, symbol, open, high, low, "
            "close, volume (spread and path optional)"
        )
    schema = df.schema
    casts = []
    for c in (*_PRICE_COLUMNS, "spread"):
        if c in schema and schema[c] != pl.Float64:
            if not schema[c].is_numeric():
                raise DataError(f"{c}: must be a numeric column, got {schema[c]}")
            casts.append(pl.col(c).cast(pl.Float64))
    ts = schema["timestamp"]
    if not isinstance(ts, pl.Datetime) and not ts.is_integer():
        raise DataError(f"timestamp: must be a datetime or integer milliseconds column, got {ts}")
    if ts.is_integer() and ts != pl.Int64:
        casts.append(pl.col("timestamp").cast(pl.Int64))
    if schema["symbol"] != pl.String:
        casts.append(pl.col("symbol").cast(pl.String))
    for c in ("path", "stress_flags"):
        if c in schema and schema[c] != pl.UInt32:
            if not schema[c].is_integer():
                raise DataError(f"{c}: must be an integer column, got {schema[c]}")
            casts.append(pl.col(c).cast(pl.UInt32))
    return df.with_columns(casts) if casts else df


def apply_stress_steps(
    df: pl.DataFrame,
    steps: Sequence[StressStep],
    *,
    seed: int = 42,
    scenario: str = "stress",
    symbol_order: Sequence[str] | None = None,
    mixed: bool = True,
    base_spread: float = DEFAULT_BASE_SPREAD,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply steps to a long bar frame; returns (stressed frame, record).

    Args:
        df: bars in the long format (see the module docs).
        steps: the transforms; with ``mixed=True`` they run in :data:`MIXED_ORDER`, else as given.
        seed, scenario: key the random streams (with the path and the symbol's index).
        symbol_order: symbol order that sets each symbol's index (then order of appearance);
            the scenario's symbols, so synthetic and stressed data share indices.
        base_spread: spread assumed when the frame has no ``spread`` column.
    """
    table, record = _apply_steps(
        df, steps, seed=seed, scenario=scenario, symbol_order=symbol_order, mixed=mixed, base_spread=base_spread
    )
    return table, cast(pl.DataFrame, record)  # built when asked for


def _apply_steps(
    df: pl.DataFrame,
    steps: Sequence[StressStep],
    *,
    seed: int,
    scenario: str,
    symbol_order: Sequence[str] | None,
    mixed: bool = True,
    base_spread: float = DEFAULT_BASE_SPREAD,
    record: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """:func:`apply_stress_steps`, building the record only when ``record`` (callers that return
    only the stressed frame skip its cost)."""
    df = _prepared(df)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidParameterError(f"seed: must be an integer in [0, 2**64 - 1], got {seed!r}", "seed")
    if not (isinstance(base_spread, (int, float)) and 0 < base_spread < 1):
        raise InvalidParameterError(f"base_spread: must be a fraction in (0, 1), got {base_spread!r}", "base_spread")
    native = [st._native() for st in steps]
    table, rec = _core.apply_stress(
        df, native, seed, scenario, [str(s) for s in symbol_order or []], float(base_spread), mixed, record
    )
    return pl.DataFrame(table), None if rec is None else pl.DataFrame(rec)


# ---------------------------------------------------------------------------------------------
# Scenario entry point


class ScenarioTransformer:
    """Applies a scenario's stress to market data (the seed-compatible entry point).

    Args:
        base_spread: spread assumed for data without a ``spread`` column (default 1 bp).
    """

    def __init__(self, base_spread: float = DEFAULT_BASE_SPREAD) -> None:
        self.base_spread = base_spread

    def apply(self, df: pl.DataFrame, scenario: Scenario) -> pl.DataFrame:
        """The stressed bars (see the module docs for the columns)."""
        return self._apply(df, scenario, record=False)[0]

    def apply_with_record(self, df: pl.DataFrame, scenario: Scenario) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The stressed bars and the record of what changed (one row per event)."""
        table, record = self._apply(df, scenario, record=True)
        return table, cast(pl.DataFrame, record)  # built when asked for

    def _apply(self, df: pl.DataFrame, scenario: Scenario, record: bool) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        if not isinstance(scenario, Scenario):
            raise InvalidParameterError(f"scenario: must be a Scenario, got {type(scenario).__name__}", "scenario")
        return _apply_steps(
            df,
            scenario_steps(scenario),
            seed=scenario.seed,
            scenario=scenario.name,
            symbol_order=scenario.symbols,
            base_spread=self.base_spread,
            record=record,
        )


# ---------------------------------------------------------------------------------------------
# One function per transform


def _single(
    df: pl.DataFrame,
    stype: ScenarioType,
    params: dict[str, Any],
    *,
    symbols: Sequence[str] | None,
    at: Any,
    seed: int,
    scenario: str,
    return_record: bool,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    if symbols is not None:
        if isinstance(symbols, str) or not isinstance(symbols, Sequence) or not symbols:
            raise InvalidParameterError(f"symbols: must be a non-empty list of symbols, got {symbols!r}", "symbols")
        params["symbols"] = list(symbols)
    if "at" in PARAMETER_SPECS[stype]:
        params["at"] = at
    # The Scenario validates kinds and ranges (errors name the parameter); Rust checks them again
    # and checks the symbols against the data. Symbols take their index from the data's order.
    sc = Scenario(scenario, stype, params, symbols=list(symbols) if symbols else ["*"], seed=seed)
    out, rec = _apply_steps(
        df, scenario_steps(sc), seed=seed, scenario=scenario, symbol_order=None, record=return_record
    )
    return (out, rec) if return_record and rec is not None else out


def _spec_default(stype: ScenarioType, name: str) -> Any:
    return PARAMETER_SPECS[stype][name].default


def apply_flash_crash(
    df: pl.DataFrame,
    drop_pct: float = 0.20,
    duration_bars: int = 6,
    recovery_bars: int = 24,
    recovery_pct: float = 0.5,
    volume_mult: float = 8.0,
    spread_mult: float = 5.0,
    *,
    symbols: Sequence[str] | None = None,
    at: int | str | datetime = "random",
    seed: int = 42,
    scenario: str = "stress",
    return_record: bool = False,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """Flash crash: fall by ``drop_pct`` over ``duration_bars``, recover ``recovery_pct`` of the
    fall over ``recovery_bars``; volume x ``volume_mult`` and spread x ``spread_mult`` in the crash
    (decaying back over the recovery). See the module docs for ``symbols``, ``at`` and the output."""
    params = dict(
        drop_pct=drop_pct,
        duration_bars=duration_bars,
        recovery_bars=recovery_bars,
        recovery_pct=recovery_pct,
        volume_mult=volume_mult,
        spread_mult=spread_mult,
    )
    return _single(
        df,
        ScenarioType.FLASH_CRASH,
        params,
        symbols=symbols,
        at=at,
        seed=seed,
        scenario=scenario,
        return_record=return_record,
    )


def apply_volatility_spike(
    df: pl.DataFrame,
    multiplier: float = 3.0,
    duration_bars: int = 48,
    *,
    symbols: Sequence[str] | None = None,
    at: int | str | datetime = "random",
    seed: int = 42,
    scenario: str = "stress",
    return_record: bool = False,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """Volatility spike: the window's returns (around their mean) and intrabar range scaled by
    ``multiplier``; realized volatility rises by exactly that factor, bars outside are untouched."""
    params = dict(multiplier=multiplier, duration_bars=duration_bars)
    return _single(
        df,
        ScenarioType.VOLATILITY_SPIKE,
        params,
        symbols=symbols,
        at=at,
        seed=seed,
        scenario=scenario,
        return_record=return_record,
    )


def apply_liquidity_drop(
    df: pl.DataFrame,
    drop_pct: float = 0.7,
    duration_bars: int = 24,
    spread_elasticity: float = 0.5,
    *,
    symbols: Sequence[str] | None = None,
    at: int | str | datetime = "random",
    seed: int = 42,
    scenario: str = "stress",
    return_record: bool = False,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """Liquidity drop: volume x (1 - ``drop_pct``), spread x (1 - ``drop_pct``) ** -``spread_elasticity``."""
    params = dict(drop_pct=drop_pct, duration_bars=duration_bars, spread_elasticity=spread_elasticity)
    return _single(
        df,
        ScenarioType.LIQUIDITY_DROP,
        params,
        symbols=symbols,
        at=at,
        seed=seed,
        scenario=scenario,
        return_record=return_record,
    )


def apply_spread_explosion(
    df: pl.DataFrame,
    spread_mult: float = 10.0,
    duration_bars: int = 12,
    *,
    symbols: Sequence[str] | None = None,
    at: int | str | datetime = "random",
    seed: int = 42,
    scenario: str = "stress",
    return_record: bool = False,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """Spread explosion: spread x ``spread_mult`` for ``duration_bars``."""
    params = dict(spread_mult=spread_mult, duration_bars=duration_bars)
    return _single(
        df,
        ScenarioType.SPREAD_EXPLOSION,
        params,
        symbols=symbols,
        at=at,
        seed=seed,
        scenario=scenario,
        return_record=return_record,
    )


def apply_data_corruption(
    df: pl.DataFrame,
    corruption_pct: float = 0.01,
    corruption_types: Sequence[str] | None = None,
    *,
    symbols: Sequence[str] | None = None,
    seed: int = 42,
    scenario: str = "stress",
    return_record: bool = False,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """Data corruption: ``round(corruption_pct * bars)`` bars of each (path, symbol) series
    corrupted with ``corruption_types`` (default: all of :data:`~stresslab.CORRUPTION_TYPES`);
    the record's rows are the ground truth (bar, kind, column)."""
    types = (
        list(corruption_types)
        if corruption_types is not None
        else _spec_default(ScenarioType.DATA_CORRUPTION, "corruption_types")
    )
    params = dict(corruption_pct=corruption_pct, corruption_types=types)
    return _single(
        df,
        ScenarioType.DATA_CORRUPTION,
        params,
        symbols=symbols,
        at=None,
        seed=seed,
        scenario=scenario,
        return_record=return_record,
    )


def apply_correlation_breakdown(
    df: pl.DataFrame,
    mode: str = "decorrelate",
    target_correlation: float | None = None,
    duration_bars: int = 72,
    *,
    symbols: Sequence[str] | None = None,
    at: int | str | datetime = "random",
    seed: int = 42,
    scenario: str = "stress",
    return_record: bool = False,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """Correlation breakdown: the pairwise correlation of the symbols' log returns in the window set
    to ``target_correlation`` (or by ``mode``: decorrelate = 0, converge = 1, invert = mirror every
    symbol but the first), each symbol keeping its own volatility. Needs two or more symbols."""
    params: dict[str, Any] = dict(mode=mode, duration_bars=duration_bars)
    if target_correlation is not None:
        params["target_correlation"] = target_correlation
    return _single(
        df,
        ScenarioType.CORRELATION_BREAKDOWN,
        params,
        symbols=symbols,
        at=at,
        seed=seed,
        scenario=scenario,
        return_record=return_record,
    )


def apply_pump_and_dump(
    df: pl.DataFrame,
    pump_pct: float = 0.5,
    pump_bars: int = 12,
    dump_pct: float = 0.6,
    dump_bars: int = 6,
    volume_mult: float = 10.0,
    *,
    symbols: Sequence[str] | None = None,
    at: int | str | datetime = "random",
    seed: int = 42,
    scenario: str = "stress",
    return_record: bool = False,
) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """Pump and dump: rise by ``pump_pct`` over ``pump_bars``, fall by ``dump_pct`` from the top over
    ``dump_bars``, volume x ``volume_mult`` in both phases."""
    params = dict(
        pump_pct=pump_pct, pump_bars=pump_bars, dump_pct=dump_pct, dump_bars=dump_bars, volume_mult=volume_mult
    )
    return _single(
        df,
        ScenarioType.PUMP_AND_DUMP,
        params,
        symbols=symbols,
        at=at,
        seed=seed,
        scenario=scenario,
        return_record=return_record,
    )
