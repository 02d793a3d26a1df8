//! The core's one error type. The binding crate maps each variant to a Python exception once.

/// Errors raised by the core. Every user-reachable failure is one of these, never a panic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StressError {
    /// A parameter is out of its allowed range; `field` names it, `message` gives the range.
    #[error("{field}: {message}")]
    InvalidParam { field: String, message: String },
    /// A request too large to fit in memory, refused before allocating.
    #[error("{0}")]
    Memory(String),
    /// Input data that cannot be used (wrong shape, inconsistent columns).
    #[error("{0}")]
    Data(String),
}

impl StressError {
    pub fn param(field: impl Into<String>, message: impl Into<String>) -> Self {
        StressError::InvalidParam { field: field.into(), message: message.into() }
    }
}

pub type Result<T> = std::result::Result<T, StressError>;

/// `Ok(())` if `value` is finite and inside [lo, hi] (bounds inclusive unless stated by the caller).
pub fn check_range(field: &str, value: f64, lo: f64, hi: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(StressError::param(field, format!("must be a finite number in [{lo}, {hi}], got {value}")));
    }
    if value < lo || value > hi {
        return Err(StressError::param(field, format!("must be in [{lo}, {hi}], got {value}")));
    }
    Ok(())
}

/// `Ok(())` if `value` is finite and strictly positive.
pub fn check_positive(field: &str, value: f64) -> Result<()> {
    if !value.is_finite() || value <= 0.0 {
        return Err(StressError::param(field, format!("must be a finite number > 0, got {value}")));
    }
    Ok(())
}
