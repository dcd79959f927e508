//! `tally.toml`: every key optional, unknown keys refused (a typo must not pass silently).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::alerts::{AlertRule, ChannelConfig, SmtpConfig, validate_delivery};
use crate::{Error, Result};

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub analytics: AnalyticsConfig,
    pub retention: RetentionConfig,
    pub server: ServerConfig,
    pub learning: LearningSettings,
    pub engagement: EngagementConfig,
    pub health: HealthConfig,
    /// Per-model prices overriding the built-in table, USD per million tokens.
    pub prices: BTreeMap<String, Price>,
    /// `[[alerts]]`: rules evaluated by `tally serve`.
    pub alerts: Vec<AlertRule>,
    /// `[channels.NAME]`: where alert transitions are sent.
    pub channels: BTreeMap<String, ChannelConfig>,
    /// The file this configuration was read from (`None`: built in code); errors about
    /// what only the file can change name it.
    #[serde(skip)]
    pub file: Option<String>,
    pub reports: ReportsConfig,
    /// `[smtp]`: the server channels' `email` addresses are sent through.
    pub smtp: Option<SmtpConfig>,
}

/// `[reports]`: reports written on a timetable (`docs/reports.md`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// `[[reports.schedule]]`, checked into [`crate::report::schedule::Schedule`].
    pub schedule: Vec<ScheduleConfig>,
}

/// One `[[reports.schedule]]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub kind: String,
    /// `daily`, `weekly` or `monthly`.
    pub every: String,
    /// Local time `HH:MM` in `timezone`.
    #[serde(default = "midnight")]
    pub at: String,
    /// Weekly schedules: `mon` to `sun`.
    pub weekday: Option<String>,
    /// Monthly schedules: 1 to 28.
    pub day: Option<u32>,
    /// IANA name; UTC when absent.
    pub timezone: Option<String>,
    /// `html`, `md` or `json`.
    #[serde(default = "html")]
    pub format: String,
    pub project: Option<String>,
    pub directory: Option<std::path::PathBuf>,
    #[serde(default)]
    pub channels: Vec<String>,
}

fn midnight() -> String {
    "00:00".to_owned()
}

fn html() -> String {
    "html".to_owned()
}

/// `[analytics]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsConfig {
    pub enabled: bool,
    /// USD per calendar month; `None` turns budget tracking off.
    pub monthly_budget: Option<f64>,
    pub timeseries_days: u32,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            enabled: true,
            monthly_budget: None,
            timeseries_days: 30,
        }
    }
}

/// `[engagement]`: how sessions are closed (`docs/metrics.md`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngagementConfig {
    /// A session without an end is closed once idle this long.
    pub session_timeout_minutes: u32,
}

impl Default for EngagementConfig {
    fn default() -> Self {
        EngagementConfig {
            session_timeout_minutes: 30,
        }
    }
}

/// `[health]`: the most points each part of the health score takes off 100
/// (`docs/metrics.md`, `realtime`); the defaults give the score of earlier releases.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    pub error_rate_weight: f64,
    pub latency_weight: f64,
    pub request_error_rate_weight: f64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        let weights = tally_metrics::HealthWeights::default();
        HealthConfig {
            error_rate_weight: weights.error_rate,
            latency_weight: weights.latency,
            request_error_rate_weight: weights.request_error_rate,
        }
    }
}

impl HealthConfig {
    pub fn weights(&self) -> tally_metrics::HealthWeights {
        tally_metrics::HealthWeights {
            error_rate: self.error_rate_weight,
            latency: self.latency_weight,
            request_error_rate: self.request_error_rate_weight,
        }
    }
}

/// `[learning]`: the rules of `docs/learning.md`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningSettings {
    /// Longest gap between sessions that keeps a streak going.
    pub grace_hours: f64,
    /// Streak freezes a learner holds (0..=2).
    pub freezes: u8,
    /// Mastery score from which a topic counts as mastered.
    pub mastered_at: f64,
    /// Days after which a session's weight in mastery halves.
    pub half_life_days: f64,
    pub max_active_goals: usize,
}

impl Default for LearningSettings {
    fn default() -> Self {
        let defaults = tally_learning::LearningConfig::default();
        LearningSettings {
            grace_hours: defaults.grace.num_seconds() as f64 / 3600.0,
            freezes: defaults.freezes,
            mastered_at: defaults.mastered_at,
            half_life_days: defaults.half_life_days,
            max_active_goals: defaults.max_active_goals,
        }
    }
}

impl LearningSettings {
    /// The settings as the learning tier takes them.
    pub fn to_config(&self) -> tally_learning::LearningConfig {
        tally_learning::LearningConfig {
            grace: chrono::Duration::seconds((self.grace_hours * 3600.0).round() as i64),
            freezes: self.freezes,
            mastered_at: self.mastered_at,
            half_life_days: self.half_life_days,
            max_active_goals: self.max_active_goals,
        }
    }
}

/// `[retention]`: off unless configured. Nothing is deleted for age until a key is
/// set; each one set turns on the deletion it names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days raw events are kept (exports, learners' sessions, raw-table series);
    /// `None`: for ever.
    pub raw_days: Option<u32>,
    /// Days hour and day rollups are kept (month rollups: until their whole month
    /// is older); `None`: for ever.
    pub hourly_days: Option<u32>,
}

impl RetentionConfig {
    /// Whether any deletion for age is configured.
    pub fn is_configured(&self) -> bool {
        self.raw_days.is_some() || self.hourly_days.is_some()
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub addr: String,
    /// Largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Most records accepted in one ingest request (more: 413).
    pub max_batch_records: usize,
    /// Connections served at once; further clients wait in the listen queue.
    pub max_connections: usize,
    /// Ingest requests (JSON and OTLP) read and stored at once; further ones wait for
    /// a place before their body is read, which bounds the memory bodies take.
    pub max_concurrent_ingests: usize,
    /// Seconds a client has to send a request's headers (and an idle keep-alive
    /// connection stays open); then the connection is closed.
    pub header_read_timeout_secs: f64,
    /// Seconds a client has to send a request's whole body; then 408 and the
    /// connection is closed.
    pub body_read_timeout_secs: f64,
    /// Seconds a write of an answer may wait for the client to read any of it; then
    /// the connection is closed.
    pub write_timeout_secs: f64,
    /// Seconds a request may take until its answer starts; then 503.
    pub request_timeout_secs: f64,
    /// Seconds a shutdown waits for requests in flight before cancelling them.
    pub shutdown_grace_secs: f64,
    /// Seconds between two evaluations of the alert rules on the timer (they are also
    /// evaluated within about a second of data arriving).
    pub alert_every_secs: f64,
    /// Live update streams (`GET /api/analytics/live`) open at once; more get 503
    /// (the dashboard then polls).
    pub max_live_streams: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:7878".to_owned(),
            max_body_bytes: 16 * 1024 * 1024,
            max_batch_records: 100_000,
            max_connections: 512,
            max_concurrent_ingests: 8,
            header_read_timeout_secs: 30.0,
            body_read_timeout_secs: 60.0,
            write_timeout_secs: 30.0,
            request_timeout_secs: 30.0,
            shutdown_grace_secs: 10.0,
            alert_every_secs: 30.0,
            max_live_streams: 64,
        }
    }
}

impl ServerConfig {
    /// Refuses a setting out of range, naming it.
    fn validate(&self) -> std::result::Result<(), String> {
        if self.max_connections == 0 {
            return Err("server.max_connections must be at least 1".to_owned());
        }
        if self.max_concurrent_ingests == 0 {
            return Err("server.max_concurrent_ingests must be at least 1".to_owned());
        }
        if self.max_live_streams == 0 {
            return Err("server.max_live_streams must be at least 1".to_owned());
        }
        for (name, seconds) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("write_timeout_secs", self.write_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
            ("shutdown_grace_secs", self.shutdown_grace_secs),
            ("alert_every_secs", self.alert_every_secs),
        ] {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0) {
                return Err(format!(
                    "server.{name} must be a number of seconds above 0 and at most 86400, got {seconds}"
                ));
            }
        }
        Ok(())
    }
}

/// `[prices."MODEL"]`: USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
}

impl Config {
    /// Parses configuration text; `origin` names it in errors.
    ///
    /// # Errors
    /// Invalid TOML, an unknown key, a value of the wrong type or a negative amount.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| Error::Config {
            path: origin.to_owned(),
            message: e.to_string(),
        })?;
        let bad = |message: String| {
            Err(Error::Config {
                path: origin.to_owned(),
                message,
            })
        };
        if let Some(budget) = config.analytics.monthly_budget {
            if !(budget.is_finite() && budget >= 0.0) {
                return bad(format!(
                    "analytics.monthly_budget must be a number >= 0, got {budget}"
                ));
            }
        }
        if !(config.learning.grace_hours.is_finite() && config.learning.grace_hours >= 0.0) {
            return bad(format!(
                "learning.grace_hours must be a number >= 0, got {}",
                config.learning.grace_hours
            ));
        }
        if let Err(error) = config.learning.to_config().validate() {
            return bad(format!("learning: {error}"));
        }
        for (name, days) in [
            ("raw_days", config.retention.raw_days),
            ("hourly_days", config.retention.hourly_days),
        ] {
            if days == Some(0) {
                return bad(format!(
                    "retention.{name} must be at least 1 (leave it out to keep everything)"
                ));
            }
        }
        if let Err(message) = config.server.validate() {
            return bad(message);
        }
        for (name, weight) in [
            ("error_rate_weight", config.health.error_rate_weight),
            ("latency_weight", config.health.latency_weight),
            (
                "request_error_rate_weight",
                config.health.request_error_rate_weight,
            ),
        ] {
            if !(weight.is_finite() && (0.0..=100.0).contains(&weight)) {
                return bad(format!(
                    "health.{name} must be a number from 0 to 100, got {weight}"
                ));
            }
        }
        if config.engagement.session_timeout_minutes == 0 {
            return bad("engagement.session_timeout_minutes must be at least 1".to_owned());
        }
        if config.analytics.timeseries_days == 0 {
            return bad("analytics.timeseries_days must be at least 1".to_owned());
        }
        for (model, price) in &config.prices {
            let amounts = [
                Some(price.input),
                Some(price.output),
                price.cache_read,
                price.cache_write,
            ];
            if amounts
                .iter()
                .flatten()
                .any(|x| !(x.is_finite() && *x >= 0.0))
            {
                return bad(format!("prices.\"{model}\": amounts must be numbers >= 0"));
            }
        }
        if let Err(message) = validate_alerts(&config.alerts, &config.channels) {
            return bad(message);
        }
        if let Err(message) = validate_delivery(config.smtp.as_ref(), &config.channels) {
            return bad(message);
        }
        for (i, schedule) in config.reports.schedule.iter().enumerate() {
            if let Err(message) = crate::report::schedule::Schedule::from_config(i + 1, schedule) {
                return bad(message);
            }
            if let Some(unknown) = schedule
                .channels
                .iter()
                .find(|c| !config.channels.contains_key(*c))
            {
                let known: Vec<&str> = config.channels.keys().map(String::as_str).collect();
                return bad(format!(
                    "[[reports.schedule]] #{}: channels: no channel {unknown:?} (configured: {})",
                    i + 1,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ));
            }
        }
        Ok(config)
    }

    /// Reads and parses a configuration file.
    ///
    /// # Errors
    /// The file cannot be read, or [`Config::parse`] refuses it.
    pub fn load(path: &Path) -> Result<Config> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let mut config = Config::parse(&text, &shown)?;
        config.file = Some(shown);
        Ok(config)
    }
}

/// Refuses an alert rule or channel that cannot work, naming it: `alerts[2] (budget-70).threshold: ...`.
fn validate_alerts(
    alerts: &[AlertRule],
    channels: &BTreeMap<String, ChannelConfig>,
) -> std::result::Result<(), String> {
    for (name, channel) in channels {
        if channel.webhook.is_none() && channel.email.is_empty() {
            return Err(format!(
                "channels.{name}: set `webhook` (an http:// or https:// URL) or `email` (addresses)"
            ));
        }
        if let Some(url) = &channel.webhook
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "channels.{name}.webhook: {url:?} must start with http:// or https://"
            ));
        }
        if channel.secret.as_deref() == Some("") {
            return Err(format!(
                "channels.{name}.secret: must not be empty when set"
            ));
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (index, rule) in alerts.iter().enumerate() {
        let at = format!("alerts[{index}] ({})", rule.name);
        rule.validate().map_err(|e| format!("{at}.{e}"))?;
        if !names.insert(rule.name.as_str()) {
            return Err(format!("{at}.name: another rule has this name"));
        }
        if let Some(unknown) = rule.channels.iter().find(|c| !channels.contains_key(*c)) {
            let known: Vec<&str> = channels.keys().map(String::as_str).collect();
            return Err(format!(
                "{at}.channels: no channel {unknown:?} (configured: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_example_parses_and_typos_are_refused() {
        let text = r#"
            [analytics]
            enabled = true
            monthly_budget = 50.0
            timeseries_days = 30
            [retention]
            raw_days = 30
            hourly_days = 400
            [server]
            addr = "127.0.0.1:7878"
            [prices."gpt-4o"]
            input = 2.5
            output = 10.0
            cache_read = 1.25
        "#;
        let config = Config::parse(text, "t").unwrap();
        assert_eq!(config.analytics.monthly_budget, Some(50.0));
        assert_eq!(config.prices["gpt-4o"].cache_read, Some(1.25));
        let typo = Config::parse("[analytics]\nmonthly_budjet = 5", "t")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("unknown field `monthly_budjet`"), "{typo}");
        let negative = Config::parse("[analytics]\nmonthly_budget = -5", "t")
            .unwrap_err()
            .to_string();
        assert_eq!(
            negative,
            "config t: analytics.monthly_budget must be a number >= 0, got -5"
        );
    }

    #[test]
    fn the_session_timeout_parses_and_typos_and_zero_are_refused() {
        assert_eq!(
            Config::parse("", "t")
                .unwrap()
                .engagement
                .session_timeout_minutes,
            30
        );
        let config = Config::parse("[engagement]\nsession_timeout_minutes = 45\n", "t").unwrap();
        assert_eq!(config.engagement.session_timeout_minutes, 45);
        let typo = Config::parse("[engagement]\nsession_timeout = 45\n", "t").unwrap_err();
        assert!(typo.to_string().contains("session_timeout"), "{typo}");
        let zero = Config::parse("[engagement]\nsession_timeout_minutes = 0\n", "t").unwrap_err();
        assert!(
            zero.to_string()
                .contains("engagement.session_timeout_minutes must be at least 1"),
            "{zero}"
        );
    }

    #[test]
    fn health_weights_default_to_the_former_score_and_are_checked() {
        let weights = Config::parse("", "t").unwrap().health.weights();
        assert_eq!(weights, tally_metrics::HealthWeights::default());
        assert_eq!(
            (
                weights.error_rate,
                weights.latency,
                weights.request_error_rate
            ),
            (60.0, 30.0, 0.0)
        );
        let config = Config::parse("[health]\nrequest_error_rate_weight = 20\n", "t").unwrap();
        assert_eq!(config.health.weights().request_error_rate, 20.0);
        let negative = Config::parse("[health]\nlatency_weight = -1\n", "t").unwrap_err();
        assert!(
            negative
                .to_string()
                .contains("health.latency_weight must be a number from 0 to 100"),
            "{negative}"
        );
        let typo = Config::parse("[health]\nlatency = 5\n", "t").unwrap_err();
        assert!(typo.to_string().contains("latency"), "{typo}");
    }

    #[test]
    fn server_limits_parse_and_ranges_are_checked() {
        let config = Config::parse(
            "[server]\nmax_connections = 8\nheader_read_timeout_secs = 0.5\nbody_read_timeout_secs = 2\nrequest_timeout_secs = 3\n",
            "t",
        )
        .unwrap();
        assert_eq!(config.server.max_connections, 8);
        assert_eq!(config.server.header_read_timeout_secs, 0.5);
        assert_eq!(config.server.request_timeout_secs, 3.0);
        let error = Config::parse("[server]\nmax_connections = 0\n", "t").unwrap_err();
        assert_eq!(
            error.to_string(),
            "config t: server.max_connections must be at least 1"
        );
        let error = Config::parse("[server]\nbody_read_timeout_secs = -1\n", "t").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("server.body_read_timeout_secs must be"),
            "{error}"
        );
        let typo = Config::parse("[server]\nmax_conections = 8\n", "t").unwrap_err();
        assert!(
            typo.to_string().contains("unknown field `max_conections`"),
            "{typo}"
        );
    }

    #[test]
    fn alerts_and_channels_parse_and_are_checked() {
        let text = r#"
            [[alerts]]
            name = "budget-70"
            rule = "budget"
            threshold = 0.7
            project = "support-bot"
            channels = ["ops"]
            [channels.ops]
            webhook = "http://127.0.0.1:9000/hook"
            format = "slack"
            secret = "s3cret"
        "#;
        let config = Config::parse(text, "t").unwrap();
        assert_eq!(config.alerts[0].name, "budget-70");
        assert_eq!(config.channels["ops"].secret.as_deref(), Some("s3cret"));
        let unknown = Config::parse(&text.replace("[\"ops\"]", "[\"pager\"]"), "t").unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "config t: alerts[0] (budget-70).channels: no channel \"pager\" (configured: ops)"
        );
        let twice = format!(
            "{text}\n[[alerts]]\nname = \"budget-70\"\nrule = \"silence\"\nthreshold = 30\n"
        );
        assert!(
            Config::parse(&twice, "t")
                .unwrap_err()
                .to_string()
                .contains("alerts[1] (budget-70).name: another rule has this name")
        );
        let bad_url = Config::parse(&text.replace("http://127", "ftp://127"), "t").unwrap_err();
        assert!(
            bad_url.to_string().contains("channels.ops.webhook"),
            "{bad_url}"
        );
        let threshold = Config::parse(&text.replace("0.7", "-1"), "t").unwrap_err();
        assert!(
            threshold
                .to_string()
                .contains("alerts[0] (budget-70).threshold: -1 for rule budget"),
            "{threshold}"
        );
    }

    #[test]
    fn learning_settings_parse_and_ranges_are_checked() {
        let config = Config::parse("[learning]\ngrace_hours = 48\nfreezes = 1\n", "t").unwrap();
        let learning = config.learning.to_config();
        assert_eq!(
            (learning.grace, learning.freezes, learning.max_active_goals),
            (chrono::Duration::hours(48), 1, 5)
        );
        let error = Config::parse("[learning]\nfreezes = 3\n", "t").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("freezes must be 0, 1 or 2, got 3"),
            "{error}"
        );
        assert!(Config::parse("[learning]\ngrace_hours = -1\n", "t").is_err());
    }
}
