//! One feed entry as a [`Mention`]: its link unwrapped when Google Alerts wrapped it, its source
//! inferred from the target's domain (unless the connector forces one), its title and text as
//! plain text, its id bounded.

use crate::connectors::html;
use crate::connectors::map::Mapping;
use crate::connectors::signature::hex;
use feed_rs::model::Entry;
use sha2::{Digest, Sha256};
use vigie_core::model::FieldError;
use vigie_core::proto::{Author, Kind, Mention, Source, Visibility};

/// Longest native id kept as written (the ingest limit is 512 bytes); a longer one is replaced
/// by `sha256:` and its hash, the same for the same id.
pub const MAX_NATIVE_ID: usize = 256;
/// Longest text kept, in characters: a feed carrying whole articles is cut there (at a word
/// boundary, with `…`), under ingest's default limit of 20,000; the article is at its URL.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Longest URL a mention takes (ingest's limit); a longer link is left out.
const MAX_URL: usize = 4_096;

/// An entry mapped: the key it is remembered by in the cursor, and its mention (or why not).
#[derive(Debug)]
pub struct Mapped {
    /// The native id when there is one, else a hash of the entry.
    pub key: String,
    /// The mention, with the entry as JSON for its dead letter.
    pub mapping: Mapping,
}

/// Maps `entry`; `forced` is the connector's `source` when it sets one.
pub fn map(entry: &Entry, forced: Option<Source>) -> Mapped {
    let original = serde_json::to_vec(entry).unwrap_or_default();
    let url = link(entry)
        .map(|l| unwrap_link(&l))
        .filter(|u| is_web(u) && u.len() <= MAX_URL);
    let title = entry
        .title
        .as_ref()
        .map(|t| bounded(&html::to_text(&t.content), MAX_TITLE_CHARS))
        .unwrap_or_default();
    let body = entry
        .summary
        .as_ref()
        .map(|s| html::to_text(&s.content))
        .filter(|s| !s.is_empty())
        .or_else(|| {
            entry
                .content
                .as_ref()
                .and_then(|c| c.body.as_deref())
                .map(html::to_text)
                .filter(|s| !s.is_empty())
        });
    let text = bounded(body.as_deref().unwrap_or(&title), MAX_TEXT_CHARS);
    let id = Some(entry.id.trim())
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .or_else(|| url.clone())
        .or_else(|| {
            (!text.is_empty()).then(|| format!("sha256:{}", hex(&Sha256::digest(format!("{title}\n{text}")))))
        });
    let Some(id) = id else {
        return Mapped {
            key: format!("sha256:{}", hex(&Sha256::digest(&original))),
            mapping: Mapping {
                item: Err(FieldError::new("entry", "no id, no link, no title and no text")),
                original,
            },
        };
    };
    let native_id = bounded_id(&id);
    if text.is_empty() {
        return Mapped {
            key: native_id,
            mapping: Mapping {
                item: Err(FieldError::new("entry", "no title and no text")),
                original,
            },
        };
    }
    let source = forced.unwrap_or_else(|| url.as_deref().map(infer_source).unwrap_or(Source::News));
    let created_at_ms = entry
        .published
        .or(entry.updated)
        .map(|t| t.timestamp_millis())
        .unwrap_or(0);
    let author = entry
        .authors
        .iter()
        .find_map(|p| p.name.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .map(|name| Author {
            display_name: bounded_bytes(name, 512),
            ..Default::default()
        });
    let mention = Mention {
        source: source as i32,
        visibility: Visibility::Public as i32,
        kind: kind_of(source) as i32,
        native_id: native_id.clone(),
        author,
        title,
        text,
        url: url.unwrap_or_default(),
        created_at_ms,
        ..Default::default()
    };
    Mapped {
        key: native_id,
        mapping: Mapping {
            item: Ok(mention),
            original,
        },
    }
}

/// The kind of a mention found on `source`: an article on news sites and blogs, a review on
/// review sites, a post on the social platforms.
pub fn kind_of(source: Source) -> Kind {
    match source {
        Source::News | Source::Blog => Kind::Article,
        Source::Review => Kind::Review,
        _ => Kind::Post,
    }
}

/// The entry's page: its `alternate` link (Atom), else its first link.
fn link(entry: &Entry) -> Option<String> {
    entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
}

fn is_web(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// The target of a Google redirect (`https://www.google.com/url?…&url=<target>&…`, as Google
/// Alerts writes every link): the percent-decoded `url` parameter (or `q`, its older name);
/// any other link as it is.
pub fn unwrap_link(link: &str) -> String {
    let Ok(parsed) = url::Url::parse(link) else {
        return link.to_string();
    };
    let google = parsed
        .host_str()
        .is_some_and(|h| h == "google.com" || h.starts_with("www.google.") || h.starts_with("google."));
    if !google || parsed.path() != "/url" {
        return link.to_string();
    }
    let target = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, v)| k == name && is_web(v))
            .map(|(_, v)| v.into_owned())
    };
    target("url")
        .or_else(|| target("q"))
        .unwrap_or_else(|| link.to_string())
}

/// The source of a page at `url`, by its domain: the social platforms Vigie knows, review sites,
/// blog platforms, and news for anything else.
pub fn infer_source(url: &str) -> Source {
    let Ok(parsed) = url::Url::parse(url) else {
        return Source::News;
    };
    let Some(host) = parsed.host_str() else {
        return Source::News;
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let on = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    // A label of the host, whatever the country's domain (tripadvisor.fr, yelp.co.uk).
    let labelled = |label: &str| {
        let labels: Vec<&str> = host.split('.').collect();
        labels.len() >= 2 && labels[..labels.len() - 1].contains(&label)
    };
    const PLATFORMS: &[(&str, Source)] = &[
        ("tiktok.com", Source::Tiktok),
        ("youtube.com", Source::Youtube),
        ("youtu.be", Source::Youtube),
        ("instagram.com", Source::Instagram),
        ("facebook.com", Source::Facebook),
        ("fb.com", Source::Facebook),
        ("fb.watch", Source::Facebook),
        ("linkedin.com", Source::Linkedin),
        ("x.com", Source::X),
        ("twitter.com", Source::X),
        ("reddit.com", Source::Reddit),
        ("redd.it", Source::Reddit),
        ("avis-verifies.com", Source::Review),
        ("verified-reviews.com", Source::Review),
        ("trustedshops.com", Source::Review),
        ("trustedshops.fr", Source::Review),
        ("glassdoor.com", Source::Review),
        ("glassdoor.fr", Source::Review),
        ("medium.com", Source::Blog),
        ("substack.com", Source::Blog),
        ("blogspot.com", Source::Blog),
        ("wordpress.com", Source::Blog),
        ("over-blog.com", Source::Blog),
    ];
    if let Some((_, source)) = PLATFORMS.iter().find(|(domain, _)| on(domain)) {
        return *source;
    }
    if ["trustpilot", "tripadvisor", "yelp"].iter().any(|l| labelled(l)) {
        return Source::Review;
    }
    // Google Maps places and their reviews: google.<tld>/maps…, maps.google.<tld>, maps.app.goo.gl.
    let google = labelled("google");
    if (google && (parsed.path().starts_with("/maps") || host.starts_with("maps.")))
        || host == "maps.app.goo.gl"
    {
        return Source::Review;
    }
    Source::News
}

/// `id` as a native id: as written when short enough and printable, else `sha256:<hex>`.
fn bounded_id(id: &str) -> String {
    if id.len() <= MAX_NATIVE_ID && !id.chars().any(char::is_control) {
        id.to_string()
    } else {
        format!("sha256:{}", hex(&Sha256::digest(id.as_bytes())))
    }
}

/// `s` cut to at most `max` characters, at a word boundary when there is one near, with `…`.
fn bounded(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() > max * 9 / 10 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end())
}

/// `s` cut at a character boundary to at most `max` bytes.
fn bounded_bytes(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_alerts_links_are_unwrapped_and_others_kept() {
        assert_eq!(
            unwrap_link("https://www.google.com/url?rct=j&sa=t&url=https://www.tiktok.com/%40acme.fan/video/7301&ct=ga&cd=CAIy&usg=AOvVaw1"),
            "https://www.tiktok.com/@acme.fan/video/7301"
        );
        assert_eq!(
            unwrap_link("https://www.google.com/url?rct=j&sa=t&url=https%3A%2F%2Fnews.example%2Fa%3Fid%3D1%26p%3D2&ct=ga"),
            "https://news.example/a?id=1&p=2",
            "an encoded target keeps its own query"
        );
        assert_eq!(
            unwrap_link("https://www.google.fr/url?q=https://blog.example/post&sa=U"),
            "https://blog.example/post"
        );
        for kept in [
            "https://www.google.com/url?rct=j&url=javascript:alert(1)",
            "https://www.google.com/search?q=https://x.example",
            "https://news.example/url?url=https://elsewhere.example",
            "not a url",
        ] {
            assert_eq!(unwrap_link(kept), kept);
        }
    }

    #[test]
    fn the_source_is_inferred_from_the_domain() {
        for (url, source) in [
            ("https://www.tiktok.com/@a/video/1", Source::Tiktok),
            ("https://vm.tiktok.com/ZM123/", Source::Tiktok),
            ("https://www.youtube.com/watch?v=x", Source::Youtube),
            ("https://youtu.be/x", Source::Youtube),
            ("https://m.youtube.com/shorts/x", Source::Youtube),
            ("https://www.instagram.com/p/x/", Source::Instagram),
            ("https://www.facebook.com/acme/posts/1", Source::Facebook),
            ("https://fr.linkedin.com/posts/x", Source::Linkedin),
            ("https://x.com/acme/status/1", Source::X),
            ("https://twitter.com/acme/status/1", Source::X),
            ("https://old.reddit.com/r/france/comments/x", Source::Reddit),
            ("https://fr.trustpilot.com/review/acme.fr", Source::Review),
            ("https://www.tripadvisor.fr/Hotel_Review-x", Source::Review),
            (
                "https://www.tripadvisor.co.uk/Restaurant_Review-x",
                Source::Review,
            ),
            ("https://www.yelp.com/biz/acme", Source::Review),
            ("https://www.google.com/maps/place/Acme", Source::Review),
            ("https://maps.google.fr/?cid=1", Source::Review),
            (
                "https://www.avis-verifies.com/avis-clients/acme.fr",
                Source::Review,
            ),
            ("https://acme.medium.com/post", Source::Blog),
            ("https://www.lemonde.fr/economie/article/x.html", Source::News),
            ("https://www.google.com/search?q=acme", Source::News),
            ("https://notx.com/a", Source::News),
            ("https://tiktok.com.evil.example/a", Source::News),
            ("nonsense", Source::News),
        ] {
            assert_eq!(infer_source(url), source, "{url}");
        }
        assert_eq!(kind_of(Source::News), Kind::Article);
        assert_eq!(kind_of(Source::Review), Kind::Review);
        assert_eq!(kind_of(Source::Tiktok), Kind::Post);
    }

    #[test]
    fn ids_and_texts_are_bounded() {
        assert_eq!(bounded_id("tag:x,2013:1"), "tag:x,2013:1");
        let long = "i".repeat(MAX_NATIVE_ID + 1);
        let hashed = bounded_id(&long);
        assert!(
            hashed.starts_with("sha256:") && hashed.len() == 7 + 64,
            "{hashed}"
        );
        assert_eq!(hashed, bounded_id(&long), "the same id hashes the same");
        assert!(bounded_id("a\nb").starts_with("sha256:"));
        let words = "word ".repeat(5_000);
        let cut = bounded(&words, 100);
        assert!(cut.chars().count() <= 100 && cut.ends_with("word…"), "{cut}");
        assert_eq!(bounded("short", 100), "short");
        assert_eq!(bounded_bytes("éé", 3), "é");
    }
}
