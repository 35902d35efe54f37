//! Newline-delimited JSON-RPC over a byte stream (stdio), bounded, and answering what it cannot deliver.
//!
//! rmcp's own stream transport drops an oversized line and unparsable JSON without a word, so the client
//! waits forever for an answer. This one reads each line within a limit and answers such input itself:
//! an oversized request gets an `Invalid Request` error (with its `id` when the line's head shows it), text
//! that is not JSON gets a `Parse error`, and the connection stays open for the next request.

use std::collections::HashSet;
use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientRequest, JsonObject, JsonRpcMessage, JsonRpcRequest,
    JsonRpcVersion2_0, RequestId, RequestMetaObject,
};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// The longest request line read, in bytes: room for a 10 MiB decision after JSON escaping.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// A line buffer grown past this by one large message is freed rather than kept for the next line.
const KEEP_LINE_BYTES: usize = 1024 * 1024;

/// How much of an oversized line is kept to find its `id`.
const HEAD_BYTES: usize = 4096;

/// JSON-RPC error codes this transport answers with.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// A server transport over any reader and writer (stdio pipes, or an in-memory duplex in tests).
#[derive(Debug)]
pub struct LineTransport<R, W> {
    read: BufReader<R>,
    max_line: usize,
    // State lives here, not in `receive`: the service polls `receive` in a `select!` and may drop it
    // mid-line, and the next call must resume the same line.
    line: Vec<u8>,
    oversized: Option<Vec<u8>>,
    write: Arc<Mutex<W>>,
    /// Ids of client requests delivered and not yet answered: a second request with one of them is
    /// answered here with an error (rmcp would answer only one of the two).
    in_flight: Arc<std::sync::Mutex<HashSet<RequestId>>>,
    /// Whether a request went through yet: a notification before it (before `initialize`) is dropped,
    /// since rmcp ends the session on any first message that is not a request.
    seen_request: bool,
}

enum Step {
    More,
    Line,
    Oversized,
    Eof,
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Send + Unpin,
    W: AsyncWrite + Send + Unpin + 'static,
{
    pub fn new(read: R, write: W) -> LineTransport<R, W> {
        LineTransport::with_max_line(read, write, MAX_LINE_BYTES)
    }

    pub fn with_max_line(read: R, write: W, max_line: usize) -> LineTransport<R, W> {
        LineTransport {
            read: BufReader::new(read),
            max_line,
            line: Vec::new(),
            oversized: None,
            write: Arc::new(Mutex::new(write)),
            in_flight: Arc::new(std::sync::Mutex::new(HashSet::new())),
            seen_request: false,
        }
    }

    /// Reads until a whole line (or the end of an oversized one) is in hand; cancel-safe.
    async fn read_line(&mut self) -> std::io::Result<Step> {
        loop {
            let (consumed, step) = {
                let available = self.read.fill_buf().await?;
                if available.is_empty() {
                    return Ok(Step::Eof);
                }
                let newline = available.iter().position(|byte| *byte == b'\n');
                let take = newline.map_or(available.len(), |index| index.saturating_add(1));
                let chunk = available.get(..take).unwrap_or(available);
                let done = if newline.is_some() { Step::Line } else { Step::More };
                if let Some(head) = self.oversized.as_mut() {
                    let room = HEAD_BYTES.saturating_sub(head.len());
                    head.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
                    (take, if newline.is_some() { Step::Oversized } else { Step::More })
                } else if self.line.len().saturating_add(take) > self.max_line {
                    let mut head = std::mem::take(&mut self.line);
                    head.truncate(HEAD_BYTES);
                    let room = HEAD_BYTES.saturating_sub(head.len());
                    head.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
                    self.oversized = Some(head);
                    (take, if newline.is_some() { Step::Oversized } else { Step::More })
                } else {
                    self.line.extend_from_slice(chunk);
                    (take, done)
                }
            };
            self.read.consume(consumed);
            if !matches!(step, Step::More) {
                return Ok(step);
            }
        }
    }

    /// Writes an error response without holding up the reader (and without being cut by cancellation).
    ///
    /// `id` is the request's id exactly as the client wrote it (a number keeps every digit), or `null`.
    fn reply_error(&self, id: &[u8], code: i64, message: String) {
        let message = serde_json::to_string(&message).unwrap_or_else(|_| "\"Invalid Request\"".to_owned());
        let mut response = Vec::with_capacity(message.len().saturating_add(id.len()).saturating_add(64));
        response.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        response.extend_from_slice(id);
        response.extend_from_slice(
            format!(",\"error\":{{\"code\":{code},\"message\":{message}}}}}\n").as_bytes(),
        );
        let write = Arc::clone(&self.write);
        tokio::spawn(async move {
            let mut write = write.lock().await;
            if let Err(error) = write.write_all(&response).await.and(write.flush().await) {
                tracing::warn!("cannot write an error response: {error}");
            }
        });
    }

    /// Whether a parsed message goes to the server: a request whose id is still in flight is answered
    /// here with an error, and a notification before the first request is dropped.
    fn admit(&mut self, message: RxJsonRpcMessage<RoleServer>) -> Option<RxJsonRpcMessage<RoleServer>> {
        match &message {
            JsonRpcMessage::Request(request) => {
                self.seen_request = true;
                let fresh = self
                    .in_flight
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(request.id.clone());
                if !fresh {
                    let id = serde_json::to_vec(&request.id).unwrap_or_else(|_| b"null".to_vec());
                    self.reply_error(
                        &id,
                        INVALID_REQUEST,
                        format!(
                            "Invalid Request: a request with id {} is still in progress; give every request \
                             its own id",
                            String::from_utf8_lossy(&id)
                        ),
                    );
                    return None;
                }
            }
            JsonRpcMessage::Notification(_) if !self.seen_request => {
                tracing::debug!("ignoring a notification before initialize");
                return None;
            }
            _ => {}
        }
        Some(message)
    }

    /// Parses one complete line; `None` when there is nothing to deliver.
    fn parse(&self, line: &[u8]) -> Option<RxJsonRpcMessage<RoleServer>> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        if let Some(call) = tool_call(line) {
            return Some(call);
        }
        match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
            Ok(message) => Some(message),
            Err(error) => {
                let id = answer_id(line);
                match serde_json::from_slice::<Value>(line) {
                    Err(_) => self.reply_error(
                        id.as_deref().unwrap_or(b"null"),
                        PARSE_ERROR,
                        format!(
                            "Parse error: the line is not JSON ({error}); send one JSON-RPC message per line"
                        ),
                    ),
                    // A notification (no `id`) or a client's malformed answer gets no answer.
                    Ok(value) if is_notification_or_response(&value) => {
                        tracing::debug!("ignoring an unreadable notification or response: {error}");
                    }
                    Ok(_) => self.reply_error(
                        id.as_deref().unwrap_or(b"null"),
                        INVALID_REQUEST,
                        format!("Invalid Request: {error}"),
                    ),
                }
                None
            }
        }
    }
}

/// A message that gets no answer: an object without `id` (a notification), or a client's answer (`result`
/// or `error` without `method`).
fn is_notification_or_response(value: &Value) -> bool {
    value.is_object()
        && (value.get("id").is_none()
            || value.get("method").is_none()
                && (value.get("result").is_some() || value.get("error").is_some()))
}

/// The id to answer a line that could not be delivered with: the raw text of its top-level `id` when
/// that is a number or a string (numbers keep every digit), else `None` (answered with `null`, as
/// JSON-RPC asks when the id cannot be read or is of another type).
fn answer_id(line: &[u8]) -> Option<Vec<u8>> {
    let raw = raw_id(line)?;
    match serde_json::from_slice::<Value>(raw).ok()? {
        Value::Number(_) | Value::String(_) => Some(raw.to_vec()),
        _ => None,
    }
}

/// The raw text of a JSON object's top-level `id` member, found without parsing the rest of the line
/// (which may be nested too deep, not UTF-8, cut short, or otherwise not JSON). Iterative: no recursion.
pub fn raw_id(line: &[u8]) -> Option<&[u8]> {
    let start = line.iter().position(|byte| !byte.is_ascii_whitespace())?;
    let text = line.get(start..)?;
    if text.first() != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize; // nesting below the top-level object
    let mut in_string = false;
    let mut escaped = false;
    let mut at_key = true;
    let mut key_is_id = false;
    let mut token: Option<usize> = None;
    let value = |from: Option<usize>, to: usize| text.get(from?..to).map(<[u8]>::trim_ascii);
    for (index, &byte) in text.iter().enumerate().skip(1) {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
                if depth == 0 && at_key {
                    key_is_id = value(token, index.saturating_add(1)) == Some(b"\"id\"".as_slice());
                    token = None;
                } else if depth == 0 && key_is_id {
                    return value(token, index.saturating_add(1));
                }
            }
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                if depth == 0 && token.is_none() {
                    token = Some(index);
                }
            }
            b'{' | b'[' => {
                if depth == 0 && token.is_none() {
                    token = Some(index);
                }
                depth = depth.saturating_add(1);
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 && key_is_id {
                    return value(token, index.saturating_add(1));
                }
            }
            b'}' | b',' if depth == 0 => {
                if key_is_id && !at_key {
                    return value(token, index);
                }
                if byte == b'}' {
                    return None;
                }
                at_key = true;
                key_is_id = false;
                token = None;
            }
            b':' if depth == 0 => {
                at_key = false;
                token = None;
            }
            _ if byte.is_ascii_whitespace() => {}
            _ => {
                if depth == 0 && token.is_none() {
                    token = Some(index);
                }
            }
        }
    }
    None
}

/// A plain `tools/call` request, the message agents send most, read straight into its typed form.
///
/// rmcp's general reader buffers each message and tries its shapes and request kinds one after another,
/// copying a large argument (a decision's text) several times on the way. Anything this reader does not
/// expect (another method, an unknown field, MRTR retry fields, a duplicate key) gives `None`, and the
/// general reader decides, so both readers accept and refuse the same messages.
fn tool_call(line: &[u8]) -> Option<RxJsonRpcMessage<RoleServer>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Call<'a> {
        #[allow(dead_code)]
        jsonrpc: JsonRpcVersion2_0,
        id: RequestId,
        #[serde(borrow)]
        method: std::borrow::Cow<'a, str>,
        params: Params,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Params {
        #[serde(rename = "_meta", default)]
        meta: Option<JsonObject>,
        name: String,
        #[serde(default)]
        arguments: Option<JsonObject>,
    }
    let call: Call<'_> = serde_json::from_slice(line).ok()?;
    if call.method != "tools/call" {
        return None;
    }
    let mut params = CallToolRequestParams::new(call.params.name);
    params.arguments = call.params.arguments;
    let mut request = CallToolRequest::new(params);
    // Where the general reader puts `_meta` (progress token and the like).
    if let Some(meta) = call.params.meta {
        request.extensions.insert(RequestMetaObject::from(meta));
    }
    Some(JsonRpcMessage::Request(JsonRpcRequest::new(call.id, ClientRequest::CallToolRequest(request))))
}

async fn write_line<W: AsyncWrite + Unpin>(
    write: &Mutex<W>,
    message: &impl serde::Serialize,
) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(message)?;
    bytes.push(b'\n');
    let mut write = write.lock().await;
    write.write_all(&bytes).await?;
    write.flush().await
}

/// The `id` of a JSON-RPC request from the first bytes of its line, when it comes before the bulk.
pub fn leading_id(head: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(raw_id(head)?).ok().filter(|id| id.is_number() || id.is_string())
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Send + Unpin,
    W: AsyncWrite + Send + Unpin + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answered = match &item {
            JsonRpcMessage::Response(response) => Some(response.id.clone()),
            JsonRpcMessage::Error(error) => error.id.clone(),
            _ => None,
        };
        if let Some(id) = answered {
            self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
        }
        let write = Arc::clone(&self.write);
        async move { write_line(&write, &item).await }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            match self.read_line().await {
                Err(error) => {
                    tracing::error!("cannot read the next message: {error}");
                    return None;
                }
                Ok(Step::Eof) => return None,
                Ok(Step::More) => {}
                Ok(Step::Oversized) => {
                    let head = self.oversized.take().unwrap_or_default();
                    let id = answer_id(&head);
                    tracing::warn!(max = self.max_line, "refused a message longer than the limit");
                    self.reply_error(
                        id.as_deref().unwrap_or(b"null"),
                        INVALID_REQUEST,
                        format!(
                            "Invalid Request: the message is longer than {} bytes. release-gate reads decisions \
                             of at most 10 MiB: pass a smaller `content`, or a `path` inside the repository",
                            self.max_line
                        ),
                    );
                }
                Ok(Step::Line) => {
                    let line = std::mem::take(&mut self.line);
                    let parsed = self.parse(&line);
                    // Keep the buffer's capacity for the next line, unless one large line grew it: then
                    // give the memory back.
                    if line.capacity() <= KEEP_LINE_BYTES {
                        self.line = line;
                        self.line.clear();
                    }
                    if let Some(message) = parsed.and_then(|message| self.admit(message)) {
                        return Some(message);
                    }
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.write.lock().await.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::{RoleServer, RxJsonRpcMessage, answer_id, leading_id, raw_id, tool_call};
    use serde_json::json;

    /// The fast reader gives what the general one gives, or leaves the message to it.
    #[test]
    fn tool_calls_read_the_same_both_ways() {
        let general = |line: &str| {
            serde_json::from_str::<RxJsonRpcMessage<RoleServer>>(line)
                .ok()
                .map(|m| serde_json::to_value(m).ok())
        };
        let fast_lines = [
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"validate_decision","arguments":{"content":"a\nb \u00e9"}}}"#,
            r#"{"params":{"arguments":{"id":"x"},"name":"decision_status"},"method":"tools/call","id":"k","jsonrpc":"2.0"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_decisions"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_decisions","arguments":null}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"_meta":{"progressToken":5},"name":"run_code_gates","arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"_meta":null,"name":"list_decisions"}}"#,
        ];
        for line in fast_lines {
            let fast = tool_call(line.as_bytes()).map(|m| serde_json::to_value(m).ok());
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, general(line), "{line}");
        }
        let general_only = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"extra":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","requestState":"s"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":[1]}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            "not json",
        ];
        for line in general_only {
            assert!(tool_call(line.as_bytes()).is_none(), "{line}");
        }
    }

    #[test]
    fn finds_the_raw_id_anywhere_at_the_top_level() {
        let deep = format!(r#"{{"p":{}{},"id":9}}"#, "[".repeat(500), "]".repeat(500));
        let cases: [(&[u8], Option<&[u8]>); 9] = [
            (br#"{"id":7,"method":"x"}"#, Some(b"7")),
            (
                br#" { "method" : "x", "params": {"id": 1, "a": [1, {"id": "}"}]}, "id" : "k" } "#,
                Some(br#""k""#),
            ),
            (
                br#"{"a":""id":3","id":123456789012345678901234567890}"#,
                Some(b"123456789012345678901234567890"),
            ),
            (br#"{"id":{"a":[1]},"x":1}"#, Some(br#"{"a":[1]}"#)),
            (br#"{"id":null}"#, Some(b"null")),
            (deep.as_bytes(), Some(b"9")),
            (b"{\"s\":\"\xff\",\"id\":10}", Some(b"10")),
            (br#"{"method":"x","params":{"id":1}}"#, None),
            (b"[1,2]", None),
        ];
        for (line, id) in cases {
            assert_eq!(raw_id(line), id, "{}", String::from_utf8_lossy(line));
        }
        assert_eq!(answer_id(br#"{"id":true}"#), None);
        assert_eq!(answer_id(br#"{"id":[1]}"#), None);
        assert_eq!(answer_id(br#"{"id":-1.5e3}"#).as_deref(), Some(b"-1.5e3".as_slice()));
    }

    #[test]
    fn finds_the_id_before_the_bulk() {
        assert_eq!(
            leading_id(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"x":"aaaa"#),
            Some(json!(7))
        );
        assert_eq!(
            leading_id(br#" { "method" : "x", "params": {"a": [1, {"b": "}"}]}, "id": "k""#),
            Some(json!("k"))
        );
        assert_eq!(leading_id(br#"{"jsonrpc":"2.0","method":"tools/call","params":{"x":"aaaa"#), None);
        assert_eq!(leading_id(br#"{"id":null}"#), None);
        assert_eq!(leading_id(b"not json"), None);
    }
}
