//! `vigie score`: the scoring stage over JSONL, through the same code as the enrich service.
//!
//! Input: one JSON object per line with at least `text` (and usually `id`); any field of the
//! mention format is optional here (`tenant` defaults to `--tenant`, `source` to `other`,
//! `native_id` to the id). Output: one JSON line per input line, in order — the scores, or
//! `{"line": N, "error": "..."}` for a line that cannot be read. A bad line never stops the run.

use anyhow::Context;
use serde_json::{json, Map, Value};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use vigie_core::model::{mention_from_json, Limits};
use vigie_core::names::sentiment_name;
use vigie_core::proto::{EnrichedMention, SentimentLabel};
use vigie_core::watches::{self, WatchRegistry};
use vigie_enrich::Scorer;

/// Options of `vigie score`.
#[derive(clap::Args)]
pub struct ScoreArgs {
    /// JSONL input; standard input when absent or `-`.
    input: Option<PathBuf>,
    /// Watches (TOML, as for `vigie watches`) to match; their ids appear in `matches`.
    #[arg(long)]
    watches: Option<PathBuf>,
    /// Tenant of lines that do not name one (watches match their own tenant's mentions only).
    #[arg(long, default_value = "default")]
    tenant: String,
}

/// Runs `vigie score`.
pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    let registry = WatchRegistry::default();
    if let Some(path) = &args.watches {
        for w in watches::load_file(path)? {
            registry.upsert(w)?;
        }
    }
    let reader: Box<dyn BufRead> = match args.input.as_deref() {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let set = registry.read();
    let limits = Limits::default();
    for (i, line) in reader.lines().enumerate() {
        let number = i + 1;
        let line = line.with_context(|| format!("cannot read line {number}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let result = score_line(&line, number, &args.tenant, &limits, &set);
        let value = match result {
            Ok(v) => v,
            Err(error) => json!({ "line": number, "error": error }),
        };
        serde_json::to_writer(&mut out, &value)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn score_line(
    line: &str,
    number: usize,
    tenant: &str,
    limits: &Limits,
    set: &watches::WatchSet,
) -> Result<Value, String> {
    let mut object: Map<String, Value> = match serde_json::from_str(line) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err("expected a JSON object".into()),
        Err(e) => return Err(format!("invalid JSON: {e}")),
    };
    let id = match object.remove("id") {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("id: expected a string or a number".into()),
        None => String::new(),
    };
    object.entry("tenant").or_insert_with(|| json!(tenant));
    object.entry("source").or_insert_with(|| json!("other"));
    if !object.contains_key("native_id") {
        let native = if id.is_empty() {
            format!("line-{number}")
        } else {
            id.clone()
        };
        object.insert("native_id".into(), json!(native));
    }
    let mention =
        mention_from_json(Value::Object(object), limits, vigie_core::now_ms()).map_err(|e| e.to_string())?;
    let e = Scorer.score(mention, set, vigie_core::now_ms());
    Ok(output(&id, &e))
}

fn output(id: &str, e: &EnrichedMention) -> Value {
    let risk = e.risk.clone().unwrap_or_default();
    let place = e.place.clone().unwrap_or_default();
    let mut out = json!({
        "id": id,
        "lang": e.language,
        "lang_confidence": round(e.language_confidence),
        "sentiment": {
            "score": round(e.sentiment_score),
            "label": sentiment_name(SentimentLabel::try_from(e.sentiment_label).unwrap_or_default()),
        },
        "toxicity": round(risk.toxicity),
        "risk": { "complaint": round(risk.complaint), "crisis": round(risk.crisis), "flags": risk.flags },
        "reach": round(e.reach),
        "cluster": format!("{:016x}", e.cluster),
        "hashtags": e.hashtags,
        "mentions": e.mentioned_handles,
        "urls": e.urls,
        "matches": e.matched_watches,
    });
    // Only when a place is known: the country, the city, how sure, and where it was read.
    if !place.country.is_empty() {
        out["place"] = json!({
            "country": place.country,
            "city": place.city,
            "confidence": round(place.confidence),
            "source": place.source,
        });
    }
    out
}

fn round(x: f32) -> f64 {
    (x as f64 * 1000.0).round() / 1000.0
}
