"""ScenarioLibrary: named stress scenarios calibrated on real crashes, and replays of the crashes.

Every synthetic scenario takes its sizes and timings from one real event, measured on the real
hourly Binance spot bars shipped with the package (:mod:`stresslab.data.bundled`; the same rows
as the shared ``crash_windows_1h.csv`` behind REALISM.md's "Crash library anchors"). The
measurements, how they are made, and the formulas turning them into parameters (spread and
liquidity multiples) are in :mod:`stresslab.calibration`; ``tests/test_library.py`` re-measures
every one on the bundled data. Each scenario's docstring says which numbers came from where.
The four historic replays run on the bundled bars themselves. Everything runs offline.

Numbers that no bundled data can give (order rejection rates, latency, model failures) are stated
as stress settings in each docstring, not passed off as measurements.
"""

from __future__ import annotations

import math

from .calibration import CORRELATION_ANCHORS, DEFAULT_SPREAD_ELASTICITY, MONTH_BARS, anchor
from .data.bundled import bundled_events
from .scenarios import Scenario, ScenarioType

__all__ = ["ScenarioLibrary"]


def _r(x: float, digits: int = 4) -> float:
    return round(float(x), digits)


def _median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _market(event: str, symbols: list[str]) -> dict:
    """Synthetic market fields: the event's month, starting at the real first opens."""
    first = anchor(event, symbols[0])
    return {
        "symbols": symbols,
        "start": first.window_start,
        "n_bars": MONTH_BARS[event],
        "interval": "1h",
        "initial_prices": {s: anchor(event, s).first_open for s in symbols},
    }


class ScenarioLibrary:
    """Named, calibrated stress scenarios (synthetic) and replays of bundled real crashes.

    Every method returns a new validated :class:`Scenario` with a unique name and a fixed seed.
    :meth:`get_all` lists them all; :meth:`get_by_type` filters by :class:`ScenarioType`.
    """

    # -- synthetic, calibrated on one real event ----------------------------------------------
    @staticmethod
    def btc_flash_crash_2021() -> Scenario:
        """BTC flash crash of 18-19 May 2021 (FLASH_CRASH on BTCUSDT).

        Measured on the bundled May 2021 BTCUSDT bars (CRASH_ANCHORS["may_2021", "BTCUSDT"]):
        -31.5% (31.55%) from 43,826 (2021-05-18 17:00) to 30,000 in 20 h (REALISM rounds it to
        -31.6%);
        worst hour -8.9% (05-19 12:00; the transform spreads the fall over the 20 bars with
        random weights, so single hours are of that order); mean volume x3.16 over the crash
        hours (busiest hour x12.3); bar range x3.15, so spreads x5.59 (range ** 1.5); 84.7% of
        the fall retraced 24 h after the trough. The crash starts at the real peak hour of a
        synthetic May 2021 that opens at the real first price.
        """
        a = anchor("may_2021", "BTCUSDT")
        return Scenario(
            name="btc_flash_crash_2021",
            type=ScenarioType.FLASH_CRASH,
            parameters={
                "drop_pct": _r(a.drop_pct),
                "duration_bars": a.duration_bars,
                "recovery_bars": 24,
                "recovery_pct": _r(a.retrace_pct),
                "volume_mult": _r(a.volume_mult, 2),
                "spread_mult": _r(a.spread_mult, 2),
                "at": a.peak,
            },
            seed=20210519,
            description="BTC -31.5% in 20 h with 85% rebound, as on 18-19 May 2021",
            tags=["calibrated", "may_2021", "crash"],
            **_market("may_2021", ["BTCUSDT"]),
        )

    @staticmethod
    def eth_liquidity_collapse() -> Scenario:
        """ETH liquidity collapse of 18-19 May 2021 (LIQUIDITY_DROP on ETHUSDT).

        Measured on the bundled May 2021 ETHUSDT bars: ETH fell -45.5% in 16 h (3,464 ->
        1,888, 2021-05-18 21:00 -> 05-19 13:00). Over those 16 h the bar range was x3.64 the
        pre-crash mean while quote (USDT) volume was only x2.32, so the square-root impact of a
        fixed-notional order rose x2.39 (= 3.64 / sqrt(2.32)); a calm market has that impact
        with volume cut by 82.5% (``drop_pct`` = 1 - 1 / 2.39**2). Hourly Amihud illiquidity
        hardly moves (x0.9-1.4): volume surged as depth vanished, which is why the impact
        route is used. ``spread_elasticity`` 1.11 makes the spread x6.95 (= 3.64 ** 1.5, the
        REALISM spread model) at that drop. Window: the 16 crash hours from the real peak hour.
        """
        a = anchor("may_2021", "ETHUSDT")
        drop = a.liquidity_drop_pct
        return Scenario(
            name="eth_liquidity_collapse",
            type=ScenarioType.LIQUIDITY_DROP,
            parameters={
                "drop_pct": _r(drop),
                "duration_bars": a.duration_bars,
                "spread_elasticity": _r(math.log(a.spread_mult) / -math.log(1 - _r(drop))),
                "at": a.peak,
            },
            seed=20210518,
            description="ETH order-book depth collapse of 19 May 2021: impact x2.4, spreads x6.95 for 16 h",
            tags=["calibrated", "may_2021", "liquidity"],
            **_market("may_2021", ["ETHUSDT"]),
        )

    @staticmethod
    def sol_volatility_explosion() -> Scenario:
        """SOL volatility explosion of the FTX collapse, 8-11 November 2022 (VOLATILITY_SPIKE on SOLUSDT).

        Measured on the bundled November 2022 SOLUSDT bars: the stress window (12-bar mean
        range >= 2x the pre-crash mean) runs 79 h from 2022-11-08 00:00; hourly log-return
        volatility in it was x2.75 the pre-crash level (the 24 h crash inside it: -51.5% in 23 h
        from 25.83 to 12.54, worst hour -13.0%, bar range x4.46). The spike scales returns and
        intrabar ranges by that multiple over that window of a synthetic November 2022.
        """
        a = anchor("ftx_2022-11", "SOLUSDT")
        return Scenario(
            name="sol_volatility_explosion",
            type=ScenarioType.VOLATILITY_SPIKE,
            parameters={"multiplier": _r(a.stress_vol_mult, 2), "duration_bars": a.stress_bars, "at": a.stress_start},
            seed=20221108,
            description="SOL hourly volatility x2.75 for 79 h, as in the FTX collapse",
            tags=["calibrated", "ftx_2022-11", "volatility"],
            **_market("ftx_2022-11", ["SOLUSDT"]),
        )

    @staticmethod
    def mixed_regime_chaos() -> Scenario:
        """Multi-asset regime break of the Terra/LUNA collapse, May 2022 (MIXED_CUSTOM on BTC, ETH, SOL).

        Measured on the bundled May 2022 BTC/ETH/SOL bars (median of the three unless stated):
        24 h crash -26.6% in 19 h from 2022-05-11 10:00 (BTC -17.0%, ETH -26.6%, SOL -43.7%),
        47.2% retraced in 24 h; volatility outside the crash hours x2.42 (mean of 2.34 / 2.53 /
        2.39) over BTC's 40 h stress window from 05-11 07:00; mean pairwise return correlation
        0.887 before the crash and 0.941 in the stress window (the correlation target);
        liquidity drop 79.95% (ETH: impact x2.23); bar range x3.74 (ETH), so spreads x7.2
        (range ** 1.5), of which the liquidity drop's default elasticity 0.5 already gives
        x2.23: ``spread_mult`` adds the remaining x3.24. The stresses apply in the documented
        MIXED_CUSTOM order to a synthetic May 2022.
        """
        syms = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        ev = "terra_luna_2022-05"
        anchors = [anchor(ev, s) for s in syms]
        btc = anchors[0]
        drop = _median([a.drop_pct for a in anchors])
        liquidity = _r(_median([a.liquidity_drop_pct for a in anchors]))
        spread_total = _median([a.spread_mult for a in anchors])
        return Scenario(
            name="mixed_regime_chaos",
            type=ScenarioType.MIXED_CUSTOM,
            parameters={
                "flash_crash_drop_pct": _r(drop),
                "flash_crash_duration_bars": int(_median([a.duration_bars for a in anchors])),
                "flash_crash_recovery_bars": 24,
                "flash_crash_recovery_pct": _r(_median([a.retrace_pct for a in anchors])),
                "flash_crash_at": btc.peak,
                "volatility_multiplier": _r(sum(a.aftershock_vol_mult for a in anchors) / 3, 2),
                "volatility_duration_bars": btc.stress_bars,
                "volatility_at": btc.stress_start,
                "correlation_target": _r(CORRELATION_ANCHORS[ev].stress_corr, 3),
                "correlation_duration_bars": btc.stress_bars,
                "correlation_at": btc.stress_start,
                "liquidity_drop_pct": liquidity,
                "liquidity_duration_bars": btc.duration_bars,
                "liquidity_at": btc.peak,
                "spread_mult": _r(spread_total * (1 - liquidity) ** DEFAULT_SPREAD_ELASTICITY, 2),
                "spread_duration_bars": btc.duration_bars,
                "spread_at": btc.peak,
            },
            seed=20220511,
            description="Terra/LUNA week: crash, aftershock volatility, correlations to 0.94, thin books",
            tags=["calibrated", "terra_luna_2022-05", "multi-asset"],
            **_market(ev, syms),
        )

    @staticmethod
    def model_failure_simulation() -> Scenario:
        """Strategy models failing at a stated rate during a volatility shock (MIXED_CUSTOM on BTCUSDT).

        ``model_failure_rate`` 0.10: each strategy model call fails with probability 10% (a
        stress setting; no public data measures model failures). The market is a synthetic
        August 2024 with the 5 August 2024 volatility shock measured on the bundled BTCUSDT
        bars: hourly volatility x3.04 over the 28 h stress window from 2024-08-04 20:00 (the
        24 h crash in it: -19.8% in 18 h, 61,098 -> 49,000), the kind of regime break in which
        models fitted on calm data fail.
        """
        a = anchor("aug_2024", "BTCUSDT")
        return Scenario(
            name="model_failure_simulation",
            type=ScenarioType.MIXED_CUSTOM,
            parameters={
                "model_failure_rate": 0.10,
                "volatility_multiplier": _r(a.stress_vol_mult, 2),
                "volatility_duration_bars": a.stress_bars,
                "volatility_at": a.stress_start,
            },
            seed=20240805,
            description="10% of strategy model calls fail during an Aug-2024-sized volatility shock",
            tags=["calibrated", "aug_2024", "model-risk"],
            **_market("aug_2024", ["BTCUSDT"]),
        )

    @staticmethod
    def data_corruption_shock() -> Scenario:
        """Corrupted market data feed (DATA_CORRUPTION on BTCUSDT and ETHUSDT).

        2% of bars are corrupted with every kind of fault. The real base rate, measured on the
        bundled March 2020 window, is 1 missing hour (Binance downtime, 2020-03-04 10:00) in
        743 bars = 0.13%, the worst of the bundled majors; 2% is about 15 times that, a feed in
        serious trouble. The kinds include those seen in real files (gaps from downtime;
        stale, zero-volume filler bars such as the one CryptoDataDownload inserted there; the
        off-grid and out-of-order rows of merged exports, REALISM: 43 off-grid bars in the
        2017-2023 BTC file) and those a broken feed adds (NaN, spikes, duplicates, negative
        prices). The market is a synthetic March 2020.
        """
        return Scenario(
            name="data_corruption_shock",
            type=ScenarioType.DATA_CORRUPTION,
            parameters={
                "corruption_pct": 0.02,
                "corruption_types": [
                    "nan",
                    "spike",
                    "duplicate",
                    "gap",
                    "stale",
                    "out_of_order",
                    "zero_volume",
                    "negative",
                ],
            },  # fmt: skip
            seed=20200304,
            description="2% of bars corrupted (15x the real downtime-gap rate of March 2020)",
            tags=["calibrated", "covid_2020-03", "data-quality"],
            **_market("covid_2020-03", ["BTCUSDT", "ETHUSDT"]),
        )

    @staticmethod
    def execution_crisis() -> Scenario:
        """Exchange in crisis during the May 2021 crash (MIXED_CUSTOM on BTCUSDT).

        Market (measured, bundled May 2021 BTCUSDT, as :meth:`btc_flash_crash_2021`): -31.5% in
        20 h from 2021-05-18 17:00, 84.7% retraced in 24 h, spreads x5.59 over the crash hours.
        Outage: one 1 h bar at the crash's worst hour (2021-05-19 12:00, -8.9%); Binance was
        down about 30 min including its API on 19 May 2021 (REALISM outage anchors, from news,
        not in the data), rounded up to one bar. Execution stress settings (no public per-order
        data for that day): 10% of orders rejected (``failure_rate``), latency x10
        (``latency_multiplier``), and a latency spike on 25% of orders (``latency_spike_prob``).
        """
        a = anchor("may_2021", "BTCUSDT")
        return Scenario(
            name="execution_crisis",
            type=ScenarioType.MIXED_CUSTOM,
            parameters={
                "flash_crash_drop_pct": _r(a.drop_pct),
                "flash_crash_duration_bars": a.duration_bars,
                "flash_crash_recovery_bars": 24,
                "flash_crash_recovery_pct": _r(a.retrace_pct),
                "flash_crash_at": a.peak,
                "spread_mult": _r(a.spread_mult, 2),
                "spread_duration_bars": a.duration_bars,
                "spread_at": a.peak,
                "failure_rate": 0.10,
                "latency_multiplier": 10.0,
                "latency_spike_prob": 0.25,
                "outage_at": a.worst_hour,
                "outage_bars": 1,
            },
            seed=20210520,
            description="May 2021 crash with rejected orders, x10 latency and a 1 h outage at the worst hour",
            tags=["calibrated", "may_2021", "execution"],
            **_market("may_2021", ["BTCUSDT"]),
        )

    @staticmethod
    def black_swan_combo() -> Scenario:
        """Everything at once, at March 2020 size (MIXED_CUSTOM on BTCUSDT and ETHUSDT).

        Measured on the bundled March 2020 bars (BTC unless stated): -50.9% in 23 h from
        7,700 (2020-03-12 03:00) to 3,782 (ETH -53.6%), worst hour -18.2% (03-12 10:00), 45.1%
        retraced in 24 h; volatility outside the crash hours x4.40 over the 73 h stress window
        from 03-12 05:00; BTC-ETH correlation 0.841 before and 0.956 in that window (so the
        correlation converges to 1); liquidity drop 95.2% (impact x4.55: bar range x8.53 at
        quote volume x3.52); spreads x24.9 (= 8.53 ** 1.5), of which the liquidity drop's
        default elasticity gives x4.55, ``spread_mult`` the remaining x5.48. Outage: one bar at
        the worst hour (BitMEX was down ~25 min on 13 March 2020, REALISM outage anchors).
        Stress settings (not measurable here): 20% order rejections, latency x20 with spikes on
        half the orders, 5% model failures, 0.5% corrupted bars.
        """
        syms = ["BTCUSDT", "ETHUSDT"]
        a = anchor("covid_2020-03", "BTCUSDT")
        liquidity = _r(a.liquidity_drop_pct)
        return Scenario(
            name="black_swan_combo",
            type=ScenarioType.MIXED_CUSTOM,
            parameters={
                "flash_crash_drop_pct": _r(a.drop_pct),
                "flash_crash_duration_bars": a.duration_bars,
                "flash_crash_recovery_bars": 24,
                "flash_crash_recovery_pct": _r(a.retrace_pct),
                "flash_crash_at": a.peak,
                "volatility_multiplier": _r(a.aftershock_vol_mult, 2),
                "volatility_duration_bars": a.stress_bars,
                "volatility_at": a.stress_start,
                "correlation_mode": "converge",
                "correlation_duration_bars": a.stress_bars,
                "correlation_at": a.stress_start,
                "liquidity_drop_pct": liquidity,
                "liquidity_duration_bars": a.duration_bars,
                "liquidity_at": a.peak,
                "spread_mult": _r(a.spread_mult * (1 - liquidity) ** DEFAULT_SPREAD_ELASTICITY, 2),
                "spread_duration_bars": a.duration_bars,
                "spread_at": a.peak,
                "failure_rate": 0.20,
                "latency_multiplier": 20.0,
                "latency_spike_prob": 0.5,
                "outage_at": a.worst_hour,
                "outage_bars": 1,
                "model_failure_rate": 0.05,
                "corruption_pct": 0.005,
            },
            seed=20200312,
            description="March 2020 crash with every stress on top: the worst case in the library",
            tags=["calibrated", "covid_2020-03", "black-swan"],
            **_market("covid_2020-03", syms),
        )

    # -- historic replays of the bundled real crashes -------------------------------------------
    @staticmethod
    def covid_crash_2020() -> Scenario:
        """Replay of March 2020 (bundled BTCUSDT, ETHUSDT 1h bars, 2020-03-01 .. 04-01).

        BTC -50.9% in 23 h on 12-13 March; one missing hour (03-04 10:00, downtime). ETH comes
        from a CryptoDataDownload export whose opens equal the previous close (SOURCES.md).
        """
        return _replay("covid_crash_2020", "covid_2020-03", ["BTCUSDT", "ETHUSDT"], seed=202003)

    @staticmethod
    def may_2021_crash() -> Scenario:
        """Replay of May 2021 (bundled BTCUSDT, ETHUSDT, SOLUSDT 1h bars, 2021-05-01 .. 06-01).

        BTC -31.5% in 20 h, ETH -45.5% in 16 h, SOL -54.6% in 20 h on 18-19 May.
        """
        syms = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        return _replay("may_2021_crash", "may_2021", syms, seed=202105)

    @staticmethod
    def luna_collapse_2022() -> Scenario:
        """Replay of the Terra collapse (bundled BTC, ETH, SOL, LUNA, UST 1h bars, 2022-05-01 .. 05-13 01:00).

        The window ends with the last LUNA/UST bar (05-13 00:00, pair halted), so all five
        symbols share one clock: LUNA falls to 0.00004, UST loses its peg (-76.0% in 18 h).
        """
        syms = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "LUNAUSDT", "USTUSDT"]
        return _replay("luna_collapse_2022", "terra_luna_2022-05", syms, seed=202205, end="2022-05-13T01:00:00Z")

    @staticmethod
    def ftx_collapse_2022() -> Scenario:
        """Replay of the FTX collapse (bundled BTC, ETH, SOL, FTT 1h bars, 2022-11-01 .. 11-15 05:00).

        The window ends with the last FTT bar (11-15 04:00; a hole in the source follows), so
        all four symbols share one clock: FTT -88.8% in 23 h, SOL -51.5% in 23 h.
        """
        syms = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "FTTUSDT"]
        return _replay("ftx_collapse_2022", "ftx_2022-11", syms, seed=202211, end="2022-11-15T05:00:00Z")

    # -- collections ---------------------------------------------------------------------------
    SYNTHETIC = (
        "btc_flash_crash_2021",
        "eth_liquidity_collapse",
        "sol_volatility_explosion",
        "mixed_regime_chaos",
        "model_failure_simulation",
        "data_corruption_shock",
        "execution_crisis",
        "black_swan_combo",
    )
    HISTORIC = ("covid_crash_2020", "may_2021_crash", "luna_collapse_2022", "ftx_collapse_2022")

    @classmethod
    def get_all(cls) -> list[Scenario]:
        """All library scenarios: the eight synthetic ones, then the four historic replays."""
        return [getattr(cls, name)() for name in (*cls.SYNTHETIC, *cls.HISTORIC)]

    @classmethod
    def get_by_type(cls, scenario_type: ScenarioType | str) -> list[Scenario]:
        """The library scenarios of one type (a :class:`ScenarioType` or its name)."""
        wanted = ScenarioType.parse(scenario_type)
        return [s for s in cls.get_all() if s.type is wanted]

    @classmethod
    def names(cls) -> list[str]:
        """Names of all library scenarios, in :meth:`get_all` order."""
        return [*cls.SYNTHETIC, *cls.HISTORIC]


def _replay(name: str, event: str, symbols: list[str], seed: int, end: str | None = None) -> Scenario:
    """A plain replay of a bundled window: the whole calendar month, or up to ``end``."""
    window = bundled_events()[event]
    return Scenario(
        name=name,
        type=ScenarioType.HISTORIC_REPLAY,
        parameters={"source": "bundled", "event": event},
        symbols=symbols,
        start=window.start,
        end=end if end is not None else window.end,
        seed=seed,
        interval="1h",
        description=f"Replay of the bundled real {event} window",
        tags=["historic", event],
    )
