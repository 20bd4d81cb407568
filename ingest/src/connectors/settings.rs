//! A connector's own keys, read by its type: strings, durations and secrets (`KEY = "…"` or
//! `KEY_env = "VAR"`, read from the environment), with every key the type did not ask for
//! refused when the connector is built.

use super::ConnectorError;
use std::collections::BTreeSet;
use std::time::Duration;
use vigie_core::config::ConnectorConfig;

/// A secret from the configuration or the environment; never printed, and compared only through
/// [`super::signature`]'s constant-time functions (no `==`).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The type-specific keys of one connector, as its type reads them.
pub struct Settings<'a> {
    index: usize,
    config: &'a ConnectorConfig,
    asked: BTreeSet<String>,
}

impl<'a> Settings<'a> {
    /// The keys of connector number `index` (from 0), `config`.
    pub fn new(index: usize, config: &'a ConnectorConfig) -> Self {
        Self {
            index,
            config,
            asked: BTreeSet::new(),
        }
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// A refusal of `key`, saying why.
    pub fn error(&self, key: &str, reason: impl Into<String>) -> ConnectorError {
        ConnectorError::Setting {
            index: self.index,
            name: self.config.name.clone(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    /// A string key, if given.
    pub fn optional_string(&mut self, key: &str) -> Result<Option<String>, ConnectorError> {
        self.asked.insert(key.to_string());
        match self.config.settings.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(key, format!("expected a string, found {}", other.type_str()))),
        }
    }

    /// A string key the type needs.
    pub fn string(&mut self, key: &str) -> Result<String, ConnectorError> {
        match self.optional_string(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(self.error(key, "required for this connector type")),
        }
    }

    /// A list of strings (`key = ["a", "b"]`; a single string is a list of one), if given;
    /// blank items are refused.
    pub fn string_list(&mut self, key: &str) -> Result<Option<Vec<String>>, ConnectorError> {
        self.asked.insert(key.to_string());
        let items = match self.config.settings.get(key) {
            None => return Ok(None),
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(values)) => {
                let mut items = Vec::with_capacity(values.len());
                for v in values {
                    match v {
                        toml::Value::String(s) => items.push(s.clone()),
                        other => {
                            return Err(self.error(
                                key,
                                format!("expected a list of strings, found a {} in it", other.type_str()),
                            ))
                        }
                    }
                }
                items
            }
            Some(other) => {
                return Err(self.error(
                    key,
                    format!("expected a list of strings, found {}", other.type_str()),
                ))
            }
        };
        if items.iter().any(|s| s.trim().is_empty()) {
            return Err(self.error(key, "a blank item in the list"));
        }
        Ok(Some(items))
    }

    /// A whole number of at least `min`; `default` when absent.
    pub fn integer(&mut self, key: &str, default: i64, min: i64) -> Result<i64, ConnectorError> {
        self.asked.insert(key.to_string());
        match self.config.settings.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(n)) if *n >= min => Ok(*n),
            Some(toml::Value::Integer(n)) => {
                Err(self.error(key, format!("{n} is less than the least allowed, {min}")))
            }
            Some(other) => Err(self.error(
                key,
                format!("expected a whole number, found {}", other.type_str()),
            )),
        }
    }

    /// A boolean (`true` or `false`); `default` when absent.
    pub fn boolean(&mut self, key: &str, default: bool) -> Result<bool, ConnectorError> {
        self.asked.insert(key.to_string());
        match self.config.settings.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(other) => {
                Err(self.error(key, format!("expected true or false, found {}", other.type_str())))
            }
        }
    }

    /// A duration (`"500ms"`, `"30s"`, `"5m"`, `"1h"`, or a number of seconds), at least
    /// `min`; `default` when absent.
    pub fn duration(
        &mut self,
        key: &str,
        default: Duration,
        min: Duration,
    ) -> Result<Duration, ConnectorError> {
        self.asked.insert(key.to_string());
        let value = match self.config.settings.get(key) {
            None => return Ok(default),
            Some(toml::Value::Integer(n)) if *n >= 0 => Duration::from_secs(*n as u64),
            Some(toml::Value::String(s)) => parse_duration(s).ok_or_else(|| {
                self.error(
                    key,
                    format!("{s:?} is not a duration: write for example \"30s\", \"5m\" or \"1h\""),
                )
            })?,
            Some(other) => {
                return Err(self.error(
                    key,
                    format!("expected a duration such as \"5m\", found {}", other.type_str()),
                ))
            }
        };
        if value < min {
            return Err(self.error(
                key,
                format!("{value:?} is shorter than the least allowed, {min:?}"),
            ));
        }
        Ok(value)
    }

    /// A secret the type needs: `key = "…"`, or `key_env = "VAR"` naming an environment
    /// variable that holds it (not both).
    pub fn secret(&mut self, key: &str) -> Result<Secret, ConnectorError> {
        self.optional_secret(key)?.ok_or_else(|| {
            self.error(
                key,
                format!("required for this connector type (or {key}_env naming an environment variable)"),
            )
        })
    }

    /// A secret, if given as `key` or `key_env`.
    pub fn optional_secret(&mut self, key: &str) -> Result<Option<Secret>, ConnectorError> {
        let env_key = format!("{key}_env");
        let inline = self.optional_string(key)?;
        let from_env = self.optional_string(&env_key)?;
        match (inline, from_env) {
            (Some(_), Some(_)) => Err(self.error(key, format!("give {key} or {env_key}, not both"))),
            (Some(s), None) if s.is_empty() => Err(self.error(key, "empty secret")),
            (Some(s), None) => Ok(Some(Secret(s))),
            (None, Some(var)) => match std::env::var(&var) {
                Ok(s) if !s.is_empty() => Ok(Some(Secret(s))),
                _ => Err(self.error(
                    &env_key,
                    format!("the environment variable {var:?} is not set or empty"),
                )),
            },
            (None, None) => Ok(None),
        }
    }

    /// Checks that every key given was asked for by the type: an unknown key (a typo, a key of
    /// another type) is refused with the keys this type reads.
    pub fn finish(self) -> Result<(), ConnectorError> {
        for key in self.config.settings.keys() {
            if !self.asked.contains(key) {
                let known: Vec<&str> = self.asked.iter().map(String::as_str).collect();
                return Err(self.error(
                    key,
                    format!(
                        "unknown key for type {:?}; it reads name, type, tenant and {}",
                        self.config.kind,
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"1d"`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => n,
        "" | "s" => n.checked_mul(1_000)?,
        "m" | "min" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        "d" => n.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> ConnectorConfig {
        let text = format!("name = \"c1\"\ntype = \"whatsapp\"\ntenant = \"t\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn secrets_come_inline_or_from_the_environment_never_both() {
        let c = config("app_secret = \"s3\"");
        let mut s = Settings::new(0, &c);
        assert_eq!(s.secret("app_secret").unwrap().expose(), b"s3");
        assert!(s.finish().is_ok());

        std::env::set_var("VIGIE_TEST_CONNECTOR_SECRET", "from-env");
        let c = config("app_secret_env = \"VIGIE_TEST_CONNECTOR_SECRET\"");
        let mut s = Settings::new(0, &c);
        assert_eq!(s.secret("app_secret").unwrap().expose(), b"from-env");

        let c = config("app_secret_env = \"VIGIE_TEST_UNSET_VARIABLE_X\"");
        let e = Settings::new(3, &c).secret("app_secret").unwrap_err().to_string();
        assert!(
            e.starts_with("connectors[3] (c1).app_secret_env:") && e.contains("VIGIE_TEST_UNSET_VARIABLE_X"),
            "{e}"
        );

        let c = config("app_secret = \"a\"\napp_secret_env = \"B\"");
        let e = Settings::new(0, &c).secret("app_secret").unwrap_err().to_string();
        assert!(e.contains("not both"), "{e}");

        let c = config("");
        let e = Settings::new(0, &c).secret("app_secret").unwrap_err().to_string();
        assert!(e.contains("required"), "{e}");
        assert_eq!(format!("{:?}", Secret("x".into())), "Secret(…)");
    }

    #[test]
    fn unknown_keys_are_refused_with_the_keys_of_the_type() {
        let c = config("app_secret = \"s\"\napp_secrett = \"typo\"");
        let mut s = Settings::new(1, &c);
        s.secret("app_secret").unwrap();
        let e = s.finish().unwrap_err().to_string();
        assert!(
            e.starts_with("connectors[1] (c1).app_secrett: unknown key"),
            "{e}"
        );
        assert!(e.contains("app_secret, app_secret_env"), "{e}");
    }

    #[test]
    fn lists_and_integers_are_read_and_checked() {
        let c = config("ids = [\"a\", \"b\"]\none = \"x\"\nn = 42");
        let mut s = Settings::new(0, &c);
        assert_eq!(
            s.string_list("ids").unwrap(),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(s.string_list("one").unwrap(), Some(vec!["x".to_string()]));
        assert_eq!(s.string_list("absent").unwrap(), None);
        assert_eq!(s.integer("n", 7, 1).unwrap(), 42);
        assert_eq!(s.integer("absent_n", 7, 1).unwrap(), 7);
        assert!(s.finish().is_ok());
        for (bad, why) in [
            ("ids = [\"a\", 1]", "list of strings"),
            ("ids = 3", "list of strings"),
            ("ids = [\"a\", \" \"]", "blank"),
        ] {
            let c = config(bad);
            let e = Settings::new(0, &c).string_list("ids").unwrap_err().to_string();
            assert!(
                e.starts_with("connectors[0] (c1).ids:") && e.contains(why),
                "{bad}: {e}"
            );
        }
        let c = config("n = 0");
        let e = Settings::new(0, &c).integer("n", 7, 1).unwrap_err().to_string();
        assert!(e.contains("(c1).n:") && e.contains("less than"), "{e}");
        let c = config("n = \"5\"");
        assert!(Settings::new(0, &c).integer("n", 7, 1).is_err());
    }

    #[test]
    fn booleans_are_true_or_false_and_nothing_else() {
        let c = config("on = true\noff = false\nword = \"yes\"");
        let mut s = Settings::new(0, &c);
        assert!(s.boolean("on", false).unwrap());
        assert!(!s.boolean("off", true).unwrap());
        assert!(s.boolean("absent", true).unwrap());
        let e = s.boolean("word", false).unwrap_err().to_string();
        assert!(
            e.starts_with("connectors[0] (c1).word:") && e.contains("true or false"),
            "{e}"
        );
        assert!(s.finish().is_ok());
    }

    #[test]
    fn durations_are_read_with_their_unit_and_a_floor() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5 minutes"), None);
        assert_eq!(parse_duration("m"), None);
        let c = config("interval = \"250ms\"");
        let e = Settings::new(0, &c)
            .duration("interval", Duration::from_secs(300), Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("shorter than"), "{e}");
        let c = config("interval = true");
        assert!(Settings::new(0, &c)
            .duration("interval", Duration::from_secs(300), Duration::from_secs(1))
            .is_err());
    }
}
