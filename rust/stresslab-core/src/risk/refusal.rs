//! A refused decision that the stack would refuse again, bar after bar, for the same reasons.
//!
//! A native strategy restates its targets on every bar. When the stack refuses one in full for a
//! reason that cannot change while nothing happens (a policy mode without entries, an emergency
//! stop in force, the orchestrator's position count), the same row comes back on the next bar and
//! the whole filter runs again only to record a repeat of the same denial (which the
//! [`super::Recorder`] does not count twice). [`Refusal`] remembers such a row; a later row that
//! is bit for bit the same, met with the same mode, stop state and engine targets, while each of
//! its denials would still be a repeat, is known to change nothing: the stack records what the
//! filter would have recorded (the raw targets, the denials' bar) and skips the rest.
//!
//! Which reasons are fixed: `LowConfidence` (the native path has no confidences: 1 for every
//! signal), `MaxPositions` (counts non-zero targets), `PolicyNoEntries` (the mode and a zero
//! target), `EmergencyStop` (the stop state and the target). The orchestrator's cooldown only
//! ever lets more through as bars pass, and its bar of the last accepted change moves only in a
//! filter that accepts something, which ends the memo. Everything that reads equity, prices or
//! the bar's data (size limits, leverage cuts, daily loss, corrupt bars) is not fixed: a row
//! refused for any of those is never remembered.

use super::{LastDenial, Mode, Reason};

#[derive(Clone, Debug)]
pub(super) struct Refusal {
    valid: bool,
    /// The strategy's row as it came (before the mode's sizing).
    row: Vec<f64>,
    /// The engine's targets when it was refused (all set: a NaN target reads the position).
    targets: Vec<f64>,
    mode: Mode,
    stopped: bool,
    /// Per symbol, the denial it got (reason, proposed), or None (nothing asked, or no change).
    denials: Vec<Option<(Reason, f64)>>,
}

/// Whether a denial for this reason depends only on state that is fixed while nothing happens.
fn fixed_reason(r: Reason) -> bool {
    matches!(r, Reason::LowConfidence | Reason::MaxPositions | Reason::PolicyNoEntries | Reason::EmergencyStop)
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

impl Refusal {
    pub(super) fn new(n_symbols: usize) -> Self {
        Refusal {
            valid: false,
            row: vec![f64::NAN; n_symbols],
            targets: vec![f64::NAN; n_symbols],
            mode: Mode::Normal,
            stopped: false,
            denials: vec![None; n_symbols],
        }
    }

    /// Called as a filter starts: whatever it decides replaces the memo.
    #[inline]
    pub(super) fn start(&mut self, row: &[f64]) {
        self.valid = false;
        self.row.clear();
        self.row.extend_from_slice(row);
    }

    /// Called as a filter of bar t ends with `row` (its result; `mult` the mode's sizing it
    /// applied): remember the refusal when every entry that asked for a change was denied, each
    /// for a fixed reason (a denial NaNs its entry and is the symbol's last one).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(super) fn finish(
        &mut self,
        t: usize,
        row: &[f64],
        mult: f64,
        targets: &[f64],
        mode: Mode,
        stopped: bool,
        last: &[LastDenial],
    ) {
        if row.iter().any(|x| !x.is_nan()) || targets.iter().any(|x| x.is_nan()) {
            return;
        }
        let mut any = false;
        for s in 0..row.len() {
            self.denials[s] = None;
            let x = self.row[s];
            if x.is_nan() || x * mult == targets[s] {
                continue; // asked for nothing, or for the target it has
            }
            match last[s] {
                Some((b, r, p)) if b == t && fixed_reason(r) => {
                    self.denials[s] = Some((r, p));
                    any = true;
                }
                _ => return,
            }
        }
        if !any {
            return;
        }
        self.targets.clear();
        self.targets.extend_from_slice(targets);
        (self.mode, self.stopped) = (mode, stopped);
        self.valid = true;
    }

    /// Whether `row` on bar t repeats the remembered refusal: same row, same (mode, stop state) and
    /// targets, and each of its denials still a repeat (the symbol's last denial, the same one, on
    /// bar t - 1 or t; `since` stands in for that bar when the caller looks ahead over rows).
    #[inline]
    pub(super) fn repeats(
        &self,
        row: &[f64],
        targets: &[f64],
        (mode, stopped): (Mode, bool),
        t: usize,
        since: Option<usize>,
        last: &[LastDenial],
    ) -> bool {
        if !(self.valid && mode == self.mode && stopped == self.stopped) {
            return false;
        }
        if !(same_bits(row, &self.row) && same_bits(targets, &self.targets)) {
            return false;
        }
        self.denials.iter().zip(last).all(|(d, l)| match (d, l) {
            (None, _) => true,
            (Some((r, p)), Some((b, lr, lp))) => {
                let b = since.unwrap_or(*b);
                (b == t || b + 1 == t) && r == lr && p.to_bits() == lp.to_bits()
            }
            (Some(_), None) => false,
        })
    }

    /// Whether a refusal is remembered (none: no row can repeat one).
    #[inline]
    pub(super) fn is_valid(&self) -> bool {
        self.valid
    }

    /// Record a repeat on bar t: the denials' bar moves to t (what a repeated denial records).
    #[inline]
    pub(super) fn repeat_at(&self, t: usize, last: &mut [LastDenial]) {
        for (d, l) in self.denials.iter().zip(last.iter_mut()) {
            if let (Some(_), Some((b, _, _))) = (d, l.as_mut()) {
                *b = t;
            }
        }
    }
}
