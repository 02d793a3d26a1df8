//! Small dense linear algebra for correlation matrices (a handful of symbols).

use crate::error::{Result, StressError};

/// Lower-triangular Cholesky factor of a row-major n x n symmetric positive-definite matrix.
///
/// Fails (naming `field`) when the matrix is not square, not symmetric, has a diagonal other
/// than 1 (for correlations), entries outside [-1, 1], or is not positive definite.
pub fn cholesky_correlation(field: &str, m: &[f64], n: usize) -> Result<Vec<f64>> {
    if m.len() != n * n {
        return Err(StressError::param(
            field,
            format!("must be a {n}x{n} matrix (one row and column per symbol), got {} entries", m.len()),
        ));
    }
    for i in 0..n {
        for j in 0..n {
            let v = m[i * n + j];
            if !v.is_finite() || !(-1.0..=1.0).contains(&v) {
                return Err(StressError::param(
                    field,
                    format!("entry [{i}][{j}] = {v} is not a correlation in [-1, 1]"),
                ));
            }
            if (v - m[j * n + i]).abs() > 1e-12 {
                return Err(StressError::param(
                    field,
                    format!("must be symmetric: [{i}][{j}] = {v} but [{j}][{i}] = {}", m[j * n + i]),
                ));
            }
        }
        if (m[i * n + i] - 1.0).abs() > 1e-12 {
            return Err(StressError::param(
                field,
                format!("diagonal entry [{i}][{i}] must be 1, got {}", m[i * n + i]),
            ));
        }
    }
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = m[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 1e-12 {
                    return Err(StressError::param(
                        field,
                        "must be positive definite (a valid correlation matrix); it is not".to_string(),
                    ));
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_reproduces_matrix() {
        let m = [1.0, 0.85, 0.62, 0.85, 1.0, 0.66, 0.62, 0.66, 1.0];
        let l = cholesky_correlation("c", &m, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - m[i * 3 + j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn rejects_non_pd() {
        // pairwise-valid correlations that are jointly impossible
        let m = [1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0];
        let e = cholesky_correlation("correlation", &m, 3).unwrap_err();
        assert!(e.to_string().contains("positive definite"));
        assert!(e.to_string().starts_with("correlation"));
    }
}
