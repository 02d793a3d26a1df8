"""Independent numpy/Python references for the execution tests (written from the W1 spec and
the documented accounting rules, sharing no code with the engine)."""

from __future__ import annotations

import numpy as np

S0 = 30_000.0


def gbm_closes(n_paths: int, n_bars: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sigma, dt = 0.8, 1 / 8760
    r = -0.5 * sigma**2 * dt + sigma * np.sqrt(dt) * rng.standard_normal((n_paths, n_bars))
    return S0 * np.exp(np.cumsum(r, axis=1))


def w1_numpy(close: np.ndarray, fee: float = 0.001, slip: float = 0.0005, fast: int = 24, slow: int = 96) -> dict:
    """W1 (shared/bench/w1/README.md) for one path, loop form: the reference numbers."""
    n = len(close)
    open_ = np.concatenate([[S0], close[:-1]])
    c = np.cumsum(np.concatenate([[0.0], close]))
    fast_ma = np.full(n, np.nan)
    slow_ma = np.full(n, np.nan)
    fast_ma[fast - 1 :] = (c[fast:] - c[:-fast]) / fast
    slow_ma[slow - 1 :] = (c[slow:] - c[:-slow]) / slow
    want = np.zeros(n, bool)
    want[slow - 1 :] = fast_ma[slow - 1 :] > slow_ma[slow - 1 :]
    cash, units, pos = 100_000.0, 0.0, False
    equity = np.empty(n)
    entry_eq, trades, wins = 0.0, 0, 0
    for t in range(n):
        w = want[t - 1] if t > 0 else False
        if w != pos:
            if w:
                fill = open_[t] * (1 + slip)
                units = cash / (fill * (1 + fee))
                entry_eq, cash = cash, 0.0
                trades += 1
            else:
                cash = units * open_[t] * (1 - slip) * (1 - fee)
                units = 0.0
                wins += cash > entry_eq
            pos = w
        equity[t] = cash + units * close[t]
    if pos:
        wins += equity[-1] > entry_eq
    eq_prev = np.concatenate([[100_000.0], equity[:-1]])
    ret = equity / eq_prev - 1
    peak = np.maximum.accumulate(np.concatenate([[100_000.0], equity]))[1:]
    sd = ret.std(ddof=1)
    return {
        "total_return": equity[-1] / 100_000.0 - 1,
        "max_drawdown_pct": float(-(equity / peak - 1).min() * 100),
        "sharpe": ret.mean() / sd * np.sqrt(8760) if sd > 0 else np.nan,
        "n_trades": trades,
        "winrate_pct": wins / trades * 100 if trades else np.nan,
        "equity": equity,
    }


def bars_from_closes(close: np.ndarray, symbol: str = "BTCUSDT"):
    import polars as pl

    n = len(close)
    open_ = np.concatenate([[S0], close[:-1]])
    return pl.DataFrame(
        {
            "timestamp": (np.arange(n, dtype=np.int64) * 3_600_000 + 1_704_067_200_000).astype("datetime64[ms]"),
            "symbol": [symbol] * n,
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": np.full(n, 1e6),
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


def account_reference(
    open_: np.ndarray, close: np.ndarray, targets: np.ndarray, fee: float, slip: float, capital: float
) -> dict:
    """Weight-target accounting (documented rule) for (n_bars, n_symbols) prices and targets.

    A target row decided at bar t trades at bar t+1's open when it differs from the current
    target; buys are sized so cash covers price and fee: qty = (w E - q P) / (P (1+slip) (1+fee));
    sells reach w E (a target of 0 closes exactly); fills at P (1 +- slip), fee on notional.
    """
    n, k = close.shape
    cash = capital
    q = np.zeros(k)
    cur = np.zeros(k)
    pending = np.zeros(k, bool)
    equity = np.empty(n)
    fees = 0.0
    trades = []
    realized_open = [None] * k  # per symbol: [pnl, fees] of the open trade
    avg = np.zeros(k)
    for t in range(n):
        if pending.any():
            e_open = cash + (q * open_[t]).sum()
            for s in range(k):
                if not pending[s]:
                    continue
                p = open_[t, s]
                w = cur[s]
                if w == 0:
                    dq = -q[s]
                else:
                    d = w * e_open - q[s] * p
                    dq = d / (p * (1 + slip) * (1 + fee)) if d > 0 else d / p
                pending[s] = False
                if abs(dq * p) <= 1e-9:
                    continue
                price = p * (1 + slip) if dq > 0 else p * (1 - slip)
                f = abs(dq) * price * fee
                cash -= dq * price + f
                fees += f
                # trade bookkeeping
                q0 = q[s]
                if q0 == 0 or np.sign(q0) == np.sign(dq):
                    avg[s] = price if q0 == 0 else (avg[s] * abs(q0) + price * abs(dq)) / abs(q0 + dq)
                    if realized_open[s] is None:
                        realized_open[s] = [0.0, 0.0]
                    realized_open[s][1] += f
                    q[s] = q0 + dq
                else:
                    closing = min(abs(dq), abs(q0))
                    share = closing / abs(dq)
                    realized_open[s][0] += (price - avg[s]) * closing * np.sign(q0)
                    realized_open[s][1] += f * share
                    q1 = q0 + dq
                    if abs(q1) <= 1e-12 * max(abs(q0), 1) or np.sign(q1) != np.sign(q0):
                        trades.append(realized_open[s][0] - realized_open[s][1])
                        realized_open[s] = None
                        if abs(q1) <= 1e-12 * max(abs(q0), 1):
                            q1 = 0.0
                        else:
                            realized_open[s] = [0.0, f * (1 - share)]
                            avg[s] = price
                    q[s] = q1
        equity[t] = cash + (q * close[t]).sum()
        new = targets[t]
        changed = new != cur
        cur = np.where(changed, new, cur)
        pending |= changed
    for s in range(k):
        if realized_open[s] is not None:
            trades.append(realized_open[s][0] + (close[-1, s] - avg[s]) * q[s] - realized_open[s][1])
    return {"equity": equity, "cash": cash, "positions": q, "fees": fees, "trades": np.array(trades)}
