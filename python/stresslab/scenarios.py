"""Typed, validated scenario definitions.

A :class:`Scenario` names a stress (its :class:`ScenarioType` and parameters), the market it runs
on (symbols, interval, number of bars or start/end, initial prices, market model) and a seed.
Parameters are validated per type when the scenario is built: an unknown name lists the allowed
names; an out-of-range value names the field and its range. Scenarios round-trip through
dict/JSON/TOML/YAML so a team can keep a suite in version control (:func:`save_suite`,
:func:`load_suite`).

Units: parameters named ``*_pct`` are fractions (``drop_pct=0.20`` is 20%); a value above 1 is an
error that says so (``pump_pct`` is the one rise that may exceed 100%: up to 10 = +1000%).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import ScenarioValidationError

__all__ = [
    "ScenarioType",
    "Scenario",
    "ParamSpec",
    "PARAMETER_SPECS",
    "CORRUPTION_TYPES",
    "parse_interval",
    "save_suite",
    "load_suite",
]

DEFAULT_N_BARS = 8760
DEFAULT_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
MAX_SEED = 2**64 - 1
CORRUPTION_TYPES = ("nan", "spike", "duplicate", "gap", "stale", "out_of_order", "zero_volume", "negative")
CORRELATION_MODES = ("decorrelate", "invert", "converge")


class ScenarioType(str, Enum):
    """The nine kinds of scenario (values are the lower-case names used in files)."""

    HISTORIC_REPLAY = "historic_replay"
    FLASH_CRASH = "flash_crash"
    VOLATILITY_SPIKE = "volatility_spike"
    LIQUIDITY_DROP = "liquidity_drop"
    SPREAD_EXPLOSION = "spread_explosion"
    DATA_CORRUPTION = "data_corruption"
    CORRELATION_BREAKDOWN = "correlation_breakdown"
    PUMP_AND_DUMP = "pump_and_dump"
    MIXED_CUSTOM = "mixed_custom"

    @classmethod
    def parse(cls, value: Any) -> ScenarioType:
        if isinstance(value, ScenarioType):
            return value
        if isinstance(value, str):
            key = value.strip()
            for member in cls:
                if key.lower() == member.value or key.upper() == member.name:
                    return member
        allowed = ", ".join(m.name for m in cls)
        raise ScenarioValidationError(f"type: unknown scenario type {value!r}; allowed: {allowed}", "type")


# ---------------------------------------------------------------------------------------------
# Parameter specifications


@dataclass(frozen=True)
class ParamSpec:
    """One scenario parameter: its kind, range, default and meaning.

    kinds: ``fraction_open`` (0, 1); ``fraction`` [0, 1]; ``rise`` (0, 10] (a fraction that may
    exceed 1); ``positive`` (> 0); ``nonneg`` (>= 0); ``duration`` (int >= 1); ``count`` (int >= 0);
    ``correlation`` [-1, 1]; ``choice``; ``subset`` (list of choices); ``position`` (bar index >= 0,
    ISO time, or ``"random"``); ``symbols`` (list of scenario symbols); ``text``.
    """

    kind: str
    default: Any = None
    doc: str = ""
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        return {
            "fraction_open": "a fraction in (0, 1), e.g. 0.20 for 20%",
            "fraction": "a fraction in [0, 1], e.g. 0.01 for 1%",
            "rise": "a fraction in (0, 10], e.g. 0.5 for +50%",
            "positive": "a number > 0",
            "nonneg": "a number >= 0",
            "duration": "an integer >= 1 (bars)",
            "count": "an integer >= 0 (bars)",
            "correlation": "a correlation in [-1, 1]",
            "choice": f"one of {list(self.choices)}",
            "subset": f"a list of {list(self.choices)}",
            "position": "a bar index >= 0, an ISO-8601 time, or 'random'",
            "symbols": "a list of the scenario's symbols",
            "text": "a string",
        }[self.kind]


def _p(kind: str, default: Any = None, doc: str = "", choices: tuple[str, ...] = ()) -> ParamSpec:
    return ParamSpec(kind, default, doc, choices)


_WHERE = {
    "symbols": _p("symbols", None, "symbols the stress hits (default: all)"),
    "at": _p("position", "random", "first stressed bar: index, ISO time, or 'random' (from the seed)"),
}

_FLASH = {
    "drop_pct": _p("fraction_open", 0.20, "peak-to-trough fall"),
    "duration_bars": _p("duration", 6, "bars from peak to trough"),
    "recovery_bars": _p("count", 24, "bars of recovery after the trough"),
    "recovery_pct": _p("fraction", 0.5, "fraction of the fall recovered"),
    "volume_mult": _p("positive", 8.0, "volume multiple in the crash (REALISM: 7-18x on majors)"),
    "spread_mult": _p("positive", 5.0, "spread multiple in the crash (REALISM: x5-x10 in stress bars)"),
}
_VOL = {
    "multiplier": _p("positive", 3.0, "factor on returns and intrabar range"),
    "duration_bars": _p("duration", 48, "bars in the spike"),
}
_LIQ = {
    "drop_pct": _p("fraction_open", 0.7, "fall of volume and depth"),
    "duration_bars": _p("duration", 24, "bars in the drought"),
    "spread_elasticity": _p("nonneg", 0.5, "spread x (1 - drop_pct) ** -elasticity"),
}
_SPREAD = {
    "spread_mult": _p("positive", 10.0, "factor on the spread"),
    "duration_bars": _p("duration", 12, "bars of wide spreads"),
}
_CORRUPT = {
    "corruption_pct": _p("fraction", 0.01, "share of bars corrupted"),
    "corruption_types": _p("subset", list(CORRUPTION_TYPES), "kinds of corruption", CORRUPTION_TYPES),
}
_CORR = {
    "mode": _p("choice", "decorrelate", "decorrelate, invert, or converge (to 1)", CORRELATION_MODES),
    "target_correlation": _p("correlation", None, "explicit target correlation (overrides mode)"),
    "duration_bars": _p("duration", 72, "bars of the breakdown"),
}
_PUMP = {
    "pump_pct": _p("rise", 0.5, "rise during the pump"),
    "pump_bars": _p("duration", 12, "bars of the pump"),
    "dump_pct": _p("fraction_open", 0.6, "fall from the top during the dump"),
    "dump_bars": _p("duration", 6, "bars of the dump"),
    "volume_mult": _p("positive", 10.0, "volume multiple during pump and dump"),
}
# MIXED_CUSTOM: the seed's flat names; a stress applies only when its main parameter is present.
_MIXED = {
    "flash_crash_drop_pct": _p("fraction_open", None, "flash crash fall"),
    "flash_crash_duration_bars": _p("duration", 6, "flash crash length"),
    "flash_crash_recovery_bars": _p("count", 24, "flash crash recovery length"),
    "flash_crash_recovery_pct": _p("fraction", 0.5, "fraction of the fall recovered"),
    "flash_crash_volume_mult": _p("positive", 8.0, "volume multiple in the flash crash"),
    "flash_crash_spread_mult": _p("positive", 5.0, "spread multiple in the flash crash"),
    "flash_crash_at": _p("position", "random", "flash crash position"),
    "volatility_multiplier": _p("positive", None, "volatility spike factor"),
    "volatility_duration_bars": _p("duration", 48, "volatility spike length"),
    "volatility_at": _p("position", "random", "volatility spike position"),
    "liquidity_drop_pct": _p("fraction_open", None, "liquidity drop"),
    "liquidity_duration_bars": _p("duration", 24, "liquidity drop length"),
    "liquidity_spread_elasticity": _p("nonneg", 0.5, "spread x (1 - liquidity_drop_pct) ** -elasticity"),
    "liquidity_at": _p("position", "random", "liquidity drop position"),
    "spread_mult": _p("positive", None, "spread explosion factor"),
    "spread_duration_bars": _p("duration", 12, "spread explosion length"),
    "spread_at": _p("position", "random", "spread explosion position"),
    "corruption_pct": _p("fraction", None, "share of bars corrupted"),
    "corruption_types": _p("subset", list(CORRUPTION_TYPES), "kinds of corruption", CORRUPTION_TYPES),
    "correlation_mode": _p("choice", None, "correlation breakdown mode", CORRELATION_MODES),
    "correlation_target": _p("correlation", None, "correlation breakdown target"),
    "correlation_duration_bars": _p("duration", 72, "correlation breakdown length"),
    "correlation_at": _p("position", "random", "correlation breakdown position"),
    "pump_pct": _p("rise", None, "pump rise"),
    "pump_bars": _p("duration", 12, "pump length"),
    "dump_pct": _p("fraction_open", 0.6, "dump fall"),
    "dump_bars": _p("duration", 6, "dump length"),
    "pump_volume_mult": _p("positive", 10.0, "volume multiple during pump and dump"),
    "pump_at": _p("position", "random", "pump position"),
    # execution and system stress (read by the exchange simulator and the executor)
    "failure_rate": _p("fraction", None, "order rejection probability"),
    "latency_multiplier": _p("positive", None, "factor on exchange latency"),
    "latency_spike_prob": _p("fraction", None, "probability of a latency spike per order"),
    "outage_at": _p("position", None, "first bar of an exchange outage"),
    "outage_bars": _p("count", None, "bars of exchange outage (no fills)"),
    "model_failure_rate": _p("fraction", None, "probability a strategy model fails per call"),
    "symbols": _WHERE["symbols"],
}
_HISTORIC = {
    "source": _p("text", "bundled", "'bundled', a file, or a directory of bar files"),
    "event": _p("text", None, "name of a bundled crash window (e.g. 'may_2021')"),
    **{k: v for k, v in _MIXED.items()},
}

PARAMETER_SPECS: dict[ScenarioType, dict[str, ParamSpec]] = {
    ScenarioType.FLASH_CRASH: {**_FLASH, **_WHERE},
    ScenarioType.VOLATILITY_SPIKE: {**_VOL, **_WHERE},
    ScenarioType.LIQUIDITY_DROP: {**_LIQ, **_WHERE},
    ScenarioType.SPREAD_EXPLOSION: {**_SPREAD, **_WHERE},
    ScenarioType.DATA_CORRUPTION: {**_CORRUPT, "symbols": _WHERE["symbols"]},
    ScenarioType.CORRELATION_BREAKDOWN: {**_CORR, **_WHERE},
    ScenarioType.PUMP_AND_DUMP: {**_PUMP, **_WHERE},
    ScenarioType.MIXED_CUSTOM: _MIXED,
    ScenarioType.HISTORIC_REPLAY: _HISTORIC,
}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_param(stype: ScenarioType, name: str, spec: ParamSpec, value: Any, symbols: Sequence[str]) -> Any:
    """Validate one parameter value; return it normalised. Raises ScenarioValidationError."""
    where = f"{stype.name} parameter '{name}'"

    def fail(detail: str) -> ScenarioValidationError:
        return ScenarioValidationError(
            f"{where} must be {spec.describe()}; {detail}",
            name if not name.startswith("parameters") else name,
        )

    k = spec.kind
    if k in ("fraction_open", "fraction", "rise", "positive", "nonneg", "correlation"):
        if not _is_number(value) or not math.isfinite(value):
            raise fail(f"got {value!r}")
        v = float(value)
        unit_hint = ""
        if k in ("fraction_open", "fraction") and v > 1:
            unit_hint = f" ({name} is a fraction: write {v / 100:g} for {v:g}%)"
        ok = {
            "fraction_open": 0 < v < 1,
            "fraction": 0 <= v <= 1,
            "rise": 0 < v <= 10,
            "positive": v > 0,
            "nonneg": v >= 0,
            "correlation": -1 <= v <= 1,
        }[k]
        if not ok:
            raise fail(f"got {v!r}{unit_hint}")
        return v
    if k in ("duration", "count"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(f"got {value!r}")
        if value < (1 if k == "duration" else 0):
            raise fail(f"got {value}")
        return value
    if k == "choice":
        if value not in spec.choices:
            raise fail(f"got {value!r}")
        return value
    if k == "subset":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not value:
            raise fail(f"got {value!r}")
        bad = [v for v in value if v not in spec.choices]
        if bad:
            raise fail(f"unknown {bad}")
        return list(dict.fromkeys(value))
    if k == "position":
        if value is None or value == "random":
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise fail(f"got {value}")
            return value
        if isinstance(value, (str, datetime)):
            try:
                return _iso(_parse_time(value, name))
            except ScenarioValidationError:
                raise fail(f"got {value!r}") from None
        raise fail(f"got {value!r}")
    if k == "symbols":
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise fail(f"got {value!r}")
        unknown = [s for s in value if s not in symbols]
        if unknown:
            raise fail(f"{unknown} not in the scenario's symbols {list(symbols)}")
        return list(value)
    if k == "text":
        if not isinstance(value, str):
            raise fail(f"got {value!r}")
        return value
    raise AssertionError(f"unhandled parameter kind {k}")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Time helpers

_INTERVAL_RE = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_interval(interval: str | timedelta, field_name: str = "interval") -> int:
    """Bar interval in milliseconds from '1m', '15m', '1h', '4h', '1d', ... or a timedelta."""
    if isinstance(interval, timedelta):
        ms = int(interval.total_seconds() * 1000)
    elif isinstance(interval, str) and (m := _INTERVAL_RE.match(interval)):
        ms = int(m.group(1)) * _UNIT_MS[m.group(2)]
    else:
        raise ScenarioValidationError(
            f"{field_name}: must be a duration like '1m', '15m', '1h', '4h' or '1d', got {interval!r}",
            field_name,
        )
    if ms <= 0:
        raise ScenarioValidationError(f"{field_name}: must be a positive duration, got {interval!r}", field_name)
    return ms


def _parse_time(value: Any, field_name: str) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ScenarioValidationError(
                f"{field_name}: must be an ISO-8601 time such as '2021-05-19T00:00:00Z', got {value!r}",
                field_name,
            ) from None
    else:
        raise ScenarioValidationError(
            f"{field_name}: must be an ISO-8601 string or a datetime, got {type(value).__name__}", field_name
        )
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)  # naive times are UTC, as exchange data is
    return dt.astimezone(timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Scenario


@dataclass
class Scenario:
    """A stress scenario.

    Args:
        name: unique name; also the scenario's identity in the random-stream derivation.
        type: a :class:`ScenarioType` (or its name).
        parameters: per-type parameters (see :data:`PARAMETER_SPECS`); omitted ones take defaults.
        symbols: list of symbols, e.g. ``["BTCUSDT", "ETHUSDT"]``.
        start, end: ISO-8601 strings or datetimes (UTC). For synthetic data, ``start`` anchors the
            clock (default 2024-01-01) and ``end`` with ``start`` fixes the number of bars.
        seed: integer in [0, 2**64 - 1].
        interval: bar length ('1m', '1h', '4h', '1d', ...; default '1h').
        n_bars: number of bars (default 8760 = one year of hours) when start/end do not fix it.
        initial_prices: starting price per symbol (synthetic data).
        market_model: 'realistic' (default) or 'gbm'.
        market_params: overrides of the synthetic model: per-symbol parameters under the
            symbol's name, market-wide ones under 'market', correlation matrices under
            'correlation' / 'stress_correlation'.
        description, tags: free text for reports.
    """

    name: str
    type: ScenarioType
    parameters: dict[str, Any] = field(default_factory=dict)
    symbols: list[str] = field(default_factory=lambda: ["BTCUSDT"])
    start: datetime | None = None
    end: datetime | None = None
    seed: int = 42
    interval: str = "1h"
    n_bars: int | None = None
    initial_prices: dict[str, float] = field(default_factory=dict)
    market_model: str = "realistic"
    market_params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ScenarioValidationError(f"name: must be a non-empty string, got {self.name!r}", "name")
        self.type = ScenarioType.parse(self.type)
        if isinstance(self.symbols, str) or not isinstance(self.symbols, (list, tuple)):
            raise ScenarioValidationError(
                f"symbols: must be a list of symbol names like ['BTCUSDT'], got {type(self.symbols).__name__} "
                f"{self.symbols!r}",
                "symbols",
            )
        if not self.symbols or not all(isinstance(s, str) and s.strip() for s in self.symbols):
            raise ScenarioValidationError(f"symbols: must be non-empty strings, got {self.symbols!r}", "symbols")
        if len(set(self.symbols)) != len(self.symbols):
            raise ScenarioValidationError(f"symbols: duplicate symbol in {self.symbols!r}", "symbols")
        self.symbols = list(self.symbols)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise ScenarioValidationError(f"seed: must be an integer in [0, 2**64 - 1], got {self.seed!r}", "seed")
        self.interval_ms = parse_interval(self.interval)
        self.start = _parse_time(self.start, "start") if self.start is not None else None
        self.end = _parse_time(self.end, "end") if self.end is not None else None
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ScenarioValidationError(
                f"start: must be before end, got start={_iso(self.start)} end={_iso(self.end)}", "start"
            )
        if self.n_bars is not None and (
            isinstance(self.n_bars, bool) or not isinstance(self.n_bars, int) or self.n_bars < 1
        ):
            raise ScenarioValidationError(f"n_bars: must be an integer >= 1, got {self.n_bars!r}", "n_bars")
        if self.market_model not in ("realistic", "gbm"):
            raise ScenarioValidationError(
                f"market_model: must be 'realistic' or 'gbm', got {self.market_model!r}", "market_model"
            )
        if not isinstance(self.initial_prices, Mapping):
            raise ScenarioValidationError("initial_prices: must be a mapping symbol -> price", "initial_prices")
        for sym, price in self.initial_prices.items():
            if sym not in self.symbols:
                raise ScenarioValidationError(
                    f"initial_prices: symbol {sym!r} is not in symbols {self.symbols}", "initial_prices"
                )
            if not _is_number(price) or not math.isfinite(price) or price <= 0:
                raise ScenarioValidationError(
                    f"initial_prices: price of {sym} must be a number > 0, got {price!r}", "initial_prices"
                )
        self.initial_prices = {k: float(v) for k, v in self.initial_prices.items()}
        if not isinstance(self.market_params, Mapping):
            raise ScenarioValidationError("market_params: must be a mapping", "market_params")
        self.market_params = dict(self.market_params)
        self.tags = list(self.tags)
        self.parameters = self._validate_parameters(self.parameters)

    # -- parameters ---------------------------------------------------------------------------
    def _validate_parameters(self, params: Any) -> dict[str, Any]:
        if params is None:
            return {}
        if not isinstance(params, Mapping):
            raise ScenarioValidationError(f"parameters: must be a mapping, got {type(params).__name__}", "parameters")
        specs = PARAMETER_SPECS[self.type]
        out: dict[str, Any] = {}
        for name, value in params.items():
            if name not in specs:
                allowed = ", ".join(sorted(specs))
                raise ScenarioValidationError(
                    f"{self.type.name} has no parameter '{name}'; allowed: {allowed}", str(name)
                )
            if value is None:
                continue
            out[name] = _check_param(self.type, name, specs[name], value, self.symbols)
        return out

    def resolved_parameters(self) -> dict[str, Any]:
        """Parameters with the defaults of every omitted one filled in."""
        specs = PARAMETER_SPECS[self.type]
        resolved = {k: s.default for k, s in specs.items() if s.default is not None}
        if self.type is ScenarioType.MIXED_CUSTOM or self.type is ScenarioType.HISTORIC_REPLAY:
            # defaults of a sub-stress only matter when that stress is switched on; keep them all
            pass
        resolved.update(self.parameters)
        return resolved

    # -- market --------------------------------------------------------------------------------
    @property
    def bar_count(self) -> int:
        """Number of bars: from start/end when both are given, else n_bars (default 8760)."""
        if self.start is not None and self.end is not None:
            return max(1, int((self.end - self.start).total_seconds() * 1000) // self.interval_ms)
        return self.n_bars if self.n_bars is not None else DEFAULT_N_BARS

    @property
    def start_time(self) -> datetime:
        """Open time of the first bar (default 2024-01-01T00:00Z for synthetic data)."""
        if self.start is not None:
            return self.start
        if self.end is not None:
            return self.end - timedelta(milliseconds=self.interval_ms * self.bar_count)
        return DEFAULT_START

    @property
    def is_unstressed(self) -> bool:
        return self.type is ScenarioType.MIXED_CUSTOM and not self.parameters

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "type": self.type.name,
            "parameters": dict(self.parameters),
            "symbols": list(self.symbols),
            "seed": self.seed,
            "interval": self.interval,
        }
        if self.start is not None:
            d["start"] = _iso(self.start)
        if self.end is not None:
            d["end"] = _iso(self.end)
        if self.n_bars is not None:
            d["n_bars"] = self.n_bars
        if self.initial_prices:
            d["initial_prices"] = dict(self.initial_prices)
        if self.market_model != "realistic":
            d["market_model"] = self.market_model
        if self.market_params:
            d["market_params"] = self.market_params
        if self.description:
            d["description"] = self.description
        if self.tags:
            d["tags"] = list(self.tags)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        if not isinstance(data, Mapping):
            raise ScenarioValidationError(f"scenario: must be a mapping, got {type(data).__name__}", "scenario")
        known = {f for f in cls.__dataclass_fields__}
        unknown = [k for k in data if k not in known]
        if unknown:
            raise ScenarioValidationError(
                f"scenario: unknown field(s) {unknown}; allowed: {', '.join(sorted(known))}", unknown[0]
            )
        for required in ("name", "type"):
            if required not in data:
                raise ScenarioValidationError(f"scenario: missing required field '{required}'", required)
        return cls(**dict(data))

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        save_suite([self], path)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        suite = load_suite(path)
        if len(suite) != 1:
            raise ScenarioValidationError(f"{path}: holds {len(suite)} scenarios, expected 1", "scenarios")
        return suite[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scenario) and self.to_dict() == other.to_dict()


# ---------------------------------------------------------------------------------------------
# Suites in files


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == ".json":
        return "json"
    if ext == ".toml":
        return "toml"
    if ext in (".yaml", ".yml"):
        return "yaml"
    raise ScenarioValidationError(f"{path}: unknown suite format {ext!r}; use .json, .toml, .yaml or .yml", "path")


def save_suite(scenarios: Iterable[Scenario], path: str | Path) -> None:
    """Write scenarios to a JSON, TOML or YAML file (format from the extension)."""
    path = Path(path)
    doc = {"scenarios": [s.to_dict() for s in scenarios]}
    fmt = _format_of(path)
    if fmt == "json":
        text = json.dumps(doc, indent=2)
    elif fmt == "toml":
        import tomli_w

        text = tomli_w.dumps(doc)
    else:
        import yaml

        text = yaml.safe_dump(doc, sort_keys=False)
    path.write_text(text)


def _line_of(text: str, key: str, scenario_name: str | None = None) -> int | None:
    """1-based line where `key` appears as a key, searching from the line that names the scenario."""
    lines = text.splitlines()
    start = 0
    if scenario_name is not None:
        name_pat = re.compile(rf"[\"']?name[\"']?\s*[:=]\s*[\"']?{re.escape(scenario_name)}[\"']?\s*,?\s*$")
        for i, line in enumerate(lines):
            if name_pat.search(line):
                start = i
                break
    pat = re.compile(rf"^\s*(-\s*)?[\"']?{re.escape(key)}[\"']?\s*[:=]")
    for i in range(start, len(lines)):
        if pat.search(lines[i]):
            return i + 1
    return None


def load_suite(path: str | Path) -> list[Scenario]:
    """Read scenarios from a JSON, TOML or YAML file.

    The file holds either one scenario or ``{"scenarios": [...]}``. Errors name the file, the
    scenario, the field and (where it can be found) the line.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioValidationError(f"{path}: no such suite file", "path")
    fmt = _format_of(path)
    text = path.read_text()
    try:
        if fmt == "json":
            doc = json.loads(text)
        elif fmt == "toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            doc = tomllib.loads(text)
        else:
            import yaml

            doc = yaml.safe_load(text)
    except Exception as exc:  # parse errors of any of the three formats
        raise ScenarioValidationError(f"{path}: cannot parse {fmt.upper()}: {exc}", "path") from exc
    items = doc.get("scenarios", [doc]) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ScenarioValidationError(f"{path}: expected a list of scenarios under 'scenarios'", "scenarios")
    out = []
    names: dict[str, int] = {}
    for i, item in enumerate(items):
        try:
            sc = Scenario.from_dict(item)
        except ScenarioValidationError as exc:
            label = item.get("name", f"#{i + 1}") if isinstance(item, Mapping) else f"#{i + 1}"
            named = str(label) if isinstance(item, Mapping) and "name" in item else None
            line = _line_of(text, exc.field, named) if exc.field else None
            at = f", line {line}" if line else ""
            raise ScenarioValidationError(f"{path}{at}: scenario {label!r}: {exc}", exc.field) from exc
        if sc.name in names:
            raise ScenarioValidationError(f"{path}: duplicate scenario name {sc.name!r}", "name")
        names[sc.name] = i
        out.append(sc)
    return out
