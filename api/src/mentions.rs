//! `vigie.v1.MentionService`: search a tenant's mentions and count them over time. This is the
//! gRPC side only — the caller's token, the request's checks, page tokens and the responses; the
//! mentions come from a [`MentionStore`] (ClickHouse, or the standalone window), read through a
//! [`Filter`] that starts with the caller's tenant.

use crate::auth::caller;
use crate::request::{bounded, invalid, keyset, next_keyset, one_of, page_size};
use crate::store::{BucketSize, Condition, Filter, HitRow, MentionStore, StatsQuery};
use std::sync::Arc;
use tonic::{Request, Response, Status};
use vigie_core::proto::mention_service_server::{MentionService, MentionServiceServer};
use vigie_core::proto::{
    MentionHit, Role, SearchMentionsRequest, SearchMentionsResponse, StatsBucket, StatsRequest, StatsResponse,
};
use vigie_core::tokens::TokenStore;

/// The mention service.
pub struct MentionApi {
    store: Arc<dyn MentionStore>,
    tokens: TokenStore,
}

impl From<HitRow> for MentionHit {
    fn from(h: HitRow) -> Self {
        let place = h.place();
        let (country, city) = if place.filterable() {
            (place.country, place.city)
        } else {
            Default::default()
        };
        MentionHit {
            id: h.id,
            created_at_ms: h.created_at_ms,
            source: h.source,
            visibility: h.visibility,
            author_handle: h.author_handle,
            text: h.text,
            language: h.language,
            sentiment: h.sentiment_label,
            sentiment_score: h.sentiment_score,
            toxicity: h.toxicity,
            matched_watches: h.matched_watches,
            url: h.url,
            country,
            city,
        }
    }
}

/// Refuses a time range that ends before it starts (0: unbounded).
fn check_range(from_ms: i64, to_ms: i64) -> Result<(), Status> {
    if from_ms > 0 && to_ms > 0 && to_ms <= from_ms {
        return Err(invalid("to_ms", "must be after from_ms"));
    }
    Ok(())
}

impl MentionApi {
    /// A service reading `store`, checking `tokens`.
    pub fn new(store: Arc<dyn MentionStore>, tokens: TokenStore) -> Self {
        Self { store, tokens }
    }

    /// The tonic server.
    pub fn into_server(self) -> MentionServiceServer<Self> {
        MentionServiceServer::new(self)
    }
}

#[tonic::async_trait]
impl MentionService for MentionApi {
    async fn search(
        &self,
        request: Request<SearchMentionsRequest>,
    ) -> Result<Response<SearchMentionsResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let deadline = crate::request::deadline_secs(&request);
        let r = request.into_inner();
        one_of("sentiment", &r.sentiment, &["negative", "neutral", "positive"])?;
        one_of("visibility", &r.visibility, &["public", "private"])?;
        for (field, value) in [
            ("text", &r.text),
            ("watch_id", &r.watch_id),
            ("language", &r.language),
            ("source", &r.source),
        ] {
            bounded(field, value)?;
        }
        check_range(r.from_ms, r.to_ms)?;
        let size = page_size(r.page_size, 50, 500);
        let mut filter = Filter::search(&p.tenant, &r);
        if let Some((at_ms, id)) = keyset(&r.page_token)? {
            filter = filter.and(Condition::OlderThan { at_ms, id });
        }
        let page = self.store.search(&filter, size, deadline).await?;
        let next_page_token = next_keyset(
            page.next.is_some(),
            page.next.as_ref().map(|(t, id)| (*t, id.as_str())),
        );
        let mentions = page.rows.into_iter().map(MentionHit::from).collect();
        Ok(Response::new(SearchMentionsResponse {
            mentions,
            next_page_token,
        }))
    }

    async fn stats(&self, request: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let deadline = crate::request::deadline_secs(&request);
        let r = request.into_inner();
        let bucket = match r.bucket.as_str() {
            "" | "hour" => BucketSize::Hour,
            "minute" if r.from_ms > 0 => BucketSize::Minute,
            "minute" => return Err(invalid("from_ms", "required with minute buckets")),
            other => return Err(invalid("bucket", &format!("{other:?}: expected minute or hour"))),
        };
        bounded("watch_id", &r.watch_id)?;
        check_range(r.from_ms, r.to_ms)?;
        let query = StatsQuery {
            tenant: p.tenant,
            watch_id: r.watch_id,
            bucket,
            from_ms: r.from_ms,
            to_ms: r.to_ms,
        };
        let buckets = self
            .store
            .stats(&query, deadline)
            .await?
            .into_iter()
            .map(|c| StatsBucket {
                start_ms: c.start_ms,
                mentions: c.total,
                negative: c.negative,
                neutral: c.neutral,
                positive: c.positive,
            })
            .collect();
        Ok(Response::new(StatsResponse { buckets }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{tokens_for, with};
    use vigie_core::proto::{EnrichedMention, Mention, SentimentLabel};

    fn enriched(
        tenant: &str,
        id: &str,
        at_ms: i64,
        text: &str,
        negative: bool,
        watch: &str,
    ) -> EnrichedMention {
        EnrichedMention {
            mention: Some(Mention {
                tenant: tenant.into(),
                id: id.into(),
                created_at_ms: at_ms,
                text: text.into(),
                ..Default::default()
            }),
            language: "fr".into(),
            sentiment_label: if negative {
                SentimentLabel::Negative
            } else {
                SentimentLabel::Positive
            } as i32,
            matched_watches: if watch.is_empty() {
                vec![]
            } else {
                vec![vigie_core::topics::watch_key(tenant, watch)]
            },
            ..Default::default()
        }
    }

    /// Tenant "a" has 25 mentions a minute apart (every third negative, every other one
    /// matched by watch "w"); tenant "b" has one, with the same text and watch name.
    fn window_api() -> (MentionApi, Vec<String>) {
        let window = crate::store::MentionWindow::new(1_000);
        let t0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000;
        for i in 0..25 {
            window.push(&enriched(
                "a",
                &format!("m{i:02}"),
                t0 + i * 60_000,
                &format!("Panne n°{i}"),
                i % 3 == 0,
                if i % 2 == 0 { "w" } else { "" },
            ));
        }
        window.push(&enriched("b", "secret", t0, "panne chez b", true, "w"));
        let (tokens, keys) = tokens_for(&[("a", Role::Reader), ("b", Role::Reader)]);
        (MentionApi::new(Arc::new(window), tokens), keys)
    }

    #[tokio::test]
    async fn window_search_pages_newest_first_and_filters_like_sql() {
        let (api, keys) = window_api();
        let mut ids = Vec::new();
        let mut token = String::new();
        loop {
            let page = api
                .search(with(
                    &keys[0],
                    SearchMentionsRequest {
                        text: "PANNE".into(),
                        page_size: 10,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            ids.extend(page.mentions.into_iter().map(|m| m.id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let expected: Vec<String> = (0..25).rev().map(|i| format!("m{i:02}")).collect();
        assert_eq!(ids, expected, "every mention once, newest first, across pages");
        let negative_of_w = api
            .search(with(
                &keys[0],
                SearchMentionsRequest {
                    watch_id: "w".into(),
                    sentiment: "negative".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let got: Vec<String> = negative_of_w.mentions.into_iter().map(|m| m.id).collect();
        assert_eq!(got, ["m24", "m18", "m12", "m06", "m00"]);
        // Tenant b sees its own one mention only.
        let b = api
            .search(with(&keys[1], SearchMentionsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(b.mentions.len(), 1);
        assert_eq!(b.mentions[0].id, "secret");
        let bad = api
            .search(with(
                &keys[0],
                SearchMentionsRequest {
                    sentiment: "angry".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    }

    /// The probe's 300 KB search text (INTERNAL from ClickHouse's query size before) and the
    /// other free-text filters past their bound are INVALID_ARGUMENT naming the field, before
    /// any store is read; a text at the bound is searched.
    #[tokio::test]
    async fn over_long_filters_are_refused_naming_the_field() {
        use tonic_types::StatusExt;
        let (api, keys) = window_api();
        let field_of = |e: &Status| {
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
            e.get_details_bad_request().unwrap().field_violations[0]
                .field
                .clone()
        };
        let search = |r: SearchMentionsRequest| api.search(with(&keys[0], r));
        let huge = "panne ".repeat(50_000);
        let e = search(SearchMentionsRequest {
            text: huge.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
        assert_eq!(field_of(&e), "text");
        assert!(e.message().contains("1024 characters"), "{}", e.message());
        for (field, r) in [
            (
                "watch_id",
                SearchMentionsRequest {
                    watch_id: huge.clone(),
                    ..Default::default()
                },
            ),
            (
                "language",
                SearchMentionsRequest {
                    language: huge.clone(),
                    ..Default::default()
                },
            ),
            (
                "source",
                SearchMentionsRequest {
                    source: huge.clone(),
                    ..Default::default()
                },
            ),
        ] {
            assert_eq!(field_of(&search(r).await.unwrap_err()), field);
        }
        let stats = api
            .stats(with(
                &keys[0],
                StatsRequest {
                    watch_id: huge.clone(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(field_of(&stats), "watch_id");
        // At the bound: searched (and nothing that long is found).
        let at_bound = search(SearchMentionsRequest {
            text: "x".repeat(crate::request::MAX_FILTER_CHARS),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
        assert!(at_bound.mentions.is_empty());
    }

    #[tokio::test]
    async fn window_stats_count_per_bucket_and_sentiment() {
        let (api, keys) = window_api();
        let hours = api
            .stats(with(&keys[0], StatsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(hours.buckets.len(), 1, "25 minutes from the start of an hour");
        assert_eq!(
            (
                hours.buckets[0].mentions,
                hours.buckets[0].negative,
                hours.buckets[0].positive
            ),
            (25, 9, 16)
        );
        let t0 = hours.buckets[0].start_ms;
        let minutes = api
            .stats(with(
                &keys[0],
                StatsRequest {
                    bucket: "minute".into(),
                    from_ms: t0 + 60_000,
                    to_ms: t0 + 4 * 60_000,
                    watch_id: "w".into(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let starts: Vec<i64> = minutes
            .buckets
            .iter()
            .map(|b| (b.start_ms - t0) / 60_000)
            .collect();
        assert_eq!(starts, [2], "of minutes 1..4, only minute 2 is matched by w");
        let refused = api
            .stats(with(
                &keys[0],
                StatsRequest {
                    bucket: "minute".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains("from_ms"), "{}", refused.message());
    }
}
