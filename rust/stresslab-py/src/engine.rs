//! Bindings of the execution engine: native runs (no Python in the loop) and a stepping engine
//! that Python batch strategies drive (`PyEngine.step_batch`). Both take an optional native risk
//! stack (`engine["risk"]`, see [`crate::risk`]); with Python risk components the executor steps
//! bar by bar (`process` / `decide`) and calls them in between.

use std::collections::HashMap;
use std::sync::Arc;

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use stresslab_core::engine::{run_native_with_risk, Engine, EngineConfig, RunOutput, TargetKind};
use stresslab_core::exchange::{ExchangeConfig, PartialFillPolicy};
use stresslab_core::market::MarketData;
use stresslab_core::orders::OrderType;
use stresslab_core::risk::indicators::is_corrupt;
use stresslab_core::risk::{Mode, RiskConfig};
use stresslab_core::strategy::{BuyAndHold, MeanReversion, Momentum, SmaCross, Strategy, TargetSignals};
use stresslab_core::StressError;

use crate::errors::to_py;
use crate::risk::{report_dict, PyRiskConfig};

type CoreResult<T> = stresslab_core::Result<T>;

/// Bars handed over from Python: 2-D arrays (n_symbols, n_bars) and int64 ms timestamps.
#[derive(FromPyObject)]
pub struct PyMarket<'py> {
    #[pyo3(item)]
    symbols: Vec<String>,
    #[pyo3(item)]
    timestamps: PyReadonlyArray1<'py, i64>,
    #[pyo3(item)]
    open: PyReadonlyArray2<'py, f64>,
    #[pyo3(item)]
    high: PyReadonlyArray2<'py, f64>,
    #[pyo3(item)]
    low: PyReadonlyArray2<'py, f64>,
    #[pyo3(item)]
    close: PyReadonlyArray2<'py, f64>,
    #[pyo3(item)]
    volume: PyReadonlyArray2<'py, f64>,
    #[pyo3(item)]
    spread: Option<PyReadonlyArray2<'py, f64>>,
    #[pyo3(item)]
    flags: Option<PyReadonlyArray2<'py, u32>>,
}

fn flat<T: Copy + numpy::Element>(a: &PyReadonlyArray2<'_, T>) -> Vec<T> {
    a.as_array().iter().copied().collect() // row-major (symbol, bar): symbol-major layout
}

impl PyMarket<'_> {
    pub fn to_core(&self) -> CoreResult<MarketData> {
        let shape = self.close.shape();
        for (name, a) in [("open", &self.open), ("high", &self.high), ("low", &self.low), ("volume", &self.volume)] {
            if a.shape() != shape {
                return Err(StressError::Data(format!(
                    "column {name} has shape {:?}, close has {:?}",
                    a.shape(),
                    shape
                )));
            }
        }
        if shape[0] != self.symbols.len() || shape[1] != self.timestamps.len() {
            return Err(StressError::Data(format!(
                "columns must be (n_symbols, n_bars) = ({}, {}), got {:?}",
                self.symbols.len(),
                self.timestamps.len(),
                shape
            )));
        }
        MarketData::new(
            self.symbols.clone(),
            self.timestamps.as_array().to_vec(),
            flat(&self.open),
            flat(&self.high),
            flat(&self.low),
            flat(&self.close),
            flat(&self.volume),
            self.spread.as_ref().map(flat),
            self.flags.as_ref().map(flat),
        )
    }
}

fn get_f(d: &HashMap<String, f64>, k: &str, default: f64) -> f64 {
    d.get(k).copied().unwrap_or(default)
}

const EXCHANGE_FLOATS: [&str; 20] = [
    "base_slippage_pct",
    "default_spread_pct",
    "vol_slippage_coef",
    "impact_coef",
    "maker_fee_pct",
    "taker_fee_pct",
    "participation_rate",
    "failure_rate",
    "failure_vol_sensitivity",
    "failure_liquidity_sensitivity",
    "max_failure_rate",
    "base_latency_ms",
    "latency_sigma",
    "latency_spike_prob",
    "latency_spike_mult",
    "latency_spike_threshold_ms",
    "limit_penetration_bps",
    "touch_fill_prob",
    "stats_halflife_bars",
    "max_order_age_bars",
];

/// Exchange configuration from the Python keyword arguments (validated).
#[derive(FromPyObject)]
pub struct PyExchangeConfig {
    #[pyo3(item)]
    numbers: HashMap<String, f64>,
    #[pyo3(item)]
    use_spread: bool,
    #[pyo3(item)]
    clamp_to_bar: bool,
    #[pyo3(item)]
    partial_fill_policy: String,
    #[pyo3(item)]
    outages: Vec<(usize, usize)>,
}

impl PyExchangeConfig {
    pub fn to_core(&self) -> CoreResult<ExchangeConfig> {
        let d = &self.numbers;
        if let Some(k) = d.keys().find(|k| !EXCHANGE_FLOATS.contains(&k.as_str())) {
            return Err(StressError::param(
                k.as_str(),
                format!("unknown exchange parameter; allowed: {}", EXCHANGE_FLOATS.join(", ")),
            ));
        }
        let base = ExchangeConfig::default();
        let policy = match self.partial_fill_policy.as_str() {
            "retry" => PartialFillPolicy::Retry,
            "cancel" => PartialFillPolicy::Cancel,
            other => {
                return Err(StressError::param(
                    "partial_fill_policy",
                    format!("must be 'retry' or 'cancel', got {other:?}"),
                ))
            }
        };
        let age = get_f(d, "max_order_age_bars", f64::INFINITY);
        if age.is_nan() || age < 1.0 {
            return Err(StressError::param("max_order_age_bars", format!("must be >= 1 bar, got {age}")));
        }
        let cfg = ExchangeConfig {
            base_slippage_pct: get_f(d, "base_slippage_pct", base.base_slippage_pct),
            use_spread: self.use_spread,
            default_spread_pct: get_f(d, "default_spread_pct", base.default_spread_pct),
            vol_slippage_coef: get_f(d, "vol_slippage_coef", base.vol_slippage_coef),
            impact_coef: get_f(d, "impact_coef", base.impact_coef),
            maker_fee_pct: get_f(d, "maker_fee_pct", base.maker_fee_pct),
            taker_fee_pct: get_f(d, "taker_fee_pct", base.taker_fee_pct),
            participation_rate: get_f(d, "participation_rate", base.participation_rate),
            partial_fill_policy: policy,
            max_order_age_bars: if age.is_finite() { age as usize } else { usize::MAX },
            failure_rate: get_f(d, "failure_rate", base.failure_rate),
            failure_vol_sensitivity: get_f(d, "failure_vol_sensitivity", base.failure_vol_sensitivity),
            failure_liquidity_sensitivity: get_f(
                d,
                "failure_liquidity_sensitivity",
                base.failure_liquidity_sensitivity,
            ),
            max_failure_rate: get_f(d, "max_failure_rate", base.max_failure_rate),
            base_latency_ms: get_f(d, "base_latency_ms", base.base_latency_ms),
            latency_sigma: get_f(d, "latency_sigma", base.latency_sigma),
            latency_spike_prob: get_f(d, "latency_spike_prob", base.latency_spike_prob),
            latency_spike_mult: get_f(d, "latency_spike_mult", base.latency_spike_mult),
            latency_spike_threshold_ms: get_f(d, "latency_spike_threshold_ms", base.latency_spike_threshold_ms),
            limit_penetration_bps: get_f(d, "limit_penetration_bps", base.limit_penetration_bps),
            touch_fill_prob: get_f(d, "touch_fill_prob", base.touch_fill_prob),
            clamp_to_bar: self.clamp_to_bar,
            outages: self.outages.clone(),
            stats_halflife_bars: get_f(d, "stats_halflife_bars", base.stats_halflife_bars),
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Check an exchange configuration now (so a bad one fails at construction, not at run time).
#[pyfunction]
pub fn check_exchange_config(cfg: PyExchangeConfig) -> PyResult<()> {
    to_py(cfg.to_core()).map(|_| ())
}

#[derive(FromPyObject)]
pub struct PyEngineConfig {
    #[pyo3(item)]
    initial_capital: f64,
    #[pyo3(item)]
    target: String,
    #[pyo3(item)]
    rebalance: bool,
    #[pyo3(item)]
    rebalance_threshold: f64,
    #[pyo3(item)]
    max_abs_target: f64,
    #[pyo3(item)]
    keep_equity_curve: bool,
    #[pyo3(item)]
    keep_trades: bool,
    #[pyo3(item)]
    record_events: bool,
    #[pyo3(item)]
    periods_per_year: Option<f64>,
    #[pyo3(item)]
    seed: u64,
    #[pyo3(item)]
    scenario: u64,
    #[pyo3(item)]
    path: u64,
    /// The native risk stack (None: no stack).
    #[pyo3(item, default)]
    risk: Option<PyRiskConfig>,
    /// Record signal and order events as well (the event bus wants every event).
    #[pyo3(item, default)]
    record_signals: bool,
}

impl PyEngineConfig {
    pub fn risk_core(&self) -> CoreResult<Option<RiskConfig>> {
        self.risk.as_ref().map(|r| r.to_core()).transpose()
    }

    pub fn to_core(&self) -> CoreResult<EngineConfig> {
        let target_kind = match self.target.as_str() {
            "weight" => TargetKind::Weight,
            "units" => TargetKind::Units,
            other => return Err(StressError::param("target", format!("must be 'weight' or 'units', got {other:?}"))),
        };
        let cfg = EngineConfig {
            initial_capital: self.initial_capital,
            target_kind,
            rebalance: self.rebalance,
            rebalance_threshold: self.rebalance_threshold,
            max_abs_target: self.max_abs_target,
            min_trade_notional: 1e-9,
            keep_equity_curve: self.keep_equity_curve,
            keep_trades: self.keep_trades,
            record_events: self.record_events,
            periods_per_year: self.periods_per_year,
            seed: self.seed,
            scenario: self.scenario,
            path: self.path,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// A native strategy from its spec dict: {"kind": "sma_cross", "fast": 24, ...}.
pub fn build_strategy(spec: &Bound<'_, PyDict>, n_bars: usize, n_symbols: usize) -> PyResult<Box<dyn Strategy>> {
    let kind: String =
        spec.get_item("kind")?.ok_or_else(|| PyRuntimeError::new_err("strategy spec without kind"))?.extract()?;
    let get_f = |k: &str, d: f64| -> PyResult<f64> {
        Ok(match spec.get_item(k)? {
            Some(v) if !v.is_none() => v.extract()?,
            _ => d,
        })
    };
    let get_u = |k: &str, d: usize| -> PyResult<usize> {
        Ok(match spec.get_item(k)? {
            Some(v) if !v.is_none() => v.extract()?,
            _ => d,
        })
    };
    let weight: Option<f64> = match spec.get_item("weight")? {
        Some(v) if !v.is_none() => Some(v.extract()?),
        _ => None,
    };
    let allow_short: bool = match spec.get_item("allow_short")? {
        Some(v) => v.extract()?,
        None => false,
    };
    let s: CoreResult<Box<dyn Strategy>> = match kind.as_str() {
        "buy_and_hold" => Ok(Box::new(BuyAndHold { weight })),
        "sma_cross" => SmaCross::new(get_u("fast", 24)?, get_u("slow", 96)?, n_symbols, weight, allow_short)
            .map(|s| Box::new(s) as _),
        "momentum" => Momentum::new(get_u("lookback", 24)?, get_f("threshold", 0.0)?, weight, allow_short)
            .map(|s| Box::new(s) as _),
        "mean_reversion" => MeanReversion::new(
            get_u("lookback", 48)?,
            get_f("entry_z", 2.0)?,
            get_f("exit_z", 0.5)?,
            n_symbols,
            weight,
            allow_short,
        )
        .map(|s| Box::new(s) as _),
        "target_signals" => {
            let arr: PyReadonlyArray2<'_, f64> =
                spec.get_item("targets")?.ok_or_else(|| PyRuntimeError::new_err("targets missing"))?.extract()?;
            let shape = arr.shape().to_vec();
            if shape != [n_bars, n_symbols] {
                return to_py(Err(StressError::param(
                    "targets",
                    format!("must have shape (n_bars, n_symbols) = ({n_bars}, {n_symbols}), got {shape:?}"),
                )));
            }
            TargetSignals::new(arr.as_array().iter().copied().collect(), n_bars, n_symbols).map(|s| Box::new(s) as _)
        }
        other => Err(StressError::param("strategy", format!("unknown native strategy {other:?}"))),
    };
    to_py(s)
}

/// Events as columns.
fn events_dict<'py>(py: Python<'py>, e: &[stresslab_core::engine::Event]) -> PyResult<Bound<'py, PyDict>> {
    let ev = PyDict::new(py);
    ev.set_item("bar", PyArray1::from_iter(py, e.iter().map(|x| x.bar as i64)))?;
    ev.set_item("kind", PyList::new(py, e.iter().map(|x| x.kind.name()))?)?;
    ev.set_item("symbol", PyArray1::from_iter(py, e.iter().map(|x| x.symbol)))?;
    ev.set_item("qty", PyArray1::from_iter(py, e.iter().map(|x| x.qty)))?;
    ev.set_item("price", PyArray1::from_iter(py, e.iter().map(|x| x.price)))?;
    ev.set_item("value", PyArray1::from_iter(py, e.iter().map(|x| x.value)))?;
    ev.set_item("reason", PyList::new(py, e.iter().map(|x| x.reason))?)?;
    Ok(ev)
}

/// Equity at the close before bar t's UTC day began (the initial capital on the first day), from
/// the equity curve; None when the curve is not kept. The same reference as the native risk
/// guard's daily loss limit.
fn day_start_equity(e: &Engine, t: usize) -> Option<f64> {
    const DAY_MS: i64 = 86_400_000;
    let curve = e.equity_curve();
    let ts = e.md.timestamps.get(t)?;
    if curve.len() <= t {
        return None;
    }
    let day = ts.div_euclid(DAY_MS) * DAY_MS;
    let first = e.md.timestamps[..=t].partition_point(|x| *x < day);
    Some(if first == 0 { e.cfg.initial_capital } else { curve[first - 1] })
}

/// A confidence row must hold one number in [0, 1] per target.
fn check_confidence(c: &[f64], expected: usize) -> Option<String> {
    if c.len() != expected {
        return Some(format!("confidence has {} values, expected {expected} (one per decision)", c.len()));
    }
    c.iter().find(|x| !(**x >= 0.0 && **x <= 1.0)).map(|x| format!("confidence must be in [0, 1], got {x}"))
}

/// Everything a run produced, as plain Python/numpy objects.
pub fn output_dict<'py>(py: Python<'py>, o: RunOutput) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("metrics", crate::metrics::metrics_dict(py, &o.metrics)?)?;
    d.set_item("equity_curve", PyArray1::from_vec(py, o.equity_curve))?;
    let trades = PyDict::new(py);
    let t = &o.trades;
    trades.set_item("symbol", PyArray1::from_iter(py, t.iter().map(|x| x.symbol as i64)))?;
    trades.set_item("entry_bar", PyArray1::from_iter(py, t.iter().map(|x| x.entry_bar as i64)))?;
    trades.set_item("exit_bar", PyArray1::from_iter(py, t.iter().map(|x| x.exit_bar as i64)))?;
    trades.set_item("side", PyArray1::from_iter(py, t.iter().map(|x| x.side)))?;
    trades.set_item("max_qty", PyArray1::from_iter(py, t.iter().map(|x| x.max_qty)))?;
    trades.set_item("entry_price", PyArray1::from_iter(py, t.iter().map(|x| x.entry_price)))?;
    trades.set_item("exit_price", PyArray1::from_iter(py, t.iter().map(|x| x.exit_price)))?;
    trades.set_item("pnl", PyArray1::from_iter(py, t.iter().map(|x| x.pnl)))?;
    trades.set_item("fees", PyArray1::from_iter(py, t.iter().map(|x| x.fees)))?;
    trades.set_item("closed", PyList::new(py, t.iter().map(|x| x.closed))?)?;
    d.set_item("trades", trades)?;
    d.set_item("events", events_dict(py, &o.events)?)?;
    d.set_item("fills", o.fills)?;
    d.set_item("partial_fills", o.partial_fills)?;
    d.set_item("execution_failures", o.execution_failures)?;
    let rej = PyDict::new(py);
    for (name, n) in ["outage", "exchange_failure", "invalid_price", "no_liquidity"].iter().zip(o.rejections) {
        rej.set_item(*name, n)?;
    }
    d.set_item("rejections", rej)?;
    d.set_item("latency_spikes", o.latency_spikes)?;
    d.set_item("cancelled_orders", o.cancelled_orders)?;
    d.set_item("strategy_failures", o.strategy_failures)?;
    d.set_item("risk", report_dict(py, &o.risk, &o.component_failures, &o.model_failures)?)?;
    d.set_item("final_positions", PyArray1::from_vec(py, o.final_positions))?;
    d.set_item("final_cash", o.final_cash)?;
    Ok(d)
}

/// Run a native strategy over the bars with the GIL released.
#[pyfunction]
pub fn run_native_strategy<'py>(
    py: Python<'py>,
    market: PyMarket<'py>,
    strategy: Bound<'py, PyDict>,
    exchange: PyExchangeConfig,
    engine: PyEngineConfig,
) -> PyResult<Bound<'py, PyDict>> {
    let md = to_py(market.to_core())?;
    let mut strat = build_strategy(&strategy, md.n_bars, md.n_symbols())?;
    let ex = to_py(exchange.to_core())?;
    let cfg = to_py(engine.to_core())?;
    let risk = to_py(engine.risk_core())?;
    let signals = engine.record_signals;
    let md = Arc::new(md);
    let out = py.detach(move || run_native_with_risk(md, strat.as_mut(), ex, cfg, risk, signals));
    output_dict(py, to_py(out)?)
}

/// Run many native jobs in parallel (rayon pool of `n_threads`, GIL released). Each job is
/// (market, strategy spec, exchange config, engine config); results come back in job order,
/// each an output dict or the error message of that job (one failing job does not stop the rest).
#[pyfunction]
pub fn run_native_batch<'py>(
    py: Python<'py>,
    jobs: Vec<(PyMarket<'py>, Bound<'py, PyDict>, PyExchangeConfig, PyEngineConfig)>,
    n_threads: usize,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    use rayon::prelude::*;
    struct Job {
        md: Arc<MarketData>,
        strategy: Box<dyn Strategy>,
        exchange: ExchangeConfig,
        engine: EngineConfig,
        risk: Option<RiskConfig>,
        signals: bool,
    }
    let mut prepared: Vec<Result<Job, String>> = Vec::with_capacity(jobs.len());
    for (market, spec, ex, eng) in &jobs {
        let job = (|| -> PyResult<Job> {
            let md = to_py(market.to_core())?;
            let strategy = build_strategy(spec, md.n_bars, md.n_symbols())?;
            Ok(Job {
                md: Arc::new(md),
                strategy,
                exchange: to_py(ex.to_core())?,
                engine: to_py(eng.to_core())?,
                risk: to_py(eng.risk_core())?,
                signals: eng.record_signals,
            })
        })();
        prepared.push(job.map_err(|e| e.to_string()));
    }
    if n_threads == 0 {
        return to_py(Err(StressError::param("max_workers", "must be >= 1")));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads)
        .build()
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let outs: Vec<Result<RunOutput, String>> = py.detach(|| {
        pool.install(|| {
            prepared
                .into_par_iter()
                .map(|job| {
                    let mut j = job?;
                    run_native_with_risk(j.md, j.strategy.as_mut(), j.exchange, j.engine, j.risk, j.signals)
                        .map_err(|e| e.to_string())
                })
                .collect()
        })
    });
    outs.into_iter()
        .map(|o| match o {
            Ok(out) => output_dict(py, out).map(|d| d.into_any()),
            Err(msg) => Ok(pyo3::types::PyString::new(py, &msg).into_any()),
        })
        .collect()
}

/// The target rows a native strategy decides on every bar, shape (n_bars, n_symbols), NaN where
/// it has no opinion yet. Native strategies read only the market, so these are exactly the
/// decisions it would make inside the engine (used when Python risk components sit between).
#[pyfunction]
pub fn native_targets<'py>(
    py: Python<'py>,
    market: PyMarket<'py>,
    strategy: Bound<'py, PyDict>,
) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
    let md = to_py(market.to_core())?;
    let (n, k) = (md.n_bars, md.n_symbols());
    let mut strat = build_strategy(&strategy, n, k)?;
    let out = py.detach(move || {
        let mut row = vec![f64::NAN; k];
        let mut out = Vec::with_capacity(n * k);
        strat.reset();
        for t in 0..n {
            strat.on_bar(&md, t, &mut row);
            out.extend_from_slice(&row);
        }
        out
    });
    let arr = numpy::ndarray::Array2::from_shape_vec((n, k), out)
        .map_err(|e| PyRuntimeError::new_err(format!("target rows: {e}")))?;
    Ok(numpy::PyArray2::from_owned_array(py, arr))
}

/// The engine stepped from Python, one batch of decisions at a time.
#[pyclass(unsendable)]
pub struct PyEngine {
    engine: Option<Engine>,
}

impl PyEngine {
    fn get(&mut self) -> PyResult<&mut Engine> {
        self.engine.as_mut().ok_or_else(|| PyRuntimeError::new_err("the run is finished"))
    }
}

#[pymethods]
impl PyEngine {
    #[new]
    fn new(market: PyMarket<'_>, exchange: PyExchangeConfig, engine: PyEngineConfig) -> PyResult<Self> {
        let md = Arc::new(to_py(market.to_core())?);
        let risk = to_py(engine.risk_core())?;
        let mut e = to_py(Engine::with_risk(md, to_py(exchange.to_core())?, to_py(engine.to_core())?, risk))?;
        e.set_record_signals(engine.record_signals);
        Ok(PyEngine { engine: Some(e) })
    }

    #[getter]
    fn n_bars(&mut self) -> PyResult<usize> {
        Ok(self.get()?.n_bars())
    }

    #[getter]
    fn next_bar(&mut self) -> PyResult<usize> {
        Ok(self.get()?.next_bar())
    }

    /// (cash, equity, positions) as of the last processed bar.
    fn context<'py>(&mut self, py: Python<'py>) -> PyResult<(f64, f64, Bound<'py, PyArray1<f64>>, usize)> {
        let e = self.get()?;
        Ok((e.account.cash, e.equity(), PyArray1::from_slice(py, e.positions()), e.open_orders().len()))
    }

    /// Process bars [t0, t1) taking the decision rows (t1 - t0, n_symbols) made on them.
    /// Returns None, or the message of a rejected decision batch (then the run goes flat).
    /// NaN is an invalid decision unless `allow_hold` (then it keeps the current target).
    #[pyo3(signature = (t0, decisions, confidence=None, allow_hold=false))]
    fn step_batch(
        &mut self,
        py: Python<'_>,
        t0: usize,
        decisions: PyReadonlyArray2<'_, f64>,
        confidence: Option<PyReadonlyArray2<'_, f64>>,
        allow_hold: bool,
    ) -> PyResult<Option<String>> {
        let e = self.get()?;
        if t0 != e.next_bar() {
            return Err(PyRuntimeError::new_err(format!("expected batch at bar {}, got {t0}", e.next_bar())));
        }
        let shape = decisions.shape().to_vec();
        let n = e.md.n_symbols();
        let n_rows = shape[0];
        if t0 + n_rows > e.n_bars() {
            return Err(PyRuntimeError::new_err("batch runs past the last bar"));
        }
        let rows: Vec<f64> = decisions.as_array().iter().copied().collect();
        let conf: Option<Vec<f64>> = confidence.as_ref().map(|c| c.as_array().iter().copied().collect());
        let mut error = None;
        if shape[1] != n {
            error = Some(format!("decision array has shape {shape:?}, expected ({n_rows}, {n})"));
        } else if rows.iter().any(|x| if allow_hold { x.is_infinite() } else { !x.is_finite() }) {
            error = Some("decisions contain NaN or infinite values".to_string());
        } else if let Some(msg) = rows.chunks(n).find_map(|r| e.check_targets(r).err()) {
            error = Some(msg);
        } else if let Some(c) = &conf {
            error = check_confidence(c, n_rows * n);
        }
        let step = |e: &mut Engine| {
            if error.is_none() && conf.is_none() {
                e.run_block(t0, &rows); // the same as the loop below, quiet bars in bulk
                return;
            }
            for (k, t) in (t0..t0 + n_rows).enumerate() {
                e.process_bar(t);
                if error.is_none() {
                    let row = &rows[k * n..(k + 1) * n];
                    match &conf {
                        Some(c) => e.apply_decision(row, Some(&c[k * n..(k + 1) * n])),
                        None => e.apply_targets(row),
                    }
                }
            }
        };
        if let Some(msg) = &error {
            e.strategy_failed(t0, msg.clone());
        }
        if n_rows >= 256 {
            py.detach(|| step(e));
        } else {
            step(e); // a short batch is cheaper than releasing and re-taking the GIL
        }
        Ok(error)
    }

    /// Process bar t alone (execute at its open, mark at its close, native risk after the mark);
    /// the decision on it follows with `decide` (used when Python risk components sit between).
    fn process(&mut self, t: usize) -> PyResult<()> {
        let e = self.get()?;
        if t != e.next_bar() || t >= e.n_bars() {
            return Err(PyRuntimeError::new_err(format!("expected bar {}, got {t}", e.next_bar())));
        }
        e.process_bar(t);
        Ok(())
    }

    /// The decision on the last processed bar (one target per symbol, NaN = keep), through the
    /// native risk stack. Returns None, or why the row was refused (then the run goes flat).
    #[pyo3(signature = (row, confidence=None))]
    fn decide(
        &mut self,
        row: PyReadonlyArray1<'_, f64>,
        confidence: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<Option<String>> {
        let e = self.get()?;
        let row: Vec<f64> = row.as_array().iter().copied().collect();
        let conf: Option<Vec<f64>> = confidence.map(|c| c.as_array().iter().copied().collect());
        let mut error = e.check_targets(&row).err();
        if error.is_none() {
            if let Some(c) = &conf {
                error = check_confidence(c, row.len());
            }
        }
        match &error {
            Some(msg) => e.strategy_failed(e.next_bar().saturating_sub(1), msg.clone()),
            None => e.apply_decision(&row, conf.as_deref()),
        }
        Ok(error)
    }

    /// The account and risk state after the last processed bar, for Python risk components.
    fn risk_state<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let e = self.get()?;
        let t = e.next_bar().saturating_sub(1);
        let md = Arc::clone(&e.md);
        let d = PyDict::new(py);
        d.set_item("bar", t)?;
        d.set_item("timestamp", md.timestamps.get(t).copied().unwrap_or(0))?;
        d.set_item("equity", e.equity())?;
        d.set_item("cash", e.account.cash)?;
        d.set_item("peak_equity", e.peak_equity())?;
        d.set_item("drawdown_pct", e.current_drawdown_pct())?;
        d.set_item("positions", PyArray1::from_slice(py, e.positions()))?;
        d.set_item("prices", PyArray1::from_slice(py, e.last_prices()))?;
        d.set_item("targets", PyArray1::from_slice(py, e.targets()))?;
        let n = md.n_symbols();
        let in_range = t < md.n_bars;
        d.set_item(
            "volume",
            PyArray1::from_iter(py, (0..n).map(|s| if in_range { md.volume[md.idx(s, t)] } else { f64::NAN })),
        )?;
        d.set_item("corrupt", PyList::new(py, (0..n).map(|s| in_range && is_corrupt(&md.bar(s, t))))?)?;
        d.set_item("failure_streak", e.failure_streak())?;
        let risk = e.risk();
        d.set_item("mode", risk.map_or("NORMAL", |r| r.mode().name()))?;
        d.set_item("stopped", risk.is_some_and(|r| r.stopped()))?;
        d.set_item("day_start_equity", risk.and_then(|r| r.day_start_equity()).or_else(|| day_start_equity(e, t)))?;
        d.set_item("open_orders", e.open_orders().len())?;
        Ok(d)
    }

    /// An emergency stop from a user's governor (or a failed component when
    /// `component_failure`) at the last processed bar. Returns whether it took effect.
    #[pyo3(signature = (trigger, component_failure=false))]
    fn emergency_stop(&mut self, trigger: String, component_failure: bool) -> PyResult<bool> {
        Ok(self.get()?.external_stop(trigger, component_failure))
    }

    /// A policy mode change from a user's controller at the last processed bar.
    fn set_mode(&mut self, mode: &str, reason: String) -> PyResult<bool> {
        let m = to_py(Mode::parse(mode))?;
        Ok(self.get()?.set_mode(m, reason))
    }

    /// A user component refused symbol s's change (counted as a risk denial, reason "external").
    fn deny_external(&mut self, symbol: usize, proposed: f64) -> PyResult<()> {
        self.get()?.deny_external(symbol, proposed);
        Ok(())
    }

    /// Record a user component's failure (name and message) at the last processed bar.
    fn component_failed(&mut self, component: String, message: String) -> PyResult<()> {
        self.get()?.component_failed(component, message);
        Ok(())
    }

    /// Record a failed strategy model at bar t (the other models keep running).
    fn model_failed(&mut self, t: usize, model: String, message: String) -> PyResult<()> {
        self.get()?.model_failed(t, model, message);
        Ok(())
    }

    /// Number of events so far.
    fn n_events(&mut self) -> PyResult<usize> {
        Ok(self.get()?.events.events.len())
    }

    /// Events from index `start` on, as columns (bar, kind, symbol, qty, price, value, reason).
    fn events_since<'py>(&mut self, py: Python<'py>, start: usize) -> PyResult<Bound<'py, PyDict>> {
        let e = self.get()?;
        let ev = e.events.events.get(start..).unwrap_or(&[]);
        events_dict(py, ev)
    }

    /// Process bars [t0, t1) with no new decision (after a failed strategy call the run is flat).
    fn skip_batch(&mut self, t0: usize, t1: usize) -> PyResult<()> {
        let e = self.get()?;
        for t in t0..t1.min(e.n_bars()) {
            e.process_bar(t);
        }
        Ok(())
    }

    /// Record a strategy exception for the batch starting at t0; the run goes flat.
    fn strategy_failed(&mut self, t0: usize, message: String) -> PyResult<()> {
        self.get()?.strategy_failed(t0, message);
        Ok(())
    }

    /// Submit an explicit order (fills from the next bar on). Returns the order id.
    #[pyo3(signature = (symbol, qty, order_type="market", price=None))]
    fn submit_order(&mut self, symbol: usize, qty: f64, order_type: &str, price: Option<f64>) -> PyResult<u64> {
        let kind = to_py(OrderType::parse(order_type))?;
        to_py(self.get()?.submit_order(symbol, qty, kind, price.unwrap_or(f64::NAN)))
    }

    /// Close the books and return the run's output dict.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let e = self.engine.take().ok_or_else(|| PyRuntimeError::new_err("the run is finished"))?;
        output_dict(py, e.finish())
    }
}
