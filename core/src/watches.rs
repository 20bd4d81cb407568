//! Watches: the stored queries and rules of each tenant.
//!
//! `vigie.watches` (compacted) is the source of truth. Every service materialises it into a
//! [`WatchRegistry`] at start — reading the topic from the beginning until it has caught up —
//! then keeps applying changes live. A change updates only the changed watch's entries in the
//! matcher index, under a write lock held for microseconds, so the stream never pauses.

use crate::bus::{Bus, BusError, OutRecord, Publisher};
use crate::matcher::Matcher;
use crate::proto::{Watch, WatchFilters};
use crate::query::dialect::syntax_named;
use crate::query::Query;
use crate::rules::RuleToml;
use crate::topics;
use prost::Message;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use tokio_util::sync::CancellationToken;

/// Protobuf type name carried in the schema header of watch records.
pub const SCHEMA: &str = "vigie.v1.Watch";

/// A validated watch (its parsed query lives in the matcher).
#[derive(Debug)]
pub struct CompiledWatch {
    /// The definition as published.
    pub watch: Watch,
    /// `<tenant>/<id>`, the form used in `matched_watches`.
    pub key: String,
}

/// Every known watch, keyed `<tenant>/<id>`, and the index that matches them all at once.
#[derive(Debug, Default)]
pub struct WatchSet {
    watches: HashMap<String, Arc<CompiledWatch>>,
    matcher: Matcher,
}

impl WatchSet {
    /// The watch with key `<tenant>/<id>`.
    pub fn get(&self, key: &str) -> Option<&Arc<CompiledWatch>> {
        self.watches.get(key)
    }

    /// The matcher over every watch's query.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Number of watches.
    pub fn len(&self) -> usize {
        self.watches.len()
    }

    /// The watches of `tenant`, by id.
    pub fn of_tenant(&self, tenant: &str) -> Vec<Arc<CompiledWatch>> {
        let mut out: Vec<Arc<CompiledWatch>> = self
            .watches
            .values()
            .filter(|w| w.watch.tenant == tenant)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.watch.id.cmp(&b.watch.id));
        out
    }

    /// Whether there are no watches.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }
}

/// The live set of watches, shared by the tasks of one process.
#[derive(Clone, Default)]
pub struct WatchRegistry {
    current: Arc<RwLock<WatchSet>>,
}

impl WatchRegistry {
    /// Read access to the current watches; hold it for one batch, not across awaits.
    pub fn read(&self) -> RwLockReadGuard<'_, WatchSet> {
        self.current.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces a watch (checked with [`validate`]).
    pub fn upsert(&self, watch: Watch) -> Result<(), WatchError> {
        let (compiled, query) = compile(watch)?;
        let mut set = self.current.write().unwrap_or_else(|p| p.into_inner());
        set.matcher.insert(&compiled.key, &compiled.watch.tenant, query);
        set.watches.insert(compiled.key.clone(), Arc::new(compiled));
        Ok(())
    }

    /// Removes a watch by key `<tenant>/<id>`.
    pub fn remove(&self, key: &str) {
        let mut set = self.current.write().unwrap_or_else(|p| p.into_inner());
        set.matcher.remove(key);
        set.watches.remove(key);
    }

    /// Applies one record of `vigie.watches`: a watch, or a tombstone deleting its key.
    pub fn apply_record(&self, key: &str, payload: Option<&[u8]>) -> Result<(), WatchError> {
        match payload {
            None | Some([]) => {
                self.remove(key);
                Ok(())
            }
            Some(bytes) => {
                // An invalid record removes the key's previous version, so every instance —
                // running or restarted — ends up with the same watches.
                let result = Watch::decode(bytes)
                    .map_err(|e| WatchError {
                        watch: key.to_string(),
                        field: String::new(),
                        reason: format!("undecodable watch record: {e}"),
                    })
                    .and_then(|watch| {
                        let own = topics::watch_key(&watch.tenant, &watch.id);
                        if own == key {
                            self.upsert(watch)
                        } else {
                            Err(WatchError {
                                watch: key.to_string(),
                                field: "tenant/id".into(),
                                reason: format!("the record's watch is {own}, not its key {key}"),
                            })
                        }
                    });
                if result.is_err() {
                    self.remove(key);
                }
                result
            }
        }
    }
}

/// A watch that failed validation: which one, which field, why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("watch {watch}: {field}: {reason}")]
pub struct WatchError {
    /// `<tenant>/<id>` (or the position in a file).
    pub watch: String,
    /// Field at fault.
    pub field: String,
    /// What was wrong.
    pub reason: String,
}

fn compile(watch: Watch) -> Result<(CompiledWatch, Query), WatchError> {
    let key = topics::watch_key(&watch.tenant, &watch.id);
    let query = validate(&watch)?;
    Ok((CompiledWatch { watch, key }, query))
}

/// Checks a watch and returns its parsed query.
pub fn validate(watch: &Watch) -> Result<Query, WatchError> {
    let key = topics::watch_key(&watch.tenant, &watch.id);
    let fail = |field: &str, reason: String| WatchError {
        watch: key.clone(),
        field: field.to_string(),
        reason,
    };
    for (field, value) in [("tenant", &watch.tenant), ("id", &watch.id)] {
        crate::model::check_name(field, value).map_err(|e| fail(field, e.reason))?;
    }
    let syntax = syntax_named(&watch.syntax).map_err(|e| fail("syntax", e.to_string()))?;
    let mut query = Query::parse_with(&watch.query, &syntax).map_err(|e| fail("query", e.to_string()))?;
    if let Some(f) = &watch.filters {
        let mut all = vec![query];
        let groups: [(&str, &str, Vec<&String>); 4] = [
            ("filters.languages", "lang", f.languages.iter().collect()),
            ("filters.sources", "source", f.sources.iter().collect()),
            ("filters.countries", "country", f.countries.iter().collect()),
            (
                "filters.visibility",
                "visibility",
                (!f.visibility.is_empty())
                    .then_some(&f.visibility)
                    .into_iter()
                    .collect(),
            ),
        ];
        for (field, name, values) in groups {
            let mut alternatives = Vec::new();
            for v in values {
                let q = Query::field(name, v).map_err(|e| fail(field, format!("{v:?}: {}", e.message)))?;
                alternatives.push(q);
            }
            match alternatives.len() {
                0 => {}
                1 => all.push(alternatives.remove(0)),
                _ => all.push(Query::Or(alternatives)),
            }
        }
        query = if all.len() == 1 {
            all.remove(0)
        } else {
            Query::And(all)
        };
    }
    let mut names = std::collections::HashSet::new();
    for (i, r) in watch.rules.iter().enumerate() {
        let field = format!("rules[{i}]");
        if r.name.is_empty() || !names.insert(r.name.clone()) {
            return Err(fail(&field, "a rule needs a name unique within its watch".into()));
        }
        crate::rules::validate(r).map_err(|e| fail(&format!("{field}.{}", e.field), e.reason))?;
    }
    Ok(query)
}

/// Publishes watches into `vigie.watches` (upserts) and waits for the broker's acknowledgement.
pub async fn publish(publisher: &Publisher, watches: &[Watch]) -> Result<(), BusError> {
    let records = watches
        .iter()
        .map(|w| OutRecord::message(topics::watch_key(&w.tenant, &w.id), SCHEMA, w.encode_to_vec()))
        .collect();
    publisher.publish(topics::WATCHES, records).await
}

/// Reads `vigie.watches` from the beginning into `registry`, returns once caught up, and keeps a
/// task applying later changes until `cancel`.
pub async fn materialise(
    bus: &Bus,
    registry: WatchRegistry,
    cancel: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, BusError> {
    let follow = registry.clone();
    let task =
        crate::bus::materialise(bus, topics::WATCHES, cancel, move |r| apply_logged(&follow, r)).await?;
    tracing::info!("watches materialised: {} known", registry.read().len());
    Ok(task)
}

fn apply_logged(registry: &WatchRegistry, r: &crate::bus::InRecord) {
    let key = r.key_str();
    if let Err(e) = registry.apply_record(&key, r.payload.as_deref()) {
        crate::metrics::record_skipped(topics::WATCHES, "invalid");
        tracing::warn!("ignoring invalid watch record {key} at offset {}: {e}", r.offset);
    }
}

/// The TOML file format of watches (`[[watch]]` tables), as written by people.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchFile {
    #[serde(default)]
    watch: Vec<WatchToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchToml {
    #[serde(default = "default_tenant")]
    tenant: String,
    id: String,
    #[serde(default)]
    name: String,
    query: String,
    /// The dialect `query` is written in (`crate::query::dialect::SYNTAXES`); empty is vigie.
    #[serde(default)]
    syntax: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    rule: Vec<RuleToml>,
}

pub use crate::rules::parse_duration_secs;

fn default_tenant() -> String {
    "default".into()
}

/// Reads a TOML watches file into validated watch definitions.
pub fn load_file(path: &std::path::Path) -> Result<Vec<Watch>, WatchError> {
    let text = std::fs::read_to_string(path).map_err(|e| WatchError {
        watch: path.display().to_string(),
        field: String::new(),
        reason: format!("cannot read: {e}"),
    })?;
    parse_file(&text, &path.display().to_string())
}

/// Parses the TOML watches format (see `deploy/sample/watches.toml`).
pub fn parse_file(text: &str, origin: &str) -> Result<Vec<Watch>, WatchError> {
    let file: WatchFile = toml::from_str(text).map_err(|e| WatchError {
        watch: origin.to_string(),
        field: String::new(),
        reason: e.to_string(),
    })?;
    let now = crate::now_ms();
    file.watch
        .into_iter()
        .map(|w| {
            let key = topics::watch_key(&w.tenant, &w.id);
            let rules = w
                .rule
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    r.into_rule().map_err(|e| WatchError {
                        watch: key.clone(),
                        field: format!("rule[{i}].{}", e.field),
                        reason: e.reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let watch = Watch {
                tenant: w.tenant,
                name: if w.name.is_empty() { w.id.clone() } else { w.name },
                id: w.id,
                query: w.query,
                syntax: w.syntax,
                filters: Some(WatchFilters {
                    languages: w.languages,
                    sources: w.sources,
                    visibility: w.visibility,
                    countries: w.countries,
                }),
                rules,
                updated_at_ms: now,
            };
            validate(&watch)?;
            Ok(watch)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::memory::MemoryBus;
    use std::time::Duration;

    const FILE: &str = r#"
[[watch]]
tenant = "acme"
id = "crisis"
query = "acme AND (malade OR intoxication)"
languages = ["fr"]
[[watch.rule]]
name = "burst"
type = "threshold"
severity = "critical"
min_count = 5
window = "10m"
cooldown = "1h"
"#;

    #[test]
    fn the_file_format_parses_and_validates() {
        let watches = parse_file(FILE, "test").unwrap();
        assert_eq!(watches.len(), 1);
        let Some(crate::proto::rule::Kind::Threshold(t)) = &watches[0].rules[0].kind else {
            panic!()
        };
        assert_eq!(
            (
                t.min_count,
                t.window_seconds,
                watches[0].rules[0].cooldown_seconds
            ),
            (5, 600, 3600)
        );
        let bad = FILE.replace("acme AND (malade", "acme AND (malade (");
        let e = parse_file(&bad, "test").unwrap_err();
        assert_eq!(e.field, "query");
        assert!(e.reason.contains("position"), "{e}");
        let bad = FILE.replace("10m", "ten minutes");
        assert_eq!(parse_file(&bad, "test").unwrap_err().field, "rule[0].window");
    }

    #[test]
    fn a_watch_is_read_in_its_syntax_and_an_unknown_syntax_is_refused() {
        // Meltwater's documented example, with its lower-case `or`: refused as vigie, read as
        // the operator under `syntax = "meltwater"`.
        let file = |syntax: &str| {
            format!(
                "[[watch]]\nid = \"apple\"\n{syntax}query = 'apple AND NOT (IPHONE or \"apple sauce\")'\n"
            )
        };
        let e = parse_file(&file(""), "test").unwrap_err();
        assert_eq!(e.field, "query");
        assert!(e.reason.contains("write OR (upper case)"), "{e}");
        let watches = parse_file(&file("syntax = \"meltwater\"\n"), "test").unwrap();
        assert_eq!(watches[0].syntax, "meltwater");
        let registry = WatchRegistry::default();
        registry.upsert(watches[0].clone()).unwrap();
        let matcher = |text: &str| {
            let doc = crate::document::Document::from_text(text);
            registry.read().matcher().matches("default", &doc).len()
        };
        assert_eq!(matcher("an apple a day"), 1);
        assert_eq!(matcher("apple sauce for the iphone"), 0);
        let e = parse_file(&file("syntax = \"lucene\"\n"), "test").unwrap_err();
        assert_eq!(e.field, "syntax");
        for name in crate::query::dialect::SYNTAXES {
            assert!(e.reason.contains(name), "{e}");
        }
        assert!(e.reason.contains("\"lucene\""), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registry_materialises_and_follows_the_topic() {
        let bus = MemoryBus::default();
        let publisher = Publisher::Memory(bus.clone());
        let watches = parse_file(FILE, "test").unwrap();
        publish(&publisher, &watches).await.unwrap();
        let registry = WatchRegistry::default();
        let cancel = CancellationToken::new();
        let task = materialise(&Bus::Memory(bus.clone()), registry.clone(), cancel.clone())
            .await
            .unwrap();
        assert!(registry.read().get("acme/crisis").is_some());
        // A tombstone deletes the watch live.
        publisher
            .publish(
                topics::WATCHES,
                vec![OutRecord {
                    key: "acme/crisis".into(),
                    payload: None,
                    schema: SCHEMA,
                }],
            )
            .await
            .unwrap();
        for _ in 0..50 {
            if registry.read().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(registry.read().is_empty());
        cancel.cancel();
        task.await.unwrap();
    }
}
