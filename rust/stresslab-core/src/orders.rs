//! Orders and fills: the plain data passed between strategy, exchange and account.

use crate::error::{Result, StressError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    Market,
    /// Fills at the limit price or better, only when the bar trades through it.
    Limit,
    /// Becomes a market order when the bar trades at or beyond the stop price.
    Stop,
}

impl OrderType {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "market" => Ok(OrderType::Market),
            "limit" => Ok(OrderType::Limit),
            "stop" => Ok(OrderType::Stop),
            other => {
                Err(StressError::param("order_type", format!("must be 'market', 'limit' or 'stop', got {other:?}")))
            }
        }
    }
}

/// An order: quantity is signed (> 0 buy, < 0 sell), in units of the base asset.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: u64,
    pub symbol: usize,
    pub qty: f64,
    pub kind: OrderType,
    /// Limit or stop price (ignored for market orders).
    pub price: f64,
    /// Bar the decision was made at; the order can fill from bar `submitted + 1` on.
    pub submitted: usize,
    /// Signed quantity still to fill.
    pub remaining: f64,
    /// Orders created by the engine from strategy targets (re-derived every bar).
    pub from_target: bool,
}

impl Order {
    pub fn new(id: u64, symbol: usize, qty: f64, kind: OrderType, price: f64, submitted: usize) -> Result<Self> {
        if !qty.is_finite() || qty == 0.0 {
            return Err(StressError::param("qty", format!("must be a finite non-zero quantity, got {qty}")));
        }
        if kind != OrderType::Market && !(price.is_finite() && price > 0.0) {
            return Err(StressError::param("price", format!("limit/stop orders need a price > 0, got {price}")));
        }
        Ok(Order { id, symbol, qty, kind, price, submitted, remaining: qty, from_target: false })
    }

    #[inline]
    pub fn side(&self) -> f64 {
        self.remaining.signum()
    }
}

/// Whether a fill took liquidity (taker fee) or provided it (maker fee).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liquidity {
    Maker,
    Taker,
}

/// One execution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fill {
    pub order_id: u64,
    pub symbol: usize,
    pub bar: usize,
    /// Signed filled quantity.
    pub qty: f64,
    pub price: f64,
    /// Price the cost is measured from (the bar open, or the limit/stop price).
    pub reference_price: f64,
    pub fee: f64,
    /// |price - reference| * |qty|: what spread, slippage and impact cost.
    pub slippage_cost: f64,
    pub latency_ms: f64,
    pub liquidity: Liquidity,
}
