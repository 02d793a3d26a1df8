"""Performance and risk metrics of an equity path, computed in Rust in one pass.

``compute_metrics(equity, trade_pnls)`` returns a dict with every metric below plus ``flags``
(names of the conditions that left some metric undefined) and ``undefined`` (each NaN metric
mapped to the reason). The execution engine fills ``ScenarioResult`` from the same Rust code.

Conventions (REALISM.md "Metric conventions"):

* Returns are per-bar simple returns ``r_t = equity[t] / equity[t-1] - 1`` where the equity before
  the first bar is the initial equity, so N bars give N returns (vectorbt's convention).
* ``periods_per_year`` annualises: 8760 for 1h bars traded 24/7 (the default), 252 for daily
  equities. Risk-free rate 0.
* Sharpe uses the sample standard deviation (ddof=1). Returns whose standard deviation is zero
  to float rounding (below ``64 * eps * (1 + |mean|)``, e.g. a constant-growth curve) give Sharpe
  NaN, volatility 0 and the ``zero_variance`` flag, never a huge number made of rounding noise.
* Sortino divides by the downside deviation ``sqrt(sum(min(r, 0)**2) / N)`` over all N returns.
* ``max_drawdown`` is a positive percentage (20.0 = equity fell 20% below its running peak); the
  initial equity counts as a peak. ``max_dd_duration`` is the longest span in bars from the bar a
  peak was set (-1 for the initial equity) to the first bar back at or above it; a drawdown still
  open at the end runs to the last bar, and ``max_dd_duration_open`` is True when that open one
  is the longest.
* Calmar = CAGR / (max_drawdown / 100), CAGR = (final / initial) ** (periods_per_year / N) - 1.
* VaR and ES are historical, of per-bar returns, as positive loss fractions (0.0113 = 1.13%):
  VaR = -numpy.quantile(r, 1 - level) (linear), ES = -mean of the floor((N-1)(1-level))+1 worst
  returns (empyrical's definitions). No distribution is assumed.
* Profit factor = gross profit / gross loss; with no losing trade it is NaN with the
  ``no_losing_trades`` flag, not infinity. A zero-PnL trade is neither a win nor a loss.
* Undefined values are NaN with a flag, never a division error or a made-up number.

Metrics (key, unit, convention); ``var_``/``es_`` keys follow ``var_levels`` (``var_97.5`` for
0.975):

==================== ======== ==============================================================
key                  unit     convention
==================== ======== ==============================================================
n_bars               bars     number of bars recorded
initial_equity       currency equity before the first bar
final_equity         currency equity at the last bar
min_equity           currency lowest equity, the initial equity included
total_return         fraction final / initial - 1
total_return_pct     percent  100 x total_return
cagr                 fraction (final / initial) ** (periods_per_year / n_bars) - 1
max_drawdown         percent  max over bars of 100 (1 - equity / running peak), positive
max_dd_duration      bars     longest peak-to-recovery span; an open drawdown runs to the end
max_dd_duration_open bool     the longest drawdown had not recovered at the last bar
final_drawdown       percent  100 (1 - final equity / running peak)
volatility           fraction std(r, ddof=1) x sqrt(periods_per_year)
sharpe_ratio         ratio    mean(r) / std(r, ddof=1) x sqrt(periods_per_year)
sortino              ratio    mean(r) / sqrt(sum(min(r, 0)**2) / N) x sqrt(periods_per_year)
calmar               ratio    cagr / (max_drawdown / 100)
var_95               fraction historical VaR at 95%, positive = loss
es_95                fraction historical ES at 95%, positive = loss
var_99               fraction historical VaR at 99%
es_99                fraction historical ES at 99%
total_trades         count    closed round trips
winning_trades       count    trades with pnl > 0
losing_trades        count    trades with pnl < 0
winrate              percent  100 x winning_trades / total_trades (55.0 = 55%)
profit_factor        ratio    gross_profit / gross_loss
gross_profit         currency sum of winning trades' pnl
gross_loss           currency sum of |pnl| of losing trades (positive)
avg_trade_pnl        currency mean trade pnl
avg_win              currency mean pnl of winning trades
avg_loss             currency mean pnl of losing trades (negative)
best_trade           currency largest trade pnl
worst_trade          currency smallest trade pnl
avg_bars_held        bars     mean holding time (needs ``trade_bars_held``)
exposure             fraction mean over bars of gross exposure / equity (1.0 = fully invested)
time_in_market       fraction share of bars with non-zero gross exposure
max_leverage         ratio    max over bars of gross exposure / equity
turnover             ratio    total traded notional / mean equity
fees_paid            currency sum of fees
slippage_paid        currency sum of slippage costs
ruined               bool     equity fell to or below ruin_threshold x initial equity
==================== ======== ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from .errors import InvalidParameterError

__all__ = ["compute_metrics", "METRIC_NAMES", "METRIC_UNITS", "METRIC_CONVENTIONS", "FLAG_REASONS"]

_INFO: list[tuple[str, str, str]] = list(_core.metric_info())

#: Every metric key of :func:`compute_metrics` (VaR/ES keys for the default levels 0.95, 0.99).
METRIC_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _INFO)
#: Unit of each metric: fraction, percent, ratio, bars, count, currency or bool.
METRIC_UNITS: dict[str, str] = {name: unit for name, unit, _ in _INFO}
#: The formula or convention of each metric, as the Rust core documents it.
METRIC_CONVENTIONS: dict[str, str] = {name: conv for name, _, conv in _INFO}
#: Every flag that can leave a metric undefined, with its reason.
FLAG_REASONS: dict[str, str] = dict(_core.metric_flags())


def _series(name: str, values: Any) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name}: must be a 1-D array of numbers", name) from None
    if arr.ndim != 1:
        raise InvalidParameterError(f"{name}: must be a 1-D array, got shape {arr.shape}", name)
    return arr


def _optional_series(name: str, values: Any) -> np.ndarray | None:
    return None if values is None else _series(name, values)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidParameterError(f"{name}: must be a number, got {value!r}", name)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name}: must be a number, got {value!r}", name) from None


def compute_metrics(
    equity: Any,
    trade_pnls: Any = None,
    periods_per_year: float = 8760.0,
    initial_equity: float | None = None,
    exposure: Any = None,
    turnover: Any = None,
    *,
    trade_bars_held: Any = None,
    fees: float = 0.0,
    slippage: float = 0.0,
    ruin_threshold: float = 0.5,
    var_levels: Sequence[float] = (0.95, 0.99),
) -> dict[str, Any]:
    """Compute every metric of one equity path (see the module docstring for the table).

    Args:
        equity: mark-to-market equity at each bar's close (1-D, finite). With
            ``initial_equity=None`` its first value is the starting equity (a point before the
            first bar), so ``len(equity) - 1`` bars are measured and at least 2 values are needed.
        trade_pnls: PnL of each closed round trip after costs (1-D, finite); None = no trades.
        periods_per_year: bars per year for annualising (8760 = 1h bars 24/7, 252 = daily).
        initial_equity: equity before the first bar (> 0); None takes ``equity[0]``.
        exposure: gross exposure notional per bar, sum of |position notional| in currency (>= 0,
            one value per bar). None leaves exposure, time_in_market and max_leverage undefined.
        turnover: notional traded during each bar in currency (>= 0, one value per bar). None
            leaves turnover undefined.
        trade_bars_held: bars each trade was held (whole numbers, one per trade); None leaves
            avg_bars_held undefined.
        fees: total fees paid (negative for net rebates).
        slippage: total slippage cost paid.
        ruin_threshold: ``ruined`` is True when equity fell to or below this fraction of the
            initial equity (in [0, 1]; 0.5 = half the capital lost).
        var_levels: two increasing confidence levels in (0, 1) for VaR/ES; the keys are named
            after them (``var_95``, ``es_99``).

    Returns:
        dict: each metric of :data:`METRIC_NAMES` (float, int or bool; undefined ones NaN), plus
        ``flags`` (list of flag names, see :data:`FLAG_REASONS`) and ``undefined`` (dict from
        each NaN metric to its reason).

    Raises:
        InvalidParameterError: a non-finite or non-positive initial equity, a non-finite equity,
            PnL or cost, a negative exposure or turnover, mismatched lengths, a level outside
            (0, 1) or a ruin threshold outside [0, 1]; ``err.field`` names the argument.
    """
    levels = tuple(var_levels) if isinstance(var_levels, Sequence) and not isinstance(var_levels, str) else ()
    if len(levels) != 2:
        msg = f"var_levels: must be two increasing levels such as (0.95, 0.99), got {var_levels!r}"
        raise InvalidParameterError(msg, "var_levels")
    return _core.compute_metrics(
        _series("equity", equity),
        _optional_series("trade_pnls", trade_pnls),
        periods_per_year=_number("periods_per_year", periods_per_year),
        initial_equity=None if initial_equity is None else _number("initial_equity", initial_equity),
        exposure=_optional_series("exposure", exposure),
        turnover=_optional_series("turnover", turnover),
        trade_bars_held=_optional_series("trade_bars_held", trade_bars_held),
        fees=_number("fees", fees),
        slippage=_number("slippage", slippage),
        ruin_threshold=_number("ruin_threshold", ruin_threshold),
        var_levels=(_number("var_levels", levels[0]), _number("var_levels", levels[1])),
    )
