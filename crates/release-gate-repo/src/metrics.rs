//! The Prometheus HTTP API, read only: range queries and the server's build info, for rollback triggers
//! watched against metrics. Plain HTTP, one timeout per request, bounded answers, no redirects and no
//! proxy. The bearer token comes from the environment and never reaches a record, a log or an error.

use std::time::Duration;

use release_gate_core::policy::MetricsSettings;
use release_gate_core::signals::{Answer, MAX_OBSERVED_POINTS, Point, Sample};
use serde_json::Value;

/// Overrides the policy's `[metrics] url` (e.g. the same committed policy against staging and production).
pub const URL_ENV: &str = "RELEASE_GATE_METRICS_URL";
/// A bearer token for the metrics server; read from the environment only, never recorded.
pub const TOKEN_ENV: &str = "RELEASE_GATE_METRICS_TOKEN";

/// The largest answer read from the server; a range query of one series at most 11,000 points is far less.
const MAX_ANSWER_BYTES: u64 = 8 * 1024 * 1024;

/// Why a query gave no answer. Messages name the server and the failure, never the token.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(
        "no metrics server: set `[metrics] url` in .release/policy.toml (e.g. `http://127.0.0.1:9090`) or {URL_ENV}"
    )]
    NoUrl,
    #[error("the metrics URL `{0}` is not plain HTTP (`http://HOST:PORT`)")]
    BadUrl(String),
    #[error("the metrics server did not answer: {0}")]
    Request(String),
    #[error("the metrics server answered HTTP {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("the metrics server's answer is not what its API returns: {0}")]
    Answer(String),
}

/// A secret that prints as `[redacted]`.
struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A Prometheus server.
#[derive(Debug)]
pub struct Prometheus {
    base: String,
    token: Option<Token>,
    agent: ureq::Agent,
}

/// One range query's answer: what the core evaluates, what the record keeps, and the raw bytes for a digest.
#[derive(Debug, Clone)]
pub struct Range {
    pub answer: Answer,
    /// The single series' points as the server wrote them (the latest [`MAX_OBSERVED_POINTS`]).
    pub points: Vec<Point>,
    pub raw: Vec<u8>,
}

impl Prometheus {
    /// The server of the policy's `[metrics]`, with the URL and token the environment gives.
    pub fn from_settings(settings: &MetricsSettings) -> Result<Prometheus, MetricsError> {
        let url = std::env::var(URL_ENV)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .or_else(|| settings.url.clone())
            .ok_or(MetricsError::NoUrl)?;
        let token = std::env::var(TOKEN_ENV).ok().filter(|token| !token.is_empty());
        Prometheus::new(&url, token, settings.timeout.unsigned_abs())
    }

    /// A server at `url` (`http://HOST:PORT`, optionally with a path prefix).
    pub fn new(url: &str, token: Option<String>, timeout: Duration) -> Result<Prometheus, MetricsError> {
        let base = url.trim().trim_end_matches('/');
        if !base.starts_with("http://") || base.len() <= "http://".len() {
            return Err(MetricsError::BadUrl(base.to_owned()));
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .build();
        Ok(Prometheus { base: base.to_owned(), token: token.map(Token), agent: config.into() })
    }

    /// The server's base URL (it holds no secret: the token travels in a header).
    pub fn url(&self) -> &str {
        &self.base
    }

    fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<u8>, MetricsError> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {}", token.0));
        }
        let mut response =
            request.call().map_err(|error| MetricsError::Request(self.scrub(&error.to_string())))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|error| MetricsError::Request(self.scrub(&error.to_string())))?;
        if status != 200 {
            let detail = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|value| value.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(body.get(..200).unwrap_or(&body)).into_owned());
            return Err(MetricsError::Status { status, detail: self.scrub(&detail) });
        }
        Ok(body)
    }

    /// Takes the token out of a text that came from elsewhere (a server echoing a header back).
    fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(token) if !token.0.is_empty() => text.replace(&token.0, "[redacted]"),
            _ => text.to_owned(),
        }
    }

    /// `prometheus VERSION (revision REV)` from `/api/v1/status/buildinfo`.
    pub fn build_info(&self) -> Result<String, MetricsError> {
        let body = self.get("/api/v1/status/buildinfo", &[])?;
        let value: Value =
            serde_json::from_slice(&body).map_err(|error| MetricsError::Answer(error.to_string()))?;
        let data = value.get("data").ok_or_else(|| MetricsError::Answer("no `data`".into()))?;
        let field = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or("unknown").to_owned();
        Ok(self.scrub(&format!("prometheus {} (revision {})", field("version"), field("revision"))))
    }

    /// `query_range` from `start_ms` to `end_ms` every `step_ms`.
    pub fn query_range(
        &self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Range, MetricsError> {
        let start = seconds(start_ms);
        let end = seconds(end_ms);
        let step = seconds(step_ms.max(1));
        let raw = self.get(
            "/api/v1/query_range",
            &[("query", query), ("start", &start), ("end", &end), ("step", &step)],
        )?;
        let (answer, points) =
            parse_matrix(&raw).map_err(|error| MetricsError::Answer(self.scrub(&error)))?;
        Ok(Range { answer, points, raw })
    }
}

/// Milliseconds as the API's decimal seconds.
fn seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    format!("{sign}{}.{:03}", ms / 1000, ms % 1000)
}

/// Reads a `matrix` answer: no series, one, or several.
fn parse_matrix(raw: &[u8]) -> Result<(Answer, Vec<Point>), String> {
    let value: Value = serde_json::from_slice(raw).map_err(|error| error.to_string())?;
    if value.get("status").and_then(Value::as_str) != Some("success") {
        return Err("the status is not `success`".into());
    }
    let data = value.get("data").ok_or("no `data`")?;
    if data.get("resultType").and_then(Value::as_str) != Some("matrix") {
        return Err("the result is not a matrix (a range query of an expression that has a value)".into());
    }
    let result = data.get("result").and_then(Value::as_array).ok_or("no `result` list")?;
    let series = match result.as_slice() {
        [] => return Ok((Answer::Empty, Vec::new())),
        [one] => one,
        several => return Ok((Answer::Several(several.len()), Vec::new())),
    };
    let values = series.get("values").and_then(Value::as_array).ok_or("a series without `values`")?;
    let mut samples = Vec::with_capacity(values.len());
    let mut points = Vec::with_capacity(values.len().min(MAX_OBSERVED_POINTS));
    for pair in values {
        let (Some(time), Some(text)) =
            (pair.get(0).and_then(Value::as_f64), pair.get(1).and_then(Value::as_str))
        else {
            return Err("a point is not [time, \"value\"]".into());
        };
        // Times are whole milliseconds on the API's grid; rounding undoes the float's representation error.
        let at_ms = (time * 1000.0).round() as i64;
        let value = match text {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse::<f64>().map_err(|_| format!("`{other}` is not a number"))?,
        };
        samples.push(Sample { at_ms, value });
        points.push(Point { at_ms, value: text.to_owned() });
    }
    let skip = points.len().saturating_sub(MAX_OBSERVED_POINTS);
    let points = points.split_off(skip);
    Ok((Answer::One(samples), points))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices() {
        let empty = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert_eq!(parse_matrix(empty).unwrap().0, Answer::Empty);
        let two = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[]},{"metric":{},"values":[]}]}}"#;
        assert_eq!(parse_matrix(two).unwrap().0, Answer::Several(2));
        let one = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000.5,"0.02"],[1700000001,"NaN"],[1700000002,"+Inf"]]}]}}"#;
        let (answer, points) = parse_matrix(one).unwrap();
        let Answer::One(samples) = answer else { panic!("one series") };
        assert_eq!(samples[0], Sample { at_ms: 1_700_000_000_500, value: 0.02 });
        assert!(samples[1].value.is_nan());
        assert_eq!(samples[2].value, f64::INFINITY);
        assert_eq!(points[1].value, "NaN");
        assert!(parse_matrix(b"{}").is_err());
        assert!(parse_matrix(br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#).is_err());
        assert_eq!(seconds(1_700_000_000_500), "1700000000.500");
        assert_eq!(seconds(-1500), "-1.500");
    }

    #[test]
    fn token_is_redacted() {
        let server =
            Prometheus::new("http://127.0.0.1:9", Some("s3cret".into()), Duration::from_secs(1)).unwrap();
        assert!(!format!("{server:?}").contains("s3cret"));
        assert_eq!(server.scrub("echo s3cret"), "echo [redacted]");
        assert!(Prometheus::new("https://example", None, Duration::from_secs(1)).is_err());
    }
}
