"""The exchange's public kline archive (data.binance.vision) behind a local Parquet cache.

Layout of the archive (``base_url`` is configurable, e.g. a local mirror or a test server)::

    {base_url}/data/{market}/monthly/klines/{SYMBOL}/{interval}/{SYMBOL}-{interval}-{YYYY-MM}.zip
    {base_url}/data/{market}/daily/klines/{SYMBOL}/{interval}/{SYMBOL}-{interval}-{YYYY-MM-DD}.zip

with ``market`` ``spot`` (default), ``futures/um`` or ``futures/cm``, and next to every zip a
``.zip.CHECKSUM`` file holding ``<sha256>  <file name>``.

:meth:`ArchiveClient.load` picks monthly files for months that are over and daily files for the
current month (a missing monthly file falls back to its daily files), then for each file:

1. reads ``{cache_dir}/binance/{market}/{monthly|daily}/{SYMBOL}/{interval}/{name}.parquet`` when
   it exists: no network at all once a range has been loaded;
2. otherwise downloads the zip to ``{cache_dir}/downloads/{name}.zip.part``, resuming a partial
   download with an HTTP ``Range`` request (after a dropped connection, or in a later run);
   a body shorter than its ``Content-Length`` is detected and the download retried
   (``retries`` attempts in all);
3. verifies the sha256 from the ``.CHECKSUM`` file (when the archive publishes one); a mismatch is
   retried with a fresh download and, if it persists, raises :class:`~stresslab.errors.DataError`
   naming the file and both hashes;
4. parses the zip (a corrupt zip is retried, then a DataError) and writes the Parquet file to a
   temporary name, then renames it into place, so the cache never holds a half-written file.
   Failed files leave nothing behind; only an interrupted transfer keeps its ``.part`` to resume.

``ArchiveClient.requests`` counts the HTTP requests made (checksums included).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import DataError, InvalidParameterError
from .formats import normalize_symbol, read_bars
from .schema import check_interval, dt_ms, empty_frame, fmt_ms, select_range, to_ms

__all__ = ["ArchiveClient", "ArchiveFile", "DEFAULT_BASE_URL", "default_cache_dir"]

DEFAULT_BASE_URL = "https://data.binance.vision"
MARKETS = ("spot", "futures/um", "futures/cm")
ARCHIVE_INTERVALS = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
)
_CHUNK = 1 << 16


def default_cache_dir() -> Path:
    """``$STRESSLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/stresslab``, else ``~/.cache/stresslab``."""
    if os.environ.get("STRESSLAB_CACHE_DIR"):
        return Path(os.environ["STRESSLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stresslab"


@dataclass(frozen=True)
class ArchiveFile:
    """One zip of the archive: ``kind`` is 'monthly' or 'daily', ``period`` 'YYYY-MM[-DD]'."""

    kind: str
    period: str
    url: str
    name: str
    cache_path: Path


class _Truncated(Exception):
    """The body ended before its announced length (or the connection dropped)."""


class _NotFound(Exception):
    """HTTP 404."""


def _months(start: date, end_excl: date) -> list[date]:
    out, m = [], date(start.year, start.month, 1)
    while m < end_excl:
        out.append(m)
        m = date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return out


class ArchiveClient:
    """Downloads kline zips from the public archive into a Parquet cache (see module docs).

    Args:
        cache_dir: cache root (default :func:`default_cache_dir`).
        base_url: archive root, default ``https://data.binance.vision``.
        market: 'spot', 'futures/um' or 'futures/cm'.
        timeout: seconds per HTTP request.
        retries: download attempts per file (>= 1).
        today: the current UTC date (default: now); months before it are complete.
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        base_url: str = DEFAULT_BASE_URL,
        market: str = "spot",
        timeout: float = 30.0,
        retries: int = 3,
        today: date | None = None,
    ):
        if market not in MARKETS:
            raise InvalidParameterError(f"market: must be one of {list(MARKETS)}, got {market!r}", "market")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 1:
            raise InvalidParameterError(f"retries: must be an integer >= 1, got {retries!r}", "retries")
        if not isinstance(timeout, (int, float)) or not timeout > 0:
            raise InvalidParameterError(f"timeout: must be a number of seconds > 0, got {timeout!r}", "timeout")
        if not isinstance(base_url, str) or not re.match(r"^https?://", base_url):
            raise InvalidParameterError(f"base_url: must be an http(s) URL, got {base_url!r}", "base_url")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.base_url = base_url.rstrip("/")
        self.market = market
        self.timeout = float(timeout)
        self.retries = retries
        self.today = today
        self.requests = 0
        self.log: list[str] = []

    # -- layout ----------------------------------------------------------------------------------
    def archive_file(self, symbol: str, interval: str, kind: str, period: str) -> ArchiveFile:
        name = f"{symbol}-{interval}-{period}"
        url = f"{self.base_url}/data/{self.market}/{kind}/klines/{symbol}/{interval}/{name}.zip"
        path = self.cache_dir / "binance" / self.market.replace("/", "-") / kind / symbol / interval / f"{name}.parquet"
        return ArchiveFile(kind, period, url, f"{name}.zip", path)

    def _today(self) -> date:
        return self.today or datetime.now(timezone.utc).date()

    def plan(self, symbol: str, interval: str, start_ms: int, end_ms: int) -> list[tuple[date, ArchiveFile | None]]:
        """Per month of ``[start, end)``: the monthly file, or None for the current month (dailies).

        A monthly file the archive does not have (404) falls back to that month's daily files.
        """
        today = self._today()
        first = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc).date()
        last = datetime.fromtimestamp((end_ms - 1) / 1000, tz=timezone.utc).date()
        if last >= today:
            midnight = dt_ms(datetime(today.year, today.month, today.day, tzinfo=timezone.utc))
            raise DataError(
                f"archive: {symbol} {interval} requested up to {fmt_ms(end_ms)}, but the archive publishes "
                f"complete days only; available up to {fmt_ms(midnight)}"
            )
        out: list[tuple[date, ArchiveFile | None]] = []
        for m in _months(first, last + timedelta(days=1)):
            complete = (m.year, m.month) < (today.year, today.month)
            out.append((m, self.archive_file(symbol, interval, "monthly", m.strftime("%Y-%m")) if complete else None))
        return out

    def _dailies(self, symbol: str, interval: str, month: date, first: date, last: date) -> list[ArchiveFile]:
        d = max(month, first)
        end = min(date(month.year + month.month // 12, month.month % 12 + 1, 1) - timedelta(days=1), last)
        out = []
        while d <= end:
            out.append(self.archive_file(symbol, interval, "daily", d.isoformat()))
            d += timedelta(days=1)
        return out

    # -- public ----------------------------------------------------------------------------------
    def load(self, symbol: str, interval: str, start: Any, end: Any) -> pl.DataFrame:
        """Bars of ``symbol`` with open time in ``[start, end)`` in the long format (spread null)."""
        symbol = normalize_symbol(symbol)
        if not symbol:
            raise InvalidParameterError("symbol: must be a symbol such as 'BTCUSDT'", "symbol")
        if interval not in ARCHIVE_INTERVALS:
            raise InvalidParameterError(
                f"interval: the archive has {list(ARCHIVE_INTERVALS)}, got {interval!r}", "interval"
            )
        iv = check_interval(interval)
        if start is None or end is None:
            raise InvalidParameterError(
                "start/end: archive loads need both start and end", "start" if start is None else "end"
            )
        start_ms, end_ms = to_ms(start, "start"), to_ms(end, "end")
        if start_ms >= end_ms:
            raise InvalidParameterError(
                f"start: must be before end, got start={fmt_ms(start_ms)} end={fmt_ms(end_ms)}", "start"
            )
        first = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc).date()
        last = datetime.fromtimestamp((end_ms - 1) / 1000, tz=timezone.utc).date()
        frames, missing = [], []
        for month, monthly in self.plan(symbol, interval, start_ms, end_ms):
            if monthly is not None:
                try:
                    frames.append(self.fetch(monthly, symbol))
                    continue
                except _NotFound:
                    self.log.append(f"{monthly.name}: not in the archive; trying daily files")
            for f in self._dailies(symbol, interval, month, first, last):
                try:
                    frames.append(self.fetch(f, symbol))
                except _NotFound:
                    missing.append(f)
        df = pl.concat(frames).sort("symbol", "timestamp") if frames else empty_frame()
        if missing:
            ts = df["timestamp"].dt.epoch("ms")
            have = f"{fmt_ms(ts.min())} .. {fmt_ms(ts.max())}" if df.height else "nothing"  # type: ignore
            periods = ", ".join(f.period for f in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DataError(
                f"archive: no {symbol} {interval} data for {periods} ({missing[0].url} not found (404): "
                f"unknown symbol, or a period before its listing); available in the requested range: {have}"
            )
        if df.is_empty():
            raise DataError(f"archive: no {symbol} {interval} bars in {fmt_ms(start_ms)} .. {fmt_ms(end_ms)}")
        return select_range(df, _iso(start_ms), _iso(end_ms), iv, where=f"archive {symbol} {interval}")

    def fetch(self, f: ArchiveFile, symbol: str) -> pl.DataFrame:
        """One archive file's bars: from the cache, or downloaded, verified and cached."""
        if f.cache_path.is_file():
            try:
                return pl.read_parquet(f.cache_path)
            except (pl.exceptions.PolarsError, OSError):
                f.cache_path.unlink(missing_ok=True)  # unreadable cache entry: fetch again
        checksum = self._checksum(f)
        downloads = self.cache_dir / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        part = downloads / (f.name + ".part")
        last_error = ""
        for attempt in range(1, self.retries + 1):
            try:
                self._download(f.url, part)
            except (
                TimeoutError,
                _Truncated,
                urllib.error.URLError,
                http.client.HTTPException,
                OSError,
            ) as exc:
                if isinstance(exc, urllib.error.HTTPError) and exc.code == 404:
                    part.unlink(missing_ok=True)
                    raise _NotFound(f.url) from None
                last_error = f"download interrupted ({exc})"
                self.log.append(f"{f.name}: attempt {attempt}: {last_error}; resuming")
                continue
            if checksum is not None:
                got = _sha256(part)
                if got != checksum:
                    part.unlink(missing_ok=True)
                    last_error = f"checksum mismatch: expected sha256 {checksum}, got {got}"
                    self.log.append(f"{f.name}: attempt {attempt}: {last_error}")
                    continue
            try:
                df = self._parse(part, f, symbol)
            except DataError as exc:
                part.unlink(missing_ok=True)
                last_error = f"corrupt zip: {exc}"
                self.log.append(f"{f.name}: attempt {attempt}: {last_error}")
                continue
            _write_atomic(df, f.cache_path)
            part.unlink(missing_ok=True)
            self.log.append(f"{f.name}: downloaded, {df.height} bars cached")
            return df
        if "interrupted" not in last_error:
            part.unlink(missing_ok=True)
        raise DataError(f"archive: {f.name} ({f.url}): {last_error} after {self.retries} attempt(s)")

    # -- HTTP ------------------------------------------------------------------------------------
    def _open(self, url: str, headers: dict[str, str] | None = None) -> Any:
        self.requests += 1
        req = urllib.request.Request(url, headers={"User-Agent": "stresslab", **(headers or {})})
        return urllib.request.urlopen(req, timeout=self.timeout)  # noqa: S310 - http(s) only (checked)

    def _checksum(self, f: ArchiveFile) -> str | None:
        url = f.url + ".CHECKSUM"
        for attempt in range(1, self.retries + 1):
            try:
                with self._open(url) as resp:
                    text = resp.read().decode("ascii", errors="replace")
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    self.log.append(f"{f.name}: no .CHECKSUM published; not verified")
                    return None
                err: Exception = exc
            except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                err = exc
            if attempt == self.retries:
                raise DataError(f"archive: cannot fetch {url}: {err}") from err
        m = re.match(r"\s*([0-9a-fA-F]{64})\b", text)
        if not m:
            raise DataError(f"archive: {url} does not hold a sha256 checksum: {text[:80]!r}")
        return m.group(1).lower()

    def _download(self, url: str, part: Path) -> None:
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            resp = self._open(url, headers)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # our partial file is not a prefix the server knows: restart
                part.unlink(missing_ok=True)
                raise _Truncated("range not satisfiable; restarting") from None
            raise
        with resp:
            if have and resp.status == 206:
                mode = "ab"
                m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
                if not m or int(m.group(1)) != have:
                    part.unlink(missing_ok=True)
                    raise _Truncated("server resumed at the wrong offset; restarting")
            else:
                mode, have = "wb", 0
            length = resp.headers.get("Content-Length")
            expected = have + int(length) if length is not None else None
            with part.open(mode) as out:
                try:
                    while chunk := resp.read(_CHUNK):
                        out.write(chunk)
                except http.client.IncompleteRead as exc:
                    out.write(exc.partial)
                    raise _Truncated(f"connection closed early ({part.stat().st_size} bytes so far)") from None
        size = part.stat().st_size
        if expected is not None and size != expected:
            if size > expected:
                part.unlink(missing_ok=True)
            raise _Truncated(f"received {size} of {expected} bytes")

    def _parse(self, part: Path, f: ArchiveFile, symbol: str) -> pl.DataFrame:
        zpath = part.with_name(f.name)
        os.replace(part, zpath)
        try:
            return read_bars(zpath, symbol, format="binance_archive")
        finally:
            if zpath.exists():
                os.replace(zpath, part)  # keep the name the caller cleans up


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _write_atomic(df: pl.DataFrame, path: Path) -> None:
    """Write Parquet under a temporary name in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        df.write_parquet(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
