"""Crash calibration anchors: numbers measured on the bundled real crash windows.

The synthetic scenarios of :class:`stresslab.ScenarioLibrary` take their sizes and timings from
these anchors. They were measured on the real hourly Binance spot bars shipped with the package
(:mod:`stresslab.data.bundled`, the rows of the shared ``crash_windows_1h.csv`` behind REALISM.md's
"Crash library anchors"); ``tests/test_library.py`` re-measures every one on the bundled data.

How an anchor is measured (one symbol, its bundled calendar-month window, bars ``0..n-1``):

* **24h crash** (peak ``i`` -> trough ``j``): the largest fall ``low[j] / high[i] - 1`` with
  ``i <= j`` and ``j`` less than 24 h after ``i`` (REALISM's "24h P2T"). ``drop_pct`` is that fall,
  ``duration_bars = j - i``.
* **worst hour**: the lowest close-to-close return of bars ``i+1..j`` (1 h apart).
* **baseline**: the bars of the window before the peak (``0..i-1``, 7 to 18 days). REALISM's
  volume multiples use the 720 h before the peak in the full files, so its volume numbers are a
  little higher (BTC May 2021 peak hour x13.0 there, x12.3 here).
* **volume_mult**: mean volume (base asset) over the crash bars ``i..j`` / baseline mean; the
  FLASH_CRASH transform multiplies every crash bar, so the mean is the multiple to use.
  ``volume_peak_mult`` is the busiest crash hour's multiple (REALISM's "vol x").
* **range_mult**: mean ``ln(high/low)`` over ``i..j`` / baseline mean: how much wider the bars got.
  Bar volatility is proportional to the range, and REALISM's spread model widens the spread with
  (bar volatility)^1.5, so ``spread_mult = range_mult ** 1.5`` (the data holds no quotes).
* **liquidity**: the square-root impact of a fixed-notional order is ``sigma * sqrt(Q / V)``; in
  the crash sigma rose by ``range_mult`` and quote volume by ``usd_volume_mult``, so impact rose by
  ``impact_mult = range_mult / sqrt(usd_volume_mult)``. On a calm market the same impact needs
  volume cut to ``1 / impact_mult**2``: ``liquidity_drop_pct = 1 - usd_volume_mult / range_mult**2``.
* **retrace_pct**: ``(close 24 h after the trough - trough low) / (peak high - trough low)``.
* **stress window**: the run of bars around the trough where the 12-bar centred mean of
  ``ln(high/low)`` is at least twice the baseline mean. ``stress_vol_mult`` is the standard
  deviation of hourly log returns in that window / before the peak; ``aftershock_vol_mult`` the
  same with the crash bars' returns left out (for scenarios that add the crash separately).
* **correlation**: mean pairwise correlation of hourly log returns before the peak (calm) and in
  the first symbol's stress window (stress).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .scenarios import PARAMETER_SPECS, ScenarioType

__all__ = [
    "CrashAnchor",
    "CorrelationAnchor",
    "CRASH_ANCHORS",
    "CORRELATION_ANCHORS",
    "DEFAULT_SPREAD_ELASTICITY",
    "MONTH_BARS",
    "MISSING_HOURS_COVID",
    "BARS_COVID",
    "anchor",
]

# The liquidity-drop transform widens the spread by (1 - drop) ** -elasticity; MIXED_CUSTOM
# scenarios get its default elasticity, so their own spread_mult only adds the rest.
DEFAULT_SPREAD_ELASTICITY: float = PARAMETER_SPECS[ScenarioType.LIQUIDITY_DROP]["spread_elasticity"].default


@dataclass(frozen=True)
class CrashAnchor:
    """One symbol's crash, measured on its bundled window (definitions in the module docs).

    Times are bar open times (UTC); fractions are fractions (0.3155 = 31.55%).
    """

    event: str
    symbol: str
    window_start: str
    first_open: float
    peak: str
    drop_pct: float
    duration_bars: int
    worst_hour_pct: float
    worst_hour: str
    volume_mult: float
    volume_peak_mult: float
    range_mult: float
    usd_volume_mult: float
    retrace_pct: float
    stress_start: str
    stress_bars: int
    stress_vol_mult: float
    aftershock_vol_mult: float

    @property
    def spread_mult(self) -> float:
        """Spread multiple in the crash: range_mult ** 1.5 (REALISM spread model)."""
        return self.range_mult**1.5

    @property
    def impact_mult(self) -> float:
        """Rise of the square-root impact of a fixed-notional order in the crash."""
        return self.range_mult / math.sqrt(self.usd_volume_mult)

    @property
    def liquidity_drop_pct(self) -> float:
        """Volume cut that gives a calm market the crash's impact: 1 - 1 / impact_mult**2."""
        return 1 - 1 / self.impact_mult**2


@dataclass(frozen=True)
class CorrelationAnchor:
    """Mean pairwise hourly return correlation of ``symbols`` before the crash and in its stress window."""

    event: str
    symbols: tuple[str, ...]
    calm_corr: float
    stress_corr: float


def _anchors(*items: CrashAnchor) -> dict[tuple[str, str], CrashAnchor]:
    return {(a.event, a.symbol): a for a in items}


# Measured on python/stresslab/data/bundled/crash_windows_1h.parquet (re-measured in the tests).
CRASH_ANCHORS: dict[tuple[str, str], CrashAnchor] = _anchors(
    CrashAnchor(
        "covid_2020-03", "BTCUSDT", "2020-03-01T00:00:00Z", 8523.61, "2020-03-12T03:00:00Z",
        0.5088, 23, -0.1821, "2020-03-12T10:00:00Z", 5.2391, 15.2874, 8.5262, 3.516, 0.4508,
        "2020-03-12T05:00:00Z", 73, 7.5621, 4.3989,
    ),
    CrashAnchor(
        "covid_2020-03", "ETHUSDT", "2020-03-01T00:00:00Z", 217.21, "2020-03-12T03:00:00Z",
        0.5364, 23, -0.2087, "2020-03-12T10:00:00Z", 5.4, 12.7801, 5.8708, 3.307, 0.4655,
        "2020-03-12T05:00:00Z", 45, 6.2412, 4.6395,
    ),
    CrashAnchor(
        "may_2021", "BTCUSDT", "2021-05-01T00:00:00Z", 57697.25, "2021-05-18T17:00:00Z",
        0.3155, 20, -0.0895, "2021-05-19T12:00:00Z", 3.1611, 12.3484, 3.1491, 2.3487, 0.8472,
        "2021-05-19T05:00:00Z", 27, 3.2187, 2.9698,
    ),
    CrashAnchor(
        "may_2021", "ETHUSDT", "2021-05-01T00:00:00Z", 2772.42, "2021-05-18T21:00:00Z",
        0.455, 16, -0.1308, "2021-05-19T12:00:00Z", 3.0221, 9.4897, 3.6402, 2.318, 0.6448,
        "2021-05-19T06:00:00Z", 28, 3.1861, 2.8153,
    ),
    CrashAnchor(
        "may_2021", "SOLUSDT", "2021-05-01T00:00:00Z", 42.786, "2021-05-18T16:00:00Z",
        0.5461, 20, -0.1928, "2021-05-19T12:00:00Z", 3.8227, 9.5602, 3.2267, 4.0998, 0.527,
        "2021-05-19T01:00:00Z", 32, 3.0327, 2.5847,
    ),
    CrashAnchor(
        "terra_luna_2022-05", "BTCUSDT", "2022-05-01T00:00:00Z", 37630.8, "2022-05-11T10:00:00Z",
        0.1698, 19, -0.0699, "2022-05-11T12:00:00Z", 3.0477, 8.1601, 3.3613, 2.6143, 0.7016,
        "2022-05-11T07:00:00Z", 40, 2.9878, 2.3387,
    ),
    CrashAnchor(
        "terra_luna_2022-05", "ETHUSDT", "2022-05-01T00:00:00Z", 2726.67, "2022-05-11T10:00:00Z",
        0.2657, 19, -0.0976, "2022-05-11T12:00:00Z", 3.3848, 7.3021, 3.7373, 2.8005, 0.4719,
        "2022-05-11T07:00:00Z", 44, 3.3597, 2.5314,
    ),
    CrashAnchor(
        "terra_luna_2022-05", "SOLUSDT", "2022-05-01T00:00:00Z", 84.63, "2022-05-11T10:00:00Z",
        0.4373, 21, -0.1925, "2022-05-11T12:00:00Z", 5.0683, 10.8751, 5.0765, 3.2531, 0.4029,
        "2022-05-11T01:00:00Z", 71, 3.4204, 2.3909,
    ),
    CrashAnchor(
        "ftx_2022-11", "BTCUSDT", "2022-11-01T00:00:00Z", 20490.74, "2022-11-08T16:00:00Z",
        0.1827, 23, -0.0505, "2022-11-08T17:00:00Z", 2.4391, 5.6858, 4.7687, 2.1721, 0.168,
        "2022-11-08T09:00:00Z", 89, 2.8082, 2.6553,
    ),
    CrashAnchor(
        "ftx_2022-11", "ETHUSDT", "2022-11-01T00:00:00Z", 1572.69, "2022-11-08T16:00:00Z",
        0.2809, 18, -0.07, "2022-11-08T18:00:00Z", 4.2521, 10.5272, 3.9637, 3.5913, 0.1011,
        "2022-11-08T11:00:00Z", 84, 2.6831, 2.4818,
    ),
    CrashAnchor(
        "ftx_2022-11", "SOLUSDT", "2022-11-01T00:00:00Z", 32.57, "2022-11-08T19:00:00Z",
        0.5145, 23, -0.1304, "2022-11-09T15:00:00Z", 4.7408, 11.0177, 4.4617, 2.9476, 0.3356,
        "2022-11-08T00:00:00Z", 79, 2.7523, 2.6453,
    ),
    CrashAnchor(
        "aug_2024", "BTCUSDT", "2024-08-01T00:00:00Z", 64628.01, "2024-08-04T12:00:00Z",
        0.198, 18, -0.0342, "2024-08-05T00:00:00Z", 3.891, 16.09, 2.6907, 3.3952, 0.5606,
        "2024-08-04T20:00:00Z", 28, 3.0391, 3.1517,
    ),
)  # fmt: skip

CORRELATION_ANCHORS: dict[str, CorrelationAnchor] = {
    "covid_2020-03": CorrelationAnchor("covid_2020-03", ("BTCUSDT", "ETHUSDT"), 0.8409, 0.9563),
    "may_2021": CorrelationAnchor("may_2021", ("BTCUSDT", "ETHUSDT", "SOLUSDT"), 0.6400, 0.8255),
    "terra_luna_2022-05": CorrelationAnchor("terra_luna_2022-05", ("BTCUSDT", "ETHUSDT", "SOLUSDT"), 0.8866, 0.9411),
    "ftx_2022-11": CorrelationAnchor("ftx_2022-11", ("BTCUSDT", "ETHUSDT", "SOLUSDT"), 0.7348, 0.7556),
}

# Real data faults in the bundled March 2020 window: one missing hour (Binance downtime,
# 2020-03-04 10:00) in 743 bars per symbol; the worst rate of any bundled major's window.
MISSING_HOURS_COVID = 1
BARS_COVID = 743

# Bars in each event's bundled calendar-month window (the synthetic scenarios span the same month).
MONTH_BARS = {"covid_2020-03": 744, "may_2021": 744, "terra_luna_2022-05": 744, "ftx_2022-11": 720, "aug_2024": 744}


def anchor(event: str, symbol: str) -> CrashAnchor:
    """The measured anchor of ``symbol`` in bundled ``event`` (KeyError lists the known ones)."""
    try:
        return CRASH_ANCHORS[(event, symbol)]
    except KeyError:
        raise KeyError(f"no anchor for {(event, symbol)}; known: {sorted(CRASH_ANCHORS)}") from None
