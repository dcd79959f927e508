//! The dashboard: `GET /analytics` (overview, and where `/` leads), `/analytics/tools`, `/analytics/agents`,
//! `/analytics/experiments`, `/analytics/learners`, `/analytics/traces`, the events
//! explorer `/analytics/events` (the dashboard's script and its own, `events.js`, after
//! it), the wire format (`docs/events.md`) at `/analytics/docs/events` for the
//! getting-started panel, and the saved dashboards `/analytics/dashboards`
//! (`dashboards.js`, after the dashboard's script). Every page runs `live.js`, which
//! refreshes it as batches commit.
//! HTML, CSS and JavaScript are compiled in (`include_str!`), the charts' library too
//! (uPlot, pinned in `dashboard/vendor/`); no CDN, no external asset.
//! The pages are public; the data they fetch goes through the API's access checks (a
//! `?key=` on the page is kept in the tab's sessionStorage and sent as Bearer).

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::auth::Access;
use super::{Produces, Route};

const SHELL: &str = include_str!("dashboard/page.html");
const OVERVIEW: &str = include_str!("dashboard/overview.html");
const TOOLS: &str = include_str!("dashboard/tools.html");
const AGENTS: &str = include_str!("dashboard/agents.html");
const EXPERIMENTS: &str = include_str!("dashboard/experiments.html");
const LEARNERS: &str = include_str!("dashboard/learners.html");
const TRACES: &str = include_str!("dashboard/traces.html");
const EVENTS: &str = include_str!("dashboard/events.html");
const CSS: &str = include_str!("dashboard/dashboard.css");
const JS: &str = include_str!("dashboard/dashboard.js");
const UPLOT_JS: &str = include_str!("dashboard/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("dashboard/vendor/uPlot.min.css");
const WIRE_FORMAT: &str = include_str!("../../../../docs/events.md");
const EVENTS_JS: &str = include_str!("dashboard/events.js");
const COMPARE_JS: &str = include_str!("dashboard/compare.js");
const LEADERBOARD_JS: &str = include_str!("dashboard/leaderboard.js");
const DASHBOARDS: &str = include_str!("dashboard/dashboards.html");
const DASHBOARDS_JS: &str = include_str!("dashboard/dashboards.js");
const LIVE_JS: &str = include_str!("dashboard/live.js");

/// The shell's script tag, which the events page follows with its own.
const DASHBOARD_SCRIPT: &str = r#"<script src="/analytics/assets/dashboard.js" defer></script>"#;
const EVENTS_SCRIPT: &str = r#"<script src="/analytics/assets/events.js" defer></script>"#;
/// The saved dashboards' page runs its script after the dashboard's, whose charts,
/// tables and formats it uses.
const DASHBOARDS_SCRIPTS: &str = r#"<script src="/analytics/assets/dashboard.js" defer></script>
<script src="/analytics/assets/dashboards.js" defer></script>"#;

/// The events page: the shell's script (key, filters, alerts strip, project list) and
/// the explorer's after it.
fn events_page() -> String {
    page("events", "Events", EVENTS).replace(
        DASHBOARD_SCRIPT,
        &format!("{DASHBOARD_SCRIPT}\n{EVENTS_SCRIPT}"),
    )
}

/// Only this server's own scripts, styles and API; the key in a page URL never leaves
/// in a Referer.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn page(page: &str, title: &str, body: &str) -> String {
    SHELL
        .replace("{{PAGE}}", page)
        .replace("{{TITLE}}", title)
        .replace("{{BODY}}", body)
}

/// The wire format's Markdown, escaped, in the dashboard's frame.
fn wire_format_page() -> String {
    let escaped = html_escape::encode_text(WIRE_FORMAT);
    page(
        "docs",
        "Event wire format",
        &format!("<section class=\"panel\"><pre class=\"doc\">{escaped}</pre></section>"),
    )
}

fn answer(content_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn html(
    name: &'static str,
    title: &'static str,
    body: &'static str,
) -> impl Fn() -> std::future::Ready<Response> + Clone {
    move || std::future::ready(answer("text/html; charset=utf-8", page(name, title, body)))
}

pub fn routes() -> Vec<Route> {
    let route = |path: &str, summary: &str, produces, handler| Route {
        method: Method::GET,
        path: path.into(),
        access: Access::Public,
        summary: summary.into(),
        params: &[],
        produces,
        body: None,
        handler,
    };
    vec![
        route(
            "/",
            "Redirects to the dashboard",
            Produces::Redirect("/analytics"),
            get(|| async { Redirect::temporary("/analytics") }),
        ),
        route(
            "/analytics",
            "The dashboard: KPIs, budget, charts, QA, projects, models, exports",
            Produces::Html,
            get(html("overview", "Overview", OVERVIEW)),
        ),
        route(
            "/analytics/tools",
            "The dashboard's tools page: confidence, risks, recommendations",
            Produces::Html,
            get(html("tools", "Tools", TOOLS)),
        ),
        route(
            "/analytics/agents",
            "The dashboard's agents page: agents and capacity",
            Produces::Html,
            get(html("agents", "Agents", AGENTS)),
        ),
        route(
            "/analytics/experiments",
            "The dashboard's experiments page: A/B tests, sample-ratio checks, verdicts",
            Produces::Html,
            get(html("experiments", "Experiments", EXPERIMENTS)),
        ),
        route(
            "/analytics/learners",
            "The dashboard's learner page: streak, goals with progress, achievements, weekly progress, topics",
            Produces::Html,
            get(html("learners", "Learners", LEARNERS)),
        ),
        route(
            "/analytics/traces",
            "The dashboard's traces page: recent OpenTelemetry traces and a waterfall of one",
            Produces::Html,
            get(html("traces", "Traces", TRACES)),
        ),
        route(
            "/analytics/docs/events",
            "The event wire format (docs/events.md) as text in the dashboard's frame",
            Produces::Html,
            get(|| async { answer("text/html; charset=utf-8", wire_format_page()) }),
        ),
        route(
            "/analytics/events",
            "The dashboard's events explorer: stored events filtered by kind, project, tool, model, agent, outcome, time and trace, newest first, a page at a time",
            Produces::Html,
            get(|| std::future::ready(answer("text/html; charset=utf-8", events_page()))),
        ),
        route(
            "/analytics/dashboards",
            "The saved dashboards: the built-in executive and technical ones and the saved ones (?id=), rendered widget by widget and edited (add, move, remove a widget, save)",
            Produces::Html,
            get(|| {
                std::future::ready(answer(
                    "text/html; charset=utf-8",
                    page("dashboards", "Dashboards", DASHBOARDS)
                        .replace(DASHBOARD_SCRIPT, DASHBOARDS_SCRIPTS),
                ))
            }),
        ),
        route(
            "/analytics/assets/dashboard.css",
            "The dashboard's stylesheet",
            Produces::Css,
            get(|| async { answer("text/css; charset=utf-8", CSS.to_owned()) }),
        ),
        route(
            "/analytics/assets/dashboard.js",
            "The dashboard's script",
            Produces::JavaScript,
            get(|| async { answer("text/javascript; charset=utf-8", JS.to_owned()) }),
        ),
        route(
            "/analytics/assets/uplot.js",
            "The charts' library (uPlot, pinned, compiled in)",
            Produces::JavaScript,
            get(|| async { answer("text/javascript; charset=utf-8", UPLOT_JS.to_owned()) }),
        ),
        route(
            "/analytics/assets/uplot.css",
            "The charts' library's stylesheet",
            Produces::Css,
            get(|| async { answer("text/css; charset=utf-8", UPLOT_CSS.to_owned()) }),
        ),
        route(
            "/analytics/assets/compare.js",
            "The dashboard's period comparisons: the compare selector, changes on KPI cards and tables",
            Produces::JavaScript,
            get(|| async { answer("text/javascript; charset=utf-8", COMPARE_JS.to_owned()) }),
        ),
        route(
            "/analytics/assets/leaderboard.js",
            "The learners page's leaderboard and achievements catalogue",
            Produces::JavaScript,
            get(|| async { answer("text/javascript; charset=utf-8", LEADERBOARD_JS.to_owned()) }),
        ),
        route(
            "/analytics/assets/events.js",
            "The events explorer's script",
            Produces::JavaScript,
            get(|| async { answer("text/javascript; charset=utf-8", EVENTS_JS.to_owned()) }),
        ),
        route(
            "/analytics/assets/dashboards.js",
            "The saved dashboards' script",
            Produces::JavaScript,
            get(|| async { answer("text/javascript; charset=utf-8", DASHBOARDS_JS.to_owned()) }),
        ),
        route(
            "/analytics/assets/live.js",
            "The live updates' script: refreshes a page as batches commit (Server-Sent Events)",
            Produces::JavaScript,
            get(|| async { answer("text/javascript; charset=utf-8", LIVE_JS.to_owned()) }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_page_runs_the_dashboards_script_then_its_own() {
        assert!(SHELL.contains(DASHBOARD_SCRIPT));
        let events = events_page();
        let shared = events.find(DASHBOARD_SCRIPT).expect("dashboard.js");
        let own = events.find(EVENTS_SCRIPT).expect("events.js");
        assert!(shared < own, "{events}");
    }
}
