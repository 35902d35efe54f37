//! release-gate's MCP server: the core's validate, audit and render and the repository's operations
//! (draft, gates, evidence, decide) as tools for coding agents, the protocol's review and rehearsal as
//! prompts, and the policy, rule catalog, template and stored decisions as resources.
//!
//! The only crate that depends on rmcp. The CLI stays synchronous: [`serve_stdio`] and [`serve_http`]
//! build their own current-thread tokio runtime (one thread answers fastest for one client on a pipe).

mod confirm;
mod http;
mod input;
mod lifecycle_tools;
mod person_tools;
mod prompts;
mod repo;
mod repo_tools;
mod resources;
mod runs;
mod schema;
mod server;
mod sign_tools;
mod transport;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use confirm::{CONFIRM_ENV, ConfirmMode, SIGN_CONFIRM_ENV};
pub use http::{ENDPOINT, config as http_config};
pub use input::Root;
pub use resources::{DECISION_URI_TEMPLATE, POLICY_URI, RULES_URI, TEMPLATE, TEMPLATE_URI};
pub use runs::{DEFAULT_RUN_WAIT, RUN_WAIT_ENV, RunStatus, Runs};
pub use server::{INSTRUCTIONS, ReleaseGateServer, TOOL_NAMES};
pub use sign_tools::{ConfirmedBy, SIGNING_KEY_ENV, Signing, Transport};
pub use transport::{LineTransport, MAX_LINE_BYTES, leading_id};

/// The environment variable holding the bearer token for `serve --http`.
pub const TOKEN_ENV: &str = "RELEASE_GATE_HTTP_TOKEN";

/// The environment variable setting the log level (error, warn, info, debug, trace; default warn).
pub const LOG_ENV: &str = "RELEASE_GATE_LOG";

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot use {} as the server's root: {source}", path.display())]
    Root { path: PathBuf, source: std::io::Error },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(
        "refusing to listen on {0}, which is not a loopback address, without a bearer token: set {TOKEN_ENV} \
         to a secret of at least 16 characters (clients send `Authorization: Bearer <token>`)"
    )]
    TokenRequired(SocketAddr),
    #[error("the {TOKEN_ENV} token is shorter than 16 characters; use a longer secret")]
    TokenTooShort,
    #[error(
        "the {TOKEN_ENV} token cannot be sent in an HTTP header: use only visible ASCII characters without \
         spaces (letters, digits and `-._~+/=`)"
    )]
    TokenNotSendable,
    #[error("{0}")]
    Config(String),
    #[error("the MCP session failed to start: {0}")]
    Initialize(String),
    #[error("the MCP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The repository the tools work on; every `path` argument stays inside it.
    pub root: PathBuf,
}

/// Options of `serve --http`.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub root: PathBuf,
    /// Address to listen on; loopback unless a token is given.
    pub addr: SocketAddr,
    /// Bearer token required on every request; mandatory for a non-loopback address.
    pub token: Option<String>,
}

fn runtime() -> Result<tokio::runtime::Runtime, ServeError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ServeError::Runtime)
}

fn server(root: &Path) -> Result<ReleaseGateServer, ServeError> {
    let root = Root::new(root).map_err(|source| ServeError::Root { path: root.to_path_buf(), source })?;
    let confirmation = ConfirmMode::from_env().map_err(ServeError::Config)?;
    let runs = Runs::from_env().map_err(ServeError::Config)?;
    Ok(ReleaseGateServer::new(root)
        .with_signing(Signing::from_env())
        .with_confirmation(confirmation)
        .with_runs(runs))
}

/// Logs to stderr only: stdout is the protocol channel.
fn init_logging() {
    let level = std::env::var(LOG_ENV)
        .ok()
        .and_then(|text| text.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::WARN);
    let _already_set = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(level)
        .try_init();
}

/// Serves MCP over stdin/stdout until the client closes stdin.
pub fn serve_stdio(options: &ServeOptions) -> Result<(), ServeError> {
    init_logging();
    let server = server(&options.root)?;
    runtime()?.block_on(async move {
        // Non-blocking pipes driven by the reactor when stdin/stdout are pipes (as MCP clients start us).
        let (read, write) = rmcp::transport::stdio_pipes();
        serve_on(server, LineTransport::new(read, write)).await
    })
}

/// Serves one session on any transport until the peer goes away.
pub async fn serve_on<R, W>(
    server: ReleaseGateServer,
    transport: LineTransport<R, W>,
) -> Result<(), ServeError>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    use rmcp::ServiceExt;
    let runs = server.runs().clone();
    let running = server.serve(transport).await.map_err(|error| ServeError::Initialize(error.to_string()))?;
    let ended = running.waiting().await;
    // The client is gone: nobody will read a run still going, so it stops (killed, nothing recorded).
    runs.cancel_all(std::time::Duration::from_secs(10)).await;
    ended.map_err(|error| ServeError::Io(std::io::Error::other(error.to_string())))?;
    Ok(())
}

/// Serves MCP over Streamable HTTP at `/mcp` until the process is stopped.
pub fn serve_http(options: &HttpOptions) -> Result<(), ServeError> {
    init_logging();
    let token = options.token.clone().filter(|token| !token.is_empty());
    if token.as_ref().is_some_and(|token| !http::sendable_token(token)) {
        return Err(ServeError::TokenNotSendable);
    }
    if token.as_ref().is_some_and(|token| token.chars().count() < 16) {
        return Err(ServeError::TokenTooShort);
    }
    if !options.addr.ip().is_loopback() && token.is_none() {
        return Err(ServeError::TokenRequired(options.addr));
    }
    let server = server(&options.root)?;
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|source| ServeError::Bind { addr: options.addr, source })?;
        let addr = listener.local_addr()?;
        announce(&format!("release-gate MCP server listening on http://{addr}{ENDPOINT}"));
        http::run(listener, server, http::Access { token }, http::Limits::for_this_process())
            .await
            .map_err(ServeError::Io)
    })
}

/// One line on stderr, whatever the log level: where the server can be reached.
fn announce(line: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}
