//! The business gauges, read at scrape time from the rollups of the current month
//! (UTC): cost and tokens per project and model, success rate per tool. Their number
//! of series is bounded: the largest are named, the rest summed under [`OTHER`].

use std::collections::HashMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::registry::{Registry, Unit};
use tally_store::rollup::{Family, Measures, ProjectScope, RollupQuery};

use super::scrape::Gauges;
use crate::{Analytics, Result};

/// The most project × model series of the cost and token gauges: the 499 largest by
/// cost (then tokens) are named, the rest summed into one `project="(other)",
/// model="(other)"` series.
pub const MAX_MODEL_SERIES: usize = 500;

/// The most series of the tool success gauge: the 199 tools with the most executions
/// are named, the rest summed into `tool="(other)"`.
pub const MAX_TOOL_SERIES: usize = 200;

/// The label value of the series that sums those past a limit.
pub const OTHER: &str = "(other)";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    project: String,
    model: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

/// One project's month with one model: executions and runs using it, as the models
/// view counts them.
#[derive(Debug, Default, Clone, Copy)]
struct ModelMonth {
    cost_nusd: i128,
    tokens: u128,
}

/// Registers the month-to-date gauges into the scrape's registry.
pub(super) fn register(analytics: &Analytics, registry: &mut Registry) -> Result<()> {
    let month_start = analytics.view_options().month_start();
    let month = |family| RollupQuery {
        family,
        projects: ProjectScope::Each,
        from: Some(month_start),
        to: None,
        by: None,
    };
    let mut models: HashMap<ModelLabels, ModelMonth> = HashMap::new();
    for family in [Family::ExecutionsByModel, Family::RunsByModel] {
        for row in analytics.store.rollups(&month(family))? {
            // Executions without a model roll up under code 0, which names none.
            let (Some(project), Some(model)) = (row.project, row.name) else {
                continue;
            };
            let entry = models.entry(ModelLabels { project, model }).or_default();
            entry.cost_nusd += row.measures.cost_nusd;
            entry.tokens += row.measures.tokens();
        }
    }
    let models = bounded_models(models);
    registry.register_with_unit(
        "tally_cost_month_to_date",
        "Cost of the current month (UTC) by project and model, executions and runs, in USD",
        Unit::Other("usd".to_owned()),
        Gauges(
            models
                .iter()
                .map(|(labels, m)| (labels.clone(), m.cost_nusd as f64 / 1e9))
                .collect(),
        ),
    );
    registry.register(
        "tally_tokens_month_to_date",
        "Input and output tokens of the current month (UTC) by project and model",
        Gauges(
            models
                .into_iter()
                .map(|(labels, m)| (labels, m.tokens as f64))
                .collect(),
        ),
    );
    let tools = analytics.store.rollups(&RollupQuery {
        projects: ProjectScope::All,
        ..month(Family::ExecutionsByTool)
    })?;
    let mut by_tool: HashMap<String, Measures> = HashMap::new();
    for row in tools {
        let Some(tool) = row.name else { continue };
        by_tool.entry(tool).or_default().merge(&row.measures);
    }
    registry.register_with_unit(
        "tally_tool_success",
        "Share of the current month's (UTC) executions of each tool that succeeded",
        Unit::Other("ratio".to_owned()),
        Gauges(bounded_tools(by_tool)),
    );
    Ok(())
}

/// At most [`MAX_MODEL_SERIES`] series: the largest by cost, then tokens, then name;
/// the rest summed into one.
fn bounded_models(models: HashMap<ModelLabels, ModelMonth>) -> Vec<(ModelLabels, ModelMonth)> {
    let mut models: Vec<_> = models.into_iter().collect();
    models.sort_by(|(a_labels, a), (b_labels, b)| {
        (b.cost_nusd, b.tokens)
            .cmp(&(a.cost_nusd, a.tokens))
            .then_with(|| {
                (&a_labels.project, &a_labels.model).cmp(&(&b_labels.project, &b_labels.model))
            })
    });
    if models.len() > MAX_MODEL_SERIES {
        let rest = models.split_off(MAX_MODEL_SERIES - 1);
        let mut other = ModelMonth::default();
        for (_, m) in rest {
            other.cost_nusd += m.cost_nusd;
            other.tokens += m.tokens;
        }
        models.push((
            ModelLabels {
                project: OTHER.to_owned(),
                model: OTHER.to_owned(),
            },
            other,
        ));
    }
    models
}

/// At most [`MAX_TOOL_SERIES`] series of success ratios: the tools with the most
/// executions, then by name; the rest counted together.
fn bounded_tools(tools: HashMap<String, Measures>) -> Vec<(ToolLabels, f64)> {
    let mut tools: Vec<(String, u64, u64)> = tools
        .into_iter()
        .map(|(tool, m)| (tool, m.n, m.ok))
        .collect();
    tools.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if tools.len() > MAX_TOOL_SERIES {
        let rest = tools.split_off(MAX_TOOL_SERIES - 1);
        let (n, ok) = rest
            .iter()
            .fold((0, 0), |(n, ok), (_, rn, rok)| (n + rn, ok + rok));
        tools.push((OTHER.to_owned(), n, ok));
    }
    tools
        .into_iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(tool, n, ok)| (ToolLabels { tool }, ok as f64 / n as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(cost_nusd: i128, tokens: u128) -> ModelMonth {
        ModelMonth { cost_nusd, tokens }
    }

    #[test]
    fn models_past_the_limit_are_summed_into_one_series() {
        let models: HashMap<ModelLabels, ModelMonth> = (0..MAX_MODEL_SERIES + 10)
            .map(|i| {
                (
                    ModelLabels {
                        project: format!("p{}", i % 7),
                        model: format!("m{i}"),
                    },
                    month(i as i128 * 1_000, 10),
                )
            })
            .collect();
        let total: i128 = models.values().map(|m| m.cost_nusd).sum();
        let bounded = bounded_models(models);
        assert_eq!(bounded.len(), MAX_MODEL_SERIES);
        // The most expensive first; the smallest eleven summed into the last series.
        assert_eq!(bounded[0].0.model, format!("m{}", MAX_MODEL_SERIES + 9));
        let (labels, other) = &bounded[MAX_MODEL_SERIES - 1];
        assert_eq!(
            (labels.project.as_str(), labels.model.as_str()),
            (OTHER, OTHER)
        );
        assert_eq!(other.cost_nusd, (0..11).map(|i| i * 1_000).sum::<i128>());
        assert_eq!(other.tokens, 110);
        assert_eq!(
            bounded.iter().map(|(_, m)| m.cost_nusd).sum::<i128>(),
            total
        );
    }

    #[test]
    fn tools_within_the_limit_are_all_named_with_their_success_share() {
        let m = Measures {
            n: 4,
            ok: 3,
            ..Measures::default()
        };
        let tools = bounded_tools(HashMap::from([("search".to_owned(), m)]));
        assert_eq!(
            tools,
            [(
                ToolLabels {
                    tool: "search".to_owned()
                },
                0.75
            )]
        );
    }

    #[test]
    fn tools_past_the_limit_share_one_success_ratio() {
        let tools: HashMap<String, Measures> = (0..MAX_TOOL_SERIES + 1)
            .map(|i| {
                let n = 10 + i as u64;
                let m = Measures {
                    n,
                    ok: if i < 2 { 0 } else { n },
                    ..Measures::default()
                };
                (format!("t{i:03}"), m)
            })
            .collect();
        let bounded = bounded_tools(tools);
        assert_eq!(bounded.len(), MAX_TOOL_SERIES);
        // t000 (10 runs, none ok) and t001 (11, none ok) are the two smallest.
        let (labels, ratio) = bounded.last().unwrap();
        assert_eq!(labels.tool, OTHER);
        assert_eq!(*ratio, 0.0);
    }
}
