//! Traces: the executions OpenTelemetry spans became, put back together. An OTLP
//! span's execution carries its trace id as `task_id` and its span id, parent span id
//! and name in `attrs` (`otel.span_id`, `otel.parent_span_id`, `otel.span_name`; see
//! `docs/otlp.md`), so a trace is read from the execution blocks of the range asked,
//! with no table of its own.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use tally_models::{AttrValue, Event, EventBody, Execution};
use tally_store::Filter;

use crate::{Analytics, Result};

/// The most traces the list answers, most recent first.
pub const MAX_TRACES: usize = 100;

/// Nesting deeper than this is shown flat under the span at this depth, so that a
/// pathological trace cannot exhaust the stack when it is built or written.
const MAX_DEPTH: usize = 64;

/// One trace in the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The name of the earliest span whose parent tally has not stored.
    pub root_name: String,
    pub project: String,
    /// The earliest span's start (RFC 3339).
    pub start: String,
    /// From the earliest start to the latest end.
    pub duration_ms: f64,
    pub spans: u64,
    pub failed_spans: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// `error` when a span failed, else `ok`.
    pub status: &'static str,
}

/// One trace with its spans as a tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceTree {
    #[serde(flatten)]
    pub summary: TraceSummary,
    /// The spans whose parent tally has not stored, by start, each with its children.
    pub roots: Vec<TraceSpan>,
}

/// A span of a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSpan {
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    /// `llm`, `embedding`, `tool`, `agent` or `chain`.
    pub span_kind: Option<String>,
    pub tool: String,
    pub agent_id: Option<String>,
    pub model: Option<String>,
    pub start: String,
    /// Milliseconds from the trace's start: where the span's bar begins.
    pub offset_ms: f64,
    pub duration_ms: f64,
    pub success: bool,
    pub error: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub children: Vec<TraceSpan>,
}

/// A stored span: an execution that came from OTLP.
struct StoredSpan {
    project: String,
    ts: DateTime<Utc>,
    span_id: String,
    parent_span_id: Option<String>,
    name: String,
    span_kind: Option<String>,
    execution: Execution,
}

impl StoredSpan {
    /// The span an event is, when it is an execution from OTLP.
    fn of(event: Event) -> Option<(String, StoredSpan)> {
        let EventBody::Execution(execution) = event.body else {
            return None;
        };
        let text = |key: &str| match event.attrs.get(key) {
            Some(AttrValue::Str(s)) => Some(s.clone()),
            _ => None,
        };
        let span_id = text("otel.span_id")?;
        let trace_id = execution.task_id.as_ref()?.to_string();
        Some((
            trace_id,
            StoredSpan {
                project: event.project.to_string(),
                ts: event.ts,
                span_id,
                parent_span_id: text("otel.parent_span_id"),
                name: text("otel.span_name").unwrap_or_else(|| execution.tool.to_string()),
                span_kind: text("tally.span_kind"),
                execution,
            },
        ))
    }

    fn end_ms(&self) -> f64 {
        self.ts.timestamp_millis() as f64 + self.execution.duration_ms
    }
}

fn rfc3339(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The summary of one trace's spans (not empty).
fn summarize(trace_id: &str, spans: &[StoredSpan]) -> TraceSummary {
    let stored: std::collections::HashSet<&str> =
        spans.iter().map(|s| s.span_id.as_str()).collect();
    let first = spans.iter().min_by_key(|s| s.ts).unwrap_or(&spans[0]);
    let root = spans
        .iter()
        .filter(|s| {
            s.parent_span_id
                .as_deref()
                .is_none_or(|p| !stored.contains(p))
        })
        .min_by_key(|s| s.ts)
        .unwrap_or(first);
    let end = spans
        .iter()
        .map(StoredSpan::end_ms)
        .fold(f64::MIN, f64::max);
    let failed = spans.iter().filter(|s| !s.execution.success).count() as u64;
    TraceSummary {
        trace_id: trace_id.to_owned(),
        root_name: root.name.clone(),
        project: first.project.clone(),
        start: rfc3339(first.ts),
        duration_ms: end - first.ts.timestamp_millis() as f64,
        spans: spans.len() as u64,
        failed_spans: failed,
        input_tokens: spans
            .iter()
            .filter_map(|s| s.execution.tokens.input_tokens)
            .sum(),
        output_tokens: spans
            .iter()
            .filter_map(|s| s.execution.tokens.output_tokens)
            .sum(),
        cost_usd: spans
            .iter()
            .filter_map(|s| s.execution.cost_usd)
            .map(|c| c.0)
            .sum(),
        status: if failed > 0 { "error" } else { "ok" },
    }
}

/// The spans as a tree: roots are the spans whose parent is not stored (and any span
/// a broken parent chain would leave unreachable), children by start.
fn tree(spans: Vec<StoredSpan>, trace_start: DateTime<Utc>) -> Vec<TraceSpan> {
    let index: HashMap<String, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id.clone(), i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span.parent_span_id.as_ref().and_then(|p| index.get(p)) {
            Some(&parent) if parent != i => children[parent].push(i),
            _ => roots.push(i),
        }
    }
    let by_start = |list: &mut Vec<usize>| list.sort_by_key(|&i| (spans[i].ts, i));
    children.iter_mut().for_each(by_start);
    by_start(&mut roots);
    let mut placed = vec![false; spans.len()];
    let mut built: Vec<TraceSpan> = roots
        .iter()
        .map(|&i| build(i, 0, &spans, &children, &mut placed, trace_start))
        .collect();
    // A cycle of parents has no root: its spans are shown as roots.
    for i in 0..spans.len() {
        if !placed[i] {
            built.push(build(i, 0, &spans, &children, &mut placed, trace_start));
        }
    }
    built
}

fn build(
    i: usize,
    depth: usize,
    spans: &[StoredSpan],
    children: &[Vec<usize>],
    placed: &mut [bool],
    trace_start: DateTime<Utc>,
) -> TraceSpan {
    placed[i] = true;
    let span = &spans[i];
    let mut node = node(span, trace_start);
    if depth < MAX_DEPTH {
        for &child in &children[i] {
            if !placed[child] {
                node.children.push(build(
                    child,
                    depth + 1,
                    spans,
                    children,
                    placed,
                    trace_start,
                ));
            }
        }
    } else {
        // Too deep: every descendant flat under this span.
        let mut stack: Vec<usize> = children[i].clone();
        while let Some(next) = stack.pop() {
            if !placed[next] {
                placed[next] = true;
                node.children.push(self::node(&spans[next], trace_start));
                stack.extend(&children[next]);
            }
        }
    }
    node
}

fn node(span: &StoredSpan, trace_start: DateTime<Utc>) -> TraceSpan {
    let x = &span.execution;
    TraceSpan {
        span_id: span.span_id.clone(),
        parent_span_id: span.parent_span_id.clone(),
        name: span.name.clone(),
        span_kind: span.span_kind.clone(),
        tool: x.tool.to_string(),
        agent_id: x.agent_id.as_ref().map(ToString::to_string),
        model: x.model.as_ref().map(ToString::to_string),
        start: rfc3339(span.ts),
        offset_ms: (span.ts - trace_start).num_milliseconds() as f64,
        duration_ms: x.duration_ms,
        success: x.success,
        error: x.error.as_ref().map(ToString::to_string),
        input_tokens: x.tokens.input_tokens,
        output_tokens: x.tokens.output_tokens,
        cost_usd: x.cost_usd.map(|c| c.0),
        children: Vec::new(),
    }
}

impl Analytics {
    /// Calls `sink` with every OTLP span the filter selects and its trace id, costs
    /// that tally computes filled in from the price table.
    fn spans(&self, filter: &Filter, sink: &mut dyn FnMut(String, StoredSpan)) -> Result<()> {
        let prices = self.prices();
        self.store.export_executions(filter, &mut |mut event| {
            // Stored events come back without the costs tally computed: priced again.
            event.price_missing_costs(prices);
            if let Some((trace_id, span)) = StoredSpan::of(event) {
                sink(trace_id, span);
            }
            Ok(())
        })?;
        Ok(())
    }

    /// The most recent traces (at most [`MAX_TRACES`]) of the spans the filter selects,
    /// most recent first.
    ///
    /// # Errors
    /// The store fails.
    pub fn traces(&self, filter: &Filter) -> Result<Vec<TraceSummary>> {
        let mut by_trace: HashMap<String, Vec<StoredSpan>> = HashMap::new();
        self.spans(filter, &mut |trace_id, span| {
            by_trace.entry(trace_id).or_default().push(span);
        })?;
        let mut traces: Vec<TraceSummary> = by_trace
            .iter()
            .map(|(trace_id, spans)| summarize(trace_id, spans))
            .collect();
        traces.sort_by(|a, b| b.start.cmp(&a.start).then(a.trace_id.cmp(&b.trace_id)));
        traces.truncate(MAX_TRACES);
        Ok(traces)
    }

    /// One trace's spans as a tree, `None` when the filter selects none of them.
    ///
    /// # Errors
    /// The store fails.
    pub fn trace(&self, filter: &Filter, trace_id: &str) -> Result<Option<TraceTree>> {
        let wanted = trace_id.to_ascii_lowercase();
        let mut spans = Vec::new();
        self.spans(filter, &mut |trace_id, span| {
            if trace_id == wanted {
                spans.push(span);
            }
        })?;
        if spans.is_empty() {
            return Ok(None);
        }
        let summary = summarize(&wanted, &spans);
        let start = spans.iter().map(|s| s.ts).min().unwrap_or_default();
        Ok(Some(TraceTree {
            summary,
            roots: tree(spans, start),
        }))
    }
}
