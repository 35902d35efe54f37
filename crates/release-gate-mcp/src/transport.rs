//! Newline-delimited JSON-RPC over a byte stream (stdio), bounded, and answering what it cannot deliver.
//!
//! rmcp's own stream transport drops an oversized line and unparsable JSON without a word, so the client
//! waits forever for an answer. This one reads each line within a limit and answers such input itself:
//! an oversized request gets an `Invalid Request` error (with its `id` when the line's head shows it), text
//! that is not JSON gets a `Parse error`, and the connection stays open for the next request.

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
    fn reply_error(&self, id: Value, code: i64, message: String) {
        let response = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code, "message": message },
        });
        let write = Arc::clone(&self.write);
        tokio::spawn(async move {
            if let Err(error) = write_line(&write, &response).await {
                tracing::warn!("cannot write an error response: {error}");
            }
        });
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
                match serde_json::from_slice::<Value>(line) {
                    Err(_) => self.reply_error(
                        Value::Null,
                        PARSE_ERROR,
                        format!(
                            "Parse error: the line is not JSON ({error}); send one JSON-RPC message per line"
                        ),
                    ),
                    Ok(value) => match value.get("id").filter(|id| id.is_number() || id.is_string()) {
                        Some(id) => {
                            self.reply_error(id.clone(), INVALID_REQUEST, format!("Invalid Request: {error}"))
                        }
                        // A notification nobody knows (or a malformed one) gets no answer: it has no id.
                        None if value.get("method").is_some() => {
                            tracing::debug!("ignoring an unreadable notification: {error}");
                        }
                        None => self.reply_error(
                            Value::Null,
                            INVALID_REQUEST,
                            format!("Invalid Request: {error}"),
                        ),
                    },
                }
                None
            }
        }
    }
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
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(head.get(..error.valid_up_to())?).ok()?,
    };
    let mut rest = valid.trim_start().strip_prefix('{')?;
    loop {
        rest = rest.trim_start();
        let mut keys = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        let key = keys.next()?.ok()?;
        rest = rest.get(keys.byte_offset()..)?.trim_start().strip_prefix(':')?;
        if key == "id" {
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
            return values.next()?.ok().filter(|id| id.is_number() || id.is_string());
        }
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde::de::IgnoredAny>();
        values.next()?.ok()?;
        rest = rest.get(values.byte_offset()..)?.trim_start().strip_prefix(',')?;
    }
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
                    let id = leading_id(&head).unwrap_or(Value::Null);
                    tracing::warn!(max = self.max_line, "refused a message longer than the limit");
                    self.reply_error(
                        id,
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
                    // Keep the buffer's capacity for the next line.
                    self.line = line;
                    self.line.clear();
                    if let Some(message) = parsed {
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
    use super::{RoleServer, RxJsonRpcMessage, leading_id, tool_call};
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
