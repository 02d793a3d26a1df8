//! Where a stress window starts: a bar index, a time, or a random bar drawn from the seed.

use crate::error::{Result, StressError};

/// The first stressed bar of a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Bar index into each (path, symbol) series.
    Bar(usize),
    /// The first bar whose timestamp (ms UTC) is at or after this time.
    Time(i64),
    /// A bar drawn uniformly among the starts that fit, from the scenario seed (one draw per path,
    /// shared by all symbols so they are hit at the same time).
    Random,
}

impl Position {
    /// Resolve to a start bar in a series with timestamps `ts` for a window of `span` bars.
    ///
    /// `u` in [0, 1) is the path's uniform draw (used only by `Random`). `field` names the
    /// position parameter; `span_field` is the duration parameter and how the span is made up
    /// (e.g. ("duration_bars", "duration_bars + recovery_bars")), for error messages.
    pub fn resolve(self, ts: &[i64], span: usize, u: f64, field: &str, span_field: (&str, &str)) -> Result<usize> {
        self.resolve_near(ts, span, u, None, field, span_field)
    }

    /// As [`Position::resolve`], looking first at bar `hint` for a time (the bar where series
    /// aligned with another have it): the same start, without a binary search, whose scattered
    /// reads miss the cache, when the hint is right.
    pub fn resolve_near(
        self,
        ts: &[i64],
        span: usize,
        u: f64,
        hint: Option<usize>,
        field: &str,
        span_field: (&str, &str),
    ) -> Result<usize> {
        let n = ts.len();
        if span > n {
            return Err(StressError::param(
                span_field.0,
                format!(
                    "the stress needs {span} bars ({}) but the series has only {n}; use a shorter duration",
                    span_field.1
                ),
            ));
        }
        let start = match self {
            Position::Bar(i) => i,
            Position::Time(ms) => match hint {
                // the first bar at or after `ms`, as the search below finds it
                Some(h) if ts.get(h).is_some_and(|&t| t >= ms) && (h == 0 || ts[h - 1] < ms) => h,
                _ => ts.partition_point(|&t| t < ms),
            },
            Position::Random => {
                let choices = (n - span + 1) as f64;
                ((u * choices) as usize).min(n - span)
            }
        };
        if start + span > n {
            let at = match self {
                Position::Time(ms) => format!("time {ms} ms (bar {start})"),
                _ => format!("bar {start}"),
            };
            return Err(StressError::param(
                field,
                format!(
                    "a window of {span} bars starting at {at} runs past the end of the data ({n} bars); \
                     the latest start is bar {}",
                    n - span
                ),
            ));
        }
        Ok(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_each_kind() {
        let ts: Vec<i64> = (0..10).map(|t| t * 100).collect();
        assert_eq!(Position::Bar(3).resolve(&ts, 4, 0.0, "at", ("d", "d")).unwrap(), 3);
        assert_eq!(Position::Time(250).resolve(&ts, 4, 0.0, "at", ("d", "d")).unwrap(), 3);
        assert_eq!(Position::Time(300).resolve(&ts, 4, 0.0, "at", ("d", "d")).unwrap(), 3);
        assert_eq!(Position::Random.resolve(&ts, 4, 0.0, "at", ("d", "d")).unwrap(), 0);
        assert_eq!(Position::Random.resolve(&ts, 4, 0.999_999, "at", ("d", "d")).unwrap(), 6);
        let e = Position::Bar(7).resolve(&ts, 4, 0.0, "at", ("d", "d")).unwrap_err();
        assert!(e.to_string().starts_with("at:"), "{e}");
        let e = Position::Bar(0).resolve(&ts, 11, 0.0, "at", ("duration_bars", "duration_bars")).unwrap_err();
        assert!(e.to_string().starts_with("duration_bars:"), "{e}");
        assert!(Position::Time(10_000).resolve(&ts, 1, 0.0, "at", ("d", "d")).is_err());
    }

    #[test]
    fn a_hint_gives_the_searched_start() {
        // repeated times: the first bar at or after the time, whatever the hint
        let ts: Vec<i64> = vec![0, 100, 200, 200, 200, 300, 400, 500, 600, 700];
        for ms in [-5, 0, 50, 100, 200, 250, 300, 700] {
            let want = Position::Time(ms).resolve(&ts, 1, 0.0, "at", ("d", "d")).unwrap();
            for hint in [None, Some(0), Some(2), Some(3), Some(4), Some(9), Some(10), Some(99)] {
                let got = Position::Time(ms).resolve_near(&ts, 1, 0.0, hint, "at", ("d", "d")).unwrap();
                assert_eq!(got, want, "ms {ms} hint {hint:?}");
            }
        }
        // a bar index ignores the hint
        assert_eq!(Position::Bar(2).resolve_near(&ts, 1, 0.0, Some(5), "at", ("d", "d")).unwrap(), 2);
    }

    #[test]
    fn random_starts_cover_all_fits_uniformly() {
        let ts: Vec<i64> = (0..10).collect();
        let mut seen = [0usize; 7];
        for k in 0..7000 {
            let u = (k as f64 + 0.5) / 7000.0;
            seen[Position::Random.resolve(&ts, 4, u, "at", ("d", "d")).unwrap()] += 1;
        }
        assert!(seen.iter().all(|&c| c == 1000), "{seen:?}");
    }
}
