//! Parameter checks shared by the transforms' constructors; each error names the field and the
//! allowed range (and the unit, for fractions given as percentages).

use crate::error::{Result, StressError};

fn unit_hint(field: &str, v: f64) -> String {
    if v > 1.0 && v <= 100.0 {
        format!(" ({field} is a fraction: write {} for {v}%)", v / 100.0)
    } else {
        String::new()
    }
}

/// A fraction strictly inside (0, 1), e.g. a fall of 20% = 0.20.
pub fn fraction_open(field: &str, v: f64) -> Result<f64> {
    if !(v.is_finite() && v > 0.0 && v < 1.0) {
        return Err(StressError::param(
            field,
            format!("must be a fraction in (0, 1), e.g. 0.2 for 20%, got {v}{}", unit_hint(field, v)),
        ));
    }
    Ok(v)
}

/// A fraction in [0, 1].
pub fn fraction(field: &str, v: f64) -> Result<f64> {
    if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
        return Err(StressError::param(
            field,
            format!("must be a fraction in [0, 1], e.g. 0.01 for 1%, got {v}{}", unit_hint(field, v)),
        ));
    }
    Ok(v)
}

/// A number in (0, hi].
pub fn positive(field: &str, v: f64, hi: f64) -> Result<f64> {
    if !(v.is_finite() && v > 0.0 && v <= hi) {
        return Err(StressError::param(field, format!("must be a number in (0, {hi}], got {v}")));
    }
    Ok(v)
}

/// A number in [0, hi].
pub fn nonneg(field: &str, v: f64, hi: f64) -> Result<f64> {
    if !(v.is_finite() && (0.0..=hi).contains(&v)) {
        return Err(StressError::param(field, format!("must be a number in [0, {hi}], got {v}")));
    }
    Ok(v)
}

/// A bar count >= `lo`.
pub fn bars(field: &str, v: usize, lo: usize) -> Result<usize> {
    if v < lo {
        return Err(StressError::param(field, format!("must be an integer >= {lo} (bars), got {v}")));
    }
    Ok(v)
}
