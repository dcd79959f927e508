//! `tally alerts`: create, list, update, delete and test alert rules and read their
//! history, on the database directly (as `tally keys` does). Rules of tally.toml are
//! listed with the stored ones and changed only in the file.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use tally_api::Analytics;
use tally_api::alerts::{AlertRule, AlertRuleView, LogNotify, dispatcher};

use crate::args::{AlertRuleArgs, AlertsCommand};

pub fn run(analytics: &Analytics, command: AlertsCommand) -> anyhow::Result<ExitCode> {
    match command {
        AlertsCommand::Create { rule, json } => {
            let rule = rule_of(Map::new(), &rule)?;
            let created = analytics.create_alert_rule(rule, None)?;
            print_rule(&created, json, "created")?;
        }
        AlertsCommand::List { firing, json } => {
            let rules = if firing {
                analytics.firing_alerts(None)?
            } else {
                analytics.alert_rules(None)?
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&rules)?);
            } else if rules.is_empty() {
                println!(
                    "{}",
                    if firing {
                        "no alert rule fires"
                    } else {
                        "no alert rules: add [[alerts]] to tally.toml or `tally alerts create`"
                    }
                );
            } else {
                print_table(&rules);
            }
        }
        AlertsCommand::Update {
            rule_name: name,
            rule,
            json,
        } => {
            let existing = analytics.alert_rule(&name, None)?;
            let base = if rule.rule_json.is_some() {
                Map::new()
            } else {
                match serde_json::to_value(&existing.rule)? {
                    Value::Object(map) => map,
                    _ => Map::new(),
                }
            };
            let rule = rule_of(base, &rule)?;
            let updated = analytics.update_alert_rule(&name, rule, None)?;
            print_rule(&updated, json, "updated")?;
        }
        AlertsCommand::Delete { name } => {
            analytics.delete_alert_rule(&name, None)?;
            println!("deleted alert rule {name} (its history stays)");
        }
        AlertsCommand::Test { name, json } => {
            // Delivered before the command returns: the dispatcher is closed, which waits
            // for its queue, retries included.
            let dispatcher = dispatcher(analytics)?;
            let sent = match &dispatcher {
                Some(dispatcher) => analytics.test_alert(&name, dispatcher, None)?,
                None => analytics.test_alert(&name, &LogNotify, None)?,
            };
            if let Some(dispatcher) = dispatcher {
                dispatcher.close();
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&sent)?);
            } else if sent.channels.is_empty() {
                println!(
                    "sent a test notification of {name} to the log (the rule has no channels)"
                );
            } else {
                println!(
                    "sent a test notification of {name} to {}",
                    sent.channels.join(", ")
                );
            }
        }
        AlertsCommand::History {
            rule,
            before,
            limit,
            json,
        } => {
            let page = analytics.alert_history(rule.as_deref(), before, limit, None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else if page.transitions.is_empty() {
                println!("no transitions");
            } else {
                for t in &page.transitions {
                    println!(
                        "#{:<6} {}  {:<24} {:<8} {}{}",
                        t.id,
                        t.at.format("%Y-%m-%d %H:%M:%S"),
                        t.rule,
                        t.event,
                        t.summary,
                        if t.notified {
                            ""
                        } else {
                            " (not sent: cooldown)"
                        }
                    );
                }
                if let Some(next) = page.next_before {
                    println!("older: --before {next}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The rule the flags (over `base`, an existing rule's fields) or `--rule-json` give.
fn rule_of(mut fields: Map<String, Value>, args: &AlertRuleArgs) -> anyhow::Result<AlertRule> {
    if let Some(text) = &args.rule_json {
        let text = if text == "-" {
            let mut read = String::new();
            std::io::stdin()
                .read_to_string(&mut read)
                .context("reading the rule from stdin")?;
            read
        } else {
            text.clone()
        };
        if flags_given(args) {
            bail!("--rule-json gives the whole rule: leave out the other rule flags");
        }
        return serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("--rule-json: {e}"));
    }
    let mut set = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            fields.insert(name.to_owned(), value);
        }
    };
    set("name", args.name.clone().map(Value::from));
    set("rule", args.rule.clone().map(Value::from));
    set("threshold", args.threshold.map(Value::from));
    set("project", args.project.clone().map(Value::from));
    set("model", args.model.clone().map(Value::from));
    set("tool", args.tool.clone().map(Value::from));
    set("agent", args.agent.clone().map(Value::from));
    set(
        "channels",
        (!args.channels.is_empty()).then(|| json!(args.channels)),
    );
    set("severity", args.severity.clone().map(Value::from));
    set("window_minutes", args.window_minutes.map(Value::from));
    set("min_events", args.min_events.map(Value::from));
    set("baseline_days", args.baseline_days.map(Value::from));
    set("significance", args.significance.map(Value::from));
    set("series", args.series.clone().map(Value::from));
    set("cooldown_minutes", args.cooldown_minutes.map(Value::from));
    if args.disabled {
        set("enabled", Some(Value::Bool(false)));
    }
    if args.enabled {
        set("enabled", Some(Value::Bool(true)));
    }
    for required in ["name", "rule", "threshold"] {
        if !fields.contains_key(required) {
            bail!("--{required} is required (or give the whole rule with --rule-json)");
        }
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| anyhow::anyhow!("{e}"))
}

fn flags_given(args: &AlertRuleArgs) -> bool {
    let AlertRuleArgs {
        rule_json: _,
        name,
        rule,
        threshold,
        project,
        model,
        tool,
        agent,
        channels,
        severity,
        window_minutes,
        min_events,
        baseline_days,
        significance,
        series,
        cooldown_minutes,
        disabled,
        enabled,
    } = args;
    name.is_some()
        || rule.is_some()
        || threshold.is_some()
        || project.is_some()
        || model.is_some()
        || tool.is_some()
        || agent.is_some()
        || !channels.is_empty()
        || severity.is_some()
        || window_minutes.is_some()
        || min_events.is_some()
        || baseline_days.is_some()
        || significance.is_some()
        || series.is_some()
        || cooldown_minutes.is_some()
        || *disabled
        || *enabled
}

fn print_rule(view: &AlertRuleView, json: bool, done: &str) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(view)?);
    } else {
        println!(
            "{done} alert rule {} ({} at threshold {})",
            view.rule.name,
            view.rule.rule.as_str(),
            view.rule.threshold
        );
    }
    Ok(())
}

fn print_table(rules: &[AlertRuleView]) {
    println!(
        "{:<24} {:<18} {:>10} {:<24} {:<7} {:<8} since",
        "name", "rule", "threshold", "scope", "source", "status"
    );
    for view in rules {
        let rule = &view.rule;
        let scope: Vec<String> = [
            ("project", &rule.project),
            ("model", &rule.model),
            ("tool", &rule.tool),
            ("agent", &rule.agent),
        ]
        .iter()
        .filter_map(|(field, value)| value.as_ref().map(|v| format!("{field}={v}")))
        .collect();
        let (status, since) = match &view.state {
            _ if !rule.enabled => ("off".to_owned(), String::new()),
            Some(state) => (
                state.status.clone(),
                state.since.format("%Y-%m-%d %H:%M").to_string(),
            ),
            None => ("-".to_owned(), "not evaluated yet".to_owned()),
        };
        let source = match view.source {
            tally_api::alerts::RuleSource::Config => "config",
            tally_api::alerts::RuleSource::Stored => "stored",
        };
        println!(
            "{:<24} {:<18} {:>10} {:<24} {:<7} {:<8} {since}",
            rule.name,
            rule.rule.as_str(),
            rule.threshold,
            if scope.is_empty() {
                "all".to_owned()
            } else {
                scope.join(",")
            },
            source,
            status
        );
    }
}
