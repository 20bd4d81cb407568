use crate::connectors::signature::{hex, hmac_sha256};
use crate::connectors::webhook::testing::Harness;
use crate::connectors::webhook::Webhook;
use crate::connectors::{build_all, Built};
use axum::http::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use vigie_core::proto::{Kind, Mention, Source, Visibility};

const SECRET: &str = "vigie-test-app-secret";
const TOKEN: &str = "vigie-test-verify-token";

const PAGE_FEED_COMMENT: &[u8] =
    include_bytes!("../../../../testdata/connectors/meta/page_feed_comment.json");
const PAGE_FEED_POST: &[u8] = include_bytes!("../../../../testdata/connectors/meta/page_feed_post.json");
const PAGE_FEED_EDIT_REMOVE_REACTION: &[u8] =
    include_bytes!("../../../../testdata/connectors/meta/page_feed_edit_remove_reaction.json");
const PAGE_RATINGS: &[u8] = include_bytes!("../../../../testdata/connectors/meta/page_ratings.json");
const UNKNOWN_OBJECT: &[u8] = include_bytes!("../../../../testdata/connectors/meta/unknown_object.json");
const MESSENGER_MESSAGE: &[u8] =
    include_bytes!("../../../../testdata/connectors/meta/messenger_message.json");
const MESSENGER_ECHO: &[u8] = include_bytes!("../../../../testdata/connectors/meta/messenger_echo.json");
const MESSENGER_DELIVERY_READ: &[u8] =
    include_bytes!("../../../../testdata/connectors/meta/messenger_delivery_read.json");
const MESSENGER_POSTBACK: &[u8] =
    include_bytes!("../../../../testdata/connectors/meta/messenger_postback.json");
const INSTAGRAM_COMMENT: &[u8] =
    include_bytes!("../../../../testdata/connectors/meta/instagram_comment.json");
const INSTAGRAM_MENTION: &[u8] =
    include_bytes!("../../../../testdata/connectors/meta/instagram_mention.json");
const INSTAGRAM_DM: &[u8] = include_bytes!("../../../../testdata/connectors/meta/instagram_dm.json");

const PAGE: &str = "104857600000001";
const PSID: &str = "6100000000000001";
const IG_ACCOUNT: &str = "17841400000000001";

fn config(extra: &str) -> vigie_core::config::Config {
    toml::from_str(&format!(
        "[[connectors]]\nname = \"fb\"\ntype = \"meta\"\ntenant = \"acme\"\n{extra}\n"
    ))
    .expect("a configuration")
}

/// The connector as `[[connectors]]` builds it.
fn hook() -> Arc<dyn Webhook> {
    let config = config(&format!("app_secret = \"{SECRET}\"\nverify_token = \"{TOKEN}\""));
    match build_all(&config.connectors).expect("built").remove(0).built {
        Built::Push(hook) => hook,
        Built::Pull(_) => panic!("meta is a webhook"),
    }
}

fn sign(body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(SECRET.as_bytes(), body)))
}

/// Serves the connector as `name`, and delivers each of `bodies` signed.
async fn delivered(name: &str, bodies: &[&[u8]]) -> Harness {
    let h = Harness::new(name, "acme", hook());
    for body in bodies {
        let (status, answer) = h.post(&[("x-hub-signature-256", &sign(body))], body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    h
}

fn by_native_id<'m>(mentions: &'m [Mention], native_id: &str) -> &'m Mention {
    mentions
        .iter()
        .find(|m| m.native_id == native_id)
        .unwrap_or_else(|| panic!("no mention {native_id} in {mentions:#?}"))
}

fn author(m: &Mention) -> (&str, &str, &str) {
    let a = m.author.as_ref().expect("an author");
    (&a.id, &a.handle, &a.display_name)
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_configured_token() {
    let h = Harness::new("meta-handshake", "acme", hook());
    let (status, body) = h
        .get(&format!(
            "hub.mode=subscribe&hub.verify_token={TOKEN}&hub.challenge=1158201444"
        ))
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "1158201444"));
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444".to_string(),
        "hub.mode=subscribe&hub.challenge=1158201444".to_string(),
        format!("hub.mode=subscribe&hub.verify_token={TOKEN}x&hub.challenge=1"),
        format!("hub.mode=unsubscribe&hub.verify_token={TOKEN}&hub.challenge=1"),
        format!("hub.mode=subscribe&hub.verify_token={TOKEN}"),
    ] {
        let (status, body) = h.get(&query).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{query}: {body}");
        assert!(!body.contains(TOKEN), "the token is never answered: {body}");
    }
    let metrics = vigie_core::metrics::render();
    for line in [
        "vigie_connector_refused_total{connector=\"meta-handshake\",reason=\"bad_verify_token\"} 3",
        "vigie_connector_refused_total{connector=\"meta-handshake\",reason=\"bad_handshake\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn deliveries_are_verified_on_the_raw_body() {
    // Computed apart: python3 -c 'import hmac,hashlib;print(hmac.new(b"vigie-test-app-secret",
    // open("testdata/connectors/meta/page_feed_comment.json","rb").read(), hashlib.sha256).hexdigest())'
    let expected = "sha256=e8656cb83021d83280fdab102883bcf0c73dc85f9a3ade377a768f71391b724a";
    assert_eq!(sign(PAGE_FEED_COMMENT), expected);

    let h = Harness::new("meta-signature", "acme", hook());
    let mut changed = PAGE_FEED_COMMENT.to_vec();
    let at = changed.iter().position(|b| *b == b'?').expect("a question mark");
    changed[at] = b'!';
    for headers in [
        vec![("x-hub-signature-256", expected)],
        vec![("X-Hub-Signature-256", "sha256=00")],
        vec![("x-hub-signature-256", "sha256=not-hex")],
        vec![(
            "x-hub-signature-256",
            "e8656cb83021d83280fdab102883bcf0c73dc85f9a3ade377a768f71391b724a",
        )],
    ] {
        let (status, body) = h.post(&headers, &changed).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}: {body}");
    }
    for headers in [vec![], vec![("x-hub-signature", "sha1=0123")]] {
        let (status, body) = h.post(&headers, PAGE_FEED_COMMENT).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}: {body}");
    }
    assert!(h.mentions().is_empty() && h.dead_letters().is_empty());

    let (status, body) = h
        .post(
            &[(
                "X-Hub-Signature-256",
                &expected.to_uppercase().replace("SHA256=", "sha256="),
            )],
            PAGE_FEED_COMMENT,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"accepted\":2"), "{body}");
    let metrics = vigie_core::metrics::render();
    for line in [
        "vigie_connector_refused_total{connector=\"meta-signature\",reason=\"bad_signature\"} 4",
        "vigie_connector_refused_total{connector=\"meta-signature\",reason=\"missing_signature\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn page_comments_and_replies_are_public_facebook_mentions_threaded_by_post() {
    let h = delivered("meta-feed-comment", &[PAGE_FEED_COMMENT]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 2);
    let post = "104857600000001_880000000000001";
    let permalink = "https://www.facebook.com/acmefrance/posts/pfbid0FakePermalinkForTests";

    let comment = by_native_id(&mentions, "880000000000001_990000000000001");
    assert_eq!(comment.tenant, "acme");
    assert_eq!(comment.source, Source::Facebook as i32);
    assert_eq!(comment.visibility, Visibility::Public as i32);
    assert_eq!(comment.kind, Kind::Comment as i32);
    assert_eq!(
        comment.text,
        "Toujours pas remboursée après 3 semaines, c'est normal ?"
    );
    assert_eq!(
        author(comment),
        ("7240000000000001", "7240000000000001", "Camille Martin")
    );
    assert_eq!(comment.parent_id, post);
    assert_eq!(comment.thread_id, post);
    assert_eq!(comment.created_at_ms, 1_718_013_590_000);
    assert_eq!(comment.url, permalink);
    assert_eq!(comment.id, "acme:facebook:880000000000001_990000000000001");

    let reply = by_native_id(&mentions, "880000000000001_990000000000002");
    assert_eq!(reply.kind, Kind::Reply as i32, "its parent is a comment");
    assert_eq!(reply.parent_id, "880000000000001_990000000000001");
    assert_eq!(reply.thread_id, post);
    assert_eq!(author(reply), (PAGE, PAGE, "Acme France"));
    assert_eq!(reply.created_at_ms, 1_718_014_000_000);
    assert!(h.dead_letters().is_empty());
}

#[tokio::test]
async fn page_posts_are_mapped_with_a_placeholder_when_they_have_no_message() {
    let h = delivered("meta-feed-post", &[PAGE_FEED_POST]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 2);
    let status = by_native_id(&mentions, "104857600000001_880000000000002");
    assert_eq!(status.kind, Kind::Post as i32);
    assert_eq!(status.source, Source::Facebook as i32);
    assert_eq!(status.visibility, Visibility::Public as i32);
    assert_eq!(
        status.text,
        "Troisième colis perdu ce mois-ci. Je ne commanderai plus chez vous."
    );
    assert_eq!(
        author(status),
        ("7240000000000002", "7240000000000002", "Julien Petit")
    );
    assert_eq!(status.thread_id, "104857600000001_880000000000002");
    assert_eq!(status.parent_id, "");
    assert_eq!(status.created_at_ms, 1_718_020_000_000);

    let photo = by_native_id(&mentions, "104857600000001_880000000000003");
    assert_eq!(photo.kind, Kind::Post as i32);
    assert_eq!(photo.text, "[photo]");
    assert_eq!(author(photo).0, PAGE);
}

#[tokio::test]
async fn edits_are_new_mentions_while_removals_and_reactions_are_ignored_and_counted() {
    let h = delivered(
        "meta-feed-edit",
        &[PAGE_FEED_EDIT_REMOVE_REACTION, PAGE_FEED_EDIT_REMOVE_REACTION],
    )
    .await;
    let mentions = h.mentions();
    assert_eq!(
        mentions.len(),
        1,
        "the repeated delivery is a duplicate: {mentions:#?}"
    );
    let edit = &mentions[0];
    assert_eq!(
        edit.native_id,
        "880000000000001_990000000000001:edit:1718017200000"
    );
    assert_eq!(edit.kind, Kind::Comment as i32);
    assert!(edit.text.contains("porter plainte"), "{}", edit.text);
    assert_eq!(edit.created_at_ms, 1_718_017_200_000, "when it was edited");
    assert_eq!(edit.parent_id, "104857600000001_880000000000001");
    assert_eq!(edit.thread_id, "104857600000001_880000000000001");
    assert!(h.dead_letters().is_empty());
    let metrics = vigie_core::metrics::render();
    for line in [
        "vigie_connector_ignored_total{connector=\"meta-feed-edit\",event=\"remove\"} 2",
        "vigie_connector_ignored_total{connector=\"meta-feed-edit\",event=\"reaction\"} 2",
        "vigie_connector_duplicates_total{connector=\"meta-feed-edit\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn undated_edits_are_each_a_mention_of_their_own() {
    // Without the entry's time, each edit is named by its words: a second edit is not taken for
    // a duplicate of the first (as it was when both fell back to the comment's created_time).
    let edit = |words: &str| {
        let mut delivery: Value = serde_json::from_slice(PAGE_FEED_EDIT_REMOVE_REACTION).unwrap();
        let entry = delivery["entry"][0].as_object_mut().unwrap();
        entry.remove("time");
        entry["changes"][0]["value"]["message"] = words.into();
        delivery.to_string().into_bytes()
    };
    let (first, second) = (edit("Toujours rien."), edit("Remboursée, merci."));
    let h = delivered("meta-feed-undated", &[&first, &second, &second]).await;
    let mentions = h.mentions();
    assert_eq!(
        mentions.len(),
        2,
        "two wordings, the retry a duplicate: {mentions:#?}"
    );
    let prefix = "880000000000001_990000000000001:edit:";
    for m in &mentions {
        assert!(
            m.native_id.starts_with(prefix) && m.native_id.len() == prefix.len() + 16,
            "{}",
            m.native_id
        );
        assert!(
            m.created_at_ms > 1_718_013_590_000,
            "dated at reception, not at the comment's creation"
        );
    }
    assert_ne!(mentions[0].native_id, mentions[1].native_id);
    assert_eq!(mentions[1].text, "Remboursée, merci.");
}

#[tokio::test]
async fn a_messenger_message_and_the_pages_echo_share_the_conversation() {
    let h = delivered("meta-messenger", &[MESSENGER_MESSAGE, MESSENGER_ECHO]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 3);
    let thread = format!("{PAGE}:{PSID}");

    let question = by_native_id(&mentions, "m_FakeMessengerMidCustomer0001");
    assert_eq!(question.source, Source::Messenger as i32);
    assert_eq!(question.visibility, Visibility::Private as i32);
    assert_eq!(question.kind, Kind::DirectMessage as i32);
    assert_eq!(author(question), (PSID, PSID, ""));
    assert_eq!(question.thread_id, thread);
    assert_eq!(question.created_at_ms, 1_718_031_000_000);
    assert!(question.text.starts_with("Bonjour, ma commande 12345"));
    assert_eq!(question.parent_id, "");

    let photo = by_native_id(&mentions, "m_FakeMessengerMidCustomer0002");
    assert_eq!(
        photo.text, "[image]",
        "an attachment only: still a customer waiting"
    );
    assert_eq!(photo.thread_id, thread);
    assert_eq!(author(photo).0, PSID);

    let echo = by_native_id(&mentions, "m_FakeMessengerMidPage0001");
    assert_eq!(echo.source, Source::Messenger as i32);
    assert_eq!(echo.visibility, Visibility::Private as i32);
    assert_eq!(echo.kind, Kind::DirectMessage as i32);
    assert_eq!(author(echo), (PAGE, PAGE, ""), "the page wrote it");
    assert_eq!(
        echo.thread_id, question.thread_id,
        "the same conversation both ways"
    );
    assert_eq!(echo.parent_id, "m_FakeMessengerMidCustomer0001");
    assert_eq!(echo.created_at_ms, 1_718_031_600_000);
}

#[tokio::test]
async fn delivery_read_and_reaction_events_are_ignored_and_counted() {
    let h = Harness::new("meta-receipts", "acme", hook());
    let (status, body) = h
        .post(
            &[("x-hub-signature-256", &sign(MESSENGER_DELIVERY_READ))],
            MESSENGER_DELIVERY_READ,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("\"accepted\":0") && body.contains("\"deadlettered\":0"),
        "{body}"
    );
    assert!(h.mentions().is_empty() && h.dead_letters().is_empty());
    let metrics = vigie_core::metrics::render();
    for event in ["delivery", "read", "reaction"] {
        let line =
            format!("vigie_connector_ignored_total{{connector=\"meta-receipts\",event=\"{event}\"}} 1");
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn instagram_comments_and_replies_are_public_and_threaded_by_media() {
    let h = delivered("meta-ig-comment", &[INSTAGRAM_COMMENT]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 2);
    let media = "17900000000000001";

    let comment = by_native_id(&mentions, "17860000000000001");
    assert_eq!(comment.source, Source::Instagram as i32);
    assert_eq!(comment.visibility, Visibility::Public as i32);
    assert_eq!(comment.kind, Kind::Comment as i32);
    assert_eq!(comment.text, "Le produit est arrivé cassé, qui peut m'aider ?");
    assert_eq!(author(comment), ("17850000000000001", "lea.dupont", ""));
    assert_eq!(comment.parent_id, media);
    assert_eq!(comment.thread_id, media);
    assert_eq!(comment.created_at_ms, 1_718_040_000_000, "the entry's time");

    let reply = by_native_id(&mentions, "17860000000000002");
    assert_eq!(reply.kind, Kind::Reply as i32);
    assert_eq!(reply.parent_id, "17860000000000001");
    assert_eq!(reply.thread_id, media);
    assert_eq!(author(reply), (IG_ACCOUNT, "acme_france", ""));
}

#[tokio::test]
async fn instagram_mentions_are_mapped_with_a_placeholder_naming_the_ids() {
    let h = delivered("meta-ig-mention", &[INSTAGRAM_MENTION]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 2);
    let in_comment = by_native_id(&mentions, "mention:17860000000000099");
    assert_eq!(in_comment.source, Source::Instagram as i32);
    assert_eq!(in_comment.visibility, Visibility::Public as i32);
    assert_eq!(in_comment.kind, Kind::Comment as i32);
    assert_eq!(in_comment.parent_id, "17900000000000099");
    assert_eq!(in_comment.thread_id, "17900000000000099");
    assert!(
        in_comment
            .text
            .contains("comment 17860000000000099 on media 17900000000000099")
            && in_comment.text.contains("does not carry the text"),
        "{}",
        in_comment.text
    );
    assert_eq!(in_comment.author, None);
    assert_eq!(in_comment.created_at_ms, 1_718_041_000_000);

    let in_caption = by_native_id(&mentions, "mention:17900000000000098");
    assert_eq!(in_caption.kind, Kind::Post as i32);
    assert!(
        in_caption.text.contains("caption of media 17900000000000098"),
        "{}",
        in_caption.text
    );
    assert_eq!(in_caption.thread_id, "17900000000000098");
}

#[tokio::test]
async fn instagram_direct_messages_and_echoes_share_the_conversation() {
    let h = delivered("meta-ig-dm", &[INSTAGRAM_DM]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 3);
    let customer = "1122334455667788";
    let thread = format!("{IG_ACCOUNT}:{customer}");
    for m in &mentions {
        assert_eq!(m.source, Source::Instagram as i32);
        assert_eq!(m.visibility, Visibility::Private as i32);
        assert_eq!(m.kind, Kind::DirectMessage as i32);
        assert_eq!(m.thread_id, thread);
    }
    let question = by_native_id(
        &mentions,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOkZha2VDdXN0b21lcjAwMDEZD",
    );
    assert_eq!(author(question), (customer, customer, ""));
    assert_eq!(
        question.text,
        "Bonjour, je n'arrive plus à me connecter à mon compte Acme."
    );
    assert_eq!(question.created_at_ms, 1_718_050_000_000);
    let story = by_native_id(
        &mentions,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOkZha2VDdXN0b21lcjAwMDIZD",
    );
    assert_eq!(story.text, "[story_mention]");
    let echo = by_native_id(
        &mentions,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOkZha2VCcmFuZDAwMDEZD",
    );
    assert_eq!(author(echo), (IG_ACCOUNT, IG_ACCOUNT, ""));
    assert_eq!(echo.created_at_ms, 1_718_050_300_000);
}

#[tokio::test]
async fn what_is_not_understood_is_dead_lettered_with_its_bytes() {
    let not_json: &[u8] = b"{\"object\": \"page\", \"entry\": [";
    let h = delivered(
        "meta-unknown",
        &[
            UNKNOWN_OBJECT,
            PAGE_RATINGS,
            MESSENGER_POSTBACK,
            not_json,
            b"{\"object\":\"page\"}",
        ],
    )
    .await;
    assert!(h.mentions().is_empty());
    let letters = h.dead_letters();
    assert_eq!(letters.len(), 5, "{letters:#?}");
    assert!(letters
        .iter()
        .all(|l| l.stage == "connector:meta-unknown" && l.tenant == "acme"));

    let object = letters
        .iter()
        .find(|l| l.field.ends_with("object"))
        .expect("the unknown object");
    assert_eq!(object.original, UNKNOWN_OBJECT, "the body as received");
    assert!(object.reason.contains("\"permissions\""), "{}", object.reason);

    let ratings = letters
        .iter()
        .find(|l| l.reason.contains("\"ratings\""))
        .expect("the ratings change");
    let original: Value = serde_json::from_slice(&ratings.original).expect("JSON");
    let delivery: Value = serde_json::from_slice(PAGE_RATINGS).expect("JSON");
    assert_eq!(original, delivery, "the one-event delivery, as it came");

    let postback = letters
        .iter()
        .find(|l| l.reason.contains("postback"))
        .expect("the postback");
    let original: Value = serde_json::from_slice(&postback.original).expect("JSON");
    assert_eq!(original["entry"][0]["id"], PAGE);
    assert_eq!(
        original["entry"][0]["messaging"][0]["postback"]["payload"],
        "AGENT"
    );

    assert!(letters
        .iter()
        .any(|l| l.original == not_json && l.reason.starts_with("not JSON")));
    assert!(letters
        .iter()
        .any(|l| l.original == b"{\"object\":\"page\"}" && l.reason.contains("no entry array")));
}

#[test]
fn the_configuration_names_the_key_at_fault() {
    let e = build_all(&config(&format!("app_secret = \"{SECRET}\"")).connectors)
        .err()
        .expect("no verify_token")
        .to_string();
    assert!(e.starts_with("connectors[0] (fb).verify_token: required"), "{e}");
    let e = build_all(
        &config(&format!(
            "app_secret = \"{SECRET}\"\nverify_token = \"{TOKEN}\"\npage_id = \"{PAGE}\""
        ))
        .connectors,
    )
    .err()
    .expect("an unknown key")
    .to_string();
    assert!(e.starts_with("connectors[0] (fb).page_id: unknown key"), "{e}");
    assert!(
        e.contains("app_secret, app_secret_env, verify_token, verify_token_env"),
        "{e}"
    );
}

#[test]
fn moderation_unsent_messages_media_only_comments_and_standby_entries() {
    let body = serde_json::json!({
        "object": "page",
        "entry": [
            {"id": PAGE, "time": 1718090000, "changes": [
                {"field": "feed", "value": {"item": "comment", "verb": "hide", "post_id": "1_2", "comment_id": "2_3"}},
                {"field": "feed", "value": {"item": "comment", "verb": "add", "post_id": "1_2", "comment_id": "2_4",
                    "parent_id": "1_2", "created_time": 1718090000, "photo": "https://scontent.xx.fbcdn.net/v/fake.jpg",
                    "from": {"id": "7240000000000006"}}},
                {"field": "feed", "value": {"item": "comment", "verb": "add", "post_id": "1_2", "comment_id": "2_5"}},
                {"field": "feed", "value": {"item": "comment", "verb": "block", "post_id": "1_2"}}
            ]},
            {"id": PAGE, "time": 1718090001000_i64, "messaging": [
                {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1718090001000_i64,
                 "message": {"mid": "m_unsent", "is_deleted": true}},
                {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1718090002000_i64,
                 "message": {"mid": "m_unsupported", "is_unsupported": true}}
            ]},
            {"id": PAGE, "time": 1718090003000_i64, "standby": [{"sender": {"id": PSID}}]}
        ]
    });
    let mapped = super::map(body.to_string().as_bytes());
    assert_eq!(mapped.ignored, ["hide", "unsend"]);
    type Item<'a> = Result<(&'a str, &'a str), (&'a str, &'a str)>;
    let items: Vec<Item> = mapped
        .items
        .iter()
        .map(|m| match &m.item {
            Ok(m) => Ok((m.native_id.as_str(), m.text.as_str())),
            Err(e) => Err((e.field.as_str(), e.reason.as_str())),
        })
        .collect();
    assert_eq!(items[0], Ok(("2_4", "[photo]")));
    assert_eq!(
        items[1],
        Err((
            "changes.value.message",
            "a feed comment without message, photo or video"
        ))
    );
    assert!(
        matches!(items[2], Err(("changes.value.verb", reason)) if reason.contains("\"block\"")),
        "{items:?}"
    );
    assert_eq!(items[3], Ok(("m_unsupported", "[unsupported]")));
    assert!(
        matches!(items[4], Err(("entry", reason)) if reason.contains("(it has standby)")),
        "{items:?}"
    );
    assert_eq!(items.len(), 5);
}
