//! `PriceTable`: list prices of common LLM models, and the cost of a token usage.
//!
//! `input_tokens` includes the cached tokens (`cache_read_tokens`, `cache_write_tokens`)
//! and `output_tokens` includes `reasoning_tokens`, so a cost prices the uncached input,
//! the cache reads, the cache writes and the output once each: no token twice.

use std::collections::BTreeMap;

use crate::bounds::MAX_COST_USD;
use crate::{CostSource, Event, EventBody, TokenUsage, Usd};

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Cached input read back; the input price when `None`.
    pub cache_read: Option<f64>,
    /// Input written to the cache; the input price when `None`.
    pub cache_write: Option<f64>,
}

impl Price {
    const fn new(input: f64, output: f64, cache_read: f64, cache_write: Option<f64>) -> Price {
        Price {
            input,
            output,
            cache_read: Some(cache_read),
            cache_write,
        }
    }

    /// The cost of `tokens` at this price.
    pub fn cost(&self, tokens: &TokenUsage) -> Usd {
        let input = tokens.input_tokens.unwrap_or(0);
        let cache_read = tokens.cache_read_tokens.unwrap_or(0);
        let cache_write = tokens.cache_write_tokens.unwrap_or(0);
        let uncached = input.saturating_sub(cache_read + cache_write);
        let output = tokens.output_tokens.unwrap_or(0);
        let micro = uncached as f64 * self.input
            + cache_read as f64 * self.cache_read.unwrap_or(self.input)
            + cache_write as f64 * self.cache_write.unwrap_or(self.input)
            + output as f64 * self.output;
        Usd(micro / 1e6)
    }
}

/// Public list prices (USD per million tokens: input, output, cache read, cache write)
/// as published by the providers in 2025–2026. A configuration overrides any of them.
const BUILT_IN: &[(&str, Price)] = &[
    ("gpt-4o", Price::new(2.5, 10.0, 1.25, None)),
    ("gpt-4o-mini", Price::new(0.15, 0.6, 0.075, None)),
    ("gpt-4.1", Price::new(2.0, 8.0, 0.5, None)),
    ("gpt-4.1-mini", Price::new(0.4, 1.6, 0.1, None)),
    ("gpt-4.1-nano", Price::new(0.1, 0.4, 0.025, None)),
    ("gpt-5", Price::new(1.25, 10.0, 0.125, None)),
    ("gpt-5-mini", Price::new(0.25, 2.0, 0.025, None)),
    ("gpt-5-nano", Price::new(0.05, 0.4, 0.005, None)),
    ("o3", Price::new(2.0, 8.0, 0.5, None)),
    ("o4-mini", Price::new(1.1, 4.4, 0.275, None)),
    ("claude-opus-4", Price::new(15.0, 75.0, 1.5, Some(18.75))),
    ("claude-opus-4-5", Price::new(5.0, 25.0, 0.5, Some(6.25))),
    ("claude-sonnet-4", Price::new(3.0, 15.0, 0.3, Some(3.75))),
    ("claude-sonnet-4-5", Price::new(3.0, 15.0, 0.3, Some(3.75))),
    ("claude-haiku-4", Price::new(1.0, 5.0, 0.1, Some(1.25))),
    ("claude-haiku-4-5", Price::new(1.0, 5.0, 0.1, Some(1.25))),
    ("claude-3-5-haiku", Price::new(0.8, 4.0, 0.08, Some(1.0))),
    ("claude-3-7-sonnet", Price::new(3.0, 15.0, 0.3, Some(3.75))),
    ("gemini-2.5-pro", Price::new(1.25, 10.0, 0.31, None)),
    ("gemini-2.5-flash", Price::new(0.3, 2.5, 0.075, None)),
    ("gemini-2.0-flash", Price::new(0.1, 0.4, 0.025, None)),
    ("llama-3.1-70b", Price::new(0.88, 0.88, 0.88, None)),
    ("llama-3.1-8b", Price::new(0.18, 0.18, 0.18, None)),
    ("mistral-large", Price::new(2.0, 6.0, 2.0, None)),
    ("deepseek-chat", Price::new(0.27, 1.1, 0.07, None)),
];

/// Prices by model name. A name matches its own entry, else the longest entry it starts
/// with followed by `-`, `@` or `:` (so `gpt-4o-2024-08-06` is priced as `gpt-4o`, and
/// `gpt-4o-mini` as itself).
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    prices: BTreeMap<String, Price>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::built_in()
    }
}

impl PriceTable {
    /// The built-in list prices.
    pub fn built_in() -> PriceTable {
        PriceTable {
            prices: BUILT_IN
                .iter()
                .map(|(model, price)| ((*model).to_owned(), *price))
                .collect(),
        }
    }

    /// An empty table: no cost is ever computed.
    pub fn empty() -> PriceTable {
        PriceTable {
            prices: BTreeMap::new(),
        }
    }

    /// Sets (or replaces) one model's price.
    pub fn set(&mut self, model: impl Into<String>, price: Price) {
        self.prices.insert(model.into(), price);
    }

    /// The price of `model`, if the table knows it.
    pub fn price(&self, model: &str) -> Option<&Price> {
        if let Some(price) = self.prices.get(model) {
            return Some(price);
        }
        self.prices
            .iter()
            .filter(|(name, _)| {
                model.starts_with(name.as_str())
                    && matches!(model.as_bytes().get(name.len()), Some(b'-' | b'@' | b':'))
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| price)
    }

    /// The cost of `tokens` on `model`, `None` when the model has no price or no token
    /// count was given.
    pub fn cost(&self, model: &str, tokens: &TokenUsage) -> Option<Usd> {
        if tokens.input_tokens.is_none() && tokens.output_tokens.is_none() {
            return None;
        }
        self.price(model).map(|price| price.cost(tokens))
    }

    /// Every entry, by model name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Price)> {
        self.prices
            .iter()
            .map(|(model, price)| (model.as_str(), price))
    }
}

impl Event {
    /// Fills in the costs the record did not carry but its model and tokens determine:
    /// an execution's `cost_usd` (then marked [`CostSource::Computed`]) and the
    /// `cost_usd` of each model inside a run. A cost that was sent is never replaced.
    pub fn price_missing_costs(&mut self, prices: &PriceTable) {
        match &mut self.body {
            EventBody::Execution(x) if x.cost_usd.is_none() => {
                if let Some(cost) = x
                    .model
                    .as_deref()
                    .and_then(|m| prices.cost(m, &x.tokens))
                    .filter(within_bound)
                {
                    x.cost_usd = Some(cost);
                    x.cost_source = CostSource::Computed;
                }
            }
            EventBody::Run(run) => {
                for usage in run.models.iter_mut().filter(|u| u.cost_usd.is_none()) {
                    let tokens = TokenUsage {
                        input_tokens: Some(usage.input_tokens),
                        output_tokens: Some(usage.output_tokens),
                        ..TokenUsage::default()
                    };
                    usage.cost_usd = prices.cost(&usage.model, &tokens).filter(within_bound);
                }
            }
            _ => {}
        }
    }
}

/// Whether a computed cost is within the per-record bound a reported one must keep; a
/// price table that makes it larger leaves the cost unknown rather than stored clamped.
fn within_bound(cost: &Usd) -> bool {
    cost.0 <= MAX_COST_USD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: u64, output: u64, cache_read: u64, cache_write: u64) -> TokenUsage {
        TokenUsage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_read_tokens: Some(cache_read),
            cache_write_tokens: Some(cache_write),
            reasoning_tokens: None,
        }
    }

    fn check(model: &str, usage: TokenUsage, expected: Option<f64>) {
        let got = PriceTable::built_in().cost(model, &usage).map(|usd| usd.0);
        match (got, expected) {
            (Some(got), Some(want)) => {
                assert!((got - want).abs() < 1e-12, "{model}: {got} != {want}")
            }
            (got, want) => assert_eq!(got, want, "{model}"),
        }
    }

    #[test]
    fn costs() {
        // 1M uncached input at 2.5 + 1M output at 10.
        check("gpt-4o", tokens(1_000_000, 1_000_000, 0, 0), Some(12.5));
        // Cached tokens are part of input and priced once, at the cache price.
        check(
            "gpt-4o",
            tokens(1_000_000, 0, 400_000, 0),
            Some(0.6 * 2.5 + 0.4 * 1.25),
        );
        check(
            "claude-sonnet-4",
            tokens(1_000_000, 0, 500_000, 100_000),
            Some(0.4 * 3.0 + 0.5 * 0.3 + 0.1 * 3.75),
        );
        // Dated and tagged variants take the base model's price; the longest name wins.
        check("gpt-4o-2024-08-06", tokens(1_000_000, 0, 0, 0), Some(2.5));
        check("gpt-4o-mini", tokens(1_000_000, 0, 0, 0), Some(0.15));
        check(
            "gpt-4o-mini-2024-07-18",
            tokens(1_000_000, 0, 0, 0),
            Some(0.15),
        );
        check(
            "claude-sonnet-4-20250514",
            tokens(1_000_000, 0, 0, 0),
            Some(3.0),
        );
        // Unknown models and usages without tokens get no cost.
        check("gpt-4oo", tokens(1, 1, 0, 0), None);
        check("my-local-model", tokens(1, 1, 0, 0), None);
        check("gpt-4o", TokenUsage::default(), None);
    }

    #[test]
    fn overrides_replace_built_in_prices() {
        let mut table = PriceTable::built_in();
        table.set(
            "gpt-4o",
            Price {
                input: 1.0,
                output: 1.0,
                cache_read: None,
                cache_write: None,
            },
        );
        let cost = table
            .cost("gpt-4o", &tokens(1_000_000, 1_000_000, 500_000, 0))
            .unwrap();
        assert!((cost.0 - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_computed_cost_beyond_the_record_bound_stays_unknown() {
        let mut table = PriceTable::empty();
        let price = |input| Price {
            input,
            output: 0.0,
            cache_read: None,
            cache_write: None,
        };
        table.set("dear", price(2_000.0));
        table.set("fair", price(1_000.0));
        let execution = |model: &str| Event {
            id: None,
            ts: chrono::Utc::now(),
            project: "p".into(),
            attrs: crate::Attrs::new(),
            body: EventBody::Execution(crate::Execution {
                tool: "t".into(),
                duration_ms: 1.0,
                success: true,
                agent_id: None,
                task_id: None,
                user_id: None,
                session_id: None,
                model: Some(model.into()),
                tokens: tokens(crate::bounds::MAX_TOKENS, 0, 0, 0),
                cost_usd: None,
                cost_source: CostSource::Reported,
                effort: None,
                browser_used: false,
                error: None,
            }),
        };
        let cost_of = |model| {
            let mut event = execution(model);
            event.price_missing_costs(&table);
            match event.body {
                EventBody::Execution(x) => x.cost_usd.map(|usd| usd.0),
                _ => None,
            }
        };
        // A billion tokens at $1,000 per million is exactly the bound; twice that is not.
        assert_eq!(cost_of("fair"), Some(MAX_COST_USD));
        assert_eq!(cost_of("dear"), None);
    }
}
