//! Asking the person: the one place every person-only act (`decide`, `sign_decision`, `run_rehearsal`, a risk
//! class below the suggestion, naming the decision owner or the panel) gets the person's confirmation, and
//! learns who confirmed and how.
//!
//! - A 2025-era client (the `initialize` handshake) is asked through elicitation: a server-to-client request
//!   while the call waits.
//! - A 2026-07-28 client forbids server-to-client requests: the call answers with an input-required result
//!   that carries the question and a request state sealed with an HMAC under a key drawn at start-up. The
//!   client asks the person and calls again with their answer and the state; the state must open, be unspent
//!   and name exactly the act the call now asks for, so a client cannot swap the act it confirms.
//! - A client that cannot ask is refused, unless the person who started the server chose
//!   `RELEASE_GATE_CONFIRM=client`: then the client's own approval of the call is the confirmation.
//! - Over HTTP without a bearer token any local process can call, so person-only acts are refused there.
//!
//! The form always has required properties (a confirmation box and the person's name): some clients accept a
//! form without one on their own, which would be no confirmation at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use release_gate_core::history::{Confirmation, ConfirmedHow};
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema, InputRequest,
    InputRequests, InputRequiredResult, InputResponses, ProtocolVersion, RequestStateCodec, SealOptions,
};
use rmcp::service::{ElicitationError, RequestContext};
use rmcp::{ErrorData, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::TOKEN_ENV;
use crate::input::ToolError;
use crate::server::ReleaseGateServer;

/// How the person who starts the server lets person-only acts be confirmed: `elicit` (the default: ask the
/// person through the client) or `client` (the client's approval of the call stands for the person's, for
/// headless runs where they pre-approved the tools).
pub const CONFIRM_ENV: &str = "RELEASE_GATE_CONFIRM";

/// The older name of [`CONFIRM_ENV`], from when only signing asked; still read when the new one is unset.
pub const SIGN_CONFIRM_ENV: &str = "RELEASE_GATE_SIGN_CONFIRM";

/// The key of the one input request a confirmation makes.
const INPUT_KEY: &str = "confirm";

/// How long a person has to answer a 2026-07-28 client's question.
const ANSWER_WITHIN: Duration = Duration::from_secs(15 * 60);

/// Names an agent goes by: never the person who owns, sits on the panel for, or confirms a release.
const AGENT_NAMES: [&str; 12] = [
    "agent",
    "ai",
    "assistant",
    "bot",
    "chatgpt",
    "claude",
    "codex",
    "copilot",
    "cursor",
    "gemini",
    "gpt",
    "llm",
];

/// How the person confirms person-only acts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConfirmMode {
    /// Ask through the client (elicitation, or an input request for a 2026-07-28 client); a decline, a
    /// cancel, an unchecked box or a client that cannot ask refuses.
    #[default]
    Elicit,
    /// The client's approval of the call is the confirmation; the server does not ask.
    Client,
}

impl ConfirmMode {
    /// From `RELEASE_GATE_CONFIRM`, else `RELEASE_GATE_SIGN_CONFIRM`.
    pub fn from_env() -> Result<ConfirmMode, String> {
        let (name, value) = [CONFIRM_ENV, SIGN_CONFIRM_ENV]
            .into_iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()).map(|v| (name, v)))
            .unwrap_or((CONFIRM_ENV, String::new()));
        match value.as_str() {
            "" | "elicit" => Ok(ConfirmMode::Elicit),
            "client" => Ok(ConfirmMode::Client),
            other => Err(format!("{name} is `{other}`: use `elicit` (the default) or `client`")),
        }
    }
}

/// What the server asks with: the mode, the key that seals request state, and the states already spent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Asking {
    mode: ConfirmMode,
    /// `None` only when the system gave no randomness at start-up: then 2026-07-28 clients cannot confirm.
    codec: Option<Arc<RequestStateCodec>>,
    /// Nonces of request states that came back confirmed, with when they expire: each confirms one call.
    spent: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Asking {
    pub(crate) fn new(mode: ConfirmMode) -> Asking {
        Asking { mode, codec: fresh_codec().map(Arc::new), spent: Arc::default() }
    }

    pub(crate) fn mode(&self) -> ConfirmMode {
        self.mode
    }

    /// Marks a nonce spent; false when it already was.
    fn spend(&self, nonce: &str) -> bool {
        let Ok(mut spent) = self.spent.lock() else { return false };
        let now = Instant::now();
        spent.retain(|_, until| *until > now);
        spent.insert(nonce.to_owned(), now + ANSWER_WITHIN).is_none()
    }
}

/// A codec under 32 fresh random bytes, held only by this process.
fn fresh_codec() -> Option<RequestStateCodec> {
    use rand_core::RngCore;
    let mut key = zeroize::Zeroizing::new([0_u8; 32]);
    rand_core::OsRng.try_fill_bytes(key.as_mut_slice()).ok()?;
    RequestStateCodec::try_new(key.to_vec()).ok()
}

/// A random nonce, hex.
fn nonce() -> Option<String> {
    use rand_core::RngCore;
    let mut bytes = [0_u8; 16];
    rand_core::OsRng.try_fill_bytes(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What a person-only tool's call brings for asking: the request (protocol version, client capabilities,
/// the way back to the client) and, on a 2026-07-28 client's second round, the person's answer and the
/// sealed state.
pub(crate) struct Asked {
    context: RequestContext<RoleServer>,
    state: Option<String>,
    responses: Option<InputResponses>,
}

impl<S> FromContextPart<ToolCallContext<'_, S>> for Asked {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        Ok(Asked {
            context: context.request_context.clone(),
            state: context.request_state.take(),
            responses: context.input_responses.take(),
        })
    }
}

impl Asked {
    /// The client's own name (`clientInfo`), when it gave one.
    pub(crate) fn client(&self) -> Option<String> {
        self.context.client_info().map(|info| info.name).filter(|name| !name.trim().is_empty())
    }
}

/// The person's answer in the form.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct ConfirmForm {
    /// Yes, do this now.
    pub confirm: bool,
    /// Your name, recorded as who confirmed.
    pub name: String,
}

rmcp::elicit_safe!(ConfirmForm);

/// One act to confirm.
pub(crate) struct Act {
    /// The tool asking.
    pub tool: &'static str,
    /// Everything the act does, as facts: sealed into a 2026-07-28 client's request state and compared when
    /// the answer comes back.
    pub facts: serde_json::Value,
    /// What the person reads.
    pub question: String,
    /// The `actor` of the call: never a name that confirms.
    pub actor: String,
    /// How the person does it themselves instead, e.g. `release-gate decide ID --go --owner NAME`.
    pub by_hand: String,
}

/// How asking ended.
pub(crate) enum Answer {
    /// The person confirmed (or the server's opt-in lets the client's approval stand).
    Confirmed(Confirmation),
    /// A 2026-07-28 client must ask the person and call again: return this as the call's result.
    Ask(InputRequiredResult),
    /// Nothing may be done; why, and what the person can do.
    Refused(String),
}

impl Answer {
    /// The confirmation, or what the tool answers instead: the question (2026-07-28) or the refusal, a tool
    /// error that says what the person can do.
    pub(crate) fn or_reply(self) -> Result<Confirmation, Box<Reply>> {
        match self {
            Answer::Confirmed(confirmation) => Ok(confirmation),
            Answer::Ask(question) => Err(Box::new(Ok(question.into()))),
            Answer::Refused(reason) => Err(Box::new(Err(ToolError::Failed(reason)))),
        }
    }
}

/// What a 2026-07-28 client's request state holds.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    tool: String,
    facts: serde_json::Value,
    nonce: String,
}

impl ReleaseGateServer {
    /// Asks the person to confirm `act` in the way the client and the server's set-up allow. Refusals that
    /// the person can change (they declined, the client cannot ask) are [`Answer::Refused`]; a state that
    /// does not open, or names another act, is an error.
    pub(crate) async fn ask_person(&self, asked: Asked, act: Act) -> Result<Answer, ToolError> {
        let tool = act.tool;
        if self.transport() == (crate::sign_tools::Transport::Http { token: false }) {
            return Err(ToolError::Failed(format!(
                "nothing was done: `{tool}` needs the person's confirmation, and this server listens over HTTP \
                 without a bearer token, so any local process (any user's) could call it. The person restarts \
                 it with {TOKEN_ENV} set to a secret of at least 16 characters that only their client sends \
                 (`Authorization: Bearer <token>`), or uses stdio (`release-gate serve`)"
            )));
        }
        let client = asked.client();
        if self.asking().mode() == ConfirmMode::Client {
            return Ok(Answer::Confirmed(Confirmation {
                how: ConfirmedHow::ClientApproval,
                by: None,
                client,
            }));
        }
        let modern = asked
            .context
            .protocol_version()
            .is_some_and(|version| version.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        let answer = if modern {
            self.ask_by_input_request(&asked, &act)?
        } else {
            match asked.context.peer.elicit::<ConfirmForm>(act.question.clone()).await {
                Ok(Some(form)) => Ok(form),
                Ok(None)
                | Err(ElicitationError::UserDeclined)
                | Err(ElicitationError::UserCancelled)
                | Err(ElicitationError::NoContent)
                | Err(ElicitationError::ParseError { .. }) => Err(not_confirmed(&act)),
                Err(ElicitationError::CapabilityNotSupported) => Err(cannot_ask(&act)),
                Err(error) => {
                    return Err(ToolError::Failed(format!(
                        "could not ask the person to confirm ({error}); nothing was done. Call again"
                    )));
                }
            }
            .map(|form| (form, ConfirmedHow::Elicitation))
        };
        let (form, how) = match answer {
            Ok(answer) => answer,
            Err(Step::Refused(reason)) => return Ok(Answer::Refused(reason)),
            Err(Step::Ask(result)) => return Ok(Answer::Ask(result)),
        };
        if !form.confirm {
            return Ok(Answer::Refused(not_confirmed(&act).reason()));
        }
        let name = release_gate_core::value::tidy_line(&form.name);
        if name.is_empty() || is_agent_name(&name, &act.actor, client.as_deref()) {
            return Ok(Answer::Refused(format!(
                "nothing was done: the confirmation named {name:?}, which is not a person's name (an agent, the \
                 call's actor or the client). The person confirms under their own name"
            )));
        }
        Ok(Answer::Confirmed(Confirmation { how, by: Some(name), client }))
    }

    /// The 2026-07-28 round trip: the first call gets the question and a sealed state; the second brings the
    /// answer and the state back.
    fn ask_by_input_request(
        &self,
        asked: &Asked,
        act: &Act,
    ) -> Result<Result<(ConfirmForm, ConfirmedHow), Step>, ToolError> {
        let tool = act.tool;
        let Some(codec) = self.asking().codec.as_deref() else {
            return Err(ToolError::Failed(format!(
                "`{tool}` cannot ask a 2026-07-28 client: the server found no randomness for its request-state key \
                 at start-up; nothing was done. The person does it with the CLI"
            )));
        };
        let Some(state) = asked.state.as_deref() else {
            let can_ask = asked
                .context
                .client_capabilities()
                .and_then(|caps| caps.elicitation)
                .is_some_and(|elicitation| elicitation.form.is_some() || elicitation.url.is_none());
            if !can_ask {
                return Ok(Err(cannot_ask(act)));
            }
            let nonce =
                nonce().ok_or_else(|| ToolError::Failed("no randomness for a request state".into()))?;
            let pending = Pending { tool: tool.to_owned(), facts: act.facts.clone(), nonce };
            let sealed = codec
                .seal_json_with(
                    &pending,
                    &SealOptions::new().associated_data(tool.as_bytes()).ttl(ANSWER_WITHIN),
                )
                .map_err(|error| ToolError::Failed(format!("cannot seal the request state: {error}")))?;
            let schema = ElicitationSchema::from_type::<ConfirmForm>()
                .map_err(|error| ToolError::Failed(format!("the confirmation form: {error}")))?;
            let request = ElicitRequest::new(ElicitRequestParams::FormElicitationParams {
                meta: None,
                message: act.question.clone(),
                requested_schema: schema,
            });
            let requests = InputRequests::from([(INPUT_KEY.to_owned(), InputRequest::Elicitation(request))]);
            return Ok(Err(Step::Ask(InputRequiredResult::new(Some(requests), Some(sealed)))));
        };
        let pending: Pending = codec.open_json_with(state, tool.as_bytes()).map_err(|error| {
            ToolError::invalid(format!(
                "`requestState` is not one this server issued for `{tool}`, or it expired ({error}); call `{tool}` \
                 again without it to ask the person"
            ))
        })?;
        if pending.tool != tool || pending.facts != act.facts {
            return Err(ToolError::invalid(format!(
                "the person's answer was for another act than this call asks for (its arguments or the facts \
                 they stand for changed); nothing was done. Call `{tool}` again without `requestState` to ask \
                 the person about this one"
            )));
        }
        let answer = asked.responses.as_ref().and_then(|responses| responses.get(INPUT_KEY));
        let Some(answer) = answer else {
            return Ok(Err(not_confirmed(act)));
        };
        let Ok(result) = serde_json::from_value::<ElicitResult>(answer.clone()) else {
            return Ok(Err(not_confirmed(act)));
        };
        let form = match (result.action, result.content) {
            (ElicitationAction::Accept, Some(content)) => serde_json::from_value::<ConfirmForm>(content).ok(),
            _ => None,
        };
        let Some(form) = form else { return Ok(Err(not_confirmed(act))) };
        if form.confirm && !self.asking().spend(&pending.nonce) {
            return Err(ToolError::invalid(format!(
                "this confirmation was already used: each answer confirms one call. Call `{tool}` again without \
                 `requestState` to ask the person"
            )));
        }
        Ok(Ok((form, ConfirmedHow::InputRequest)))
    }
}

/// Where asking stopped short of an answer.
enum Step {
    Refused(String),
    Ask(InputRequiredResult),
}

impl Step {
    fn reason(self) -> String {
        match self {
            Step::Refused(reason) => reason,
            Step::Ask(_) => String::new(),
        }
    }
}

fn not_confirmed(act: &Act) -> Step {
    let (tool, by_hand) = (act.tool, &act.by_hand);
    Step::Refused(format!(
        "the person did not confirm `{tool}`, so nothing was done. They can do it themselves: `{by_hand}`. A client \
         that cannot ask (a headless run) declines on its own: the person who pre-approved `{tool}` there starts \
         the server with {CONFIRM_ENV}=client"
    ))
}

fn cannot_ask(act: &Act) -> Step {
    let (tool, by_hand) = (act.tool, &act.by_hand);
    Step::Refused(format!(
        "this client cannot ask the person to confirm `{tool}` (it declares no form elicitation), so nothing \
         was done. The person does it themselves (`{by_hand}`), or, to let this client's approval of the call \
         stand for their confirmation, starts the server with {CONFIRM_ENV}=client"
    ))
}

/// Whether `name` is the agent rather than a person: a name agents go by, the call's `actor` (or the agent
/// part of `agent for person`), or the client's own name.
pub(crate) fn is_agent_name(name: &str, actor: &str, client: Option<&str>) -> bool {
    let key = |text: &str| {
        text.chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace())
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let name = key(name);
    let actor = key(actor);
    let agent = actor.split(" for ").next().unwrap_or_default().to_owned();
    AGENT_NAMES.contains(&name.as_str())
        || name == actor
        || name == agent
        || client.is_some_and(|client| key(client) == name)
}

/// A person-only tool's finished result (what `Json<T>` or a tool error would have been) as a call response,
/// the type it shares with the input-required answer.
pub(crate) fn complete(result: impl rmcp::handler::server::tool::IntoCallToolResult) -> Reply {
    result.into_call_tool_result().map_err(|error| ToolError::Failed(error.message.into_owned()))
}

/// What a person-only tool answers: its result, or the question for a 2026-07-28 client.
pub(crate) type Reply = Result<rmcp::model::CallToolResponse, ToolError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_not_people() {
        for name in ["codex", "Codex", "  Claude ", "copilot", "assistant", "agent", "codex for Dana Lee"] {
            assert!(is_agent_name(name, "codex for Dana Lee", None), "{name}");
        }
        assert!(is_agent_name("Ops Bot", "Ops Bot", None));
        assert!(is_agent_name("codex-mcp-client", "x", Some("codex-mcp-client")));
        for name in ["Dana Lee", "Priya Shah", "Claude Monet Jr"] {
            assert!(!is_agent_name(name, "codex for Dana Lee", Some("codex-mcp-client")), "{name}");
        }
    }

    #[test]
    fn a_state_opens_only_for_its_tool_and_unchanged() {
        let asking = Asking::new(ConfirmMode::Elicit);
        let codec = asking.codec.as_deref().unwrap();
        let pending =
            Pending { tool: "decide".into(), facts: serde_json::json!({"id": "a"}), nonce: "n".into() };
        let sealed = codec.seal_json_with(&pending, &SealOptions::new().associated_data(b"decide")).unwrap();
        let opened: Pending = codec.open_json_with(&sealed, b"decide").unwrap();
        assert_eq!(opened.facts, serde_json::json!({"id": "a"}));
        assert!(codec.open_json_with::<Pending>(&sealed, b"sign_decision").is_err());
        let other = Asking::new(ConfirmMode::Elicit);
        assert!(other.codec.as_deref().unwrap().open_json_with::<Pending>(&sealed, b"decide").is_err());
        assert!(asking.spend("n"));
        assert!(!asking.spend("n"));
    }
}
