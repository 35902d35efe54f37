//! `serve --http`: Streamable HTTP at `/mcp`, loopback by default, with Host/Origin checks and a bearer token.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, header};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::server::ReleaseGateServer;
use crate::sign_tools::Transport;
use crate::transport::MAX_LINE_BYTES;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// The path the MCP endpoint is served at.
pub const ENDPOINT: &str = "/mcp";

/// How `serve --http` decides who may connect.
#[derive(Debug, Clone)]
pub struct Access {
    /// `Authorization: Bearer <token>` every request must carry, when set.
    pub token: Option<String>,
}

/// The service's configuration: loopback `Host` names (plus the bound address when it is not loopback),
/// and only loopback browser origins.
pub fn config(addr: SocketAddr) -> StreamableHttpServerConfig {
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into(), "[::1]".into()];
    let config = StreamableHttpServerConfig::default().with_max_request_body_bytes(MAX_LINE_BYTES);
    if addr.ip().is_unspecified() {
        // Bound to every interface: any name may reach it, so the bearer token is the guard.
        return config
            .disable_allowed_hosts()
            .with_allowed_origins(Vec::<String>::new())
            .enforce_origin_validation();
    }
    if !addr.ip().is_loopback() {
        hosts.push(addr.ip().to_string());
    }
    config
        .with_allowed_hosts(hosts)
        .with_allowed_origins(["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"])
        .enforce_origin_validation()
}

/// The limits `serve --http` holds every peer to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; at the cap the oldest idle connection makes room, else the new one is
    /// closed. Kept under the process's file limit so `accept` keeps working.
    pub max_connections: usize,
    /// How long a new connection may take to send its first request's headers.
    pub header_timeout: Duration,
    /// How long a kept-alive connection may sit with no request before it is closed.
    pub idle_timeout: Duration,
    /// Live MCP sessions at most; at the cap the least recently used one idle for `session_evict_after`
    /// is closed for a new one, else the `initialize` is refused with 503.
    pub max_sessions: usize,
    /// A session unused this long may give its place to a new one when the cap is reached.
    pub session_evict_after: Duration,
    /// A session unused this long is closed (rmcp's session keep-alive).
    pub session_idle: Duration,
}

impl Limits {
    /// The defaults, with the connection cap fitted under the process's open-file limit.
    pub fn for_this_process() -> Limits {
        // A session holds no descriptor; a tool call may hold a few (git, a policy command's pipes), so
        // keep room for those and the process's own files.
        const RESERVED_FILES: u64 = 64;
        let files = rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(u64::MAX);
        let fit = usize::try_from(files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
        Limits { max_connections: fit.clamp(8, 1024), ..Limits::default() }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_sessions: 64,
            session_evict_after: Duration::from_secs(30),
            session_idle: Duration::from_secs(30 * 60),
        }
    }
}

type Service = StreamableHttpService<ReleaseGateServer, LocalSessionManager>;

/// Serves until the process is stopped. Each connection gets its own task; a failed `accept` (out of file
/// descriptors, say) closes the oldest idle connection, backs off and goes on.
pub async fn run(
    listener: tokio::net::TcpListener,
    server: ReleaseGateServer,
    access: Access,
    limits: Limits,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    // The server knows how it is reached: over HTTP without a token, any local process (any user's) is a
    // client, so `sign_decision` refuses there.
    let server = server.with_transport(Transport::Http { token: access.token.is_some() });
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(limits.session_idle);
    let sessions = Arc::new(sessions);
    let service = StreamableHttpService::new(move || Ok(server.clone()), Arc::clone(&sessions), config(addr));
    let shared = Arc::new(Shared {
        service,
        access,
        limits,
        sessions,
        last_used: Mutex::new(HashMap::new()),
        touches: std::sync::atomic::AtomicU64::new(0),
        connections: Mutex::new(Connections::default()),
        started: Instant::now(),
    });
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => {
                backoff = ACCEPT_BACKOFF_MIN;
                accepted
            }
            Err(error) => {
                // EMFILE, ENFILE, ENOBUFS, ENOMEM or a connection reset before it was taken: none is the
                // listener's fault. Free a descriptor if an idle connection holds one, wait, try again.
                tracing::warn!("cannot accept a connection: {error}; retrying in {backoff:?}");
                shared.evict_idle_connection();
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        // The answer goes out in more than one write; without this, Nagle's algorithm holds the last one
        // until the client's delayed ACK (40 ms on Linux).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%peer, "cannot set TCP_NODELAY: {error}");
        }
        if shared.connection_count() >= shared.limits.max_connections && !shared.evict_idle_connection() {
            tracing::warn!(%peer, "refused a connection: {} connections are busy", shared.limits.max_connections);
            drop(stream);
            continue;
        }
        let activity = Arc::new(Activity::new(shared.now_ms()));
        let seq = shared.register(Arc::clone(&activity));
        let task = tokio::spawn(serve_connection(Arc::clone(&shared), stream, peer, seq, activity));
        shared.set_abort(seq, task.abort_handle());
    }
}

const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What every connection task shares.
struct Shared {
    service: Service,
    access: Access,
    limits: Limits,
    sessions: Arc<LocalSessionManager>,
    /// When each session this server handed out was last used (milliseconds since `started`).
    last_used: Mutex<HashMap<String, (u64, u64)>>,
    /// Orders touches within one millisecond, so the least recently used session is always the same one.
    touches: std::sync::atomic::AtomicU64,
    connections: Mutex<Connections>,
    started: Instant,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections {
    next: u64,
    open: BTreeMap<u64, Connection>,
}

struct Connection {
    activity: Arc<Activity>,
    abort: Option<tokio::task::AbortHandle>,
}

/// What a connection is doing: requests in flight (their response bodies included) and when it last
/// finished one.
struct Activity {
    busy: AtomicUsize,
    served: AtomicBool,
    last_ms: AtomicU64,
}

impl Activity {
    fn new(now_ms: u64) -> Activity {
        Activity {
            busy: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            last_ms: AtomicU64::new(now_ms),
        }
    }

    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }
}

/// Marks a request in flight until its response body is dropped.
struct Busy {
    activity: Arc<Activity>,
    shared: Arc<Shared>,
}

impl Busy {
    fn new(activity: &Arc<Activity>, shared: &Arc<Shared>) -> Busy {
        activity.busy.fetch_add(1, Ordering::AcqRel);
        activity.served.store(true, Ordering::Release);
        Busy { activity: Arc::clone(activity), shared: Arc::clone(shared) }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.last_ms.store(self.shared.now_ms(), Ordering::Release);
        self.activity.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Shared {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn connections(&self) -> std::sync::MutexGuard<'_, Connections> {
        // A poisoned lock only means a task panicked while holding it; the map itself stays consistent.
        self.connections.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn connection_count(&self) -> usize {
        self.connections().open.len()
    }

    fn register(&self, activity: Arc<Activity>) -> u64 {
        let mut connections = self.connections();
        let seq = connections.next;
        connections.next = seq.wrapping_add(1);
        connections.open.insert(seq, Connection { activity, abort: None });
        seq
    }

    fn set_abort(&self, seq: u64, abort: tokio::task::AbortHandle) {
        if let Some(connection) = self.connections().open.get_mut(&seq) {
            connection.abort = Some(abort);
        }
    }

    fn unregister(&self, seq: u64) {
        self.connections().open.remove(&seq);
    }

    /// Closes the oldest connection with no request in flight; false when every connection is busy.
    fn evict_idle_connection(&self) -> bool {
        let mut connections = self.connections();
        let oldest = connections
            .open
            .iter()
            .find(|(_, connection)| connection.activity.is_idle() && connection.abort.is_some())
            .map(|(seq, _)| *seq);
        let Some(connection) = oldest.and_then(|seq| connections.open.remove(&seq)) else {
            return false;
        };
        if let Some(abort) = connection.abort {
            abort.abort();
        }
        true
    }

    fn last_used(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, u64)>> {
        self.last_used.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Room for one more session: true when under the cap, or when the least recently used session has
    /// been unused long enough to be closed for the new one.
    async fn session_room(&self) -> bool {
        let live: Vec<String> = self.sessions.sessions.read().await.keys().map(ToString::to_string).collect();
        if live.len() < self.limits.max_sessions {
            return true;
        }
        let now = self.now_ms();
        let evict_after = u64::try_from(self.limits.session_evict_after.as_millis()).unwrap_or(u64::MAX);
        let oldest = {
            let mut last_used = self.last_used();
            // Forget sessions that ended on their own (idle expiry, DELETE, a closed stream).
            last_used.retain(|id, _| live.iter().any(|live| live == id));
            live.iter()
                .map(|id| (last_used.get(id).copied().unwrap_or((0, 0)), id))
                .min()
                .map(|(at, id)| (at, id.clone()))
        };
        match oldest {
            Some(((at, _), id)) if now.saturating_sub(at) >= evict_after => {
                tracing::info!(session = %id, "closing the least recently used session to make room");
                self.last_used().remove(&id);
                let id: rmcp::transport::streamable_http_server::session::SessionId = id.into();
                let _ = self.sessions.close_session(&id).await;
                true
            }
            _ => false,
        }
    }

    fn touch_session(&self, id: &str) {
        let now = (self.now_ms(), self.touches.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        self.last_used().insert(id.to_owned(), now);
    }
}

/// Serves one connection until the peer closes it, it sits idle too long, or it is evicted.
async fn serve_connection(
    shared: Arc<Shared>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    seq: u64,
    activity: Arc<Activity>,
) {
    let handler = {
        let shared = Arc::clone(&shared);
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let busy = Busy::new(&activity, &shared);
            let shared = Arc::clone(&shared);
            async move {
                let response = route(&shared, request).await;
                // The request counts as in flight until its body (an SSE stream, perhaps) is done.
                Ok::<_, Infallible>(response.map(move |body| {
                    body.map_frame(move |frame| {
                        let _in_flight = &busy;
                        frame
                    })
                    .boxed()
                }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(shared.limits.header_timeout);
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), handler);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let timeout = if activity.served.load(Ordering::Acquire) {
            shared.limits.idle_timeout
        } else {
            shared.limits.header_timeout
        };
        let deadline = activity
            .last_ms
            .load(Ordering::Acquire)
            .saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        let wait = Duration::from_millis(deadline.saturating_sub(shared.now_ms()).max(1));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, "connection ended: {error}");
                }
                break;
            }
            () = tokio::time::sleep(wait), if !closing => {
                if activity.is_idle() && shared.now_ms() >= deadline {
                    tracing::debug!(%peer, "closing an idle connection");
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
    shared.unregister(seq);
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Body> {
    if request.uri().path() != ENDPOINT {
        return plain(StatusCode::NOT_FOUND, "Not Found: the MCP endpoint is /mcp\n");
    }
    if let Some(token) = &shared.access.token
        && !authorized(request.headers().get(header::AUTHORIZATION), token)
    {
        let mut response =
            plain(StatusCode::UNAUTHORIZED, "Unauthorized: send `Authorization: Bearer <token>`\n");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return response;
    }
    let session =
        request.headers().get(SESSION_HEADER).and_then(|value| value.to_str().ok()).map(str::to_owned);
    match &session {
        Some(id) => shared.touch_session(id),
        // A POST without a session may open one (an `initialize`); 2026-07-28 requests hold none, but
        // refusing them too while the server is full keeps the check ahead of reading the body.
        None if request.method() == hyper::Method::POST && !shared.session_room().await => {
            let mut response = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: the server holds its maximum of MCP sessions, all in use; end a \
                 session (HTTP DELETE) or retry later\n",
            );
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
            // The body was not read: the connection cannot carry another request.
            response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            return response;
        }
        None => {}
    }
    let is_delete = request.method() == hyper::Method::DELETE;
    let response = shared.service.handle(request).await;
    if let Some(id) = response.headers().get(SESSION_HEADER).and_then(|value| value.to_str().ok()) {
        shared.touch_session(id);
    }
    if is_delete && let Some(id) = session {
        shared.last_used().remove(&id);
    }
    response
}

const SESSION_HEADER: &str = "mcp-session-id";

/// `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110), the token is not.
fn authorized(value: Option<&header::HeaderValue>, token: &str) -> bool {
    let Some(value) = value.map(header::HeaderValue::as_bytes) else {
        return false;
    };
    let Some((scheme, given)) = value.split_first_chunk::<6>() else {
        return false;
    };
    let given = given.trim_ascii_start();
    scheme.eq_ignore_ascii_case(b"bearer")
        && value.get(6).is_some_and(|byte| *byte == b' ')
        && same(given, token.as_bytes())
}

/// Whether `token` can be sent in an `Authorization` header as a bearer token (RFC 6750's token68:
/// visible ASCII without spaces).
pub fn sendable_token(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|byte| byte.is_ascii_graphic())
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::{Access, Limits, authorized, same, sendable_token};
    use hyper::header::HeaderValue;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

    /// A server on 127.0.0.1 with the given limits, serving a fresh temporary root.
    async fn serve(limits: Limits) -> (std::net::SocketAddr, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "rg-http-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let server = crate::ReleaseGateServer::new(crate::Root::new(&dir).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(super::run(listener, server, Access { token: None }, limits));
        (addr, dir)
    }

    /// Sends one HTTP/1.1 request and reads the answer's head (status line and headers).
    async fn post(stream: &mut TcpStream, body: &str, session: Option<&str>) -> String {
        let session = session.map(|id| format!("Mcp-Session-Id: {id}\r\n")).unwrap_or_default();
        let request = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, \
             text/event-stream\r\n{session}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            let read =
                tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte)).await.unwrap().unwrap();
            assert_eq!(
                read,
                1,
                "the connection closed before the answer: {}",
                String::from_utf8_lossy(&head)
            );
            head.push(byte[0]);
        }
        String::from_utf8(head).unwrap()
    }

    /// True when the server closes `stream` within `limit`.
    async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
        let mut buffer = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
                Err(_) => return false,
                Ok(Ok(0) | Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }

    fn session_of(head: &str) -> String {
        head.lines()
            .find_map(|line| {
                line.to_ascii_lowercase().strip_prefix("mcp-session-id:").map(|id| id.trim().to_owned())
            })
            .unwrap()
    }

    fn short(limits: Limits) -> Limits {
        Limits {
            header_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(600),
            ..limits
        }
    }

    #[tokio::test]
    async fn silent_and_idle_connections_are_closed() {
        let (addr, dir) = serve(short(Limits::default())).await;
        let mut silent = TcpStream::connect(addr).await.unwrap();
        assert!(
            closed_within(&mut silent, Duration::from_secs(10)).await,
            "a connection that sends nothing is closed"
        );
        let mut kept = TcpStream::connect(addr).await.unwrap();
        let head = post(&mut kept, INITIALIZE, None).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            closed_within(&mut kept, Duration::from_secs(10)).await,
            "an idle kept-alive connection is closed"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn at_the_connection_cap_the_oldest_idle_connection_gives_way() {
        let (addr, dir) = serve(Limits { max_connections: 4, ..Limits::default() }).await;
        let mut idle = Vec::new();
        for _ in 0..4 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut fresh = TcpStream::connect(addr).await.unwrap();
        let head = post(&mut fresh, INITIALIZE, None).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            closed_within(&mut idle[0], Duration::from_secs(5)).await,
            "the oldest idle connection was closed"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn at_the_session_cap_new_sessions_wait_for_an_unused_one() {
        let limits =
            Limits { max_sessions: 2, session_evict_after: Duration::from_millis(500), ..Limits::default() };
        let (addr, dir) = serve(limits).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let first = session_of(&post(&mut stream, INITIALIZE, None).await);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        post(&mut stream, INITIALIZE, None).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let refused = post(&mut stream, INITIALIZE, None).await;
        assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
        assert!(refused.to_ascii_lowercase().contains("retry-after: 30"), "{refused}");
        tokio::time::sleep(Duration::from_millis(700)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let admitted = post(&mut stream, INITIALIZE, None).await;
        assert!(admitted.starts_with("HTTP/1.1 200"), "{admitted}");
        // The least recently used session made room: it is gone.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let gone = post(&mut stream, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, Some(&first)).await;
        assert!(gone.starts_with("HTTP/1.1 404"), "{gone}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_is_not() {
        let check =
            |value: &str| authorized(Some(&HeaderValue::from_str(value).unwrap()), "secret-token-123");
        assert!(check("Bearer secret-token-123"));
        assert!(check("bearer secret-token-123"));
        assert!(check("BEARER secret-token-123"));
        assert!(!check("Bearer Secret-token-123"));
        assert!(!check("Basic secret-token-123"));
        assert!(!check("Bearersecret-token-123"));
        assert!(!check("Bearer"));
        assert!(!authorized(None, "secret-token-123"));
    }

    #[test]
    fn only_visible_ascii_tokens_can_be_sent() {
        assert!(sendable_token("abcDEF012-._~+/="));
        assert!(!sendable_token("caf\u{e9}-token-long-enough"));
        assert!(!sendable_token("has space in it, long"));
        assert!(!sendable_token("tab\tin-it-long-enough"));
        assert!(!sendable_token(""));
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same(b"secret-token", b"secret-token"));
        assert!(!same(b"secret-token", b"secret-tokeN"));
        assert!(!same(b"secret", b"secret-token"));
    }
}
