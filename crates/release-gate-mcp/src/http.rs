//! `serve --http`: Streamable HTTP at `/mcp`, loopback by default, with Host/Origin checks and a bearer token.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, header};
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

/// Serves until the listener fails; each connection gets its own task.
pub async fn run(
    listener: tokio::net::TcpListener,
    server: ReleaseGateServer,
    access: Access,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    // The server knows how it is reached: over HTTP without a token, any local process (any user's) is a
    // client, so `sign_decision` refuses there.
    let server = server.with_transport(Transport::Http { token: access.token.is_some() });
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config(addr),
    );
    let access = Arc::new(access);
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = service.clone();
        let access = Arc::clone(&access);
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |request: Request<Incoming>| {
                let service = service.clone();
                let access = Arc::clone(&access);
                async move { Ok::<_, Infallible>(route(&service, &access, request).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(error) = hyper::server::conn::http1::Builder::new().serve_connection(io, handler).await
            {
                tracing::debug!(%peer, "connection ended: {error}");
            }
        });
    }
}

async fn route(
    service: &StreamableHttpService<ReleaseGateServer, LocalSessionManager>,
    access: &Access,
    request: Request<Incoming>,
) -> Response<Body> {
    if request.uri().path() != ENDPOINT {
        return plain(StatusCode::NOT_FOUND, "Not Found: the MCP endpoint is /mcp\n");
    }
    if let Some(token) = &access.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if !given.is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
            let mut response =
                plain(StatusCode::UNAUTHORIZED, "Unauthorized: send `Authorization: Bearer <token>`\n");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    service.handle(request).await
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
    use super::same;

    #[test]
    fn tokens_compare_exactly() {
        assert!(same(b"secret-token", b"secret-token"));
        assert!(!same(b"secret-token", b"secret-tokeN"));
        assert!(!same(b"secret", b"secret-token"));
    }
}
