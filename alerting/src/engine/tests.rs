//! Scenarios over the whole engine: every rule type through a crafted stream, checkpointed
//! and restored mid-stream; watches and rules that change or disappear.

use super::*;
use crate::testkit::{m, MIN};
use vigie_core::proto::{AlertState, EnrichedMention, Source};
use vigie_core::watches::{parse_file, WatchRegistry, WatchSet};

/// One watch carrying every rule type.
const WATCHES: &str = r#"
[[watch]]
tenant = "acme"
id = "w"
query = "acme"
[[watch.rule]]
name = "burst"
type = "threshold"
min_count = 5
window = "10m"
[[watch.rule]]
name = "spike"
type = "volume_spike"
min_count = 10
[[watch.rule]]
name = "negative"
type = "negative_surge"
min_negative = 5
[[watch.rule]]
name = "risky"
type = "risky_mention"
[[watch.rule]]
name = "newtag"
type = "new_term"
min_count = 3
history = "2d"
[[watch.rule]]
name = "silence"
type = "flatline"
window = "1h"
min_expected = 2
[[watch.rule]]
name = "overflow"
type = "escalation"
by = "watch"
min_stages = 3
window = "6h"
[[watch.rule]]
name = "sla"
type = "unanswered"
sla = "1h"
brand_authors = ["acmecare"]
"#;

/// Six days of a crafted stream exercising every rule: routine traffic with a daily cycle,
/// a silent afternoon, a new hashtag, a toxic post, a question answered late, and a story
/// going from private messages to the press in a burst of complaints.
fn stream() -> Vec<EnrichedMention> {
    let mut out = Vec::new();
    let day = 24 * 60 * MIN;
    for d in 0..6 {
        for slot in 0..(24 * 12) {
            let t = d * day + slot * 5 * MIN;
            let hour = slot / 12;
            // Routine: one mention every 5 minutes by day, every 15 at night; silent on
            // day 4 from 14:00 to 18:00.
            let silent = d == 4 && (14..18).contains(&hour);
            if silent || (!(8..20).contains(&hour) && slot % 3 != 0) {
                continue;
            }
            out.push(m(&format!("r{d}-{slot}"), t).build());
        }
    }
    let t = 5 * day + 10 * 60 * MIN;
    out.push(
        m("dm", t)
            .source(Source::Whatsapp)
            .text("acme my order never came")
            .negative()
            .build(),
    );
    out.push(m("q", t + MIN).text("acme where is my parcel?").build());
    out.push(m("tox", t + 2 * MIN).risk(0.95, &[]).build());
    for k in 0..40 {
        let e = m(&format!("angry{k}"), t + 10 * MIN + k * 20_000)
            .negative()
            .hashtags(&["#acmefail"]);
        out.push(e.build());
    }
    out.push(m("press", t + 30 * MIN).source(Source::News).negative().build());
    out.push(
        m("reply", t + 3 * 60 * MIN)
            .reply_to("q")
            .author("acmecare", 10, true)
            .build(),
    );
    out.push(m("after", t + 4 * 60 * MIN).build());
    out.sort_by_key(|e| e.mention.as_ref().map(|m| m.created_at_ms));
    out
}

fn run(
    engine: &mut Engine,
    watches: &WatchSet,
    records: &[EnrichedMention],
    from: usize,
) -> Vec<(String, u64, i32)> {
    let mut alerts = Vec::new();
    for (i, e) in records.iter().enumerate() {
        engine
            .observe(e, Some((0, (from + i) as i64)), watches, 0, &mut alerts)
            .unwrap();
    }
    alerts.into_iter().map(|a| (a.id, a.version, a.state)).collect()
}

/// A fresh engine restored from `engine`'s checkpoint, as a restarted instance would be.
fn restarted(engine: &mut Engine) -> Engine {
    let mut second = Engine::default();
    let checkpoint = engine.take_checkpoint();
    assert!(checkpoint.failed.is_empty());
    for (key, bytes) in checkpoint.pieces {
        second.restore(&key, &bytes.unwrap()).unwrap();
    }
    second.restored();
    second
}

#[test]
fn every_rule_type_fires_and_a_restore_mid_stream_changes_nothing() {
    let registry = WatchRegistry::default();
    registry
        .upsert(parse_file(WATCHES, "t").unwrap().remove(0))
        .unwrap();
    let watches = registry.read();
    let records = stream();
    let mut whole = Engine::default();
    let reference = run(&mut whole, &watches, &records, 0);
    for rule in [
        "burst", "spike", "negative", "risky", "newtag", "silence", "overflow", "sla",
    ] {
        assert!(
            reference
                .iter()
                .any(|(id, v, _)| id.contains(&format!(":{rule}:")) && *v == 1),
            "{rule} never fired: {reference:?}"
        );
    }
    // Interrupted at every fifth of the stream: checkpoint, restore into a fresh engine
    // (as a restarted instance would), and replay from a little before the cut (redelivery).
    for cut in [1, 2, 3, 4].map(|k| records.len() * k / 5) {
        let mut first = Engine::default();
        let mut got = run(&mut first, &watches, &records[..cut], 0);
        let mut second = restarted(&mut first);
        let replay_from = cut.saturating_sub(30);
        got.extend(run(&mut second, &watches, &records[replay_from..], replay_from));
        assert_eq!(got, reference, "cut at {cut}");
    }
}

#[test]
fn a_deleted_watch_or_a_changed_rule_resolves_its_open_alerts() {
    let registry = WatchRegistry::default();
    let file = "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nquery = \"acme\"\n[[watch.rule]]\n\
                name = \"burst\"\ntype = \"threshold\"\nmin_count = 3\nwindow = \"1h\"\n";
    let mut watch = parse_file(file, "t").unwrap().remove(0);
    registry.upsert(watch.clone()).unwrap();
    let mut engine = Engine::default();
    let mut alerts = Vec::new();
    for i in 0..3 {
        engine
            .observe(
                &m(&format!("a{i}"), i * MIN).build(),
                None,
                &registry.read(),
                0,
                &mut alerts,
            )
            .unwrap();
    }
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    // The threshold changes: the open alert is resolved, the rule starts afresh.
    if let Some(vigie_core::proto::rule::Kind::Threshold(t)) = &mut watch.rules[0].kind {
        t.min_count = 10;
    }
    watch.updated_at_ms += 1;
    registry.upsert(watch).unwrap();
    engine
        .observe(&m("b", 4 * MIN).build(), None, &registry.read(), 0, &mut alerts)
        .unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[1].state(), AlertState::Resolved);
    assert!(
        alerts[1].summary.contains("the rule changed"),
        "{}",
        alerts[1].summary
    );
    // Fire again, then delete the watch: resolved at the next sweep, piece tombstoned.
    for i in 0..10 {
        engine
            .observe(
                &m(&format!("c{i}"), 5 * MIN + i * 1000).build(),
                None,
                &registry.read(),
                0,
                &mut alerts,
            )
            .unwrap();
    }
    assert_eq!(alerts.len(), 3);
    engine.take_checkpoint();
    registry.remove("acme/w");
    engine
        .observe(
            &m("d", 20 * MIN).watches(&[]).build(),
            None,
            &registry.read(),
            0,
            &mut alerts,
        )
        .unwrap();
    assert_eq!(alerts.len(), 4);
    assert!(alerts[3].summary.contains("the watch was deleted"));
    assert!(engine
        .take_checkpoint()
        .pieces
        .contains(&("acme/w".to_string(), None)));
}

#[test]
fn a_record_with_no_mention_is_refused() {
    let mut engine = Engine::default();
    let mut alerts = Vec::new();
    let err = engine
        .observe(
            &EnrichedMention::default(),
            None,
            &WatchSet::default(),
            0,
            &mut alerts,
        )
        .unwrap_err();
    assert_eq!(err, ObserveError::NoMention);
    assert!(alerts.is_empty() && engine.take_checkpoint().pieces.is_empty());
}

#[test]
fn a_mention_dated_in_the_future_does_not_silence_its_tenant() {
    // Issue 11, item 2: tenants A and B with the same watch (threshold 3 in 10 min); A gets one
    // mention dated 20 h ahead, then both get 5 matching mentions now. Both must alert.
    let registry = WatchRegistry::default();
    for tenant in ["a", "b"] {
        let file = format!(
            "[[watch]]\ntenant = \"{tenant}\"\nid = \"w\"\nquery = \"outage\"\n[[watch.rule]]\n\
             name = \"burst\"\ntype = \"threshold\"\nmin_count = 3\nwindow = \"10m\"\n"
        );
        registry
            .upsert(parse_file(&file, "t").unwrap().remove(0))
            .unwrap();
    }
    let watches = registry.read();
    let now = 1_800_000_000_000i64;
    let mut engine = Engine::default();
    let mut alerts = Vec::new();
    let ahead = m("future", now + 20 * 60 * MIN).tenant("a").received(now).build();
    engine.observe(&ahead, None, &watches, now, &mut alerts).unwrap();
    for i in 0..5 {
        for tenant in ["a", "b"] {
            let e = m(&format!("{tenant}{i}"), now + i * 1000)
                .tenant(tenant)
                .received(now + i * 1000)
                .build();
            engine.observe(&e, None, &watches, now, &mut alerts).unwrap();
        }
    }
    for tenant in ["a", "b"] {
        assert!(
            alerts.iter().any(|a| a.tenant == tenant && a.rule == "burst"),
            "tenant {tenant} never alerted: {alerts:?}"
        );
    }
    assert_eq!(engine.stats().late, 0, "nothing was dropped as late");
    // The future mention moved A's clock by the allowance at most.
    assert!(engine.watermark("a").unwrap() <= now + crate::detector::MAX_AHEAD_MS);
}

#[test]
fn the_brands_message_in_a_private_conversation_answers_it_even_unmatched() {
    // Issue 13: a WhatsApp chat has no parent ids; the brand's next message in the same thread
    // answers every earlier customer message of it, though it does not match the watch's query
    // (and survives a restart in between: the restored reply index holds conversations too).
    let file = "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nquery = \"acme\"\n[[watch.rule]]\n\
                name = \"sla\"\ntype = \"unanswered\"\nsla = \"1h\"\nbrand_authors = [\"acmecare\"]\n";
    let registry = WatchRegistry::default();
    registry.upsert(parse_file(file, "t").unwrap().remove(0)).unwrap();
    let watches = registry.read();
    let dm = |id: &str, at: i64, thread: &str| {
        m(id, at)
            .source(Source::Whatsapp)
            .thread(thread)
            .text("acme my order never came")
    };
    let brand = |id: &str, at: i64, thread: &str| {
        m(id, at)
            .source(Source::Whatsapp)
            .thread(thread)
            .author("acmecare", 0, true)
            .text("Bonjour, nous regardons votre commande")
            .watches(&[])
    };
    let before = [
        dm("c1", 0, "+33600000001"),
        dm("c2", 5 * MIN, "+33600000001"),
        dm("o1", 6 * MIN, "+33600000002"),
        // Traffic moves the clock past the three deadlines.
        m("tick", 70 * MIN),
    ];
    let after = [
        brand("a1", 80 * MIN, "+33600000001"),
        // Answered within the SLA: never fires.
        dm("c3", 90 * MIN, "+33600000003"),
        brand("a3", 100 * MIN, "+33600000003"),
        m("tick2", 200 * MIN),
    ];
    for restart in [false, true] {
        let mut engine = Engine::default();
        let mut alerts = Vec::new();
        let mut position = 0;
        for e in &before {
            engine
                .observe(&e.clone().build(), Some((0, position)), &watches, 0, &mut alerts)
                .unwrap();
            position += 1;
        }
        let fired: Vec<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            fired,
            [
                "acme:w:sla:acme:whatsapp:c1",
                "acme:w:sla:acme:whatsapp:c2",
                "acme:w:sla:acme:whatsapp:o1"
            ]
        );
        if restart {
            engine = restarted(&mut engine);
        }
        alerts.clear();
        for e in &after {
            engine
                .observe(&e.clone().build(), Some((0, position)), &watches, 0, &mut alerts)
                .unwrap();
            position += 1;
        }
        let changes: Vec<(&str, AlertState)> = alerts.iter().map(|a| (a.id.as_str(), a.state())).collect();
        assert_eq!(
            changes,
            [
                ("acme:w:sla:acme:whatsapp:c1", AlertState::Resolved),
                ("acme:w:sla:acme:whatsapp:c2", AlertState::Resolved)
            ],
            "restart: {restart}"
        );
        assert!(
            alerts[0].summary.contains("answered after 80 min"),
            "{}",
            alerts[0].summary
        );
        assert!(
            alerts[1].summary.contains("answered after 75 min"),
            "{}",
            alerts[1].summary
        );
    }
}
