//! The dashboards' reading from JSON: defaults, every mistake named by its field, bounds, the built-in ones.

use serde_json::{Value, json};

use super::builtin::builtins;
use super::*;

fn field_of(body: Value) -> String {
    match DashboardSpec::from_json(&body) {
        Err(DashboardError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid dashboard, got {other:?}"),
    }
}

#[test]
fn a_dashboard_reads_its_widgets_with_defaults() {
    let spec = DashboardSpec::from_json(&json!({
        "name": " Costs ",
        "widgets": [
            {"view": "models", "filters": {"model": "gpt-4o", "period": "last_7_days"}},
            {"title": "Spend", "view": "cost_series", "chart": "bar"}
        ]
    }))
    .unwrap();
    assert_eq!(spec.name, "Costs");
    assert_eq!(spec.id, None);
    assert_eq!(
        spec.widgets[0].chart,
        Chart::Table,
        "a view's first chart kind by default"
    );
    assert_eq!(spec.widgets[0].title, "models");
    assert_eq!(spec.widgets[0].filters.model.as_deref(), Some("gpt-4o"));
    assert_eq!(spec.widgets[0].filters.period, Some(Period::Last7Days));
    assert_eq!(spec.widgets[1].chart, Chart::Bar);
}

#[test]
fn every_mistake_is_named_by_its_field() {
    let widget = |w: Value| json!({"name": "x", "widgets": [{"view": "summary"}, w]});
    assert_eq!(field_of(json!({"widgets": []})), "name");
    assert_eq!(field_of(json!({"name": ""})), "name");
    assert_eq!(
        field_of(json!({"name": "x".repeat(MAX_NAME_CHARS + 1)})),
        "name"
    );
    assert_eq!(field_of(json!({"name": "x", "colour": 1})), "colour");
    assert_eq!(field_of(json!({"name": "x", "id": "Has Spaces"})), "id");
    assert_eq!(field_of(json!({"name": "x", "widgets": {}})), "widgets");
    assert_eq!(
        field_of(widget(json!({"view": "pie_slices"}))),
        "widgets[1].view"
    );
    assert_eq!(field_of(widget(json!({"chart": "kpi"}))), "widgets[1].view");
    assert_eq!(
        field_of(widget(json!({"view": "models", "chart": "pie"}))),
        "widgets[1].chart"
    );
    assert_eq!(
        field_of(widget(json!({"view": "summary", "chart": "line"}))),
        "widgets[1].chart",
        "a chart kind the view is not drawn as"
    );
    assert_eq!(
        field_of(widget(
            json!({"view": "models", "filters": {"colour": "red"}})
        )),
        "widgets[1].filters.colour"
    );
    assert_eq!(
        field_of(widget(
            json!({"view": "models", "filters": {"period": "yesterday"}})
        )),
        "widgets[1].filters.period"
    );
    assert_eq!(
        field_of(widget(
            json!({"view": "qa", "filters": {"qa_status": "great"}})
        )),
        "widgets[1].filters.qa_status"
    );
    assert_eq!(
        field_of(widget(
            json!({"view": "cost_series", "filters": {"tool": "search"}})
        )),
        "widgets[1].filters.tool",
        "a filter the view cannot apply"
    );
    assert_eq!(
        field_of(widget(json!({"view": "tools", "size": 3}))),
        "widgets[1].size"
    );
}

#[test]
fn a_dashboard_holds_at_most_the_widget_bound() {
    let widgets: Vec<_> = (0..=MAX_WIDGETS)
        .map(|_| json!({"view": "summary"}))
        .collect();
    assert_eq!(
        field_of(json!({"name": "x", "widgets": widgets})),
        "widgets"
    );
    let fits: Vec<_> = (0..MAX_WIDGETS)
        .map(|_| json!({"view": "summary"}))
        .collect();
    assert!(DashboardSpec::from_json(&json!({"name": "x", "widgets": fits})).is_ok());
}

#[test]
fn the_builtin_dashboards_are_valid_data() {
    let all = builtins();
    let ids: Vec<&str> = all.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, BUILTIN_IDS);
    for dashboard in &all {
        assert!(dashboard.builtin && dashboard.project.is_none());
        assert!(dashboard.widgets.len() >= 5, "{}", dashboard.id);
    }
}

#[test]
fn an_exported_dashboard_reads_back_the_same() {
    let exported = serde_json::to_value(&builtins()[1]).unwrap();
    let spec = DashboardSpec::from_json(&exported).unwrap();
    assert_eq!(spec.widgets, builtins()[1].widgets);
    assert_eq!(spec.id.as_deref(), Some("technical"));
}
