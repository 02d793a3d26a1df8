"""A small dataset of real hourly bars around well-known crashes, shipped inside the package.

So that historic replays work offline out of the box::

    from stresslab.data import load_bundled, bundled_events
    bundled_events()                      # {'may_2021': BundledEvent(...), ...}
    df = load_bundled(["BTCUSDT", "ETHUSDT"], event="may_2021")

Windows (UTC, bar open times in ``[start, end)``; 1h bars; all Binance spot):

=====================  =========================  ==============================================
event                  window                     symbols
=====================  =========================  ==============================================
``covid_2020-03``      2020-03-01 .. 2020-04-01   BTCUSDT, ETHUSDT (ETH from CryptoDataDownload:
                                                  open = previous close; see SOURCES.md)
``may_2021``           2021-05-01 .. 2021-06-01   BTCUSDT, ETHUSDT, SOLUSDT
``terra_luna_2022-05``  2022-05-01 .. 2022-06-01  BTCUSDT, ETHUSDT, SOLUSDT, LUNAUSDT and USTUSDT
                                                  (these two end 2022-05-13 00:00: pair halted)
``ftx_2022-11``        2022-11-01 .. 2022-12-01   BTCUSDT, ETHUSDT, SOLUSDT, FTTUSDT (FTT ends
                                                  2022-11-15 04:00: data hole in the source)
``aug_2024``           2024-08-01 .. 2024-09-01   BTCUSDT
=====================  =========================  ==============================================

SOL was listed on Binance in August 2020, so March 2020 has no SOL. Missing hours are exchange
downtime and are not filled (e.g. 2020-03-04 10:00). Provenance of every row is in
``bundled/SOURCES.md``; ``scripts/make_bundled_data.py`` rebuilds the file from the sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import DataError
from .formats import normalize_symbol
from .schema import dt_ms, finalize, fmt_ms, select_range, to_ms

__all__ = ["BundledEvent", "BUNDLED_FILE", "bundled_events", "load_bundled"]

BUNDLED_FILE = Path(__file__).with_name("bundled") / "crash_windows_1h.parquet"
BUNDLED_INTERVAL_MS = 3_600_000


@dataclass(frozen=True)
class BundledEvent:
    """One bundled crash window: ``[start, end)`` in UTC and the symbols it holds."""

    name: str
    start: datetime
    end: datetime
    symbols: tuple[str, ...]
    description: str


_DESCRIPTIONS = {
    "covid_2020-03": "COVID crash: BTC -50% on 12-13 March 2020",
    "may_2021": "May 2021 crash: BTC 58k -> 30k low on 19 May",
    "terra_luna_2022-05": "Terra LUNA / UST collapse, May 2022",
    "ftx_2022-11": "FTX collapse, November 2022",
    "aug_2024": "5 August 2024 carry-trade unwind crash",
}


def _month_end(dt: datetime) -> datetime:
    return dt.replace(year=dt.year + dt.month // 12, month=dt.month % 12 + 1, day=1, hour=0)


@lru_cache(maxsize=1)
def _table() -> pl.DataFrame:
    if not BUNDLED_FILE.is_file():  # pragma: no cover - a broken install
        raise DataError(f"bundled data file missing: {BUNDLED_FILE} (reinstall stresslab)")
    return pl.read_parquet(BUNDLED_FILE).with_columns(
        pl.col("event").cast(pl.String), pl.col("symbol").cast(pl.String), pl.col("source").cast(pl.String)
    )


def bundled_events() -> dict[str, BundledEvent]:
    """The bundled crash windows by name."""
    t = _table()
    out = {}
    for (name,), g in t.group_by(["event"], maintain_order=True):
        first = g["timestamp"].min()
        start = first.replace(day=1, hour=0, tzinfo=timezone.utc)  # windows are whole calendar months
        out[name] = BundledEvent(
            name,
            start,
            _month_end(start),
            tuple(sorted(g["symbol"].unique().to_list())),
            _DESCRIPTIONS.get(name, ""),
        )
    return dict(sorted(out.items(), key=lambda kv: kv[1].start))


def _windows_text(events: dict[str, BundledEvent]) -> str:
    return "; ".join(
        f"{e.name} {fmt_ms(dt_ms(e.start))} .. {fmt_ms(dt_ms(e.end))} {list(e.symbols)}" for e in events.values()
    )


def load_bundled(
    symbols: Sequence[str] | None = None,
    event: str | None = None,
    start: Any = None,
    end: Any = None,
    interval: str | None = None,
) -> pl.DataFrame:
    """Bundled bars in the long format (spread null).

    Args:
        symbols: symbols to return (default: all symbols of the event).
        event: a window name (see :func:`bundled_events`). When None, ``start``/``end`` must fall
            inside one window, which is then used.
        start, end: optional narrower range ``[start, end)`` (ISO text or datetime, UTC).
        interval: must be '1h' (or None): the bundled bars are hourly.

    Raises:
        DataError: unknown event or symbol, other interval, a range no window covers.
    """
    if interval is not None and interval.strip() != "1h":
        raise DataError(f"bundled data has only 1h bars, not {interval!r}; resample it or load a file")
    events = bundled_events()
    if event is None:
        if start is None and end is None:
            raise DataError(
                "bundled data holds separate crash windows: name an event or give start/end inside one: "
                + _windows_text(events)
            )
        s = to_ms(start, "start") if start is not None else None
        e = to_ms(end, "end") if end is not None else None
        matches = [
            ev
            for ev in events.values()
            if (s is None or dt_ms(ev.start) <= s)
            and (e is None or e <= dt_ms(ev.end))
            and (s is None or s < dt_ms(ev.end))
            and (e is None or e > dt_ms(ev.start))
        ]
        if not matches:
            raise DataError(
                f"bundled data does not cover {fmt_ms(s)} .. {fmt_ms(e)}; available windows: " + _windows_text(events)
            )
        event = matches[0].name
    if event not in events:
        raise DataError(f"unknown bundled event {event!r}; available: {list(events)}")
    ev = events[event]
    wanted = [normalize_symbol(s) for s in symbols] if symbols is not None else list(ev.symbols)
    unknown = [s for s in wanted if s not in ev.symbols]
    if unknown:
        elsewhere = {s: [n for n, x in events.items() if s in x.symbols] for s in unknown}
        raise DataError(
            f"unknown symbol(s) {unknown} in bundled event {event!r}; it holds {list(ev.symbols)}"
            + "".join(f"; {s} is in {w}" for s, w in elsewhere.items() if w)
        )
    t = _table().filter((pl.col("event") == event) & pl.col("symbol").is_in(wanted))
    df = finalize(t)
    return select_range(df, start, end, BUNDLED_INTERVAL_MS, where=f"bundled event {event!r}")
