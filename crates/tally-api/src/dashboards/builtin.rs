//! The built-in dashboards, as data in the same form a client sends: always listed,
//! read-only (copy one to change it).

use serde_json::Value;

use super::{Dashboard, DashboardSpec};

/// The ids the built-in dashboards take; no stored dashboard may take them.
pub const BUILTIN_IDS: [&str; 2] = ["executive", "technical"];

const EXECUTIVE: &str = r#"{
  "id": "executive",
  "name": "Executive",
  "widgets": [
    {"title": "Key figures", "view": "summary", "chart": "kpi"},
    {"title": "Budget", "view": "budget", "chart": "kpi"},
    {"title": "Cost per day", "view": "cost_series", "chart": "line", "filters": {"period": "last_30_days"}},
    {"title": "QA pass rate", "view": "qa_rate", "chart": "line", "filters": {"period": "last_30_days"}},
    {"title": "Cost by model", "view": "models", "chart": "bar"},
    {"title": "Projects", "view": "projects", "chart": "table"}
  ]
}"#;

const TECHNICAL: &str = r#"{
  "id": "technical",
  "name": "Technical",
  "widgets": [
    {"title": "Health, last minutes", "view": "realtime", "chart": "kpi"},
    {"title": "Pipeline", "view": "pipeline", "chart": "kpi"},
    {"title": "Runs per day", "view": "run_series", "chart": "bar", "filters": {"period": "last_7_days"}},
    {"title": "Tokens per day", "view": "token_series", "chart": "line", "filters": {"period": "last_7_days"}},
    {"title": "Requests per endpoint", "view": "requests", "chart": "table"},
    {"title": "Tools", "view": "tools", "chart": "table"},
    {"title": "Agents", "view": "agents", "chart": "table"}
  ]
}"#;

/// The built-in dashboards, executive first.
pub(super) fn builtins() -> Vec<Dashboard> {
    [EXECUTIVE, TECHNICAL]
        .into_iter()
        .filter_map(|text| {
            let value: Value = serde_json::from_str(text).ok()?;
            let spec = DashboardSpec::from_json(&value).ok()?;
            Some(Dashboard {
                id: spec.id?,
                name: spec.name,
                project: None,
                builtin: true,
                widgets: spec.widgets,
                created_at: None,
                updated_at: None,
            })
        })
        .collect()
}
