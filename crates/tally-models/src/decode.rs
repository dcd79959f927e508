//! Validation: a [`FieldValue`] record in, a typed [`Event`] or a [`FieldError`] out.
//!
//! Every rule of `docs/events.md` lives here, so JSON and CSV input are held to the same
//! contract. The first broken rule is reported; the message says what was expected and
//! what arrived.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use compact_str::CompactString;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::bounds::{
    MAX_COST_USD, MAX_COUNT, MAX_DURATION_MS, MAX_DURATION_S, MAX_MEASURE, MAX_TOKENS,
};
use crate::error::{FieldError, Rule};
use crate::event::*;
use crate::value::{FieldValue, Shown};

/// Size limits of wire format v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most characters in a string field.
    pub max_string_chars: usize,
    /// Most characters in the long text fields (`query`, `message`).
    pub max_text_chars: usize,
    /// Most characters in `id` and `project`.
    pub max_id_chars: usize,
    /// Most bytes of `attrs` written as compact JSON.
    pub max_attrs_bytes: usize,
    /// Most items in a list field (`topics`, `models`) or entries in `metrics`.
    pub max_list_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_string_chars: 1024,
            max_text_chars: 4096,
            max_id_chars: 128,
            max_attrs_bytes: 8 * 1024,
            max_list_items: 256,
        }
    }
}

/// What validation needs from outside: the current time (for the future-timestamp rule)
/// and the limits. Passing `now` in keeps validation deterministic under test.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext {
    pub now: DateTime<Utc>,
    pub limits: Limits,
}

impl ValidationContext {
    /// Default limits, judged at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        ValidationContext {
            now,
            limits: Limits::default(),
        }
    }
}

/// The earliest `ts` accepted: 2000-01-01T00:00:00Z.
const EARLIEST: DateTime<Utc> = DateTime::from_timestamp_nanos(946_684_800_000_000_000);

/// How far in the future a `ts` may lie (clock skew between clients and tally).
const MAX_FUTURE: Duration = Duration::hours(24);

/// The `id` a record carries, if it has a usable one, so a rejection can name it. It
/// borrows from the input, so looking it up costs nothing for the records that pass.
pub fn record_id_hint<'a>(record: &FieldValue<'a>) -> Option<Cow<'a, str>> {
    let FieldValue::Map(fields) = record else {
        return None;
    };
    fields
        .iter()
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| match v {
            FieldValue::Str(s) | FieldValue::Untyped(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
}

impl Event {
    /// Validates one record against wire format v1.
    ///
    /// # Errors
    /// The first rule the record breaks, naming the field.
    pub fn decode(record: FieldValue<'_>, ctx: &ValidationContext) -> Result<Event, FieldError> {
        let FieldValue::Map(entries) = record else {
            return Err(FieldError::new(
                "",
                Rule::NotAnObject,
                format!(
                    "a record must be an object of fields, got {}",
                    Shown(&record)
                ),
            ));
        };
        let mut f = Fields::new(entries, ctx)?;
        let (mut event, explicit_attrs) = decode_event(&mut f)?;
        event.attrs = f.into_attrs(explicit_attrs)?;
        Ok(event)
    }
}

/// Takes the envelope and the kind's fields into an event without `attrs`, and returns
/// the `attrs` object as sent beside it: the caller builds `attrs` from that and the
/// fields left over.
fn decode_event<'a>(f: &mut Fields<'_, 'a>) -> Result<(Event, Option<FieldValue<'a>>), FieldError> {
    let ctx = f.ctx;
    let kind_value = f.required("kind")?;
    let kind_word = text(&"kind", &kind_value, ctx.limits.max_string_chars)?;
    let kind = Kind::from_word(kind_word).ok_or_else(|| {
        FieldError::new(
            "kind",
            Rule::UnknownValue,
            one_of(Kind::ALL, &FieldValue::Str(Cow::Borrowed(kind_word))),
        )
    })?;
    let ts = f.timestamp("ts")?;
    let id = f
        .opt_text("id", ctx.limits.max_id_chars)?
        .map(EventId::Given);
    let project = match f.take("project") {
        None => CompactString::const_new("default"),
        Some(value) => project_name(&value, ctx.limits.max_id_chars)?,
    };
    let explicit_attrs = f.take("attrs");
    let body = match kind {
        Kind::Execution => EventBody::Execution(execution(f)?),
        Kind::Run => EventBody::Run(run(f)?),
        Kind::Job => EventBody::Job(Job {
            job_id: f.req_str("job_id")?,
            status: f.req_word("status")?,
            run_id: f.opt_str("run_id")?,
        }),
        Kind::Session => EventBody::Session(session(f)?),
        Kind::Skill => EventBody::Skill(Skill {
            user_id: f.req_str("user_id")?,
            skill: f.req_str("skill")?,
            completed: f.req_bool("completed")?,
            session_id: f.opt_str("session_id")?,
            phase: f.opt_str("phase")?,
            duration_ms: f.opt_number("duration_ms", 0.0, MAX_DURATION_MS)?,
            rating: f.opt_integer("rating", 1, 5)?.map(|r| r as u8),
            query: f.opt_text("query", ctx.limits.max_text_chars)?,
        }),
        Kind::Outcome => EventBody::Outcome(outcome(f)?),
        Kind::AgentStatus => EventBody::AgentStatus(AgentStatus {
            agent_id: f.req_str("agent_id")?,
            active_tasks: f.req_integer("active_tasks", 0, MAX_COUNT)?,
            queued_tasks: f.req_integer("queued_tasks", 0, MAX_COUNT)?,
            capacity: f.req_integer("capacity", 1, MAX_COUNT)?,
            cpu_pct: f.opt_number("cpu_pct", 0.0, 100.0)?,
            mem_pct: f.opt_number("mem_pct", 0.0, 100.0)?,
        }),
        Kind::Request => EventBody::Request(Request {
            endpoint: f.req_str("endpoint")?,
            method: f.req_str("method")?,
            status: f.req_integer("status", 100, 599)? as u16,
            latency_ms: f.req_number("latency_ms", 0.0, MAX_DURATION_MS)?,
            user_id: f.opt_str("user_id")?,
            session_id: f.opt_str("session_id")?,
        }),
        Kind::Action => EventBody::Action(Action {
            user_id: f.req_str("user_id")?,
            action: f.req_str("action")?,
            session_id: f.opt_str("session_id")?,
        }),
        Kind::System => EventBody::System(system(f)?),
        Kind::Error => EventBody::Error(ErrorEvent {
            source: f.req_str("source")?,
            message: f.req_text("message", ctx.limits.max_text_chars)?,
            severity: f.opt_word("severity")?.unwrap_or(Severity::Error),
        }),
    };
    let event = Event {
        id,
        ts,
        project,
        attrs: Attrs::new(),
        body,
    };
    Ok((event, explicit_attrs))
}

fn execution<'a>(f: &mut Fields<'_, 'a>) -> Result<Execution, FieldError> {
    let tool = f.req_str("tool")?;
    let duration_ms = f.req_number("duration_ms", 0.0, MAX_DURATION_MS)?;
    let success = f.req_bool("success")?;
    let agent_id = f.opt_str("agent_id")?;
    let task_id = f.opt_str("task_id")?;
    let user_id = f.opt_str("user_id")?;
    let session_id = f.opt_str("session_id")?;
    let model = f.opt_str("model")?;
    let tokens = TokenUsage {
        input_tokens: f.opt_integer("input_tokens", 0, MAX_TOKENS)?,
        output_tokens: f.opt_integer("output_tokens", 0, MAX_TOKENS)?,
        cache_read_tokens: f.opt_integer("cache_read_tokens", 0, MAX_TOKENS)?,
        cache_write_tokens: f.opt_integer("cache_write_tokens", 0, MAX_TOKENS)?,
        reasoning_tokens: f.opt_integer("reasoning_tokens", 0, MAX_TOKENS)?,
    };
    check_tokens(&tokens)?;
    Ok(Execution {
        tool,
        duration_ms,
        success,
        agent_id,
        task_id,
        user_id,
        session_id,
        model,
        tokens,
        cost_usd: f.opt_number("cost_usd", 0.0, MAX_COST_USD)?.map(Usd),
        cost_source: CostSource::Reported,
        effort: f.opt_word("effort")?,
        browser_used: f.opt_bool("browser_used")?.unwrap_or(false),
        error: f.opt_str("error")?,
    })
}

/// The rules between an execution's token counts: cached and reasoning tokens are
/// parts of the input and output counts.
fn check_tokens(tokens: &TokenUsage) -> Result<(), FieldError> {
    if let Some(input) = tokens.input_tokens {
        let cached = tokens.cache_read_tokens.unwrap_or(0) + tokens.cache_write_tokens.unwrap_or(0);
        if cached > input {
            return Err(FieldError::new(
                "cache_read_tokens",
                Rule::Inconsistent,
                format!(
                    "cache_read_tokens + cache_write_tokens must not exceed input_tokens, which includes cached tokens; got {cached} > {input}"
                ),
            ));
        }
    }
    if let (Some(reasoning), Some(output)) = (tokens.reasoning_tokens, tokens.output_tokens) {
        if reasoning > output {
            return Err(FieldError::new(
                "reasoning_tokens",
                Rule::Inconsistent,
                format!(
                    "must not exceed output_tokens, which includes reasoning tokens; got {reasoning} > {output}"
                ),
            ));
        }
    }
    Ok(())
}

fn run<'a>(f: &mut Fields<'_, 'a>) -> Result<Run, FieldError> {
    let duration_s = f.req_number("duration_s", 0.0, MAX_DURATION_S)?;
    let mode = f.opt_str("mode")?;
    let qa_status = f.opt_word("qa_status")?.unwrap_or(QaStatus::NotRun);
    let mut models = Vec::new();
    for (i, item) in f.opt_list("models")?.into_iter().enumerate() {
        let path = format!("models[{i}]");
        let FieldValue::Map(entries) = item else {
            return Err(FieldError::new(
                path,
                Rule::WrongType,
                format!(
                    "must be an object {{model, input_tokens, output_tokens, cost_usd}}, got {}",
                    Shown(&item)
                ),
            ));
        };
        let mut m = Fields::nested(entries, f.ctx, path.clone())?;
        let usage = ModelUsage {
            model: m.req_str("model")?,
            input_tokens: m.opt_integer("input_tokens", 0, MAX_TOKENS)?.unwrap_or(0),
            output_tokens: m.opt_integer("output_tokens", 0, MAX_TOKENS)?.unwrap_or(0),
            cost_usd: m.opt_number("cost_usd", 0.0, MAX_COST_USD)?.map(Usd),
        };
        m.deny_rest("model, input_tokens, output_tokens, cost_usd")?;
        models.push(usage);
    }
    Ok(Run {
        duration_s,
        mode,
        qa_status,
        models,
    })
}

fn session<'a>(f: &mut Fields<'_, 'a>) -> Result<Session, FieldError> {
    let user_id = f.req_str("user_id")?;
    let duration_s = f.req_number("duration_s", 0.0, MAX_DURATION_S)?;
    let exchanges = f.req_integer("exchanges", 0, MAX_COUNT)?;
    let quality = f.opt_number("quality", 0.0, 1.0)?;
    let mut topics = Vec::new();
    for (i, item) in f.opt_list("topics")?.into_iter().enumerate() {
        topics.push(f.string_value(
            &format!("topics[{i}]"),
            item,
            f.ctx.limits.max_string_chars,
        )?);
    }
    let mut quality_breakdown = QualityBreakdown::default();
    if let Some(value) = f.take("quality_breakdown") {
        let FieldValue::Map(entries) = value else {
            return Err(FieldError::new(
                "quality_breakdown",
                Rule::WrongType,
                format!(
                    "must be an object of scores in [0, 1], got {}",
                    Shown(&value)
                ),
            ));
        };
        let mut m = Fields::nested(entries, f.ctx, "quality_breakdown".to_owned())?;
        for dimension in QualityBreakdown::DIMENSIONS {
            let score = m.opt_number(dimension, 0.0, 1.0)?;
            if let Some(slot) = quality_breakdown.slot(dimension) {
                *slot = score;
            }
        }
        m.deny_rest(&QualityBreakdown::DIMENSIONS.join(", "))?;
    }
    Ok(Session {
        user_id,
        duration_s,
        exchanges,
        quality,
        topics,
        quality_breakdown,
    })
}

fn outcome<'a>(f: &mut Fields<'_, 'a>) -> Result<Outcome, FieldError> {
    let experiment = f.req_str("experiment")?;
    let user_id = f.req_str("user_id")?;
    let variant = f.req_str("variant")?;
    let value = f
        .take("metrics")
        .ok_or_else(|| FieldError::new("metrics", Rule::Missing, "is required"))?;
    let FieldValue::Map(entries) = value else {
        return Err(FieldError::new(
            "metrics",
            Rule::WrongType,
            format!(
                "must be an object of numbers or bools, got {}",
                Shown(&value)
            ),
        ));
    };
    if entries.is_empty() {
        return Err(FieldError::new(
            "metrics",
            Rule::Empty,
            "must hold at least one metric",
        ));
    }
    if entries.len() > f.ctx.limits.max_list_items {
        return Err(FieldError::new(
            "metrics",
            Rule::TooLong,
            format!(
                "must hold at most {} metrics, got {}",
                f.ctx.limits.max_list_items,
                entries.len()
            ),
        ));
    }
    let mut metrics = BTreeMap::new();
    for (name, value) in entries {
        let path = format!("metrics.{name}");
        check_name(&path, &name, f.ctx.limits.max_string_chars)?;
        let metric = match value {
            FieldValue::Bool(b) => MetricValue::Bool(b),
            FieldValue::Int(_)
            | FieldValue::UInt(_)
            | FieldValue::Float(_)
            | FieldValue::Untyped(_) => {
                MetricValue::Number(number(&path, &value, -MAX_MEASURE, MAX_MEASURE)?)
            }
            other => {
                return Err(FieldError::new(
                    path,
                    Rule::WrongType,
                    format!("must be a number or a bool, got {}", Shown(&other)),
                ));
            }
        };
        if metrics.insert(name.into_owned(), metric).is_some() {
            return Err(FieldError::new(
                "metrics",
                Rule::DuplicateField,
                "a metric is given twice",
            ));
        }
    }
    Ok(Outcome {
        experiment,
        user_id,
        variant,
        metrics,
    })
}

fn system<'a>(f: &mut Fields<'_, 'a>) -> Result<SystemMetrics, FieldError> {
    let metrics = SystemMetrics {
        host: f.req_str("host")?,
        cpu_pct: f.opt_number("cpu_pct", 0.0, 100.0)?,
        mem_pct: f.opt_number("mem_pct", 0.0, 100.0)?,
        disk_pct: f.opt_number("disk_pct", 0.0, 100.0)?,
        load1: f.opt_number("load1", 0.0, MAX_MEASURE)?,
    };
    if [
        metrics.cpu_pct,
        metrics.mem_pct,
        metrics.disk_pct,
        metrics.load1,
    ]
    .iter()
    .all(Option::is_none)
    {
        return Err(FieldError::new(
            "cpu_pct",
            Rule::Missing,
            "a system record needs at least one of cpu_pct, mem_pct, disk_pct, load1",
        ));
    }
    Ok(metrics)
}

/// Field names of equal length are common (`tool`/`kind`, `project`/`success`):
/// comparing the first byte before the whole name keeps most mismatches to two integer
/// compares instead of a `memcmp` call.
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// A parsed object's fields in the order they came.
type Entries<'a> = Vec<(Cow<'a, str>, FieldValue<'a>)>;

/// The fields of one record, taken one by one; what is left becomes `attrs`.
struct Fields<'c, 'a> {
    source: Entries<'a>,
    ctx: &'c ValidationContext,
    /// Prefix of field paths (`models[0]`), empty at the top level.
    prefix: String,
}

impl<'a, 'c> Fields<'c, 'a> {
    fn new(entries: Entries<'a>, ctx: &'c ValidationContext) -> Result<Self, FieldError> {
        Fields::nested(entries, ctx, String::new())
    }

    /// Refuses duplicate names. Records have a few dozen fields at most, where a linear
    /// scan (names of different lengths compare in one step) beats sorting or hashing.
    fn nested(
        entries: Entries<'a>,
        ctx: &'c ValidationContext,
        prefix: String,
    ) -> Result<Self, FieldError> {
        for (i, (name, _)) in entries.iter().enumerate() {
            if entries[..i]
                .iter()
                .any(|(earlier, _)| same_name(earlier, name))
            {
                return Err(FieldError::new(
                    join(&prefix, name),
                    Rule::DuplicateField,
                    "is given twice in one record",
                ));
            }
        }
        Ok(Fields {
            source: entries,
            ctx,
            prefix,
        })
    }

    /// The field's path, formatted only if an error needs it.
    fn path<'n>(&'n self, name: &'n str) -> FieldPath<'n> {
        FieldPath {
            prefix: &self.prefix,
            name,
        }
    }

    /// The field's value, `None` when absent or null.
    fn take(&mut self, name: &str) -> Option<FieldValue<'a>> {
        let i = self.source.iter().position(|(k, _)| same_name(k, name))?;
        match self.source.swap_remove(i).1 {
            FieldValue::Null => None,
            value => Some(value),
        }
    }

    fn required(&mut self, name: &str) -> Result<FieldValue<'a>, FieldError> {
        self.take(name)
            .ok_or_else(|| FieldError::new(self.path(name), Rule::Missing, "is required"))
    }

    fn string_value<T: for<'s> From<Cow<'s, str>>>(
        &self,
        path: Path<'_>,
        value: FieldValue<'_>,
        max_chars: usize,
    ) -> Result<T, FieldError> {
        match value {
            FieldValue::Str(s) | FieldValue::Untyped(s) => {
                check_name(path, &s, max_chars)?;
                Ok(T::from(s))
            }
            other => Err(not_a_string(path, &other)),
        }
    }

    fn req_text<T: for<'s> From<Cow<'s, str>>>(
        &mut self,
        name: &str,
        max_chars: usize,
    ) -> Result<T, FieldError> {
        let value = self.required(name)?;
        self.string_value(&self.path(name), value, max_chars)
    }

    fn req_str<T: for<'s> From<Cow<'s, str>>>(&mut self, name: &str) -> Result<T, FieldError> {
        self.req_text(name, self.ctx.limits.max_string_chars)
    }

    /// An optional string; empty text counts as absent.
    fn opt_text<T: for<'s> From<Cow<'s, str>>>(
        &mut self,
        name: &str,
        max_chars: usize,
    ) -> Result<Option<T>, FieldError> {
        match self.take(name) {
            None => Ok(None),
            Some(FieldValue::Str(s) | FieldValue::Untyped(s)) if s.is_empty() => Ok(None),
            Some(value) => self
                .string_value(&self.path(name), value, max_chars)
                .map(Some),
        }
    }

    fn opt_str<T: for<'s> From<Cow<'s, str>>>(
        &mut self,
        name: &str,
    ) -> Result<Option<T>, FieldError> {
        self.opt_text(name, self.ctx.limits.max_string_chars)
    }

    fn req_number(&mut self, name: &str, min: f64, max: f64) -> Result<f64, FieldError> {
        let value = self.required(name)?;
        number(&self.path(name), &value, min, max)
    }

    fn opt_number(&mut self, name: &str, min: f64, max: f64) -> Result<Option<f64>, FieldError> {
        self.take(name)
            .map(|v| number(&self.path(name), &v, min, max))
            .transpose()
    }

    fn req_integer(&mut self, name: &str, min: u64, max: u64) -> Result<u64, FieldError> {
        let value = self.required(name)?;
        integer(&self.path(name), &value, min, max)
    }

    fn opt_integer(&mut self, name: &str, min: u64, max: u64) -> Result<Option<u64>, FieldError> {
        self.take(name)
            .map(|v| integer(&self.path(name), &v, min, max))
            .transpose()
    }

    fn req_bool(&mut self, name: &str) -> Result<bool, FieldError> {
        let value = self.required(name)?;
        boolean(&self.path(name), &value)
    }

    fn opt_bool(&mut self, name: &str) -> Result<Option<bool>, FieldError> {
        self.take(name)
            .map(|v| boolean(&self.path(name), &v))
            .transpose()
    }

    fn req_word<W: Word>(&mut self, name: &str) -> Result<W, FieldError> {
        let value = self.required(name)?;
        word(&self.path(name), &value)
    }

    fn opt_word<W: Word>(&mut self, name: &str) -> Result<Option<W>, FieldError> {
        self.take(name)
            .map(|v| word(&self.path(name), &v))
            .transpose()
    }

    fn opt_list(&mut self, name: &str) -> Result<Vec<FieldValue<'a>>, FieldError> {
        match self.take(name) {
            None => Ok(Vec::new()),
            Some(FieldValue::List(items)) if items.len() > self.ctx.limits.max_list_items => {
                Err(FieldError::new(
                    self.path(name),
                    Rule::TooLong,
                    format!(
                        "must hold at most {} items, got {}",
                        self.ctx.limits.max_list_items,
                        items.len()
                    ),
                ))
            }
            Some(FieldValue::List(items)) => Ok(items),
            Some(other) => Err(FieldError::new(
                self.path(name),
                Rule::WrongType,
                format!("must be an array, got {}", Shown(&other)),
            )),
        }
    }

    fn timestamp(&mut self, name: &str) -> Result<DateTime<Utc>, FieldError> {
        let value = self.required(name)?;
        timestamp(&self.path(name), &value, self.ctx)
    }

    /// Refuses leftover fields of a nested object, whose shape is closed.
    fn deny_rest(self, expected: &str) -> Result<(), FieldError> {
        match self
            .source
            .into_iter()
            .find(|(_, v)| *v != FieldValue::Null)
        {
            None => Ok(()),
            Some((name, _)) => Err(FieldError::new(
                join(&self.prefix, &name),
                Rule::UnknownValue,
                format!("is not a field here; expected {expected}"),
            )),
        }
    }

    /// Builds `attrs` from the explicit object and the leftover top-level fields.
    fn into_attrs(self, explicit: Option<FieldValue<'a>>) -> Result<Attrs, FieldError> {
        let limits = self.ctx.limits;
        let mut attrs = Attrs::new();
        match explicit {
            None => {}
            Some(FieldValue::Map(entries)) => {
                for (key, value) in entries {
                    let path = format!("attrs.{key}");
                    check_name(&path, &key, limits.max_string_chars)?;
                    let Some(value) = attr_value(&path, value, limits)? else {
                        continue;
                    };
                    if attrs.insert(key.into_owned(), value).is_some() {
                        return Err(FieldError::new(
                            path,
                            Rule::DuplicateField,
                            "is given twice in one record",
                        ));
                    }
                }
            }
            Some(other) => {
                return Err(FieldError::new(
                    "attrs",
                    Rule::WrongType,
                    format!("must be an object, got {}", Shown(&other)),
                ));
            }
        }
        for (key, value) in self.source {
            if value == FieldValue::Null {
                continue; // taken by the kind, or sent as null
            }
            check_name(&key, &key, limits.max_string_chars)?;
            let Some(value) = attr_value(&key, value, limits)? else {
                continue;
            };
            if attrs.contains_key(key.as_ref()) {
                return Err(FieldError::new(
                    key.as_ref(),
                    Rule::Inconsistent,
                    "is an unknown field kept in attrs, but attrs has the same key",
                ));
            }
            attrs.insert(key.into_owned(), value);
        }
        let size = attrs_json_len(&attrs);
        if size > limits.max_attrs_bytes {
            return Err(FieldError::new(
                "attrs",
                Rule::TooLong,
                format!(
                    "must be at most {} bytes as JSON, got {size}",
                    limits.max_attrs_bytes
                ),
            ));
        }
        Ok(attrs)
    }
}

fn join(prefix: &str, name: &str) -> String {
    FieldPath { prefix, name }.to_string()
}

/// `prefix.name`, or `name` at the top level.
#[derive(Clone, Copy)]
struct FieldPath<'a> {
    prefix: &'a str,
    name: &'a str,
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            f.write_str(self.name)
        } else {
            write!(f, "{}.{}", self.prefix, self.name)
        }
    }
}

type Path<'p> = &'p dyn std::fmt::Display;

/// A string field's text, borrowed, under the same rules as [`Fields::string_value`].
fn text<'v>(
    path: Path<'_>,
    value: &'v FieldValue<'_>,
    max_chars: usize,
) -> Result<&'v str, FieldError> {
    match value {
        FieldValue::Str(s) | FieldValue::Untyped(s) => {
            check_name(path, s, max_chars)?;
            Ok(s)
        }
        other => Err(not_a_string(path, other)),
    }
}

/// Whether `c` is a bidirectional formatting control (Unicode's `Bidi_Control`): marks,
/// embeddings, overrides and isolates, which make a name display as another.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A `project`: a non-empty string of at most `max_chars` characters without
/// bidirectional controls, in Unicode normalization form C, so that one name written
/// with composed or decomposed accents is one project.
pub(crate) fn project_name(
    value: &FieldValue<'_>,
    max_chars: usize,
) -> Result<CompactString, FieldError> {
    let name = text(&"project", value, max_chars)?;
    if name.is_ascii() {
        return Ok(CompactString::new(name));
    }
    if let Some(c) = name.chars().find(|&c| is_bidi_control(c)) {
        return Err(FieldError::new(
            "project",
            Rule::ForbiddenCharacter,
            format!(
                "must not contain bidirectional control characters, got U+{:04X} in {}",
                u32::from(c),
                Shown(value)
            ),
        ));
    }
    if is_nfc_quick(name.chars()) == IsNormalized::Yes {
        return Ok(CompactString::new(name));
    }
    let normalized: CompactString = name.nfc().collect();
    check_name(&"project", &normalized, max_chars)?;
    Ok(normalized)
}

fn not_a_string(path: Path<'_>, value: &FieldValue<'_>) -> FieldError {
    FieldError::new(
        path,
        Rule::WrongType,
        format!("must be a string, got {}", Shown(value)),
    )
}

fn check_name(path: Path<'_>, text: &str, max_chars: usize) -> Result<(), FieldError> {
    if text.is_empty() {
        return Err(FieldError::new(
            path,
            Rule::Empty,
            "must be a non-empty string",
        ));
    }
    // A string of at most `max_chars` bytes has at most that many characters.
    if text.len() <= max_chars {
        return Ok(());
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(FieldError::new(
            path,
            Rule::TooLong,
            format!("must be at most {max_chars} characters, got {chars}"),
        ));
    }
    Ok(())
}

fn timestamp(
    path: Path<'_>,
    value: &FieldValue<'_>,
    ctx: &ValidationContext,
) -> Result<DateTime<Utc>, FieldError> {
    let expected = "must be an RFC 3339 timestamp with offset or integer epoch milliseconds";
    let bad = || {
        FieldError::new(
            path,
            Rule::WrongType,
            format!("{expected}, got {}", Shown(value)),
        )
    };
    let epoch_ms = |ms: i64| Utc.timestamp_millis_opt(ms).single();
    let ts = match value {
        FieldValue::Int(ms) => epoch_ms(*ms).ok_or_else(bad)?,
        FieldValue::Float(ms) if ms.fract() == 0.0 && ms.abs() < 9.0e15 => {
            epoch_ms(*ms as i64).ok_or_else(bad)?
        }
        FieldValue::Untyped(text)
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse().ok().and_then(epoch_ms).ok_or_else(bad)?
        }
        FieldValue::Str(text) | FieldValue::Untyped(text) => match utc_rfc3339(text) {
            Some(ts) => ts,
            None => DateTime::parse_from_rfc3339(text)
                .map_err(|_| bad())?
                .with_timezone(&Utc),
        },
        _ => return Err(bad()),
    };
    if ts < EARLIEST {
        return Err(FieldError::new(
            path,
            Rule::TimeOutOfBounds,
            format!("must not be before 2000-01-01, got {}", ts.to_rfc3339()),
        ));
    }
    let latest = ctx.now + MAX_FUTURE;
    if ts > latest {
        return Err(FieldError::new(
            path,
            Rule::TimeOutOfBounds,
            format!(
                "must be at most 24 h in the future (until {}), got {}",
                latest.to_rfc3339(),
                ts.to_rfc3339()
            ),
        ));
    }
    Ok(ts)
}

/// A timestamp of the shape nearly every client sends, `YYYY-MM-DDTHH:MM:SS` with up to
/// nine digits of fraction and `Z`, read without chrono's general RFC 3339 parser (a
/// sixth of the typed path's cost). `None` for any other text, valid or not: chrono
/// then reads it, or says it is not a timestamp.
fn utc_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let (stamp, rest) = bytes.split_at_checked(19)?;
    if stamp[4] != b'-'
        || stamp[7] != b'-'
        || stamp[10] != b'T'
        || stamp[13] != b':'
        || stamp[16] != b':'
    {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| {
        stamp[range].iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let nanos = match rest {
        [b'Z'] => 0,
        [b'.', fraction @ .., b'Z'] if (1..=9).contains(&fraction.len()) => {
            let n = fraction.iter().try_fold(0u32, |n, &b| {
                b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
            })?;
            n * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
    // A leap second (`:60`) is left to chrono.
    let time =
        NaiveTime::from_hms_nano_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?, nanos)?;
    Some(date.and_time(time).and_utc())
}

fn range_words(min: f64, max: f64) -> String {
    match (min.is_finite(), max.is_finite()) {
        (true, true) => format!("a number in [{min}, {max}]"),
        (true, false) => format!("a number >= {min}"),
        (false, true) => format!("a number <= {max}"),
        (false, false) => "a finite number".to_owned(),
    }
}

fn number(path: Path<'_>, value: &FieldValue<'_>, min: f64, max: f64) -> Result<f64, FieldError> {
    let wrong = |rule| {
        FieldError::new(
            path,
            rule,
            format!("must be {}, got {}", range_words(min, max), Shown(value)),
        )
    };
    let x = match value {
        FieldValue::Int(i) => *i as f64,
        FieldValue::UInt(u) => *u as f64,
        FieldValue::Float(x) => *x,
        FieldValue::Untyped(text) => text
            .trim()
            .parse::<f64>()
            .map_err(|_| wrong(Rule::WrongType))?,
        _ => return Err(wrong(Rule::WrongType)),
    };
    if !x.is_finite() || x < min || x > max {
        return Err(wrong(Rule::OutOfRange));
    }
    Ok(x)
}

fn integer(path: Path<'_>, value: &FieldValue<'_>, min: u64, max: u64) -> Result<u64, FieldError> {
    let wrong = |rule| {
        let expected = if max == u64::MAX {
            format!("an integer >= {min}")
        } else {
            format!("an integer in [{min}, {max}]")
        };
        FieldError::new(
            path,
            rule,
            format!("must be {expected}, got {}", Shown(value)),
        )
    };
    let n = match value {
        FieldValue::Int(i) => u64::try_from(*i).map_err(|_| wrong(Rule::OutOfRange))?,
        FieldValue::UInt(u) => *u,
        // Many encoders write integral numbers as floats (`5.0`); those are integers.
        FieldValue::Float(x) if x.fract() == 0.0 && *x >= 0.0 && *x < 9.0e15 => *x as u64,
        FieldValue::Float(x) if x.fract() == 0.0 => return Err(wrong(Rule::OutOfRange)),
        FieldValue::Float(_) => return Err(wrong(Rule::WrongType)),
        FieldValue::Untyped(text) => match text.trim().parse::<u64>() {
            Ok(n) => n,
            Err(_) if text.trim().parse::<i64>().is_ok() => return Err(wrong(Rule::OutOfRange)),
            Err(_) => return Err(wrong(Rule::WrongType)),
        },
        _ => return Err(wrong(Rule::WrongType)),
    };
    if n < min || n > max {
        return Err(wrong(Rule::OutOfRange));
    }
    Ok(n)
}

fn boolean(path: Path<'_>, value: &FieldValue<'_>) -> Result<bool, FieldError> {
    match value {
        FieldValue::Bool(b) => Ok(*b),
        FieldValue::Untyped(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(FieldError::new(
                path,
                Rule::WrongType,
                format!("must be true or false, got {}", Shown(value)),
            )),
        },
        other => Err(FieldError::new(
            path,
            Rule::WrongType,
            format!("must be true or false, got {}", Shown(other)),
        )),
    }
}

/// The closed word sets of the wire format (`effort`, `qa_status`, ...).
trait Word: Sized + Copy + std::fmt::Display + 'static {
    const ALL: &'static [Self];
    fn from_word(word: &str) -> Option<Self>;
}

macro_rules! impl_word {
    ($($t:ty),+) => {$(
        impl Word for $t {
            const ALL: &'static [Self] = <$t>::ALL;
            fn from_word(word: &str) -> Option<Self> { <$t>::from_word(word) }
        }
    )+};
}
impl_word!(Effort, QaStatus, JobStatus, Severity);

fn one_of<W: std::fmt::Display>(all: &[W], got: &FieldValue<'_>) -> String {
    let words: Vec<String> = all.iter().map(ToString::to_string).collect();
    format!("must be one of {}, got {}", words.join(", "), Shown(got))
}

fn word<W: Word>(path: Path<'_>, value: &FieldValue<'_>) -> Result<W, FieldError> {
    match value {
        FieldValue::Str(text) | FieldValue::Untyped(text) => W::from_word(text)
            .ok_or_else(|| FieldError::new(path, Rule::UnknownValue, one_of(W::ALL, value))),
        other => Err(FieldError::new(
            path,
            Rule::WrongType,
            one_of(W::ALL, other),
        )),
    }
}

fn attr_value(
    path: Path<'_>,
    value: FieldValue<'_>,
    limits: Limits,
) -> Result<Option<AttrValue>, FieldError> {
    Ok(Some(match value {
        FieldValue::Null => return Ok(None),
        FieldValue::Bool(b) => AttrValue::Bool(b),
        FieldValue::Int(i) => AttrValue::Int(i),
        FieldValue::UInt(u) => AttrValue::Float(u as f64),
        FieldValue::Float(x) => AttrValue::Float(x),
        FieldValue::Str(s) | FieldValue::Untyped(s) => {
            let chars = s.chars().count();
            if chars > limits.max_string_chars {
                return Err(FieldError::new(
                    path,
                    Rule::TooLong,
                    format!(
                        "must be at most {} characters, got {chars}",
                        limits.max_string_chars
                    ),
                ));
            }
            AttrValue::Str(s.into_owned())
        }
        other => {
            return Err(FieldError::new(
                path,
                Rule::WrongType,
                format!(
                    "attrs values must be a string, number or bool, got {}",
                    Shown(&other)
                ),
            ));
        }
    }))
}

/// The length of `attrs` written as compact JSON (what the 8 KiB limit measures).
fn attrs_json_len(attrs: &Attrs) -> usize {
    fn quoted(s: &str) -> usize {
        2 + s
            .chars()
            .map(|c| match c {
                '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
                c if (c as u32) < 0x20 => 6,
                c => c.len_utf8(),
            })
            .sum::<usize>()
    }
    if attrs.is_empty() {
        return 2;
    }
    let body: usize = attrs
        .iter()
        .map(|(k, v)| {
            quoted(k)
                + 1
                + match v {
                    AttrValue::Bool(b) => {
                        if *b {
                            4
                        } else {
                            5
                        }
                    }
                    AttrValue::Int(i) => i.to_string().len(),
                    AttrValue::Float(x) => x.to_string().len(),
                    AttrValue::Str(s) => quoted(s),
                }
        })
        .sum();
    body + attrs.len() - 1 + 2
}

#[cfg(test)]
mod tests;
mod typed_json;

/// How a CSV cell of a field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvCell {
    /// Plain text, read as the field's type.
    Text,
    /// A list of strings separated by `;` (`topics`).
    List,
    /// A nested value written as JSON (`models`, `metrics`, `quality_breakdown`, `attrs`).
    Json,
}

/// The first characters that make a spreadsheet run a cell as a formula. tally's CSV
/// exports put a `'` before a cell that starts with one of them, or with `'` itself, so
/// the cell is inert; CSV ingest drops exactly that one `'` again
/// ([`without_inert_prefix`]), so an export reads back as it was.
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell as it was before an export made it inert: one leading `'` is dropped when
/// a formula trigger or another `'` follows it; any other cell is returned as it is.
pub fn without_inert_prefix(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

/// How a CSV column of this name is read.
pub fn csv_cell(field: &str) -> CsvCell {
    match field {
        "topics" => CsvCell::List,
        "models" | "metrics" | "quality_breakdown" | "attrs" => CsvCell::Json,
        _ => CsvCell::Text,
    }
}
