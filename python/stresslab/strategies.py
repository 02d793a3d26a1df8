"""Strategies: native ones (run in Rust, no Python in the loop) and the Python interfaces.

Native (``stresslab.strategies``): :class:`BuyAndHold`, :class:`SmaCross`, :class:`Momentum`,
:class:`MeanReversion`, :class:`TargetSignals`. They emit target weights (fraction of equity per
symbol; ``weight`` defaults to 1 / number of symbols).

Python strategies implement one of:

* the fast batch interface :class:`BatchStrategy`: ``on_batch(bars, context) -> decisions`` where
  ``bars`` is a :class:`BarBatch` (numpy views, no copy) and ``decisions`` an array of shape
  ``(len(bars), n_symbols)`` (or ``(len(bars),)`` for one symbol) of targets, one row per bar;
  the class attribute ``target`` says whether they are weights of equity (default) or units;
* the seed's per-bar interface: ``generate_signals(bar, context) -> list of signals`` (run with
  batch size 1 through :class:`PerBarAdapter`).

Timing: the decision for bar t executes no earlier than bar t+1's open. Inside a batch, the
context is as of the batch start; ``batch_size=1`` is exact bar-by-bar. A batch strategy sees the
whole batch at once, so it must compute each row from that row and earlier ones only (the engine
cannot see inside the function; a causal rolling computation is what is expected).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import polars as pl

from .errors import InvalidParameterError

__all__ = [
    "NativeStrategy",
    "BuyAndHold",
    "SmaCross",
    "Momentum",
    "MeanReversion",
    "TargetSignals",
    "BarBatch",
    "StrategyContext",
    "BatchStrategy",
    "PerBarStrategy",
    "PerBarAdapter",
    "Signal",
]


class NativeStrategy:
    """Base of the strategies implemented in Rust."""

    kind: str = ""

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, **{k: v for k, v in vars(self).items() if not k.startswith("_")}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def _weight(weight: float | None) -> float | None:
    if weight is None:
        return None
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 100:
        raise InvalidParameterError(
            f"weight: must be a number in [0, 100] (fraction of equity), got {weight!r}", "weight"
        )
    return float(weight)


def _window(name: str, v: Any, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidParameterError(f"{name}: must be an integer >= {lo}, got {v!r}", name)
    return int(v)


class BuyAndHold(NativeStrategy):
    kind = "buy_and_hold"

    def __init__(self, weight: float | None = None):
        self.weight = _weight(weight)


class SmaCross(NativeStrategy):
    """Long while SMA(fast) > SMA(slow) of the close (short instead of flat with allow_short)."""

    kind = "sma_cross"

    def __init__(self, fast: int = 24, slow: int = 96, weight: float | None = None, allow_short: bool = False):
        self.fast = _window("fast", fast)
        self.slow = _window("slow", slow)
        if self.fast >= self.slow:
            raise InvalidParameterError(f"fast: must be shorter than slow, got fast={fast} slow={slow}", "fast")
        self.weight = _weight(weight)
        self.allow_short = bool(allow_short)


class Momentum(NativeStrategy):
    """Long when the return over ``lookback`` bars exceeds ``threshold``."""

    kind = "momentum"

    def __init__(self, lookback: int = 24, threshold: float = 0.0, weight: float | None = None, allow_short=False):
        self.lookback = _window("lookback", lookback)
        if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 10:
            raise InvalidParameterError(f"threshold: must be a return in [0, 10], got {threshold!r}", "threshold")
        self.threshold = float(threshold)
        self.weight = _weight(weight)
        self.allow_short = bool(allow_short)


class MeanReversion(NativeStrategy):
    """Long below -entry_z standard deviations from the SMA, flat inside exit_z."""

    kind = "mean_reversion"

    def __init__(
        self,
        lookback: int = 48,
        entry_z: float = 2.0,
        exit_z: float = 0.5,
        weight: float | None = None,
        allow_short: bool = False,
    ):
        self.lookback = _window("lookback", lookback, 2)
        if not 0 <= exit_z <= entry_z:
            raise InvalidParameterError(
                f"exit_z: must be in [0, entry_z], got exit_z={exit_z} entry_z={entry_z}", "exit_z"
            )
        self.entry_z = float(entry_z)
        self.exit_z = float(exit_z)
        self.weight = _weight(weight)
        self.allow_short = bool(allow_short)


class TargetSignals(NativeStrategy):
    """Precomputed targets, shape (n_bars,) or (n_bars, n_symbols); NaN keeps the previous one."""

    kind = "target_signals"

    def __init__(self, targets: Any):
        arr = np.asarray(targets, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise InvalidParameterError(f"targets: must be 1-D or 2-D, got shape {arr.shape}", "targets")
        if np.isinf(arr).any():
            raise InvalidParameterError("targets: must be finite (NaN = keep the previous target)", "targets")
        self.targets = np.ascontiguousarray(arr)

    def __repr__(self) -> str:
        return f"TargetSignals(shape={self.targets.shape})"


# ---------------------------------------------------------------------------------------------
# Python strategies


class BarBatch:
    """A batch of bars [start, stop) as numpy views shaped (n_bars_in_batch, n_symbols).

    Attributes: ``open, high, low, close, volume, spread`` (views, no copy), ``timestamp``
    (int64 ms UTC), ``start``/``stop`` (bar indices in the run), ``symbols``.
    """

    __slots__ = ("_m", "start", "stop", "symbols")

    def __init__(self, market: dict[str, Any], start: int, stop: int):
        self._m = market
        self.start = start
        self.stop = stop
        self.symbols = market["symbols"]

    def __len__(self) -> int:
        return self.stop - self.start

    def _col(self, name: str) -> np.ndarray:
        return self._m["_T"][name][self.start : self.stop]

    open = property(lambda self: self._col("open"))
    high = property(lambda self: self._col("high"))
    low = property(lambda self: self._col("low"))
    close = property(lambda self: self._col("close"))
    volume = property(lambda self: self._col("volume"))
    spread = property(lambda self: self._col("spread"))

    @property
    def timestamp(self) -> np.ndarray:
        return self._m["timestamps"][self.start : self.stop]

    def to_polars(self) -> pl.DataFrame:
        """The batch in the long format (timestamp, symbol, open, ..., spread)."""
        n, k = len(self), len(self.symbols)
        ts = np.repeat(self.timestamp, k).astype("datetime64[ms]")
        out = {"timestamp": ts, "symbol": np.tile(np.array(self.symbols, dtype=object), n)}
        for c in ("open", "high", "low", "close", "volume", "spread"):
            out[c] = self._col(c).reshape(-1)
        return pl.DataFrame(out).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


@dataclass
class StrategyContext:
    """The account as of the start of the batch."""

    symbols: list[str]
    bar_index: int = 0
    cash: float = 0.0
    equity: float = 0.0
    positions: np.ndarray | None = None
    open_orders: int = 0

    def position(self, symbol: str) -> float:
        return float(self.positions[self.symbols.index(symbol)]) if self.positions is not None else 0.0


@runtime_checkable
class BatchStrategy(Protocol):
    """The fast interface: one call per batch, one decision row per bar."""

    def on_batch(self, bars: BarBatch, context: StrategyContext) -> Any: ...


@runtime_checkable
class PerBarStrategy(Protocol):
    """The seed's interface: one call per bar returning a list of signals."""

    def generate_signals(self, bar: dict[str, Any], context: StrategyContext) -> Any: ...


@dataclass
class Signal:
    """A seed-style signal. ``action``: 'buy'/'long', 'sell'/'short', 'close'/'flat', 'hold'.
    ``weight``: fraction of equity (default: 1 / number of symbols)."""

    symbol: str
    action: str
    weight: float | None = None
    confidence: float = 1.0


class PerBarAdapter:
    """Runs a per-bar ``generate_signals`` strategy through the batch interface (batch size 1).

    A 'sell' opens a short only with ``allow_short``; otherwise it closes the long. The signals'
    confidence (1 when absent) is kept per symbol in ``last_confidence`` (rows of the last batch)
    for the orchestrator.
    """

    target = "weight"

    def __init__(self, strategy: PerBarStrategy, allow_short: bool = False):
        self.strategy = strategy
        self.allow_short = allow_short
        self._targets: np.ndarray | None = None
        self._confidence: np.ndarray | None = None
        self.last_confidence: np.ndarray | None = None

    def on_batch(self, bars: BarBatch, context: StrategyContext) -> np.ndarray:
        n_sym = len(bars.symbols)
        if self._targets is None:
            self._targets = np.zeros(n_sym)
            self._confidence = np.ones(n_sym)
        out = np.empty((len(bars), n_sym))
        conf = np.empty((len(bars), n_sym))
        for i in range(len(bars)):
            bar = {
                s: {
                    "timestamp": int(bars.timestamp[i]),
                    "open": float(bars.open[i, k]),
                    "high": float(bars.high[i, k]),
                    "low": float(bars.low[i, k]),
                    "close": float(bars.close[i, k]),
                    "volume": float(bars.volume[i, k]),
                }
                for k, s in enumerate(bars.symbols)
            }
            if n_sym == 1:
                bar = {"symbol": bars.symbols[0], **bar[bars.symbols[0]]}
            signals = self.strategy.generate_signals(bar, context) or []
            for sig in signals:
                self._apply(sig, bars.symbols)
            out[i] = self._targets
            conf[i] = self._confidence
        self.last_confidence = conf
        return out

    def _apply(self, sig: Any, symbols: list[str]) -> None:
        get = sig.get if isinstance(sig, dict) else (lambda k, d=None: getattr(sig, k, d))
        symbol = get("symbol", symbols[0])
        if symbol not in symbols:
            raise ValueError(f"signal for unknown symbol {symbol!r}; symbols are {symbols}")
        action = str(get("action", get("side", "hold"))).lower()
        w = get("weight", None)
        w = 1.0 / len(symbols) if w is None else float(w)
        k = symbols.index(symbol)
        assert self._targets is not None and self._confidence is not None
        c = get("confidence", 1.0)
        self._confidence[k] = 1.0 if c is None else min(1.0, max(0.0, float(c)))
        if action in ("buy", "long"):
            self._targets[k] = w
        elif action in ("sell", "short"):
            self._targets[k] = -w if self.allow_short else 0.0
        elif action in ("close", "flat", "exit"):
            self._targets[k] = 0.0
        elif action != "hold":
            raise ValueError(f"unknown signal action {action!r}")
