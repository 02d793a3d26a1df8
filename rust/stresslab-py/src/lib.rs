//! `stresslab._core`: the thin PyO3 layer over `stresslab-core`.
//!
//! Conventions: every heavy call converts its inputs to owned Rust data first and then runs inside
//! `py.detach` (GIL released, rayon allowed); every error is a `StressError` mapped once in
//! [`errors`]; no function here can panic on user input.

mod bootstrap;
mod engine;
mod errors;
mod metrics;
mod risk;
mod stress;
mod stress_table;
mod sweep;
mod synth;

use pyo3::prelude::*;

/// mimalloc keeps freed memory mapped for the next call, where glibc's malloc hands large blocks
/// back to the kernel (munmap, or trimming the heap top) and the next call's output columns then
/// pay a page fault every 4 KiB: for the stress binding's tens of MB per call that was most of
/// the time spent writing them. Only allocations made by this extension use it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(synth::generate_market, m)?)?;
    m.add_function(wrap_pyfunction!(synth::generate_market_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(synth::symbol_profile, m)?)?;
    m.add_function(wrap_pyfunction!(synth::profile_fields, m)?)?;
    m.add_function(wrap_pyfunction!(synth::market_fields, m)?)?;
    m.add_function(wrap_pyfunction!(synth::py_scenario_key, m)?)?;
    m.add_function(wrap_pyfunction!(synth::default_correlations, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::compute_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::metric_info, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::metric_flags, m)?)?;
    m.add_function(wrap_pyfunction!(stress::apply_stress, m)?)?;
    m.add_function(wrap_pyfunction!(stress::stress_flag_bits, m)?)?;
    m.add_function(wrap_pyfunction!(stress::mixed_order, m)?)?;
    m.add_function(wrap_pyfunction!(stress::corruption_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(engine::run_native_strategy, m)?)?;
    m.add_function(wrap_pyfunction!(engine::run_native_batch, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::run_sweep, m)?)?;
    m.add_function(wrap_pyfunction!(engine::check_exchange_config, m)?)?;
    m.add_function(wrap_pyfunction!(engine::native_targets, m)?)?;
    m.add_function(wrap_pyfunction!(risk::check_risk_config, m)?)?;
    m.add_function(wrap_pyfunction!(risk::policy_modes, m)?)?;
    m.add_class::<engine::PyEngine>()?;
    m.add_function(wrap_pyfunction!(bootstrap::bootstrap_market, m)?)?;
    m.add_function(wrap_pyfunction!(bootstrap::bootstrap_market_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(bootstrap::bootstrap_block_lengths, m)?)?;
    Ok(())
}

/// Number of threads rayon's global pool uses (RAYON_NUM_THREADS or the core count).
#[pyfunction]
fn num_threads() -> usize {
    rayon::current_num_threads()
}
