//! Alerting rules as declared with a watch: the TOML form, defaults, and validation with errors
//! that name the field. The detectors themselves live in the alerting service.

use crate::proto::rule::Kind;
use crate::proto::{
    EscalationRule, FlatlineRule, NegativeSurgeRule, NewTermRule, RiskyMentionRule, Rule, ThresholdRule,
    UnansweredRule, VolumeSpikeRule,
};
use serde::Deserialize;

/// Every rule type, as written in `type = "..."`.
pub const TYPES: [&str; 8] = [
    "threshold",
    "volume_spike",
    "negative_surge",
    "risky_mention",
    "new_term",
    "flatline",
    "escalation",
    "unanswered",
];

/// Default sensitivity of `negative_surge`, in robust deviations above the expected count.
pub const DEFAULT_SENSITIVITY: f64 = 4.0;
/// Default sensitivity of `volume_spike`: the sustained rise evidence (the last twelve buckets'
/// surprise against the series' own usual surprises, in its spreads) needed to fire; chosen
/// across the 53 development series (see README, "Crisis detection").
pub const DEFAULT_SPIKE_SENSITIVITY: f64 = 2.5;

/// The rule type name of a rule kind.
pub fn type_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Threshold(_) => "threshold",
        Kind::VolumeSpike(_) => "volume_spike",
        Kind::NegativeSurge(_) => "negative_surge",
        Kind::RiskyMention(_) => "risky_mention",
        Kind::NewTerm(_) => "new_term",
        Kind::Flatline(_) => "flatline",
        Kind::Escalation(_) => "escalation",
        Kind::Unanswered(_) => "unanswered",
    }
}

/// A rule problem: the field (relative to the rule) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// Field name within the rule, e.g. "window".
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

fn fail<T>(field: &str, reason: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// One `[[watch.rule]]` table of a watches file. Which fields apply depends on `type`; a field
/// that does not apply to the rule's type is an error, not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleToml {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "default_severity")]
    severity: String,
    cooldown: Option<String>,
    min_count: Option<u32>,
    window: Option<String>,
    bucket: Option<String>,
    sensitivity: Option<f64>,
    distinct_stories: Option<bool>,
    min_negative: Option<u32>,
    min_share: Option<f64>,
    min_toxicity: Option<f32>,
    min_followers: Option<u64>,
    verified_negative: Option<bool>,
    press_and_reviews: Option<bool>,
    flags: Option<Vec<String>>,
    history: Option<String>,
    max_prior: Option<u32>,
    hashtags_only: Option<bool>,
    min_expected: Option<f64>,
    source: Option<String>,
    min_stages: Option<u32>,
    by: Option<String>,
    sla: Option<String>,
    brand_authors: Option<Vec<String>>,
    private_messages: Option<bool>,
    public_questions: Option<bool>,
}

fn default_severity() -> String {
    "warning".into()
}

/// The longest silence an operator may ask for (`SilenceAlerts`, `vigie alert silence --for`), in
/// seconds: 90 days. Longer is refused, not shortened: a watch to mute for good is one to delete.
pub const MAX_SILENCE_SECS: u32 = 90 * 86_400;

/// Parses a duration like `90s`, `10m`, `2h` or `1d` into seconds.
pub fn parse_duration_secs(s: &str) -> Option<u32> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn secs(field: &str, v: &Option<String>, default: u32) -> Result<u32, RuleError> {
    match v {
        None => Ok(default),
        Some(s) => match parse_duration_secs(s) {
            Some(n) => Ok(n),
            None => fail(
                field,
                format!("{s:?}: expected a duration like 90s, 10m, 2h or 1d"),
            ),
        },
    }
}

impl RuleToml {
    /// Fields set in this table that the rule type does not use.
    fn foreign_fields(&self, allowed: &[&str]) -> Option<&'static str> {
        let set: [(&'static str, bool); 23] = [
            ("min_count", self.min_count.is_some()),
            ("window", self.window.is_some()),
            ("bucket", self.bucket.is_some()),
            ("sensitivity", self.sensitivity.is_some()),
            ("distinct_stories", self.distinct_stories.is_some()),
            ("min_negative", self.min_negative.is_some()),
            ("min_share", self.min_share.is_some()),
            ("min_toxicity", self.min_toxicity.is_some()),
            ("min_followers", self.min_followers.is_some()),
            ("verified_negative", self.verified_negative.is_some()),
            ("press_and_reviews", self.press_and_reviews.is_some()),
            ("flags", self.flags.is_some()),
            ("history", self.history.is_some()),
            ("max_prior", self.max_prior.is_some()),
            ("hashtags_only", self.hashtags_only.is_some()),
            ("min_expected", self.min_expected.is_some()),
            ("source", self.source.is_some()),
            ("min_stages", self.min_stages.is_some()),
            ("by", self.by.is_some()),
            ("sla", self.sla.is_some()),
            ("brand_authors", self.brand_authors.is_some()),
            ("private_messages", self.private_messages.is_some()),
            ("public_questions", self.public_questions.is_some()),
        ];
        set.into_iter()
            .find(|(name, present)| *present && !allowed.contains(name))
            .map(|(name, _)| name)
    }

    /// The rule this table declares, with defaults filled in, validated.
    pub fn into_rule(self) -> Result<Rule, RuleError> {
        let (kind, allowed): (Kind, &[&str]) = match self.kind.as_str() {
            "threshold" => (
                Kind::Threshold(ThresholdRule {
                    min_count: self.min_count.ok_or_else(|| RuleError {
                        field: "min_count".into(),
                        reason: "is required for threshold rules".into(),
                    })?,
                    window_seconds: secs("window", &self.window, 600)?,
                }),
                &["min_count", "window"],
            ),
            "volume_spike" => (
                Kind::VolumeSpike(VolumeSpikeRule {
                    bucket_seconds: secs("bucket", &self.bucket, 300)?,
                    sensitivity: self.sensitivity.unwrap_or(DEFAULT_SPIKE_SENSITIVITY),
                    min_count: self.min_count.unwrap_or(40),
                    distinct_stories: self.distinct_stories.unwrap_or(false),
                }),
                &["bucket", "sensitivity", "min_count", "distinct_stories"],
            ),
            "negative_surge" => (
                Kind::NegativeSurge(NegativeSurgeRule {
                    bucket_seconds: secs("bucket", &self.bucket, 1_800)?,
                    sensitivity: self.sensitivity.unwrap_or(DEFAULT_SENSITIVITY),
                    min_negative: self.min_negative.unwrap_or(10),
                    min_share: self.min_share.unwrap_or(0.4),
                }),
                &["bucket", "sensitivity", "min_negative", "min_share"],
            ),
            "risky_mention" => (
                Kind::RiskyMention(RiskyMentionRule {
                    min_toxicity: self.min_toxicity.unwrap_or(0.8),
                    min_followers: self.min_followers.unwrap_or(100_000),
                    verified_negative: self.verified_negative.unwrap_or(true),
                    press_and_reviews: self.press_and_reviews.unwrap_or(true),
                    flags: self.flags.clone().unwrap_or_else(|| vec!["threat".into()]),
                }),
                &[
                    "min_toxicity",
                    "min_followers",
                    "verified_negative",
                    "press_and_reviews",
                    "flags",
                ],
            ),
            "new_term" => (
                Kind::NewTerm(NewTermRule {
                    window_seconds: secs("window", &self.window, 3_600)?,
                    min_count: self.min_count.unwrap_or(5),
                    history_days: secs("history", &self.history, 7 * 86_400)?.div_ceil(86_400),
                    max_prior: self.max_prior.unwrap_or(0),
                    hashtags_only: self.hashtags_only.unwrap_or(true),
                }),
                &["window", "min_count", "history", "max_prior", "hashtags_only"],
            ),
            "flatline" => (
                Kind::Flatline(FlatlineRule {
                    window_seconds: secs("window", &self.window, 3_600)?,
                    min_expected: self.min_expected.unwrap_or(5.0),
                    source: self.source.clone().unwrap_or_default(),
                }),
                &["window", "min_expected", "source"],
            ),
            "escalation" => (
                Kind::Escalation(EscalationRule {
                    window_seconds: secs("window", &self.window, 86_400)?,
                    min_stages: self.min_stages.unwrap_or(2),
                    by: self.by.clone().unwrap_or_else(|| "story".into()),
                }),
                &["window", "min_stages", "by"],
            ),
            "unanswered" => (
                Kind::Unanswered(UnansweredRule {
                    sla_seconds: secs("sla", &self.sla, 7_200)?,
                    brand_authors: self.brand_authors.clone().unwrap_or_default(),
                    private_messages: self.private_messages.unwrap_or(true),
                    public_questions: self.public_questions.unwrap_or(true),
                }),
                &["sla", "brand_authors", "private_messages", "public_questions"],
            ),
            other => {
                return fail(
                    "type",
                    format!(
                        "unknown rule type {other:?}; expected one of {}",
                        TYPES.join(", ")
                    ),
                )
            }
        };
        if let Some(field) = self.foreign_fields(allowed) {
            return fail(field, format!("does not apply to {} rules", self.kind));
        }
        let rule = Rule {
            name: self.name,
            severity: self.severity,
            cooldown_seconds: secs("cooldown", &self.cooldown, 1_800)?,
            kind: Some(kind),
        };
        validate(&rule)?;
        Ok(rule)
    }
}

/// Checks one rule's values (not its name's uniqueness, which is the watch's business).
pub fn validate(rule: &Rule) -> Result<(), RuleError> {
    if crate::names::parse_severity(&rule.severity).is_none() {
        return fail(
            "severity",
            format!("{:?}: expected info, warning or critical", rule.severity),
        );
    }
    let positive = |field: &str, v: u32| {
        if v == 0 {
            fail(field, "must be positive")
        } else {
            Ok(())
        }
    };
    let fraction = |field: &str, v: f64| {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            fail(field, format!("{v}: must be within [0, 1]"))
        }
    };
    let sensitivity = |v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            fail("sensitivity", format!("{v}: must be a positive number"))
        }
    };
    // Buckets must tile a day, so that "the same hour yesterday" is a whole number of buckets.
    let bucket = |v: u32| {
        if v < 60 || 86_400 % v != 0 {
            fail(
                "bucket",
                format!("{v} s: must be at least 1m and divide a day (e.g. 5m, 15m, 1h)"),
            )
        } else {
            Ok(())
        }
    };
    match &rule.kind {
        None => fail("type", "is required"),
        Some(Kind::Threshold(t)) => {
            positive("min_count", t.min_count)?;
            positive("window", t.window_seconds)
        }
        Some(Kind::VolumeSpike(v)) => {
            bucket(v.bucket_seconds)?;
            sensitivity(v.sensitivity)?;
            positive("min_count", v.min_count)
        }
        Some(Kind::NegativeSurge(n)) => {
            bucket(n.bucket_seconds)?;
            sensitivity(n.sensitivity)?;
            positive("min_negative", n.min_negative)?;
            fraction("min_share", n.min_share)
        }
        Some(Kind::RiskyMention(r)) => fraction("min_toxicity", r.min_toxicity as f64),
        Some(Kind::NewTerm(n)) => {
            positive("window", n.window_seconds)?;
            positive("min_count", n.min_count)?;
            positive("history", n.history_days)?;
            if n.history_days > 90 {
                return fail("history", "at most 90d");
            }
            if n.max_prior >= n.min_count {
                return fail("max_prior", "must be below min_count");
            }
            Ok(())
        }
        Some(Kind::Flatline(f)) => {
            positive("window", f.window_seconds)?;
            if f.window_seconds < 300 || 86_400 % f.window_seconds != 0 {
                return fail(
                    "window",
                    "must be at least 5m and divide a day (e.g. 15m, 1h, 6h)",
                );
            }
            if !(f.min_expected.is_finite() && f.min_expected >= 1.0) {
                return fail("min_expected", format!("{}: must be at least 1", f.min_expected));
            }
            if !f.source.is_empty() && crate::names::parse_source(&f.source).is_none() {
                return fail("source", format!("{:?}: not a known source", f.source));
            }
            Ok(())
        }
        Some(Kind::Escalation(e)) => {
            positive("window", e.window_seconds)?;
            if !(2..=3).contains(&e.min_stages) {
                return fail("min_stages", format!("{}: must be 2 or 3", e.min_stages));
            }
            if e.by != "story" && e.by != "watch" {
                return fail("by", format!("{:?}: expected \"story\" or \"watch\"", e.by));
            }
            Ok(())
        }
        Some(Kind::Unanswered(u)) => {
            positive("sla", u.sla_seconds)?;
            if u.brand_authors.iter().all(|a| a.trim().is_empty()) {
                return fail(
                    "brand_authors",
                    "lists the brand's own account ids or handles; at least one",
                );
            }
            if !u.private_messages && !u.public_questions {
                return fail(
                    "private_messages",
                    "one of private_messages or public_questions must be true",
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<Rule, RuleError> {
        let text = format!("name = \"r\"\n{extra}");
        toml::from_str::<RuleToml>(&text).unwrap().into_rule()
    }

    #[test]
    fn every_type_parses_with_defaults() {
        for t in TYPES {
            let extra = match t {
                "threshold" => "min_count = 3\n",
                "unanswered" => "brand_authors = [\"brand\"]\n",
                _ => "",
            };
            let rule = parse(&format!("type = \"{t}\"\n{extra}")).unwrap_or_else(|e| panic!("{t}: {e:?}"));
            assert_eq!(type_name(rule.kind.as_ref().unwrap()), t);
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("type = \"spike\"", "type"),
            ("type = \"threshold\"", "min_count"),
            ("type = \"volume_spike\"\nbucket = \"7m\"", "bucket"),
            ("type = \"volume_spike\"\nsensitivity = -1.0", "sensitivity"),
            ("type = \"volume_spike\"\nsla = \"1h\"", "sla"),
            ("type = \"negative_surge\"\nmin_share = 1.5", "min_share"),
            ("type = \"new_term\"\nmin_count = 2\nmax_prior = 2", "max_prior"),
            ("type = \"flatline\"\nsource = \"myspace\"", "source"),
            ("type = \"escalation\"\nmin_stages = 4", "min_stages"),
            ("type = \"escalation\"\nby = \"thread\"", "by"),
            ("type = \"unanswered\"", "brand_authors"),
            ("type = \"risky_mention\"\nseverity = \"urgent\"", "severity"),
            ("type = \"risky_mention\"\ncooldown = \"soon\"", "cooldown"),
        ];
        for (text, field) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.field, field, "{text}: {e:?}");
        }
    }
}
