//! Email: the `[smtp]` section, the message a notification or report becomes (plain text
//! and HTML, every value escaped), and one send through `lettre`'s blocking SMTP client.

use std::collections::BTreeMap;
use std::time::Duration;

use html_escape::{encode_double_quoted_attribute, encode_text};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use serde::Deserialize;

use super::describe::{event_word, figure};
use super::{Outcome, Report};
use crate::alerts::{ChannelConfig, Notification};

/// Longest summary kept in a subject line.
const SUBJECT_SUMMARY_CHARS: usize = 120;

/// `[smtp]`: the server alert and report emails go through.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 25 without TLS, 587 with STARTTLS, 465 with TLS.
    #[serde(default)]
    pub port: Option<u16>,
    /// Set both or neither.
    #[serde(default)]
    pub username: Option<String>,
    /// Never logged nor shown.
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, `alerts@example.com` or `tally <alerts@example.com>`.
    pub from: String,
    /// How the connection is encrypted.
    #[serde(default)]
    pub starttls: SmtpSecurity,
    /// Seconds each SMTP command may take.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: f64,
}

fn default_timeout_secs() -> f64 {
    10.0
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("starttls", &self.starttls)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// `none` (plain text: a local relay only), `starttls` (upgrade a plain connection,
/// refused if the server cannot), or `tls` (TLS from the first byte, "SMTPS").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    None,
    #[default]
    Starttls,
    Tls,
}

impl SmtpConfig {
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.starttls {
            SmtpSecurity::None => 25,
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
        })
    }

    /// Refuses a setting that cannot work, naming it (`smtp.from: ...`).
    pub fn validate(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("smtp.host: must name the SMTP server".to_owned());
        }
        if self.port == Some(0) {
            return Err("smtp.port: must be 1 to 65535".to_owned());
        }
        if self.username.is_some() != self.password.is_some() {
            return Err("smtp.username, smtp.password: set both or neither".to_owned());
        }
        self.from
            .parse::<Mailbox>()
            .map_err(|e| format!("smtp.from: {:?} is not an email address ({e})", self.from))?;
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 600.0)
        {
            return Err(format!(
                "smtp.timeout_secs must be a number of seconds above 0 and at most 600, got {}",
                self.timeout_secs
            ));
        }
        Ok(())
    }

    /// The blocking client: encrypted as configured, with credentials when set.
    ///
    /// # Errors
    /// TLS cannot be set up for the host name.
    pub(super) fn transport(&self) -> Result<SmtpTransport, lettre::transport::smtp::Error> {
        let builder = match self.starttls {
            SmtpSecurity::None => SmtpTransport::builder_dangerous(self.host.as_str()),
            SmtpSecurity::Starttls => SmtpTransport::starttls_relay(&self.host)?,
            SmtpSecurity::Tls => SmtpTransport::relay(&self.host)?,
        };
        let mut builder = builder
            .port(self.port_or_default())
            .timeout(Some(Duration::from_secs_f64(self.timeout_secs)));
        if let (Some(username), Some(password)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
        }
        Ok(builder.build())
    }
}

/// Checks `[smtp]` and every channel's addresses; a channel with `email` needs `[smtp]`.
pub fn validate_delivery(
    smtp: Option<&SmtpConfig>,
    channels: &BTreeMap<String, ChannelConfig>,
) -> Result<(), String> {
    if let Some(smtp) = smtp {
        smtp.validate()?;
    }
    for (name, channel) in channels {
        if !channel.email.is_empty() && smtp.is_none() {
            return Err(format!(
                "channels.{name}.email: sending email needs an [smtp] section (host, from)"
            ));
        }
        for (index, address) in channel.email.iter().enumerate() {
            address.parse::<Mailbox>().map_err(|e| {
                format!("channels.{name}.email[{index}]: {address:?} is not an email address ({e})")
            })?;
        }
    }
    Ok(())
}

/// What an email says: subject, plain text, HTML.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `[tally] FIRING budget-70: 74 % of the monthly budget spent`, and the figures.
pub(super) fn notification_email(
    notification: &Notification,
    dashboard: Option<&str>,
) -> EmailContent {
    let word = event_word(notification.event);
    let subject = format!(
        "[tally] {word} {}: {}",
        notification.rule,
        one_line(&notification.summary, SUBJECT_SUMMARY_CHARS)
    );
    let mut rows = vec![
        ("Rule", notification.rule.clone()),
        ("Kind", notification.kind.as_str().to_owned()),
        ("Severity", notification.severity.as_str().to_owned()),
        ("Value", notification.value.map_or("n/a".to_owned(), figure)),
        ("Threshold", figure(notification.threshold)),
    ];
    rows.extend(
        notification
            .scope
            .iter()
            .map(|(field, value)| (field.as_str(), value.clone())),
    );
    rows.push(("At", notification.at.to_rfc3339()));
    rows.push(("Transition", notification.id.to_string()));

    let mut text = format!(
        "{word}: {}\n\n{}\n\n",
        notification.rule, notification.summary
    );
    for (label, value) in &rows {
        text.push_str(&format!("{label}: {value}\n"));
    }
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body>\n<h2>{word}: {}</h2>\n<p>{}</p>\n<table>\n",
        encode_text(&notification.rule),
        encode_text(&notification.summary)
    );
    for (label, value) in &rows {
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
            encode_text(label),
            encode_text(value)
        ));
    }
    html.push_str("</table>\n");
    if let Some(url) = dashboard {
        text.push_str(&format!("\nDashboard: {url}\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\">Open the dashboard</a></p>\n",
            encode_double_quoted_attribute(url)
        ));
    }
    html.push_str("</body></html>\n");
    EmailContent {
        subject,
        text,
        html,
    }
}

/// A report: its HTML as the HTML part, its Markdown as the plain-text part.
pub(super) fn report_email(report: &Report) -> EmailContent {
    EmailContent {
        subject: format!("[tally] {}", one_line(&report.subject, 200)),
        text: report.markdown.clone(),
        html: report.html.clone(),
    }
}

/// The message from `from` to every address (validated with the configuration).
///
/// # Errors
/// An address that does not parse, or a message lettre refuses to build.
pub(super) fn message(
    from: &str,
    recipients: &[String],
    content: &EmailContent,
) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("smtp.from {from:?}: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(content.subject.as_str());
    for address in recipients {
        let to: Mailbox = address
            .parse()
            .map_err(|e| format!("recipient {address:?}: {e}"))?;
        builder = builder.to(to);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            content.text.clone(),
            content.html.clone(),
        ))
        .map_err(|e| format!("building the message: {e}"))
}

/// Sends once. Accepted: delivered; a transient refusal (4xx), a timeout or a
/// connection that failed: worth retrying; a permanent refusal (5xx): failed.
pub(super) fn send(transport: &SmtpTransport, message: &Message) -> Outcome {
    match transport.send(message) {
        Ok(response) => Outcome::Delivered(format!(
            "SMTP {}: {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        )),
        Err(error) if error.is_permanent() || error.is_tls() => Outcome::Failed(error.to_string()),
        Err(error) => Outcome::Retry {
            detail: error.to_string(),
            retry_after: None,
        },
    }
}

/// One line (no control characters a header could be split on), cut to `limit` characters.
fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= limit {
        flat
    } else {
        let mut out: String = flat.chars().take(limit - 1).collect();
        out.push('…');
        out
    }
}
