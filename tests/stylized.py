"""Stylized-fact measurements of hourly bars (REALISM.md checks 1-11), in plain numpy.

Shared by the synthetic-market tests: the same functions measure real Binance bars and synthetic
paths, so a band that real data satisfies and GBM fails is a meaningful check of the model.
Returns r_t = ln(C_t / C_{t-1}) are taken only between bars exactly one interval apart.
"""

from __future__ import annotations

import numpy as np

HOUR_MS = 3_600_000
# mean hour-of-day |r| profile of BTC/ETH/SOL (REALISM.md), max 14:00, min 04:00 UTC
HOUR_VOL = np.array(
    [
        1.21,
        1.07,
        0.93,
        0.87,
        0.80,
        0.83,
        0.86,
        0.89,
        0.96,
        0.91,
        0.91,
        0.91,
        1.06,
        1.14,
        1.29,
        1.21,
        1.13,
        1.05,
        1.00,
        1.01,
        1.07,
        1.02,
        1.00,
        0.99,
    ]
)


def hourly_returns(ts_ms: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(returns, mask of the bar each return ends at) using only consecutive 1h steps."""
    ok = np.diff(ts_ms) == HOUR_MS
    r = np.diff(np.log(close))
    return r[ok], np.concatenate([[False], ok])


def _acf_fft(x: np.ndarray, max_lag: int) -> np.ndarray:
    x = x - x.mean()
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[: max_lag + 1]
    return ac / ac[0]


def hill_alpha(r: np.ndarray, tail: float = 0.025) -> float:
    a = np.sort(np.abs(r))[::-1]
    k = int(len(a) * tail)
    return 1.0 / np.mean(np.log(a[:k] / a[k]))


def excess_kurtosis(r: np.ndarray) -> float:
    z = r - r.mean()
    return float(np.mean(z**4) / np.mean(z**2) ** 2 - 3.0)


def decay_beta(acf_abs: np.ndarray) -> float:
    """-slope of ln rho_k(|r|) vs ln k over k=1..500; NaN when < 95% of rho_k are positive."""
    k = np.arange(1, len(acf_abs))
    rho = acf_abs[1:]
    if np.mean(rho > 0) < 0.95:
        return float("nan")
    keep = rho > 0
    slope = np.polyfit(np.log(k[keep]), np.log(rho[keep]), 1)[0]
    return float(-slope)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx = np.argsort(np.argsort(x))
    ry = np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def facts(ts_ms, o, h, low, c, v) -> dict[str, float]:
    """All single-asset checks of REALISM.md for one hourly series."""
    r, end_mask = hourly_returns(ts_ms, c)
    acf_abs = _acf_fft(np.abs(r), 500)
    acf_sq = _acf_fft(r**2, 1)
    hours = (ts_ms // HOUR_MS) % 24
    hr = hours[end_mask]
    by_hour = np.array([np.mean(np.abs(r[hr == k])) for k in range(24)])
    lv = np.log(np.maximum(v, 1e-12))
    # ln V minus its centred 721-hour rolling mean
    kernel = np.ones(721) / 721
    trend = np.convolve(lv, kernel, mode="same")
    valid = slice(360, len(lv) - 360)
    lhl = np.log(h / low)
    pos = v > 0
    sel = np.zeros(len(lv), bool)
    sel[valid] = True
    sel &= pos & (lhl > 0)
    parkinson = np.mean(np.log(h / low) ** 2) / (4 * np.log(2))
    return {
        "hill": hill_alpha(r),
        "kurtosis": excess_kurtosis(r),
        "rho1": float(np.corrcoef(r[:-1], r[1:])[0, 1]),
        "abs_acf1": acf_abs[1],
        "abs_acf10": acf_abs[10],
        "abs_acf50": acf_abs[50],
        "abs_acf168": acf_abs[168],
        "sq_acf1": acf_sq[1],
        "beta": decay_beta(acf_abs),
        "leverage": float(np.corrcoef(r[:-1], np.abs(r[1:]))[0, 1]),
        "spearman_abs_r_volume": spearman(np.abs(r), v[end_mask]),
        "volume_range_corr": float(np.corrcoef((lv - trend)[sel], np.log(lhl[sel]))[0, 1]),
        "hour_max_min": float(by_hour.max() / by_hour.min()),
        "hour_max": int(np.argmax(by_hour)),
        "hour_min": int(np.argmin(by_hour)),
        "hour_profile_corr": float(np.corrcoef(by_hour, HOUR_VOL)[0, 1]),
        "parkinson_ratio": float(parkinson / np.var(r)),
    }


# Bands: each holds for the real BTC/ETH/SOL hourly files (REALISM.md table, sub-period ranges
# widened by a margin for sampling error on 3-year windows) and each catches a different failure.
BANDS: dict[str, tuple[float, float]] = {
    "hill": (2.2, 3.8),  # fat tails; Gaussian gives > 4
    "kurtosis": (4.0, 80.0),  # excess kurtosis; Gaussian ~0
    "rho1": (-0.09, 0.03),  # small negative lag-1 autocorrelation
    "abs_acf1": (0.15, 0.42),  # volatility clustering
    "abs_acf10": (0.08, 0.35),
    "abs_acf50": (0.05, 0.28),
    "abs_acf168": (0.04, 0.22),  # slow decay
    "beta": (0.08, 0.70),  # power-law decay exponent (NaN fails)
    "leverage": (-0.12, 0.01),  # leverage effect (weak in crypto)
    "spearman_abs_r_volume": (0.2, 0.7),  # volume/volatility coupling
    "volume_range_corr": (0.4, 0.8),  # ln V (detrended) vs ln(H/L), same bar
    "hour_profile_corr": (0.7, 1.0),  # shape of the hour-of-day |r| profile
    "hour_max_min": (1.3, 2.2),  # hour-of-day seasonality
    "parkinson_ratio": (1.04, 1.26),  # range vs close-to-close variance
}


def failures(f: dict[str, float]) -> list[str]:
    bad = [k for k, (lo, hi) in BANDS.items() if not (lo <= f[k] <= hi)]  # NaN fails too
    return bad
