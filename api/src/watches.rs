//! `vigie.v1.WatchService`: create, change, delete, read and list a tenant's watches, and check
//! queries. Writes go to the compacted `vigie.watches` topic (the source of truth, which enrich
//! and alerting follow) and to this process's own registry at once, so a client reads its own
//! writes; reads come from the registry, which follows the topic.

use crate::auth::caller;
use crate::store::MentionStore;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use vigie_core::bus::{OutRecord, Publisher};
use vigie_core::proto::watch_service_server::{WatchService, WatchServiceServer};
use vigie_core::proto::{
    DeleteWatchResponse, ListWatchesRequest, ListWatchesResponse, QueryError, Role, TestQueryRequest,
    TestQueryResponse, ValidateQueryRequest, ValidateQueryResponse, Watch, WatchRequest,
};
use vigie_core::query::dialect::syntax_named;
use vigie_core::query::Query;
use vigie_core::tokens::{Principal, TokenStore};
use vigie_core::topics;
use vigie_core::watches::{self, WatchRegistry};

/// Default and largest page of `ListWatches`.
const PAGE: (u32, u32) = (100, 1_000);

/// The watch service.
pub struct WatchApi {
    registry: WatchRegistry,
    publisher: Publisher,
    tokens: TokenStore,
    /// The recent mentions `TestQuery` tries queries on.
    mentions: Arc<dyn MentionStore>,
    /// Serialises writes, so "already exists" / "not found" hold until the write lands (within
    /// this process; concurrent writers in several API processes: the last write wins).
    writing: tokio::sync::Mutex<()>,
}

impl WatchApi {
    /// A service writing through `publisher`, reading `registry`, checking `tokens`, testing
    /// queries on `mentions`.
    pub fn new(
        registry: WatchRegistry,
        publisher: Publisher,
        tokens: TokenStore,
        mentions: Arc<dyn MentionStore>,
    ) -> Self {
        Self {
            registry,
            publisher,
            tokens,
            mentions,
            writing: tokio::sync::Mutex::new(()),
        }
    }

    /// The tonic server.
    pub fn into_server(self) -> WatchServiceServer<Self> {
        WatchServiceServer::new(self)
    }

    fn exists(&self, tenant: &str, id: &str) -> bool {
        self.registry.read().get(&topics::watch_key(tenant, id)).is_some()
    }

    /// Validates `watch` for the caller's tenant, publishes it and applies it locally.
    async fn write(&self, p: &Principal, mut watch: Watch, must_exist: bool) -> Result<Watch, Status> {
        if !watch.tenant.is_empty() && watch.tenant != p.tenant {
            // Another tenant's watch behaves as not found, whatever the call.
            return Err(Status::not_found(format!("no watch {:?}", watch.id)));
        }
        watch.tenant = p.tenant.clone();
        if watch.name.is_empty() {
            watch.name = watch.id.clone();
        }
        watch.updated_at_ms = vigie_core::now_ms();
        let _writing = self.writing.lock().await;
        let exists = self.exists(&watch.tenant, &watch.id);
        if must_exist && !exists {
            return Err(Status::not_found(format!("no watch {:?}", watch.id)));
        }
        if !must_exist && exists {
            return Err(Status::already_exists(format!(
                "watch {:?} exists; use UpdateWatch",
                watch.id
            )));
        }
        watches::validate(&watch).map_err(|e| crate::request::invalid(&e.field, &e.reason))?;
        watches::publish(&self.publisher, std::slice::from_ref(&watch))
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        self.registry
            .upsert(watch.clone())
            .map_err(|e| crate::request::invalid(&e.field, &e.reason))?;
        Ok(watch)
    }
}

#[tonic::async_trait]
impl WatchService for WatchApi {
    async fn create_watch(&self, request: Request<Watch>) -> Result<Response<Watch>, Status> {
        let p = caller(&self.tokens, &request, Role::Admin)?;
        self.write(&p, request.into_inner(), false)
            .await
            .map(Response::new)
    }

    async fn update_watch(&self, request: Request<Watch>) -> Result<Response<Watch>, Status> {
        let p = caller(&self.tokens, &request, Role::Admin)?;
        self.write(&p, request.into_inner(), true)
            .await
            .map(Response::new)
    }

    async fn delete_watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<DeleteWatchResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Admin)?;
        let id = request.into_inner().id;
        let _writing = self.writing.lock().await;
        if !self.exists(&p.tenant, &id) {
            return Err(Status::not_found(format!("no watch {id:?}")));
        }
        let key = topics::watch_key(&p.tenant, &id);
        let tombstone = OutRecord {
            key: key.clone(),
            payload: None,
            schema: watches::SCHEMA,
        };
        self.publisher
            .publish(topics::WATCHES, vec![tombstone])
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        self.registry.remove(&key);
        Ok(Response::new(DeleteWatchResponse {}))
    }

    async fn get_watch(&self, request: Request<WatchRequest>) -> Result<Response<Watch>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let id = request.into_inner().id;
        self.registry
            .read()
            .get(&topics::watch_key(&p.tenant, &id))
            .map(|w| Response::new(w.watch.clone()))
            .ok_or_else(|| Status::not_found(format!("no watch {id:?}")))
    }

    async fn list_watches(
        &self,
        request: Request<ListWatchesRequest>,
    ) -> Result<Response<ListWatchesResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let r = request.into_inner();
        let size = crate::request::page_size(r.page_size, PAGE.0, PAGE.1);
        // Keyset pagination on the id: stable while watches come and go.
        let all = self.registry.read().of_tenant(&p.tenant);
        let page: Vec<Watch> = all
            .iter()
            .filter(|w| w.watch.id > r.page_token)
            .take(size + 1)
            .map(|w| w.watch.clone())
            .collect();
        let more = page.len() > size;
        let watches: Vec<Watch> = page.into_iter().take(size).collect();
        let next_page_token = if more {
            watches.last().map(|w| w.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListWatchesResponse {
            watches,
            next_page_token,
        }))
    }

    async fn test_query(
        &self,
        request: Request<TestQueryRequest>,
    ) -> Result<Response<TestQueryResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let deadline = crate::request::deadline_secs(&request);
        let r = request.into_inner();
        let syntax =
            syntax_named(&r.syntax).map_err(|e| crate::request::invalid("syntax", &e.to_string()))?;
        let query = Query::parse_with(&r.query, &syntax)
            .map_err(|e| crate::request::invalid("query", &e.to_string()))?;
        let recent = self
            .mentions
            .recent(
                &p.tenant,
                crate::request::page_size(r.recent, 1_000, 10_000) as u32,
                deadline,
            )
            .await?;
        let scanned = recent.len() as u32;
        let hits: Vec<_> = recent
            .into_iter()
            .filter(|m| query.matches(&m.to_document()))
            .collect();
        let matched = hits.len() as u32;
        Ok(Response::new(TestQueryResponse {
            scanned,
            matched,
            mentions: hits
                .into_iter()
                .take(100)
                .map(vigie_core::proto::MentionHit::from)
                .collect(),
        }))
    }

    async fn validate_query(
        &self,
        request: Request<ValidateQueryRequest>,
    ) -> Result<Response<ValidateQueryResponse>, Status> {
        caller(&self.tokens, &request, Role::Reader)?;
        let r = request.into_inner();
        // An unknown dialect is the request's fault, not the query's: INVALID_ARGUMENT.
        let syntax =
            syntax_named(&r.syntax).map_err(|e| crate::request::invalid("syntax", &e.to_string()))?;
        Ok(Response::new(match Query::parse_with(&r.query, &syntax) {
            Ok(_) => ValidateQueryResponse {
                valid: true,
                error: None,
            },
            Err(e) => ValidateQueryResponse {
                valid: false,
                error: Some(QueryError {
                    position: e.position as u32,
                    message: e.message,
                }),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::with;
    use tonic::transport::Channel;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::proto::watch_service_client::WatchServiceClient;

    struct Fixture {
        client: WatchServiceClient<Channel>,
        bus: MemoryBus,
        acme_admin: String,
        acme_reader: String,
        globex_admin: String,
    }

    async fn fixture() -> Fixture {
        let bus = MemoryBus::default();
        let (tokens, t) = crate::auth::tokens_for(&[
            ("acme", Role::Admin),
            ("acme", Role::Reader),
            ("globex", Role::Admin),
        ]);
        let (acme_admin, acme_reader, globex_admin) = (t[0].clone(), t[1].clone(), t[2].clone());
        // Recent mentions for TestQuery: two of acme's, one of globex's with the same words.
        let window = crate::store::MentionWindow::new(100);
        for (tenant, id, text) in [
            ("acme", "a1", "grosse panne chez acme"),
            ("acme", "a2", "acme est super"),
            ("globex", "g1", "panne chez acme, vu de globex"),
        ] {
            window.push(&vigie_core::proto::EnrichedMention {
                mention: Some(vigie_core::proto::Mention {
                    tenant: tenant.into(),
                    id: id.into(),
                    text: text.into(),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let api = WatchApi::new(
            WatchRegistry::default(),
            Publisher::Memory(bus.clone()),
            tokens,
            Arc::new(window),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(api.into_server())
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let client = WatchServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        Fixture {
            client,
            bus,
            acme_admin,
            acme_reader,
            globex_admin,
        }
    }

    fn watch(id: &str, query: &str) -> Watch {
        Watch {
            id: id.into(),
            query: query.into(),
            ..Default::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn test_query_tries_the_tenants_recent_mentions_only() {
        let mut f = fixture().await;
        let tried = f
            .client
            .test_query(with(
                &f.acme_reader,
                TestQueryRequest {
                    query: "acme AND panne".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (tried.scanned, tried.matched),
            (2, 1),
            "globex's mention is not scanned"
        );
        assert_eq!(tried.mentions[0].id, "a1");
        let refused = f
            .client
            .test_query(with(
                &f.acme_reader,
                TestQueryRequest {
                    query: "acme AND (".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        use tonic_types::StatusExt;
        let details = refused.get_details_bad_request().expect("field details");
        assert_eq!(details.field_violations[0].field, "query");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queries_are_read_in_the_syntax_given() {
        let mut f = fixture().await;
        let (a, r) = (f.acme_admin.clone(), f.acme_reader.clone());
        // Meltwater's lower-case `or` (its documented example's shape): refused as vigie, the
        // operator as meltwater, for ValidateQuery, TestQuery and a watch alike.
        let query = "acme AND NOT (chez or super)";
        let validate = |syntax: &str| ValidateQueryRequest {
            query: query.into(),
            syntax: syntax.into(),
        };
        let v = f
            .client
            .validate_query(with(&r, validate("")))
            .await
            .unwrap()
            .into_inner();
        let e = v.error.expect("refused as vigie");
        assert_eq!(e.position as usize, query.find(" or ").unwrap() + 1);
        let v = f
            .client
            .validate_query(with(&r, validate("meltwater")))
            .await
            .unwrap()
            .into_inner();
        assert!(v.valid, "{:?}", v.error);
        let unknown = f
            .client
            .validate_query(with(&r, validate("lucene")))
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::InvalidArgument);
        assert!(
            unknown.message().starts_with("syntax:") && unknown.message().contains("meltwater"),
            "{}",
            unknown.message()
        );
        let tried = f
            .client
            .test_query(with(
                &r,
                TestQueryRequest {
                    query: query.into(),
                    syntax: "meltwater".into(),
                    recent: 0,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        // "grosse panne chez acme" and "acme est super" are both excluded.
        assert_eq!((tried.scanned, tried.matched), (2, 0));
        let refused = f
            .client
            .test_query(with(
                &r,
                TestQueryRequest {
                    query: query.into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        let mut w = watch("melt", query);
        let bad = f.client.create_watch(with(&a, w.clone())).await.unwrap_err();
        assert!(bad.message().starts_with("query:"), "{}", bad.message());
        w.syntax = "meltwater".into();
        let made = f
            .client
            .create_watch(with(&a, w.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(made.syntax, "meltwater");
        w.syntax = "Meltwater".into();
        let bad = f.client.update_watch(with(&a, w)).await.unwrap_err();
        assert!(bad.message().starts_with("syntax:"), "{}", bad.message());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn watches_are_managed_and_read_within_the_tenant() {
        let mut f = fixture().await;
        let a = f.acme_admin.clone();
        let made = f
            .client
            .create_watch(with(&a, watch("outage", "acme AND panne")))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((made.tenant.as_str(), made.name.as_str()), ("acme", "outage"));
        // On the topic, the source of truth.
        assert_eq!(f.bus.snapshot(topics::WATCHES)[0].key_str(), "acme/outage");
        let again = f
            .client
            .create_watch(with(&a, watch("outage", "acme")))
            .await
            .unwrap_err();
        assert_eq!(again.code(), tonic::Code::AlreadyExists);
        let bad = f
            .client
            .create_watch(with(&a, watch("x", "acme AND (")))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        assert!(bad.message().starts_with("query:"), "{}", bad.message());
        for id in ["b", "c", "d"] {
            f.client.create_watch(with(&a, watch(id, "acme"))).await.unwrap();
        }
        // Pagination by id.
        let r = f.acme_reader.clone();
        let page = f
            .client
            .list_watches(with(
                &r,
                ListWatchesRequest {
                    page_size: 3,
                    page_token: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let ids: Vec<&str> = page.watches.iter().map(|w| w.id.as_str()).collect();
        assert_eq!((ids, page.next_page_token.as_str()), (vec!["b", "c", "d"], "d"));
        let rest = f
            .client
            .list_watches(with(
                &r,
                ListWatchesRequest {
                    page_size: 3,
                    page_token: "d".into(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((rest.watches.len(), rest.next_page_token.as_str()), (1, ""));
        // Update, read back, delete.
        let mut changed = watch("outage", "acme AND (panne OR coupure)");
        changed.name = "Outages".into();
        f.client.update_watch(with(&a, changed)).await.unwrap();
        let got = f
            .client
            .get_watch(with(&r, WatchRequest { id: "outage".into() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.name, "Outages");
        f.client
            .delete_watch(with(&a, WatchRequest { id: "outage".into() }))
            .await
            .unwrap();
        let gone = f
            .client
            .get_watch(with(&r, WatchRequest { id: "outage".into() }))
            .await
            .unwrap_err();
        assert_eq!(gone.code(), tonic::Code::NotFound);
        let missing = f
            .client
            .update_watch(with(&a, watch("nope", "acme")))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound);
        // Query checks with positions.
        let v = f
            .client
            .validate_query(with(
                &r,
                ValidateQueryRequest {
                    query: "acme AND (".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!v.valid && v.error.unwrap().position > 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokens_roles_and_other_tenants() {
        let mut f = fixture().await;
        let (a, r, g) = (
            f.acme_admin.clone(),
            f.acme_reader.clone(),
            f.globex_admin.clone(),
        );
        f.client
            .create_watch(with(&a, watch("secret", "acme")))
            .await
            .unwrap();
        // No token, a bad token, a role too low.
        let e = f
            .client
            .get_watch(Request::new(WatchRequest { id: "secret".into() }))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        let e = f
            .client
            .get_watch(with("vigie_x_y", WatchRequest { id: "secret".into() }))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        let e = f
            .client
            .create_watch(with(&r, watch("w", "acme")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        // Another tenant's ids behave as not found, for every read and write.
        let id = || WatchRequest { id: "secret".into() };
        assert_eq!(
            f.client.get_watch(with(&g, id())).await.unwrap_err().code(),
            tonic::Code::NotFound
        );
        assert_eq!(
            f.client.delete_watch(with(&g, id())).await.unwrap_err().code(),
            tonic::Code::NotFound
        );
        let mut theirs = watch("secret", "globex");
        theirs.tenant = "acme".into();
        assert_eq!(
            f.client
                .update_watch(with(&g, theirs.clone()))
                .await
                .unwrap_err()
                .code(),
            tonic::Code::NotFound
        );
        assert_eq!(
            f.client.create_watch(with(&g, theirs)).await.unwrap_err().code(),
            tonic::Code::NotFound
        );
        let list = f
            .client
            .list_watches(with(&g, ListWatchesRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert!(list.watches.is_empty());
        // Globex may use the same id for its own watch: a different watch.
        f.client
            .create_watch(with(&g, watch("secret", "globex")))
            .await
            .unwrap();
        let mine = f.client.get_watch(with(&a, id())).await.unwrap().into_inner();
        assert_eq!(mine.query, "acme");
    }
}
