"""The native risk stack: configuration of the components the executor runs in Rust.

A trading system is more than its strategy. Between the strategy's decision on bar t and its
execution (from bar t+1's open) the stack runs, in this order: policy sizing (the mode's size
multiplier), :class:`Orchestrator` (filters and sizes signals), policy limits, the emergency-stop
block, :class:`RiskGuard` (pre-trade checks), :class:`PortfolioBalancer` (portfolio constraints).
After each bar's close: :class:`SafetyGovernor` (emergency stops), :class:`MetaStrategyController`
(policy mode, limits from the :class:`PolicyStore`), balancer drift (rebalancing orders).

Every component is optional (an omitted one passes everything through), so a plain backtest stays
plain. ``ScenarioExecutor(strategy, **default_stack())`` runs a sensible full stack. A Python
object with the methods of the matching Protocol (:mod:`stresslab.protocols`) may take any
component's place.

Units (each keyword's docstring repeats it):

* ``*_pct`` keywords are **percentages**: ``SafetyGovernor(max_drawdown_pct=10.0)`` stops at a 10%
  drawdown (0.10 inside the engine). A value strictly between 0 and 1 (that is, below 1%) is
  refused as a likely fraction given for a percentage; the message says what to pass instead.
* ``max_leverage``, ``max_gross_leverage`` and ``*_vol_mult`` are multiples (2.0 = 2x).
* ``max_notional`` is in the quote currency; ``*_bars`` and counts are whole numbers of bars.
* ``min_confidence`` is a probability in [0, 1] (signals carry a confidence in [0, 1]).

``None`` disables a limit. Bad values raise :class:`~stresslab.errors.InvalidParameterError`
naming the field (negative limits, a minimum above its maximum, thresholds that do not rise
with severity, a severe mode looser than a calm one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from . import _core
from .errors import InvalidParameterError

__all__ = [
    "PolicyMode",
    "ModeLimits",
    "Orchestrator",
    "RiskGuard",
    "PortfolioBalancer",
    "SafetyGovernor",
    "MetaStrategyController",
    "PolicyStore",
    "NATIVE_COMPONENTS",
    "default_stack",
    "risk_config",
]


class PolicyMode(str, Enum):
    """Policy modes, calm to severe."""

    NORMAL = "NORMAL"
    DEFENSIVE = "DEFENSIVE"
    CAPITAL_PRESERVATION = "CAPITAL_PRESERVATION"
    HALT = "HALT"


# -- validation helpers ------------------------------------------------------------------------


def _number(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
        raise InvalidParameterError(f"{name}: must be a number, got {v!r}", name)
    return float(v)


def _pct(name: str, v: Any, hi: float, *, lo: float = 0.0, zero_ok: bool = False) -> float | None:
    """A percentage keyword -> a fraction (None stays None)."""
    if v is None:
        return None
    x = _number(name, v)
    if x == 0 and zero_ok:
        return 0.0
    if x < 0 and lo >= 0:
        raise InvalidParameterError(f"{name}: must not be negative (a percentage, 10.0 = 10%), got {v}", name)
    if x == 0:
        raise InvalidParameterError(f"{name}: must be > 0 (a percentage, 10.0 = 10%; None disables it), got 0", name)
    if abs(x) < 1:
        raise InvalidParameterError(
            f"{name}: is a percentage (10.0 = 10%); got {v}, which would mean {v}%. Values below 1% are refused as "
            f"a likely fraction: for {abs(x) * 100:g}% pass {x * 100:g}",
            name,
        )
    if not lo <= x <= hi:
        raise InvalidParameterError(f"{name}: must be a percentage in [{lo:g}, {hi:g}], got {v}", name)
    return x / 100.0


def _count(name: str, v: Any, lo: int = 0, *, none_ok: bool = False) -> int | None:
    if v is None and none_ok:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        extra = " (or None)" if none_ok else ""
        raise InvalidParameterError(f"{name}: must be an integer >= {lo}{extra}, got {v!r}", name)
    return int(v)


def _positive(name: str, v: Any, hi: float = math.inf, *, none_ok: bool = True) -> float | None:
    if v is None and none_ok:
        return None
    x = _number(name, v)
    if not (x > 0 and x <= hi) or math.isinf(x):
        raise InvalidParameterError(f"{name}: must be a finite number in (0, {hi:g}], got {v!r}", name)
    return x


def _bool(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise InvalidParameterError(f"{name}: must be True or False, got {v!r}", name)
    return v


class _Native:
    """Shared by the native component configs: a repr and the check in Rust."""

    component: str = ""

    def to_config(self) -> dict[str, float | None]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check(self) -> None:
        # the core validates again (the one source of the numeric limits it enforces)
        _core.check_risk_config({**_EMPTY, self.component: self.to_config()})


_EMPTY: dict[str, Any] = {
    "orchestrator": None,
    "risk_guard": None,
    "portfolio_balancer": None,
    "safety_governor": None,
    "msc": None,
    "policy_store": None,
}


# -- components ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Orchestrator(_Native):
    """Filters and sizes signals (a signal = a changed target for one symbol).

    Args:
        min_confidence: probability in [0, 1]; a signal below it may not add risk (exits pass).
        max_positions: at most this many symbols with a non-zero target (None: no limit).
        cooldown_bars: after a symbol's target changed, no new risk on it for this many bars.
        scale_by_confidence: multiply each signal's target by its confidence.
    """

    min_confidence: float = 0.0
    max_positions: int | None = None
    cooldown_bars: int = 0
    scale_by_confidence: bool = False
    component = "orchestrator"

    def __post_init__(self) -> None:
        c = _number("min_confidence", self.min_confidence)
        if not 0 <= c <= 1:
            raise InvalidParameterError(
                f"min_confidence: must be a probability in [0, 1] (not a percentage), got {self.min_confidence}",
                "min_confidence",
            )
        _count("max_positions", self.max_positions, 1, none_ok=True)
        _count("cooldown_bars", self.cooldown_bars, 0)
        _bool("scale_by_confidence", self.scale_by_confidence)
        self._check()

    def to_config(self) -> dict[str, float | None]:
        return {
            "min_confidence": float(self.min_confidence),
            "max_positions": None if self.max_positions is None else float(self.max_positions),
            "cooldown_bars": float(self.cooldown_bars),
            "scale_by_confidence": float(self.scale_by_confidence),
        }


@dataclass(frozen=True)
class RiskGuard(_Native):
    """Pre-trade checks on each changed target; a denial is recorded with its reason.

    Conditions refuse the change: ``block_corrupt_bars`` (no trading on a symbol whose last bar
    is flagged corrupt, ``stress_flags`` bit 16, or has unusable prices/volume) and
    ``daily_loss_limit_pct`` (no new risk once equity is this far below the day's start).
    Size limits cut the target back to the limit (a partial denial).

    Args:
        max_position_pct: |position| per symbol, percent of equity (100.0 = fully invested; up
            to 1000).
        max_notional: |position| per symbol in quote currency.
        max_leverage: gross exposure, a multiple of equity (2.0 = 2x).
        max_order_volume_pct: traded quantity per decision, percent of the last bar's volume.
        daily_loss_limit_pct: percent below the equity at the start of the UTC day.
        block_corrupt_bars: refuse trading on corrupt bars.
    """

    max_position_pct: float | None = None
    max_notional: float | None = None
    max_leverage: float | None = None
    max_order_volume_pct: float | None = None
    daily_loss_limit_pct: float | None = None
    block_corrupt_bars: bool = True
    component = "risk_guard"

    def __post_init__(self) -> None:
        _pct("max_position_pct", self.max_position_pct, 1000.0)
        _positive("max_notional", self.max_notional)
        _positive("max_leverage", self.max_leverage, 1000.0)
        _pct("max_order_volume_pct", self.max_order_volume_pct, 100.0)
        _pct("daily_loss_limit_pct", self.daily_loss_limit_pct, 100.0)
        _bool("block_corrupt_bars", self.block_corrupt_bars)
        self._check()

    def to_config(self) -> dict[str, float | None]:
        return {
            "max_position": _pct("max_position_pct", self.max_position_pct, 1000.0),
            "max_notional": self.max_notional,
            "max_leverage": self.max_leverage,
            "max_order_volume": _pct("max_order_volume_pct", self.max_order_volume_pct, 100.0),
            "daily_loss_limit": _pct("daily_loss_limit_pct", self.daily_loss_limit_pct, 100.0),
            "block_corrupt_bars": float(self.block_corrupt_bars),
        }


@dataclass(frozen=True)
class PortfolioBalancer(_Native):
    """Portfolio constraints; it only reduces exposure (never opens positions).

    Applied to the target weights at each decision, and to the held weights after each bar
    (a breach by more than ``rebalance_tolerance_pct`` issues rebalancing orders).

    Args:
        max_gross_exposure_pct: sum of |weight|, percent of equity (150.0 = 1.5x).
        min_net_exposure_pct: lowest net exposure, percent (<= 0, e.g. -50.0).
        max_net_exposure_pct: highest net exposure, percent (>= 0).
        max_weight_pct: |weight| per symbol, percent.
        max_concentration_pct: correlation-aware gross sqrt(w' R w), percent, with R the return
            correlation over ``correlation_window`` bars.
        correlation_window: bars (>= 2).
        rebalance_tolerance_pct: relative breach (percent of the limit) tolerated before a drift
            rebalance; 0 allowed.
    """

    max_gross_exposure_pct: float | None = None
    min_net_exposure_pct: float | None = None
    max_net_exposure_pct: float | None = None
    max_weight_pct: float | None = None
    max_concentration_pct: float | None = None
    correlation_window: int = 168
    rebalance_tolerance_pct: float = 5.0
    component = "portfolio_balancer"

    def __post_init__(self) -> None:
        for name in ("max_gross_exposure_pct", "max_weight_pct", "max_concentration_pct"):
            _pct(name, getattr(self, name), 1000.0)
        lo, hi = self.min_net_exposure_pct, self.max_net_exposure_pct
        if lo is not None:
            if _number("min_net_exposure_pct", lo) > 0:
                raise InvalidParameterError(
                    f"min_net_exposure_pct: must be <= 0 (the balancer reduces exposure, it does not open "
                    f"positions), got {lo}",
                    "min_net_exposure_pct",
                )
            _pct("min_net_exposure_pct", lo, 0.0, lo=-1000.0, zero_ok=True)
        if hi is not None:
            _pct("max_net_exposure_pct", hi, 1000.0, zero_ok=True)
        if lo is not None and hi is not None and lo > hi:
            raise InvalidParameterError(
                f"min_net_exposure_pct: must not be above max_net_exposure_pct, got min {lo} > max {hi}",
                "min_net_exposure_pct",
            )
        _count("correlation_window", self.correlation_window, 2)
        _pct("rebalance_tolerance_pct", self.rebalance_tolerance_pct, 1000.0, zero_ok=True)
        self._check()

    def to_config(self) -> dict[str, float | None]:
        lo, hi = self.min_net_exposure_pct, self.max_net_exposure_pct
        return {
            "max_gross": _pct("max_gross_exposure_pct", self.max_gross_exposure_pct, 1000.0),
            "min_net": None if lo is None else _pct("min_net_exposure_pct", lo, 0.0, lo=-1000.0, zero_ok=True),
            "max_net": None if hi is None else _pct("max_net_exposure_pct", hi, 1000.0, zero_ok=True),
            "max_weight": _pct("max_weight_pct", self.max_weight_pct, 1000.0),
            "max_concentration": _pct("max_concentration_pct", self.max_concentration_pct, 1000.0),
            "correlation_window": float(self.correlation_window),
            "rebalance_tolerance": _pct("rebalance_tolerance_pct", self.rebalance_tolerance_pct, 1000.0, zero_ok=True),
        }


@dataclass(frozen=True)
class SafetyGovernor(_Native):
    """The emergency stop system. Each trigger is off when None.

    On a stop: open orders are cancelled, positions flattened (``action="flatten"``) or kept
    (``"freeze"``), new risk blocked for ``cooldown_bars`` bars; then the governor re-arms with
    its references reset to the present (one crash = one stop). ``cooldown_bars=None`` stays
    stopped to the end of the run.

    Args:
        max_drawdown_pct: percent below the peak equity since the governor (re-)armed.
        loss_velocity_pct: percent lost over the last ``loss_velocity_bars`` bars.
        max_failure_streak: exchange rejections in a row (outage, failure, no liquidity).
        max_corrupt_bars: more than this many corrupt (symbol, bar) pairs in the last
            ``corrupt_window_bars`` bars.
        max_volatility_mult: short-term volatility (EWMA half-life ``vol_short_bars``) above this
            multiple of its usual level (half-life ``vol_long_bars``).
    """

    max_drawdown_pct: float | None = None
    loss_velocity_pct: float | None = None
    loss_velocity_bars: int = 24
    max_failure_streak: int | None = None
    max_corrupt_bars: int | None = None
    corrupt_window_bars: int = 24
    max_volatility_mult: float | None = None
    vol_short_bars: int = 6
    vol_long_bars: int = 168
    action: str = "flatten"
    cooldown_bars: int | None = 24
    component = "safety_governor"

    def __post_init__(self) -> None:
        _pct("max_drawdown_pct", self.max_drawdown_pct, 100.0)
        _pct("loss_velocity_pct", self.loss_velocity_pct, 100.0)
        _count("loss_velocity_bars", self.loss_velocity_bars, 1)
        _count("max_failure_streak", self.max_failure_streak, 1, none_ok=True)
        _count("max_corrupt_bars", self.max_corrupt_bars, 0, none_ok=True)
        _count("corrupt_window_bars", self.corrupt_window_bars, 1)
        if self.max_volatility_mult is not None and _number("max_volatility_mult", self.max_volatility_mult) <= 1:
            raise InvalidParameterError(
                f"max_volatility_mult: must be > 1 (a multiple of usual volatility), got {self.max_volatility_mult}",
                "max_volatility_mult",
            )
        _check_vol_windows(self.vol_short_bars, self.vol_long_bars)
        if self.action not in ("flatten", "freeze"):
            raise InvalidParameterError(f"action: must be 'flatten' or 'freeze', got {self.action!r}", "action")
        _count("cooldown_bars", self.cooldown_bars, 1, none_ok=True)
        self._check()

    def to_config(self) -> dict[str, float | None]:
        def f(x: Any) -> float | None:
            return None if x is None else float(x)

        return {
            "max_drawdown": _pct("max_drawdown_pct", self.max_drawdown_pct, 100.0),
            "loss_velocity": _pct("loss_velocity_pct", self.loss_velocity_pct, 100.0),
            "loss_velocity_bars": float(self.loss_velocity_bars),
            "max_failure_streak": f(self.max_failure_streak),
            "max_corrupt_bars": f(self.max_corrupt_bars),
            "corrupt_window_bars": float(self.corrupt_window_bars),
            "max_volatility_mult": f(self.max_volatility_mult),
            "vol_short_bars": float(self.vol_short_bars),
            "vol_long_bars": float(self.vol_long_bars),
            "freeze": float(self.action == "freeze"),
            "cooldown_bars": f(self.cooldown_bars),
        }

    @property
    def triggers(self) -> list[str]:
        """The triggers this governor has switched on."""
        on = {
            "drawdown": self.max_drawdown_pct,
            "loss_velocity": self.loss_velocity_pct,
            "failure_streak": self.max_failure_streak,
            "data_quality": self.max_corrupt_bars,
            "volatility": self.max_volatility_mult,
        }
        return [k for k, v in on.items() if v is not None]


def _check_vol_windows(short: Any, long: Any) -> None:
    _count("vol_short_bars", short, 1)
    _count("vol_long_bars", long, 1)
    if short >= long:
        raise InvalidParameterError(
            f"vol_short_bars: must be shorter than vol_long_bars, got {short} >= {long}", "vol_short_bars"
        )


_LEVELS = ("defensive", "preservation", "halt")


@dataclass(frozen=True)
class MetaStrategyController(_Native):
    """Chooses the policy mode from the drawdown and the market's volatility, with hysteresis.

    The mode rises at once to the most severe level an indicator reaches; it falls only when
    every indicator is ``hysteresis_pct`` percent below its threshold (10% drawdown threshold,
    hysteresis 20 -> left below 8%) and the mode has lasted ``min_bars_in_mode`` bars.

    Args:
        defensive_drawdown_pct, preservation_drawdown_pct, halt_drawdown_pct: drawdown
            thresholds in percent (rising; None skips a level), measured from the peak of the
            last ``drawdown_window_bars`` bars (None: all-time).
        defensive_vol_mult, preservation_vol_mult, halt_vol_mult: volatility-ratio thresholds
            (multiples of usual volatility, > 1, rising).
        hysteresis_pct: percent of a threshold (0 allowed: no hysteresis).
        min_bars_in_mode: bars before the mode may fall again.
    """

    defensive_drawdown_pct: float | None = 5.0
    preservation_drawdown_pct: float | None = 10.0
    halt_drawdown_pct: float | None = 20.0
    defensive_vol_mult: float | None = None
    preservation_vol_mult: float | None = None
    halt_vol_mult: float | None = None
    hysteresis_pct: float = 20.0
    min_bars_in_mode: int = 6
    drawdown_window_bars: int | None = 720
    vol_short_bars: int = 6
    vol_long_bars: int = 168
    component = "msc"

    def __post_init__(self) -> None:
        for kind, lo in (("drawdown_pct", None), ("vol_mult", 1.0)):
            prev: tuple[str, float] | None = None
            for level in _LEVELS:
                name = f"{level}_{kind}"
                v = getattr(self, name)
                if v is None:
                    continue
                if lo is None:
                    _pct(name, v, 100.0)
                elif _number(name, v) <= lo:
                    raise InvalidParameterError(f"{name}: must be > 1 (a multiple of usual volatility), got {v}", name)
                if prev is not None and v <= prev[1]:
                    raise InvalidParameterError(
                        f"{name}: thresholds must rise with severity; {name}={v} is not above {prev[0]}={prev[1]}",
                        name,
                    )
                prev = (name, v)
        if all(getattr(self, f"{lv}_{k}") is None for lv in _LEVELS for k in ("drawdown_pct", "vol_mult")):
            raise InvalidParameterError(
                "thresholds: the controller needs at least one *_drawdown_pct or *_vol_mult threshold", "thresholds"
            )
        _pct("hysteresis_pct", self.hysteresis_pct, 100.0, zero_ok=True)
        _count("min_bars_in_mode", self.min_bars_in_mode, 0)
        _count("drawdown_window_bars", self.drawdown_window_bars, 1, none_ok=True)
        _check_vol_windows(self.vol_short_bars, self.vol_long_bars)
        self._check()

    def to_config(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for level in _LEVELS:
            out[f"{level}_drawdown"] = _pct(f"{level}_drawdown_pct", getattr(self, f"{level}_drawdown_pct"), 100.0)
            v = getattr(self, f"{level}_vol_mult")
            out[f"{level}_vol_mult"] = None if v is None else float(v)
        out["hysteresis"] = _pct("hysteresis_pct", self.hysteresis_pct, 100.0, zero_ok=True)
        out["min_bars_in_mode"] = float(self.min_bars_in_mode)
        out["drawdown_window_bars"] = None if self.drawdown_window_bars is None else float(self.drawdown_window_bars)
        out["vol_short_bars"] = float(self.vol_short_bars)
        out["vol_long_bars"] = float(self.vol_long_bars)
        return out


@dataclass(frozen=True)
class ModeLimits:
    """What a policy mode allows.

    Args:
        size_multiplier: every target is multiplied by this (in [0, 10]; 0 = flat).
        max_gross_leverage: gross exposure cap, a multiple of equity (None: no cap).
        allow_entries: whether new positions may be opened.
    """

    size_multiplier: float = 1.0
    max_gross_leverage: float | None = None
    allow_entries: bool = True

    def validate(self, mode: str) -> None:
        name = f"{mode.lower()}.size_multiplier"
        x = _number(name, self.size_multiplier)
        if not 0 <= x <= 10:
            raise InvalidParameterError(f"{name}: must be in [0, 10], got {x}", name)
        if self.max_gross_leverage is not None:
            name = f"{mode.lower()}.max_gross_leverage"
            g = _number(name, self.max_gross_leverage)
            if not 0 <= g <= 1000:
                raise InvalidParameterError(f"{name}: must be a multiple of equity in [0, 1000], got {g}", name)
        _bool(f"{mode.lower()}.allow_entries", self.allow_entries)


_DEFAULT_LIMITS = {
    PolicyMode.NORMAL: ModeLimits(1.0, None, True),
    PolicyMode.DEFENSIVE: ModeLimits(0.5, None, True),
    PolicyMode.CAPITAL_PRESERVATION: ModeLimits(0.25, 1.0, False),
    PolicyMode.HALT: ModeLimits(0.0, 0.0, False),
}


def _limits(mode: PolicyMode, v: Any) -> ModeLimits:
    if v is None:
        return _DEFAULT_LIMITS[mode]
    if isinstance(v, ModeLimits):
        return v
    if isinstance(v, dict):
        allowed = {f.name for f in fields(ModeLimits)}
        unknown = set(v) - allowed
        if unknown:
            name = mode.value.lower()
            raise InvalidParameterError(f"{name}: unknown limit(s) {sorted(unknown)}; allowed: {sorted(allowed)}", name)
        base = _DEFAULT_LIMITS[mode]
        return ModeLimits(**{f.name: v.get(f.name, getattr(base, f.name)) for f in fields(ModeLimits)})
    raise InvalidParameterError(
        f"{mode.value.lower()}: must be a ModeLimits or a dict of its fields, got {type(v).__name__}",
        mode.value.lower(),
    )


@dataclass(frozen=True)
class PolicyStore(_Native):
    """The limits of each policy mode, read by the other components.

    Args:
        normal, defensive, capital_preservation, halt: :class:`ModeLimits` or a dict overriding
            the defaults (NORMAL 1.0 / no cap / entries; DEFENSIVE 0.5; CAPITAL_PRESERVATION 0.25,
            gross <= 1x, no entries; HALT 0, flat). A more severe mode may not be looser.
        initial_mode: the mode a run starts in.
    """

    normal: Any = None
    defensive: Any = None
    capital_preservation: Any = None
    halt: Any = None
    initial_mode: str = "NORMAL"
    component = "policy_store"
    _resolved: tuple[ModeLimits, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        modes = list(PolicyMode)
        resolved = tuple(_limits(m, getattr(self, m.value.lower())) for m in modes)
        for m, lim in zip(modes, resolved):
            lim.validate(m.value)
        for k in range(1, 4):
            calm, severe = resolved[k - 1], resolved[k]
            cn, sn = modes[k - 1].value.lower(), modes[k].value.lower()
            cg = math.inf if calm.max_gross_leverage is None else calm.max_gross_leverage
            sg = math.inf if severe.max_gross_leverage is None else severe.max_gross_leverage
            bad = None
            if severe.size_multiplier > calm.size_multiplier:
                bad = ("size_multiplier", severe.size_multiplier, calm.size_multiplier)
            elif sg > cg:
                bad = ("max_gross_leverage", sg, cg)
            elif severe.allow_entries and not calm.allow_entries:
                bad = ("allow_entries", True, False)
            if bad:
                raise InvalidParameterError(
                    f"{sn}.{bad[0]}: a more severe mode may not take more risk than {cn} ({bad[1]} vs {bad[2]})",
                    f"{sn}.{bad[0]}",
                )
        try:
            PolicyMode(str(self.initial_mode).upper())
        except ValueError:
            raise InvalidParameterError(
                f"initial_mode: must be one of {[m.value for m in PolicyMode]}, got {self.initial_mode!r}",
                "initial_mode",
            ) from None
        object.__setattr__(self, "_resolved", resolved)
        self._check()

    def limits(self, mode: str | PolicyMode) -> ModeLimits:
        """The limits of ``mode``."""
        return self._resolved[list(PolicyMode).index(PolicyMode(str(getattr(mode, "value", mode)).upper()))]

    def get_limits(self, mode: str) -> dict[str, Any]:
        """The limits of ``mode`` as a dict (the PolicyStore protocol's method)."""
        lim = self.limits(mode)
        return {f.name: getattr(lim, f.name) for f in fields(ModeLimits)}

    def to_config(self) -> dict[str, Any]:  # type: ignore[override]
        return {
            "limits": [(m.size_multiplier, m.max_gross_leverage, m.allow_entries) for m in self._resolved],
            "initial_mode": str(self.initial_mode).upper(),
        }


NATIVE_COMPONENTS: dict[str, type] = {
    "orchestrator": Orchestrator,
    "risk_guard": RiskGuard,
    "portfolio_balancer": PortfolioBalancer,
    "safety_governor": SafetyGovernor,
    "msc": MetaStrategyController,
    "policy_store": PolicyStore,
}
"""The executor's component slots and the native class for each."""


def risk_config(components: dict[str, Any]) -> dict[str, Any] | None:
    """The engine's risk dict for the native components in ``components`` (None if none)."""
    out = dict(_EMPTY)
    any_native = False
    for slot, cls in NATIVE_COMPONENTS.items():
        comp = components.get(slot)
        if isinstance(comp, cls):
            out[slot] = comp.to_config()
            any_native = True
    return out if any_native else None


def default_stack() -> dict[str, Any]:
    """A sensible full stack, as keyword arguments of :class:`~stresslab.ScenarioExecutor`.

    Orchestrator without filters; risk guard: 100% of equity per symbol, 2x gross, 10% of a
    bar's volume per decision, 5% daily loss limit, no trading on corrupt bars; balancer: 200%
    gross; governor: 15% drawdown, 8% loss in 24 bars, 10 rejections in a row, more than 5
    corrupt bars in 24, volatility 4x its usual level (24-bar cool-down); controller: DEFENSIVE
    at 5% drawdown or 2.5x volatility, CAPITAL_PRESERVATION at 10% or 4x, HALT at 20% or 6x;
    the default policy store.
    """
    return {
        "orchestrator": Orchestrator(),
        "risk_guard": RiskGuard(
            max_position_pct=100.0, max_leverage=2.0, max_order_volume_pct=10.0, daily_loss_limit_pct=5.0
        ),
        "portfolio_balancer": PortfolioBalancer(max_gross_exposure_pct=200.0),
        "safety_governor": SafetyGovernor(
            max_drawdown_pct=15.0,
            loss_velocity_pct=8.0,
            loss_velocity_bars=24,
            max_failure_streak=10,
            max_corrupt_bars=5,
            max_volatility_mult=4.0,
        ),
        "msc": MetaStrategyController(defensive_vol_mult=2.5, preservation_vol_mult=4.0, halt_vol_mult=6.0),
        "policy_store": PolicyStore(),
    }
