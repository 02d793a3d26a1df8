//! CORRELATION_BREAKDOWN: for `duration_bars`, the cross-asset correlation of the targeted
//! symbols' log returns is moved to a target while each asset keeps its own volatility.
//!
//! Targets: `decorrelate` (0), `converge` (1), an explicit `target_correlation` (every pair gets
//! the same value; it must be a valid correlation for the number of symbols, i.e. at least
//! `-1 / (k - 1)`), or `invert` (the demeaned returns of every symbol but the first are mirrored,
//! so each pair with the first symbol changes sign; for two symbols rho becomes -rho exactly).
//!
//! Method (exact in sample): demean the window's returns X (bars x symbols), whiten them with the
//! Cholesky factor L of X'X (W = X L^-T has W'W = I), then colour them with the target's factor
//! L* and the original scales: X* = W L*' diag(sigma). Then X*'X* = diag(sigma) C* diag(sigma):
//! the sample correlation is the target and each column's sample sd is the original one. The
//! first symbol's returns are unchanged (its bars are left as they are). Columns of X* sum to
//! zero, so each window keeps its mean return and end level: bars outside stay bit-identical.
//! The new returns go back into the bars through [`rewrite_returns`] (gap and wicks kept).

use super::bars::{log_returns, rewrite_returns, Bars};
use super::params::bars;
use super::{Event, TransformKind};
use crate::error::{Result, StressError};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CorrelationTarget {
    Decorrelate,
    Invert,
    Converge,
    Value(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationBreakdown {
    pub target: CorrelationTarget,
    pub duration_bars: usize,
}

impl CorrelationBreakdown {
    /// `mode` is "decorrelate", "invert" or "converge"; an explicit `target_correlation`
    /// overrides it.
    pub fn new(mode: &str, target_correlation: Option<f64>, duration_bars: usize) -> Result<Self> {
        let target = match target_correlation {
            Some(v) if !(v.is_finite() && (-1.0..=1.0).contains(&v)) => {
                return Err(StressError::param(
                    "target_correlation",
                    format!("must be a correlation in [-1, 1], got {v}"),
                ))
            }
            Some(v) => CorrelationTarget::Value(v),
            None => match mode {
                "decorrelate" => CorrelationTarget::Decorrelate,
                "invert" => CorrelationTarget::Invert,
                "converge" => CorrelationTarget::Converge,
                other => {
                    return Err(StressError::param(
                        "mode",
                        format!("must be one of 'decorrelate', 'invert', 'converge', got {other:?}"),
                    ))
                }
            },
        };
        Ok(CorrelationBreakdown { target, duration_bars: bars("duration_bars", duration_bars, 1)? })
    }

    pub fn span(&self) -> usize {
        self.duration_bars
    }

    /// The pairwise target correlation (None for `invert`).
    pub fn target_value(&self) -> Option<f64> {
        match self.target {
            CorrelationTarget::Decorrelate => Some(0.0),
            CorrelationTarget::Converge => Some(1.0),
            CorrelationTarget::Value(v) => Some(v),
            CorrelationTarget::Invert => None,
        }
    }

    /// Check the transform can act on `k` symbols.
    pub fn check_symbols(&self, k: usize) -> Result<()> {
        if k < 2 {
            return Err(StressError::param(
                "symbols",
                format!("a correlation breakdown needs at least 2 symbols in the data, got {k}"),
            ));
        }
        if self.duration_bars <= k {
            return Err(StressError::param(
                "duration_bars",
                format!(
                    "a correlation breakdown over {k} symbols needs more than {k} bars to measure a correlation, \
                     got {}",
                    self.duration_bars
                ),
            ));
        }
        if let Some(v) = self.target_value() {
            let lo = -1.0 / (k - 1) as f64;
            if v < lo - 1e-12 {
                return Err(StressError::param(
                    "target_correlation",
                    format!(
                        "{v} is not a valid correlation for {k} symbols: an equal pairwise correlation must be \
                         in [{lo:.6}, 1] (-1/(k-1)) to form a correlation matrix"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Apply to the windows `starts[j]..starts[j] + duration_bars` of the series `segs[j]`
    /// (aligned in time; `check_symbols(segs.len())` passed). Fails only on degenerate data
    /// (a constant or collinear return series in the window).
    pub fn apply(&self, segs: &mut [&mut Bars<'_>], starts: &[usize]) -> Result<Vec<Vec<Event>>> {
        let k = segs.len();
        let d = self.duration_bars;
        let mut x: Vec<Vec<f64>> = Vec::with_capacity(k);
        let mut mu = Vec::with_capacity(k);
        for (b, &s) in segs.iter().zip(starts) {
            let mut r = Vec::with_capacity(d);
            log_returns(b, s, d, &mut r);
            let m = r.iter().sum::<f64>() / d as f64;
            r.iter_mut().for_each(|v| *v -= m);
            mu.push(m);
            x.push(r);
        }
        let new_x = match self.target_value() {
            None => x
                .iter()
                .enumerate()
                .map(|(j, c)| if j == 0 { c.clone() } else { c.iter().map(|v| -v).collect() })
                .collect(),
            Some(rho) => recolour(&x, rho)?,
        };
        let kind = TransformKind::CorrelationBreakdown;
        let mut events = Vec::with_capacity(k);
        for (j, (b, &s)) in segs.iter_mut().zip(starts).enumerate() {
            if j > 0 {
                let r: Vec<f64> = new_x[j].iter().map(|v| v + mu[j]).collect();
                rewrite_returns(b, s, &r, 1.0, 1.0);
            }
            b.mark(s, s + d, kind.flag());
            let mut ev = Event::window(kind, "window", s, s + d);
            ev.value = self.target_value().unwrap_or(f64::NAN);
            events.push(vec![ev]);
        }
        Ok(events)
    }
}

/// Whiten the demeaned columns `x` and colour them to equal pairwise correlation `rho`, keeping
/// each column's sum of squares.
fn recolour(x: &[Vec<f64>], rho: f64) -> Result<Vec<Vec<f64>>> {
    let k = x.len();
    let d = x[0].len();
    let mut s = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let v: f64 = x[i].iter().zip(&x[j]).map(|(a, b)| a * b).sum();
            s[i * k + j] = v;
            s[j * k + i] = v;
        }
    }
    let l = cholesky(&s, k, false).ok_or_else(|| {
        StressError::Data(
            "correlation_breakdown: the symbols' returns in the window are degenerate (a constant or collinear \
             series), so their correlation cannot be set; choose another window or other symbols"
                .into(),
        )
    })?;
    let sigma: Vec<f64> = (0..k).map(|j| s[j * k + j].sqrt()).collect();
    let mut c = vec![rho; k * k];
    for j in 0..k {
        c[j * k + j] = 1.0;
    }
    let lt = cholesky(&c, k, true).unwrap_or_else(|| vec![0.0; k * k]);
    let mut out = vec![vec![0.0; d]; k];
    let mut w = vec![0.0; k];
    for t in 0..d {
        // forward substitution L w = x_t
        for i in 0..k {
            let mut acc = x[i][t];
            for (m, wm) in w.iter().enumerate().take(i) {
                acc -= l[i * k + m] * wm;
            }
            w[i] = acc / l[i * k + i];
        }
        for (j, col) in out.iter_mut().enumerate() {
            let v: f64 = (0..=j).map(|i| lt[j * k + i] * w[i]).sum();
            col[t] = sigma[j] * v;
        }
    }
    Ok(out)
}

/// Lower Cholesky factor of a symmetric k x k matrix. Strict (`psd = false`): None unless every
/// pivot is clearly positive (relative to the diagonal). `psd = true`: zero pivots allowed (a
/// semidefinite target such as all correlations 1), their columns set to zero.
fn cholesky(m: &[f64], k: usize, psd: bool) -> Option<Vec<f64>> {
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut s = m[i * k + j];
            for p in 0..j {
                s -= l[i * k + p] * l[j * k + p];
            }
            if i == j {
                let tol = 1e-10 * m[i * k + i].abs();
                if s > tol && s.is_finite() {
                    l[i * k + i] = s.sqrt();
                } else if psd && s > -1e-9 {
                    l[i * k + i] = 0.0;
                } else {
                    return None;
                }
            } else {
                l[i * k + j] = if l[j * k + j] > 0.0 { s / l[j * k + j] } else { 0.0 };
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::super::bars::testing::Owned;
    use super::*;

    fn window_returns(x: &mut Owned, s: usize, d: usize) -> Vec<f64> {
        let mut r = Vec::new();
        log_returns(&x.bars(), s, d, &mut r);
        r
    }

    fn corr_sd(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        (cov / (va * vb).sqrt(), va.sqrt(), vb.sqrt())
    }

    fn run(target: CorrelationBreakdown, k: usize) -> (Vec<Owned>, Vec<Owned>) {
        let orig: Vec<Owned> = (0..k).map(|j| Owned::random(200, 10 + j as u64)).collect();
        let mut xs: Vec<Owned> = (0..k).map(|j| Owned::random(200, 10 + j as u64)).collect();
        target.check_symbols(k).unwrap();
        let mut views: Vec<Bars<'_>> = xs.iter_mut().map(|x| x.bars()).collect();
        let mut refs: Vec<&mut Bars<'_>> = views.iter_mut().collect();
        target.apply(&mut refs, &vec![50; k]).unwrap();
        drop(views);
        (orig, xs)
    }

    #[test]
    fn reaches_target_and_keeps_volatility() {
        for k in [2usize, 3, 5] {
            for rho in [0.0, 0.9, 1.0, -1.0 / (k - 1) as f64, 0.3] {
                let cb = CorrelationBreakdown::new("decorrelate", Some(rho), 72).unwrap();
                let (mut orig, mut xs) = run(cb, k);
                let rs: Vec<Vec<f64>> = xs.iter_mut().map(|x| window_returns(x, 50, 72)).collect();
                let r0: Vec<Vec<f64>> = orig.iter_mut().map(|x| window_returns(x, 50, 72)).collect();
                for i in 0..k {
                    for j in 0..i {
                        let (c, _, _) = corr_sd(&rs[i], &rs[j]);
                        assert!((c - rho).abs() < 1e-9, "k {k} rho {rho}: {c}");
                    }
                    let (_, sd_new, sd_old) = corr_sd(&rs[i], &r0[i]);
                    assert!((sd_new / sd_old - 1.0).abs() < 1e-9);
                }
                for (x, o) in xs.iter().zip(&orig) {
                    for t in 0..200 {
                        assert!(x.ohlc_ok(t));
                        if !(50..122).contains(&t) {
                            assert_eq!(x.c[t].to_bits(), o.c[t].to_bits(), "bar {t}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn invert_flips_the_sign() {
        let cb = CorrelationBreakdown::new("invert", None, 40).unwrap();
        let (mut orig, mut xs) = run(cb, 2);
        let (a0, b0) = (window_returns(&mut orig[0], 50, 40), window_returns(&mut orig[1], 50, 40));
        let (a1, b1) = (window_returns(&mut xs[0], 50, 40), window_returns(&mut xs[1], 50, 40));
        let (c0, _, _) = corr_sd(&a0, &b0);
        let (c1, _, _) = corr_sd(&a1, &b1);
        assert!((c1 + c0).abs() < 1e-9);
    }

    #[test]
    fn rejects_invalid_targets() {
        assert!(CorrelationBreakdown::new("x", None, 5).unwrap_err().to_string().starts_with("mode"));
        let e = CorrelationBreakdown::new("decorrelate", Some(1.5), 5).unwrap_err();
        assert!(e.to_string().starts_with("target_correlation"));
        let cb = CorrelationBreakdown::new("decorrelate", Some(-0.9), 50).unwrap();
        assert!(cb.check_symbols(2).is_ok());
        assert!(cb.check_symbols(3).unwrap_err().to_string().starts_with("target_correlation"));
        assert!(cb.check_symbols(1).unwrap_err().to_string().starts_with("symbols"));
        let short = CorrelationBreakdown::new("decorrelate", None, 3).unwrap();
        assert!(short.check_symbols(3).unwrap_err().to_string().starts_with("duration_bars"));
    }

    #[test]
    fn degenerate_returns_are_a_data_error() {
        let cb = CorrelationBreakdown::new("decorrelate", None, 10).unwrap();
        let mut a = Owned::flat(30, 5.0);
        let mut b = Owned::random(30, 1);
        let (mut va, mut vb) = (a.bars(), b.bars());
        let mut refs = vec![&mut va, &mut vb];
        assert!(matches!(cb.apply(&mut refs, &[5, 5]), Err(StressError::Data(_))));
    }
}
