//! Watch matching, baseline: every watch of the mention's tenant is evaluated against the
//! tokenised text and title, then its filters (language, source, visibility, country) are
//! checked. (The scoring-stage issue replaces this scan with a presearcher index.)

use vigie_core::model::{source_name, visibility_name};
use vigie_core::proto::{Mention, Source, Visibility};
use vigie_core::query::Document;
use vigie_core::watches::WatchSet;

/// Keys ("<tenant>/<id>") of the watches of `mention.tenant` that match, sorted.
pub fn matching_watches(watches: &WatchSet, mention: &Mention, language: &str) -> Vec<String> {
    if watches.is_empty() {
        return Vec::new();
    }
    let text = if mention.title.is_empty() {
        mention.text.clone()
    } else {
        format!("{}\n{}", mention.title, mention.text)
    };
    let doc = Document::new(&text);
    let source = source_name(Source::try_from(mention.source).unwrap_or_default());
    let visibility = visibility_name(Visibility::try_from(mention.visibility).unwrap_or_default());
    let mut out: Vec<String> = watches
        .iter()
        .filter(|w| w.watch.tenant == mention.tenant)
        .filter(|w| {
            let Some(f) = &w.watch.filters else { return true };
            (f.languages.is_empty()
                || f.languages
                    .iter()
                    .any(|l| l == language || l == &mention.language_hint))
                && (f.sources.is_empty() || f.sources.iter().any(|s| s == source))
                && (f.visibility.is_empty() || f.visibility == visibility)
                && (f.countries.is_empty()
                    || f.countries
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&mention.country)))
        })
        .filter(|w| w.query.matches(&doc))
        .map(|w| w.key.clone())
        .collect();
    out.sort();
    out
}
