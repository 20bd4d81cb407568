//! The `meta` connector: Meta's Graph API webhooks for a Facebook Page (its feed and its
//! Messenger conversations) and an Instagram professional account (comments, @mentions and
//! direct messages), served at `/v1/webhooks/{name}`.
//!
//! Keys: `app_secret` (the Meta app's secret, which signs every delivery) and `verify_token`
//! (the token typed in the app's webhook settings), each also as `*_env`.
//!
//! - `GET`: `hub.mode=subscribe` with `hub.verify_token` equal (constant time) to the configured
//!   token is answered with `hub.challenge` (text/plain); anything else is 403 (counted as
//!   `bad_verify_token`, or `bad_handshake` for a wrong mode or no challenge).
//! - `POST`: `X-Hub-Signature-256: sha256=<hex>` must be the HMAC-SHA256 of the raw body under
//!   `app_secret`, compared in constant time; missing is 401 `missing_signature` (the SHA-1
//!   `X-Hub-Signature` alone is not accepted), wrong or malformed is 401 `bad_signature`.
//!
//! Mapped (the tenant is the connector's; each event's original, kept with its dead letter when
//! it is refused, is that one event wrapped as a delivery of its own: object, entry id and time,
//! deliverable again as it is):
//! - object `page`, `entry[].changes[]` with `field: "feed"` (source facebook, public), verb
//!   `add`:
//!   - item `comment`: kind comment, or reply when `parent_id` is another comment (it is the
//!     post id for a top-level comment); native_id = `comment_id`, parent_id = `parent_id`,
//!     thread_id = `post_id`, text = `message` (`[photo]` / `[video]` for a comment that is only
//!     that), author = `from` (id, handle = the id, display_name = name), created_at =
//!     `created_time`, url = `post.permalink_url` when Meta includes it (the post's: Meta gives
//!     no comment permalink);
//!   - items `post`, `status`, `photo`, `video`, `share`: kind post, native_id = thread_id =
//!     `post_id`, text = `message` or `[photo]` / `[video]` / `[share]` when there is none;
//!   - verb `edited` (or `edit`, `update`): a new mention with the new text, native id
//!     `<id>:edit:<edit time, Unix ms>` (the edit time is the entry's `time`; without one,
//!     `<id>:edit:<16 hex digits of the SHA-256 of the new text>`, created at the reception),
//!     same kind, parent and thread, created_at = the edit time: the first wording stays as it
//!     was scored, the new one is scored too, and Meta's retries of the same edit are duplicates.
//! - object `page`, `entry[].messaging[]` with a `message` (Messenger; source messenger,
//!   private, direct_message): native_id = `mid`, thread_id = `<page id>:<customer PSID>` for
//!   both directions (for an echo, `is_echo: true`, the page is `sender` and the customer
//!   `recipient`; otherwise the reverse), author = the customer's PSID (id and handle), or for an
//!   echo the page (id and handle = the page id: put it in the `unanswered` rule's
//!   `brand_authors` so that the page's answer resolves the customer's wait), parent_id =
//!   `reply_to.mid` if any, created_at = `timestamp`, text = `text`, or for a message with
//!   attachments only one placeholder per attachment, `[image]`, `[video]`, `[audio]`, `[file]`,
//!   `[story_mention]`… (`[<type>]`; `[unsupported]` for `is_unsupported` content), so that a
//!   customer waiting is still seen.
//! - object `instagram`, `changes[]` with `field: "comments"` or `"live_comments"` (source
//!   instagram, public): native_id = `id`, kind reply when `parent_id` is given (parent_id =
//!   it), else comment (parent_id = the media id), thread_id = `media.id`, text = `text`,
//!   author = `from` (id, handle = username), created_at = the entry's `time` (the value has
//!   none).
//! - object `instagram`, `changes[]` with `field: "mentions"` (the account @mentioned in a
//!   comment or a caption of someone else's media): the webhook has no text and no author, so
//!   the mention is mapped with a placeholder text naming the ids (`[Instagram @mention of the
//!   account in comment C on media M: the webhook does not carry the text]`), native id
//!   `mention:<comment_id>` (kind comment, parent_id and thread_id = the media id) or
//!   `mention:<media_id>` for a caption (kind post, thread_id = the media id), no author; the
//!   `mention:` prefix keeps a comment that also comes through `comments` (an @mention on the
//!   account's own media) from being taken for a duplicate of its placeholder.
//! - object `instagram`, `messaging[]`: as Messenger, source instagram (private,
//!   direct_message, echoes included), the account id in place of the page id.
//!
//! Ignored by design, counted in `vigie_connector_ignored_total{connector,event}`: feed
//! `reaction` (and `like`) items (`reaction`), verbs `remove`/`delete` (`remove`) and
//! `hide`/`unhide` (`hide`); messaging `delivery` (`delivery`), `read` (`read`) and `reaction`
//! (`reaction`) events; Instagram messages deleted by their sender, `is_deleted` (`unsend`).
//!
//! Dead-lettered (stage `connector:<name>`, with the event's bytes): an unknown `object` (the
//! whole body), a page field other than `feed` (`ratings`, `mention`, …) and an Instagram field
//! other than `comments`, `live_comments`, `mentions`; feed items and verbs not listed above;
//! messaging events other than those above (`postback`, `message_edit`, `referral`, `optin`…);
//! an entry with neither `changes` nor `messaging` (`standby`); an event missing its id or its
//! text. A body that is not JSON, or has no `entry` array, is dead-lettered whole.
//!
//! Known limits: no follower counts or verification marks (webhooks carry none); Messenger and
//! Instagram DM authors are page-scoped ids without names (a name needs a page token and a
//! Graph API call, not made here), and so is the Instagram @mention's text; Instagram comments
//! have no url, Facebook comments the post's; an edited comment is a new mention with a new
//! native id, so with `public_questions` the `unanswered` rule waits for an answer to the edited
//! wording even if the brand answered the first one.

mod feed;
mod instagram;
mod messaging;
#[cfg(test)]
mod tests;

use super::map::{non_blank, Mapped};
use super::meta_hub::{one_event, Hub};
use super::settings::Settings;
use super::webhook::{Answer, Refusal, Webhook};
use super::{Built, ConnectorError};
use axum::http::HeaderMap;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use vigie_core::proto::Author;

/// Builds a `meta` connector from its settings (`app_secret`, `verify_token`).
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Ok(Built::Push(Arc::new(Meta {
        hub: Hub::read(settings)?,
    })))
}

/// A Facebook Page's and an Instagram account's webhooks.
struct Meta {
    hub: Hub,
}

impl Webhook for Meta {
    fn handshake(&self, query: &HashMap<String, String>) -> Result<Answer, Refusal> {
        self.hub.handshake(query)
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        self.hub.verify(headers, body)
    }

    fn map(&self, body: &[u8]) -> Mapped {
        map(body)
    }
}

/// Which Graph API object a delivery is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    Page,
    Instagram,
}

/// Maps one Graph API webhook delivery.
fn map(body: &[u8]) -> Mapped {
    let payload: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Mapped::malformed(format!("not JSON: {e}"), body),
    };
    let Some(entries) = payload.get("entry").and_then(Value::as_array) else {
        return Mapped::malformed("no entry array: not a Graph API webhook delivery", body);
    };
    let name = payload.get("object").and_then(Value::as_str).unwrap_or_default();
    let object = match name {
        "page" => Object::Page,
        "instagram" => Object::Instagram,
        other => {
            return Mapped::unmapped_body(
                "object",
                format!("object {other:?} is not mapped; this connector maps page and instagram"),
                body,
            )
        }
    };
    let mut mapped = Mapped::default();
    for entry in entries {
        let changes = entry.get("changes").and_then(Value::as_array);
        let messaging = entry.get("messaging").and_then(Value::as_array);
        for change in changes.into_iter().flatten() {
            let event = one_event(name, entry, "changes", change);
            match object {
                Object::Page => feed::map(entry, change, &event, &mut mapped),
                Object::Instagram => instagram::map(entry, change, &event, &mut mapped),
            }
        }
        for message in messaging.into_iter().flatten() {
            let event = one_event(name, entry, "messaging", message);
            messaging::map(object, message, &event, &mut mapped);
        }
        if changes.is_none() && messaging.is_none() {
            let mut keys: Vec<&str> = entry
                .as_object()
                .map(|o| {
                    o.keys()
                        .map(String::as_str)
                        .filter(|k| !matches!(*k, "id" | "time"))
                        .collect()
                })
                .unwrap_or_default();
            keys.sort_unstable();
            mapped.unmapped(
                "entry",
                format!(
                    "an entry with neither changes nor messaging (it has {}) is not mapped",
                    if keys.is_empty() {
                        "nothing else".to_string()
                    } else {
                        keys.join(", ")
                    }
                ),
                &serde_json::json!({ "object": name, "entry": [entry] }),
            );
        }
    }
    mapped
}

/// An author known by `id`, with `handle` (the id when the platform gives none) and a display
/// name if any.
fn author(id: &str, handle: Option<&str>, display_name: Option<&str>) -> Author {
    Author {
        id: id.to_string(),
        handle: non_blank(handle).unwrap_or(id).to_string(),
        display_name: display_name.unwrap_or_default().to_string(),
        ..Default::default()
    }
}
