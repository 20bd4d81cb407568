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

const TEXT_MESSAGE: &[u8] = include_bytes!("../../../../testdata/connectors/whatsapp/text_message.json");
const IMAGE_WITH_CAPTION: &[u8] =
    include_bytes!("../../../../testdata/connectors/whatsapp/image_with_caption.json");
const STATUSES: &[u8] = include_bytes!("../../../../testdata/connectors/whatsapp/statuses.json");
const OTHER_TYPES: &[u8] = include_bytes!("../../../../testdata/connectors/whatsapp/other_types.json");
const SMB_MESSAGE_ECHO: &[u8] =
    include_bytes!("../../../../testdata/connectors/whatsapp/smb_message_echo.json");
const UNKNOWN_FIELD: &[u8] = include_bytes!("../../../../testdata/connectors/whatsapp/unknown_field.json");

const PHONE_NUMBER_ID: &str = "106540352242922";
const CUSTOMER: &str = "33612345678";

fn config(extra: &str) -> vigie_core::config::Config {
    toml::from_str(&format!(
        "[[connectors]]\nname = \"acme-wa\"\ntype = \"whatsapp\"\ntenant = \"acme\"\n{extra}\n"
    ))
    .expect("a configuration")
}

/// The connector as `[[connectors]]` builds it, its secret read from the environment.
fn hook() -> Arc<dyn Webhook> {
    std::env::set_var("VIGIE_TEST_WHATSAPP_APP_SECRET", SECRET);
    let config = config(&format!(
        "app_secret_env = \"VIGIE_TEST_WHATSAPP_APP_SECRET\"\nverify_token = \"{TOKEN}\""
    ));
    match build_all(&config.connectors).expect("built").remove(0).built {
        Built::Push(hook) => hook,
        Built::Pull(_) => panic!("whatsapp is a webhook"),
    }
}

fn sign(body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(SECRET.as_bytes(), body)))
}

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

fn private_message(m: &Mention) {
    assert_eq!(m.tenant, "acme");
    assert_eq!(m.source, Source::Whatsapp as i32);
    assert_eq!(m.visibility, Visibility::Private as i32);
    assert_eq!(m.kind, Kind::DirectMessage as i32);
}

#[tokio::test]
async fn the_handshake_and_the_signature_are_metas() {
    let h = Harness::new("wa-auth", "acme", hook());
    let (status, body) = h
        .get(&format!(
            "hub.mode=subscribe&hub.verify_token={TOKEN}&hub.challenge=CHALLENGE_ACCEPTED"
        ))
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "CHALLENGE_ACCEPTED"));
    let (status, _) = h
        .get("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=CHALLENGE_ACCEPTED")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Computed apart: python3 -c 'import hmac,hashlib;print(hmac.new(b"vigie-test-app-secret",
    // open("testdata/connectors/whatsapp/text_message.json","rb").read(), hashlib.sha256).hexdigest())'
    let expected = "sha256=0702a9ccdb5a349b4cf5d9e1a14268ef87d37fe4d6bbcdaa2e14a4a00f243948";
    assert_eq!(sign(TEXT_MESSAGE), expected);
    let mut changed = TEXT_MESSAGE.to_vec();
    let at = changed
        .iter()
        .position(|b| *b == b'!')
        .expect("an exclamation mark");
    changed[at] = b'?';
    let (status, _) = h.post(&[("x-hub-signature-256", expected)], &changed).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "one byte changed");
    let (status, _) = h.post(&[], TEXT_MESSAGE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no signature");
    assert!(h.mentions().is_empty());
    let (status, body) = h.post(&[("x-hub-signature-256", expected)], TEXT_MESSAGE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(h.mentions().len(), 1);

    let metrics = vigie_core::metrics::render();
    for line in [
        "vigie_connector_refused_total{connector=\"wa-auth\",reason=\"bad_verify_token\"} 1",
        "vigie_connector_refused_total{connector=\"wa-auth\",reason=\"bad_signature\"} 1",
        "vigie_connector_refused_total{connector=\"wa-auth\",reason=\"missing_signature\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_text_message_is_a_private_message_of_the_customers_conversation() {
    let h = delivered("wa-text", &[TEXT_MESSAGE]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 1);
    let m = &mentions[0];
    private_message(m);
    assert_eq!(
        m.native_id,
        "wamid.HBgLMzM2MTIzNDU2NzgVAgASGBRGQUtFMDAwMDAwMDAwMDAwMDAwMQA="
    );
    assert_eq!(author(m), (CUSTOMER, CUSTOMER, "Kévin Roux"));
    assert_eq!(
        m.text,
        "Bonjour, mon abonnement a été débité deux fois ce mois-ci !"
    );
    assert_eq!(m.thread_id, format!("{PHONE_NUMBER_ID}:{CUSTOMER}"));
    assert_eq!(m.created_at_ms, 1_718_060_000_000);
    assert_eq!(m.parent_id, "");
    assert_eq!(m.id, format!("acme:whatsapp:{}", m.native_id));
}

#[tokio::test]
async fn an_image_is_mapped_by_its_caption_and_a_reply_keeps_its_context() {
    let h = delivered("wa-image", &[IMAGE_WITH_CAPTION]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 1);
    let m = &mentions[0];
    private_message(m);
    assert_eq!(m.text, "Voici la capture de mon relevé bancaire");
    assert_eq!(
        m.parent_id,
        "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBRGQUtFQlVTSU5FU1MwMDAwMDAwMQA="
    );
    assert_eq!(m.thread_id, format!("{PHONE_NUMBER_ID}:{CUSTOMER}"));
    assert_eq!(m.created_at_ms, 1_718_060_120_000);
    assert_eq!(author(m), (CUSTOMER, CUSTOMER, "Kévin Roux"));
}

#[tokio::test]
async fn statuses_are_ignored_and_counted() {
    let h = delivered("wa-statuses", &[STATUSES]).await;
    assert!(h.mentions().is_empty() && h.dead_letters().is_empty());
    let metrics = vigie_core::metrics::render();
    let line = "vigie_connector_ignored_total{connector=\"wa-statuses\",event=\"statuses\"} 4";
    assert!(metrics.contains(line), "{line} in\n{metrics}");
}

#[tokio::test]
async fn other_types_get_placeholders_reactions_are_ignored_and_unknown_types_dead_lettered() {
    let h = delivered("wa-types", &[OTHER_TYPES]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 3, "{mentions:#?}");
    let texts: Vec<(&str, &str)> = mentions
        .iter()
        .map(|m| (m.native_id.as_str(), m.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (
                "wamid.HBgLMzM2OTg3NjU0MzIVAgASGBRGQUtFMDAwMDAwMDAwMDAwMDAwMgA=",
                "[voice]"
            ),
            (
                "wamid.HBgLMzM2OTg3NjU0MzIVAgASGBRGQUtFMDAwMDAwMDAwMDAwMDAwMwA=",
                "Parler à un conseiller"
            ),
            (
                "wamid.HBgLMzM2OTg3NjU0MzIVAgASGBRGQUtFMDAwMDAwMDAwMDAwMDAwNAA=",
                "[unsupported]"
            ),
        ]
    );
    for m in &mentions {
        private_message(m);
        assert_eq!(author(m), ("33698765432", "33698765432", "Sarah Benali"));
        assert_eq!(m.thread_id, format!("{PHONE_NUMBER_ID}:33698765432"));
    }
    let letters = h.dead_letters();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.stage, "connector:wa-types");
    assert_eq!(letter.tenant, "acme");
    assert!(letter.field.ends_with("].messages.type"), "{}", letter.field);
    assert!(letter.reason.contains("\"hologram\""), "{}", letter.reason);
    let original: Value = serde_json::from_slice(&letter.original).expect("JSON");
    let value = &original["entry"][0]["changes"][0]["value"];
    assert_eq!(original["object"], "whatsapp_business_account");
    assert_eq!(value["metadata"]["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(value["contacts"][0]["wa_id"], "33698765432");
    assert_eq!(value["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(value["messages"][0]["type"], "hologram");
    let metrics = vigie_core::metrics::render();
    let line = "vigie_connector_ignored_total{connector=\"wa-types\",event=\"reaction\"} 1";
    assert!(metrics.contains(line), "{line} in\n{metrics}");
}

#[tokio::test]
async fn the_business_apps_echo_answers_in_the_customers_conversation() {
    let h = delivered("wa-echo", &[TEXT_MESSAGE, SMB_MESSAGE_ECHO]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 2);
    let question = by_native_id(
        &mentions,
        "wamid.HBgLMzM2MTIzNDU2NzgVAgASGBRGQUtFMDAwMDAwMDAwMDAwMDAwMQA=",
    );
    let answer = by_native_id(
        &mentions,
        "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBRGQUtFQlVTSU5FU1MwMDAwMDAwMgA=",
    );
    private_message(answer);
    assert_eq!(
        author(answer),
        (PHONE_NUMBER_ID, "33180000000", ""),
        "the business wrote it"
    );
    assert_eq!(
        answer.thread_id, question.thread_id,
        "the same conversation both ways"
    );
    assert_eq!(answer.created_at_ms, 1_718_060_300_000);
    assert!(answer.text.contains("remboursé"), "{}", answer.text);
}

#[tokio::test]
async fn a_contact_written_otherwise_names_the_customer_but_the_thread_is_from() {
    // The only contact's wa_id differs from from (as numbers whose WhatsApp id drops or adds a
    // digit): the message is still the conversation the echo, sent `to` from, answers in.
    let mut delivery: Value = serde_json::from_slice(TEXT_MESSAGE).unwrap();
    delivery["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "336012345678".into();
    let question = delivery.to_string().into_bytes();
    let h = delivered("wa-contact", &[&question, SMB_MESSAGE_ECHO]).await;
    let mentions = h.mentions();
    assert_eq!(mentions.len(), 2);
    let question = by_native_id(
        &mentions,
        "wamid.HBgLMzM2MTIzNDU2NzgVAgASGBRGQUtFMDAwMDAwMDAwMDAwMDAwMQA=",
    );
    let answer = by_native_id(
        &mentions,
        "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBRGQUtFQlVTSU5FU1MwMDAwMDAwMgA=",
    );
    assert_eq!(author(question), (CUSTOMER, CUSTOMER, "Kévin Roux"));
    assert_eq!(question.thread_id, format!("{PHONE_NUMBER_ID}:{CUSTOMER}"));
    assert_eq!(answer.thread_id, question.thread_id);
}

#[tokio::test]
async fn unknown_fields_objects_and_bodies_are_dead_lettered_with_their_bytes() {
    let other_object: &[u8] = br#"{"object":"page","entry":[]}"#;
    let h = delivered("wa-unknown", &[UNKNOWN_FIELD, other_object, b"not json"]).await;
    assert!(h.mentions().is_empty());
    let letters = h.dead_letters();
    assert_eq!(letters.len(), 3, "{letters:#?}");
    assert!(letters
        .iter()
        .all(|l| l.stage == "connector:wa-unknown" && l.tenant == "acme"));
    let field = letters
        .iter()
        .find(|l| l.field.ends_with("changes.field"))
        .expect("the unknown field");
    assert!(
        field.reason.contains("message_template_status_update"),
        "{}",
        field.reason
    );
    let original: Value = serde_json::from_slice(&field.original).expect("JSON");
    assert_eq!(
        original,
        serde_json::from_slice::<Value>(UNKNOWN_FIELD).expect("JSON")
    );
    assert!(letters
        .iter()
        .any(|l| l.field.ends_with("object") && l.original == other_object));
    assert!(letters
        .iter()
        .any(|l| l.original == b"not json" && l.reason.starts_with("not JSON")));
}

#[test]
fn connectors_config_reads_the_secret_from_the_environment_and_refuses_unknown_keys() {
    std::env::set_var("VIGIE_TEST_WHATSAPP_APP_SECRET", SECRET);
    std::env::set_var("VIGIE_TEST_WHATSAPP_VERIFY_TOKEN", TOKEN);
    let built = build_all(
        &config(
            "app_secret_env = \"VIGIE_TEST_WHATSAPP_APP_SECRET\"\n\
             verify_token_env = \"VIGIE_TEST_WHATSAPP_VERIFY_TOKEN\"",
        )
        .connectors,
    )
    .expect("built");
    assert_eq!(
        (
            built[0].name.as_str(),
            built[0].kind.as_str(),
            built[0].tenant.as_str()
        ),
        ("acme-wa", "whatsapp", "acme")
    );
    assert!(matches!(built[0].built, Built::Push(_)));

    let e = build_all(
        &config(&format!(
            "app_secret_env = \"VIGIE_TEST_WHATSAPP_APP_SECRET\"\nverify_token = \"{TOKEN}\"\nphone_number_id = \"{PHONE_NUMBER_ID}\""
        ))
        .connectors,
    )
    .err()
    .expect("an unknown key")
    .to_string();
    assert!(
        e.starts_with("connectors[0] (acme-wa).phone_number_id: unknown key"),
        "{e}"
    );
    assert!(
        e.contains("app_secret, app_secret_env, verify_token, verify_token_env"),
        "{e}"
    );

    let e = build_all(&config(&format!("verify_token = \"{TOKEN}\"")).connectors)
        .err()
        .expect("no app secret")
        .to_string();
    assert!(
        e.starts_with("connectors[0] (acme-wa).app_secret: required"),
        "{e}"
    );
}

#[test]
fn every_documented_type_has_a_text_and_errors_and_empty_changes_are_dead_lettered() {
    let message = |kind: &str, content: Value| {
        let mut m = serde_json::json!({"from": CUSTOMER, "id": format!("wamid.{kind}"), "timestamp": "1718090000", "type": kind});
        m[kind] = content;
        m
    };
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [
            {"field": "messages", "value": {
                "metadata": {"display_phone_number": "33180000000", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Kévin Roux"}, "wa_id": CUSTOMER}],
                "messages": [
                    message("document", serde_json::json!({"filename": "facture.pdf", "id": "1"})),
                    message("video", serde_json::json!({"caption": "la vidéo du colis", "id": "2"})),
                    message("sticker", serde_json::json!({"id": "3"})),
                    message("location", serde_json::json!({"latitude": 48.85, "longitude": 2.35, "name": "Magasin Acme", "address": "1 rue de Rivoli"})),
                    message("contacts", serde_json::json!([{"name": {"formatted_name": "Service client"}}])),
                    message("button", serde_json::json!({"payload": "STOP", "text": "Arrêter les promotions"})),
                    message("interactive", serde_json::json!({"type": "list_reply", "list_reply": {"id": "r", "title": "Remboursement"}})),
                    message("order", serde_json::json!({"catalog_id": "9", "product_items": []})),
                    message("system", serde_json::json!({"body": "Le numéro a changé", "type": "user_changed_number"})),
                    message("text", serde_json::json!({"body": "   "}))
                ]
            }},
            {"field": "messages", "value": {
                "metadata": {"display_phone_number": "33180000000", "phone_number_id": PHONE_NUMBER_ID},
                "errors": [{"code": 131000, "title": "Something went wrong"}]
            }},
            {"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_NUMBER_ID}}},
            {"field": "messages", "value": {"messages": [message("text", serde_json::json!({"body": "hi"}))]}}
        ]}]
    });
    let mapped = super::map(body.to_string().as_bytes());
    assert_eq!(mapped.ignored, ["system"]);
    let items: Vec<Result<&str, (&str, &str)>> = mapped
        .items
        .iter()
        .map(|m| match &m.item {
            Ok(m) => Ok(m.text.as_str()),
            Err(e) => Err((e.field.as_str(), e.reason.as_str())),
        })
        .collect();
    assert_eq!(
        items,
        [
            Ok("[document]"),
            Ok("la vidéo du colis"),
            Ok("[sticker]"),
            Ok("[location] Magasin Acme 1 rue de Rivoli"),
            Ok("[contacts]"),
            Ok("Arrêter les promotions"),
            Ok("Remboursement"),
            Ok("[order]"),
            Err(("messages.text", "a text message without text")),
            Err((
                "changes.value.errors",
                "WhatsApp reported errors: 131000 Something went wrong"
            )),
            Err((
                "changes.value",
                "a messages change with none of messages, statuses, errors"
            )),
            Err((
                "changes.value.metadata.phone_number_id",
                "a change without metadata.phone_number_id"
            )),
        ]
    );
}
