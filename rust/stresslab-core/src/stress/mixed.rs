//! MIXED_CUSTOM: any combination of transforms, applied in one documented order.
//!
//! [`ORDER`] (and why):
//! 1. correlation breakdown and 2. volatility spike rewrite the returns inside their windows
//!    (around each window's mean), so they come first: applied after a crash they would rotate or
//!    rescale the crash itself;
//! 3. flash crash and 4. pump and dump then lay level paths on top (later bars shifted);
//! 5. liquidity drop and 6. spread explosion multiply volume and spread (they commute with each
//!    other and with the crash's own volume/spread multiples);
//! 7. data corruption comes last, so its ground truth describes the final values and no later
//!    stress repairs or moves a corrupted bar.
//!
//! A [`Step`] is one transform with the symbols it hits and its position; [`Step::from_params`]
//! builds one from named numbers (the scenario's parameter names), renaming fields in errors
//! through `aliases` so a MIXED_CUSTOM error names `flash_crash_drop_pct`, not `drop_pct`.

use std::collections::HashMap;

use super::{
    CorrelationBreakdown, DataCorruption, FlashCrash, LiquidityDrop, Position, PumpAndDump, SpreadExplosion,
    TransformKind, VolatilitySpike,
};
use crate::error::{Result, StressError};

/// The order in which a mixed scenario applies its transforms.
pub const ORDER: [TransformKind; 7] = [
    TransformKind::CorrelationBreakdown,
    TransformKind::VolatilitySpike,
    TransformKind::FlashCrash,
    TransformKind::PumpAndDump,
    TransformKind::LiquidityDrop,
    TransformKind::SpreadExplosion,
    TransformKind::DataCorruption,
];

/// One validated transform.
#[derive(Clone, Debug, PartialEq)]
pub enum Transform {
    FlashCrash(FlashCrash),
    VolatilitySpike(VolatilitySpike),
    LiquidityDrop(LiquidityDrop),
    SpreadExplosion(SpreadExplosion),
    DataCorruption(DataCorruption),
    CorrelationBreakdown(CorrelationBreakdown),
    PumpAndDump(PumpAndDump),
}

impl Transform {
    pub fn kind(&self) -> TransformKind {
        match self {
            Transform::FlashCrash(_) => TransformKind::FlashCrash,
            Transform::VolatilitySpike(_) => TransformKind::VolatilitySpike,
            Transform::LiquidityDrop(_) => TransformKind::LiquidityDrop,
            Transform::SpreadExplosion(_) => TransformKind::SpreadExplosion,
            Transform::DataCorruption(_) => TransformKind::DataCorruption,
            Transform::CorrelationBreakdown(_) => TransformKind::CorrelationBreakdown,
            Transform::PumpAndDump(_) => TransformKind::PumpAndDump,
        }
    }

    /// Bars of the window (0 for data corruption, which acts on the whole series).
    pub fn span(&self) -> usize {
        match self {
            Transform::FlashCrash(t) => t.span(),
            Transform::VolatilitySpike(t) => t.span(),
            Transform::LiquidityDrop(t) => t.span(),
            Transform::SpreadExplosion(t) => t.span(),
            Transform::DataCorruption(_) => 0,
            Transform::CorrelationBreakdown(t) => t.span(),
            Transform::PumpAndDump(t) => t.span(),
        }
    }

    /// The parameter that sets the window length and what the span is made of (named in "longer
    /// than the data" errors).
    pub fn span_field(&self) -> (&'static str, &'static str) {
        match self {
            Transform::PumpAndDump(_) => ("pump_bars", "pump_bars + dump_bars"),
            Transform::FlashCrash(_) => ("duration_bars", "duration_bars + recovery_bars"),
            _ => ("duration_bars", "duration_bars"),
        }
    }

    /// Whether the transform moves prices (and so needs clean, positive prices in its window).
    pub fn moves_prices(&self) -> bool {
        matches!(
            self,
            Transform::FlashCrash(_)
                | Transform::VolatilitySpike(_)
                | Transform::CorrelationBreakdown(_)
                | Transform::PumpAndDump(_)
        )
    }

    /// Build from named parameters. `choices` carries the string parameters: the corruption
    /// types, or the correlation mode. Every listed parameter is required (callers fill in the
    /// documented defaults); `target_correlation` is optional.
    pub fn from_params(name: &str, params: &HashMap<String, f64>, choices: &[String]) -> Result<Self> {
        let kind = TransformKind::parse(name)?;
        let allowed: &[&str] = match kind {
            TransformKind::FlashCrash => {
                &["drop_pct", "duration_bars", "recovery_bars", "recovery_pct", "volume_mult", "spread_mult"]
            }
            TransformKind::VolatilitySpike => &["multiplier", "duration_bars"],
            TransformKind::LiquidityDrop => &["drop_pct", "duration_bars", "spread_elasticity"],
            TransformKind::SpreadExplosion => &["spread_mult", "duration_bars"],
            TransformKind::DataCorruption => &["corruption_pct"],
            TransformKind::CorrelationBreakdown => &["duration_bars", "target_correlation"],
            TransformKind::PumpAndDump => &["pump_pct", "pump_bars", "dump_pct", "dump_bars", "volume_mult"],
        };
        if let Some(bad) = params.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(StressError::param(
                bad.as_str(),
                format!("{name} has no parameter {bad:?}; allowed: {}", allowed.join(", ")),
            ));
        }
        let num = |field: &str| -> Result<f64> {
            params.get(field).copied().ok_or_else(|| StressError::param(field, format!("{name} needs {field}")))
        };
        let count = |field: &str| -> Result<usize> {
            let v = num(field)?;
            if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 1e12) {
                return Err(StressError::param(field, format!("must be a whole number of bars >= 0, got {v}")));
            }
            Ok(v as usize)
        };
        Ok(match kind {
            TransformKind::FlashCrash => Transform::FlashCrash(FlashCrash::new(
                num("drop_pct")?,
                count("duration_bars")?,
                count("recovery_bars")?,
                num("recovery_pct")?,
                num("volume_mult")?,
                num("spread_mult")?,
            )?),
            TransformKind::VolatilitySpike => {
                Transform::VolatilitySpike(VolatilitySpike::new(num("multiplier")?, count("duration_bars")?)?)
            }
            TransformKind::LiquidityDrop => Transform::LiquidityDrop(LiquidityDrop::new(
                num("drop_pct")?,
                count("duration_bars")?,
                num("spread_elasticity")?,
            )?),
            TransformKind::SpreadExplosion => {
                Transform::SpreadExplosion(SpreadExplosion::new(num("spread_mult")?, count("duration_bars")?)?)
            }
            TransformKind::DataCorruption => {
                Transform::DataCorruption(DataCorruption::new(num("corruption_pct")?, choices)?)
            }
            TransformKind::CorrelationBreakdown => {
                let mode = choices.first().map_or("decorrelate", |s| s.as_str());
                let target = params.get("target_correlation").copied();
                Transform::CorrelationBreakdown(CorrelationBreakdown::new(mode, target, count("duration_bars")?)?)
            }
            TransformKind::PumpAndDump => Transform::PumpAndDump(PumpAndDump::new(
                num("pump_pct")?,
                count("pump_bars")?,
                num("dump_pct")?,
                count("dump_bars")?,
                num("volume_mult")?,
            )?),
        })
    }
}

/// One transform, the symbols it hits (symbol ids; None = all) and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub transform: Transform,
    pub symbols: Option<Vec<u32>>,
    pub at: Position,
    /// Field renames for errors: (canonical name, name the user wrote).
    pub aliases: Vec<(String, String)>,
}

impl Step {
    pub fn new(transform: Transform, symbols: Option<Vec<u32>>, at: Position) -> Self {
        Step { transform, symbols, at, aliases: Vec::new() }
    }

    /// Build from named parameters (see [`Transform::from_params`]); errors name the user's fields.
    pub fn from_params(
        name: &str,
        params: &HashMap<String, f64>,
        choices: &[String],
        symbols: Option<Vec<u32>>,
        at: Position,
        aliases: Vec<(String, String)>,
    ) -> Result<Self> {
        let transform = Transform::from_params(name, params, choices).map_err(|e| relabel(e, &aliases))?;
        Ok(Step { transform, symbols, at, aliases })
    }

    /// Rename the field of a parameter error to the name the user wrote.
    pub fn relabel(&self, e: StressError) -> StressError {
        relabel(e, &self.aliases)
    }
}

fn relabel(e: StressError, aliases: &[(String, String)]) -> StressError {
    let alias = |name: &str| aliases.iter().find(|(c, _)| c == name).map(|(_, user)| user.clone());
    match e {
        StressError::InvalidParam { field, message } => {
            let field = alias(&field).unwrap_or(field);
            // parameter names inside the message (identifiers with an underscore) get renamed too
            let mut text = String::with_capacity(message.len());
            let mut word = String::new();
            for ch in message.chars().chain(std::iter::once(' ')) {
                if ch.is_ascii_alphanumeric() || ch == '_' {
                    word.push(ch);
                    continue;
                }
                let renamed = if word.contains('_') { alias(&word) } else { None };
                text.push_str(renamed.as_deref().unwrap_or(&word));
                word.clear();
                text.push(ch);
            }
            text.pop();
            StressError::InvalidParam { field, message: text }
        }
        other => other,
    }
}

/// Sort steps into [`ORDER`] (stable: steps of one kind keep their order).
pub fn in_mixed_order(mut steps: Vec<Step>) -> Vec<Step> {
    steps.sort_by_key(|s| ORDER.iter().position(|k| *k == s.transform.kind()).unwrap_or(ORDER.len()));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, f64)]) -> HashMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn builds_every_kind_and_sorts() {
        let steps = vec![
            Step::from_params(
                "data_corruption",
                &p(&[("corruption_pct", 0.1)]),
                &["nan".into()],
                None,
                Position::Random,
                vec![],
            )
            .unwrap(),
            Step::from_params(
                "spread_explosion",
                &p(&[("spread_mult", 3.0), ("duration_bars", 2.0)]),
                &[],
                None,
                Position::Bar(1),
                vec![],
            )
            .unwrap(),
            Step::from_params(
                "correlation_breakdown",
                &p(&[("duration_bars", 9.0)]),
                &["invert".into()],
                None,
                Position::Random,
                vec![],
            )
            .unwrap(),
        ];
        let kinds: Vec<TransformKind> = in_mixed_order(steps).iter().map(|s| s.transform.kind()).collect();
        assert_eq!(
            kinds,
            vec![TransformKind::CorrelationBreakdown, TransformKind::SpreadExplosion, TransformKind::DataCorruption]
        );
    }

    #[test]
    fn errors_name_the_users_field() {
        let aliases = vec![("drop_pct".to_string(), "flash_crash_drop_pct".to_string())];
        let params = p(&[
            ("drop_pct", 1.2),
            ("duration_bars", 6.0),
            ("recovery_bars", 0.0),
            ("recovery_pct", 0.5),
            ("volume_mult", 8.0),
            ("spread_mult", 5.0),
        ]);
        let e = Step::from_params("flash_crash", &params, &[], None, Position::Random, aliases.clone()).unwrap_err();
        assert!(e.to_string().starts_with("flash_crash_drop_pct:"), "{e}");
        let msg = StressError::param("x", "drop_pct and drop_pct_2, not drop_pct.");
        assert_eq!(
            relabel(msg, &aliases).to_string(),
            "x: flash_crash_drop_pct and drop_pct_2, not flash_crash_drop_pct."
        );
        let e =
            Step::from_params("flash_crash", &p(&[("bogus", 1.0)]), &[], None, Position::Random, vec![]).unwrap_err();
        assert!(e.to_string().starts_with("bogus:"));
        let mut half = params.clone();
        half.insert("duration_bars".into(), 2.5);
        half.insert("drop_pct".into(), 0.2);
        let e = Step::from_params("flash_crash", &half, &[], None, Position::Random, vec![]).unwrap_err();
        assert!(e.to_string().starts_with("duration_bars:"));
        assert!(Transform::from_params("meteor", &p(&[]), &[]).unwrap_err().to_string().starts_with("transform"));
    }
}
