//! The MCP server: tools over the core's validate / audit / render (the repository tools are in
//! `repo_tools`), the protocol's prompts, and resources (fixed ones and each stored decision).

use release_gate_core::{Audit, Decision, Document, Report};
use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, PaginatedRequestParams, PromptMessage, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{
    ErrorData, Json, RoleServer, ServerHandler, prompt, prompt_handler, prompt_router, tool, tool_handler,
    tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::input::{self, Root, Source, ToolError};
use crate::prompts;
use crate::repo::{self, INLINE_TEXT_BYTES, blocking, op_error, quick_or_blocking};

/// What a model reads first about this server (Codex shows it as the description of the whole server).
pub const INSTRUCTIONS: &str = "release-gate checks whether a release may ship under a release-readiness \
protocol: a declared risk class (low/medium/high), five gate layers (code, review, operational, \
communication, decision) marked pass/fail/n/a with evidence, a concrete rollback trigger and owner, a drill \
and rollback rehearsal for risky changes, a communication package, and a person's timestamped GO/NO-GO. \
Order of work in a git repository: 1. `classify_risk` for the changed files; 2. `draft_decision` with the \
scope and the risk class declared first; 3. gather evidence: `run_code_gates`, `record_gate` for the other \
layers, `run_drill` and `run_rehearsal` where the class needs them, `set_communication`; 4. \
`set_decision_field` for the rollback trigger and owner and the rest the person tells you; 5. \
`decision_status` (or `validate_decision` with `id`) and fix every error finding (each says what to do); \
6. a person makes the GO/NO-GO call, which you record with `decide` only when they tell you it. For a \
decision written as Markdown or JSON, `validate_decision`, `audit_decision` and `render_decision` take \
`content` or `path`. A failing verdict is an answer, not an error. `actor` names who you act for and is \
recorded. Never record GO, or name an owner, on a person's behalf.";

/// The names of the tools this server registers, in the order `tools/list` gives them.
pub const TOOL_NAMES: [&str; 24] = [
    "audit_decision",
    "check_setup",
    "classify_risk",
    "close_decision",
    "decide",
    "decision_status",
    "declare_risk",
    "draft_decision",
    "list_decisions",
    "note_friction",
    "rebind_decision",
    "record_gate",
    "render_decision",
    "run_code_gates",
    "run_drill",
    "run_rehearsal",
    "run_status",
    "set_communication",
    "set_decision_field",
    "set_operations",
    "sign_decision",
    "start_watch",
    "validate_decision",
    "verify_decision",
];

/// The release-gate MCP server, working on one repository root.
#[derive(Debug, Clone)]
pub struct ReleaseGateServer {
    root: Root,
    signing: crate::sign_tools::Signing,
    /// How person-only acts are confirmed, with the key that seals a 2026-07-28 client's request state.
    asking: crate::confirm::Asking,
    /// How clients reach this server; `sign_decision` refuses over HTTP without a bearer token.
    transport: crate::sign_tools::Transport,
    /// Runs that go on after their call answered (`run_status`); shared by every session.
    runs: crate::runs::Runs,
    tool_router: ToolRouter<ReleaseGateServer>,
    prompt_router: PromptRouter<ReleaseGateServer>,
}

/// Arguments of `validate_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateArgs {
    /// The decision's text: a Markdown document containing a `Release Decision` section (e.g. a pull-request
    /// description), or the canonical JSON record.
    #[serde(default)]
    #[schemars(with = "String")]
    pub content: Option<String>,
    /// A decision file, relative to the repository root (e.g. `docs/release.md`). It must stay inside the
    /// repository.
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: Option<String>,
    /// A stored decision's id (from `draft_decision` or `list_decisions`): validated as released at
    /// `commit`, with its evidence checked against that commit's diff.
    #[serde(default)]
    #[schemars(with = "String")]
    pub id: Option<String>,
    /// Only with `id`: the commit being released (revision). Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub commit: Option<String>,
    /// Validate as of this time, RFC 3339 with an offset (e.g. `2026-11-27T14:05:00Z`). Omit to use the
    /// current time.
    #[serde(default)]
    #[schemars(with = "String")]
    pub now: Option<String>,
}

/// Arguments of `audit_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditArgs {
    /// The decision's text: a Markdown document containing a `Release Decision` section, or the canonical
    /// JSON record.
    #[serde(default)]
    #[schemars(with = "String")]
    pub content: Option<String>,
    /// A decision file, relative to the repository root.
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: Option<String>,
    /// A stored decision's id (from `draft_decision` or `list_decisions`).
    #[serde(default)]
    #[schemars(with = "String")]
    pub id: Option<String>,
}

/// The form `render_decision` writes.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RenderTarget {
    /// The protocol's Release Decision template, filled in.
    Markdown,
    /// The canonical JSON record.
    Json,
}

/// Arguments of `render_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderArgs {
    /// The decision's text: a Markdown document containing a `Release Decision` section, or the canonical
    /// JSON record.
    #[serde(default)]
    #[schemars(with = "String")]
    pub content: Option<String>,
    /// A decision file, relative to the repository root.
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: Option<String>,
    /// A stored decision's id (from `draft_decision` or `list_decisions`).
    #[serde(default)]
    #[schemars(with = "String")]
    pub id: Option<String>,
    /// `markdown` for the filled-in template, `json` for the canonical record.
    pub to: RenderTarget,
}

/// What `render_decision` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Rendered {
    /// The decision in the requested form.
    pub text: String,
}

/// Arguments of the `release_readiness_review` prompt.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReviewArgs {
    /// The decision file to review, relative to the repository root (optional).
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: Option<String>,
    /// What is being released, e.g. `billing-api, invoice-worker` (optional).
    #[serde(default)]
    #[schemars(with = "String")]
    pub scope: Option<String>,
}

/// Arguments of the `rollback_rehearsal_plan` prompt.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RehearsalPlanArgs {
    /// The service whose rollback is rehearsed.
    pub service: String,
    /// The command or procedure that rolls the service back (optional).
    #[serde(default)]
    #[schemars(with = "String")]
    pub rollback_command: Option<String>,
    /// The non-production environment to rehearse in, e.g. `staging` (optional).
    #[serde(default)]
    #[schemars(with = "String")]
    pub environment: Option<String>,
}

#[tool_router]
impl ReleaseGateServer {
    /// Validate a release decision against the repository's policy: the same object as
    /// `release-gate validate --format json`.
    #[tool(
        name = "validate_decision",
        description = "Validate a Release Decision (Markdown or JSON) against the repository's risk policy \
            (`.release/policy.toml`, else the default). Returns the verdict (pass/fail), the risk class, the \
            GO/NO-GO call and every finding with a stable code, severity, message (what is wrong and what to \
            do) and Markdown line. A `fail` verdict is a normal answer: fix the error findings and validate \
            again. Pass exactly one of `content`, `path` or `id`.",
        annotations(
            title = "Validate a release decision",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn validate_decision(
        &self,
        Parameters(args): Parameters<ValidateArgs>,
    ) -> Result<Json<Report>, ToolError> {
        let now = input::now(args.now.as_deref())?;
        if repo::given_commit(args.commit.clone()).is_some() && args.id.is_none() {
            return Err(ToolError::invalid(
                "`commit` applies only to a stored decision (`id`); omit it with `content` or `path`",
            ));
        }
        // Reading and judging a decision of up to 10 MiB takes a while: off the async thread, so the server
        // keeps answering other requests meanwhile; a short text given inline, with the policy already
        // parsed, is judged in place.
        let cached = self.quick_policy(&args.content, &args.path, &args.id);
        let root = self.root.clone();
        quick_or_blocking(cached.is_some(), move || {
            match input::source(&root, args.content.as_deref(), args.path.as_deref(), args.id.as_deref())? {
                Source::Text(document) => {
                    let policy = cached.map_or_else(|| root.policy(), Ok)?;
                    Ok(Json(release_gate_core::validate(&document, &policy, now)))
                }
                Source::Stored(id) => {
                    let commit = repo::commit(args.commit);
                    let workspace = repo::workspace(&root)?;
                    let (_, report) = workspace.validate(&id, &commit, now).map_err(op_error)?;
                    Ok(Json(report))
                }
            }
        })
        .await
    }

    /// The protocol's five-question audit of a decision.
    #[tool(
        name = "audit_decision",
        description = "Answer the release-readiness protocol's five-question fast audit for a Release Decision \
            (Markdown or JSON): Is risk class explicitly declared? Are all gate layers marked pass/fail? Is final \
            decision owner named? Is rollback trigger concrete and testable? Is communication package prepared? \
            Each answer lists the findings behind it. It reads the same report as `validate_decision`: `ready` is \
            true exactly when that report passes; errors outside the five questions (panel, drill, rehearsal, \
            decision, freeze...) are in `other`. Pass exactly one of `content`, `path` or `id`.",
        annotations(
            title = "Audit a release decision",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn audit_decision(
        &self,
        Parameters(args): Parameters<AuditArgs>,
    ) -> Result<Json<Audit>, ToolError> {
        // The validator's report read as the five questions: the same rules and answer as validate_decision.
        let now = input::now(None)?;
        let cached = self.quick_policy(&args.content, &args.path, &args.id);
        let root = self.root.clone();
        quick_or_blocking(cached.is_some(), move || {
            let report = match input::source(
                &root,
                args.content.as_deref(),
                args.path.as_deref(),
                args.id.as_deref(),
            )? {
                Source::Text(document) => {
                    release_gate_core::validate(&document, &*cached.map_or_else(|| root.policy(), Ok)?, now)
                }
                Source::Stored(id) => repo::workspace(&root)?.validate(&id, "HEAD", now).map_err(op_error)?.1,
            };
            Ok(Json(release_gate_core::audit(&report)))
        })
        .await
    }

    /// Convert a decision between the Markdown template and the JSON record.
    #[tool(
        name = "render_decision",
        description = "Convert a Release Decision between the protocol's Markdown template (`to: markdown`) and \
            the canonical JSON record (`to: json`); the conversion is lossless. Returns `{\"text\": ...}`. Use it \
            to write a decision back in the template's exact shape. Pass exactly one of `content`, `path` or `id`.",
        annotations(
            title = "Render a release decision",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn render_decision(
        &self,
        Parameters(args): Parameters<RenderArgs>,
    ) -> Result<Json<Rendered>, ToolError> {
        let quick = quick_text(args.content.as_deref(), args.path.as_deref(), args.id.as_deref());
        let root = self.root.clone();
        quick_or_blocking(quick, move || {
            let document = document(&root, args.content, args.path, args.id)?;
            let text = match args.to {
                RenderTarget::Markdown => release_gate_core::markdown::render(&document.decision),
                RenderTarget::Json => document.decision.to_json(),
            };
            Ok(Json(Rendered { text }))
        })
        .await
    }
}

/// Whether a content tool's input is short text given inline (only `content`, at most
/// [`INLINE_TEXT_BYTES`]): judged in place, no file or repository to read.
fn quick_text(content: Option<&str>, path: Option<&str>, id: Option<&str>) -> bool {
    path.is_none() && id.is_none() && content.is_some_and(|text| text.len() <= INLINE_TEXT_BYTES)
}

impl ReleaseGateServer {
    /// For short text given inline, the policy as already parsed and unchanged: then the call is judged on
    /// the async thread. `None` sends it to the blocking pool (a file or stored decision to read, long
    /// text, or a policy to read and parse first).
    fn quick_policy(
        &self,
        content: &Option<String>,
        path: &Option<String>,
        id: &Option<String>,
    ) -> Option<std::sync::Arc<release_gate_core::Policy>> {
        quick_text(content.as_deref(), path.as_deref(), id.as_deref())
            .then(|| self.root.cached_policy())
            .flatten()
    }
}

#[prompt_router]
impl ReleaseGateServer {
    /// Walk the release-readiness protocol for a release, step by step, with the tools.
    #[prompt(
        name = "release_readiness_review",
        description = "Review whether a release is ready under the release-readiness protocol: risk class, gate \
            layers, rollback trigger and owner, drill and rehearsal, communication package, GO/NO-GO."
    )]
    pub async fn release_readiness_review(
        &self,
        Parameters(args): Parameters<ReviewArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            prompts::readiness_review(args.path.as_deref(), args.scope.as_deref()),
        )]
    }

    /// Plan a rollback rehearsal: the protocol's five rehearsal steps for one service.
    #[prompt(
        name = "rollback_rehearsal_plan",
        description = "Plan a rollback rehearsal in a non-production environment: the protocol's five steps, \
            ending with the recovery time and friction points to record in the decision."
    )]
    pub async fn rollback_rehearsal_plan(
        &self,
        Parameters(args): Parameters<RehearsalPlanArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            prompts::rehearsal_plan(
                &args.service,
                args.rollback_command.as_deref(),
                args.environment.as_deref(),
            ),
        )]
    }
}

impl ReleaseGateServer {
    /// A server working on `root` (every `path` argument stays inside it).
    pub fn new(root: Root) -> ReleaseGateServer {
        let mut tool_router = Self::tool_router()
            + Self::repo_tool_router()
            + Self::lifecycle_tool_router()
            + Self::sign_tool_router()
            + Self::person_tool_router()
            + Self::run_tool_router();
        crate::schema::compact_tools(tool_router.map.values_mut().map(|route| &mut route.attr));
        ReleaseGateServer {
            root,
            signing: crate::sign_tools::Signing::default(),
            asking: crate::confirm::Asking::new(crate::confirm::ConfirmMode::default()),
            transport: crate::sign_tools::Transport::default(),
            runs: crate::runs::Runs::default(),
            tool_router,
            prompt_router: Self::prompt_router(),
        }
    }

    /// The tools as `tools/list` gives them.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tool_router.list_all()
    }

    pub(crate) fn root(&self) -> &Root {
        &self.root
    }

    /// The same server, signing with the given key (`sign_decision`).
    #[must_use]
    pub fn with_signing(mut self, signing: crate::sign_tools::Signing) -> ReleaseGateServer {
        self.signing = signing;
        self
    }

    pub(crate) fn signing(&self) -> &crate::sign_tools::Signing {
        &self.signing
    }

    /// The same server, confirming person-only acts in this way (`RELEASE_GATE_CONFIRM`).
    #[must_use]
    pub fn with_confirmation(mut self, mode: crate::confirm::ConfirmMode) -> ReleaseGateServer {
        self.asking = crate::confirm::Asking::new(mode);
        self
    }

    pub(crate) fn asking(&self) -> &crate::confirm::Asking {
        &self.asking
    }

    /// The same server, reached over the given transport (`serve --http` sets HTTP and whether a bearer
    /// token guards it; the default is stdio).
    #[must_use]
    pub fn with_transport(mut self, transport: crate::sign_tools::Transport) -> ReleaseGateServer {
        self.transport = transport;
        self
    }

    pub(crate) fn transport(&self) -> crate::sign_tools::Transport {
        self.transport
    }

    /// The same server, its run tools waiting `runs`' wait before answering with a handle.
    #[must_use]
    pub fn with_runs(mut self, runs: crate::runs::Runs) -> ReleaseGateServer {
        self.runs = runs;
        self
    }

    /// The runs that go on after their call answered.
    pub fn runs(&self) -> &crate::runs::Runs {
        &self.runs
    }

    /// A stored decision, read from the repository's store.
    async fn stored(&self, id: release_gate_repo::store::Id) -> Result<Decision, ToolError> {
        let root = self.root.clone();
        blocking(move || repo::workspace(&root)?.load(&id).map_err(op_error)).await
    }

    /// The ids of the stored decisions; none when the root is not in a repository or has no store.
    async fn stored_ids(&self) -> Vec<String> {
        let root = self.root.clone();
        let ids = blocking(move || {
            let workspace = repo::workspace(&root)?;
            Ok(workspace.ids().map(|ids| ids.iter().map(ToString::to_string).collect()).unwrap_or_default())
        })
        .await;
        ids.unwrap_or_default()
    }
}

/// The decision a tool was given as `content`, `path` or `id`. Blocking: it reads and parses.
fn document(
    root: &Root,
    content: Option<String>,
    path: Option<String>,
    id: Option<String>,
) -> Result<Document, ToolError> {
    match input::source(root, content.as_deref(), path.as_deref(), id.as_deref())? {
        Source::Text(document) => Ok(*document),
        Source::Stored(id) => Ok(Document::from_record(repo::workspace(root)?.load(&id).map_err(op_error)?)),
    }
}

/// How rmcp begins the message of a tool result for arguments that do not deserialize.
const ARGUMENT_ERROR_PREFIX: &str = "failed to deserialize parameters:";

/// The fixed resources, with what a model should know about each.
const RESOURCES: [(&str, &str, &str, &str); 3] = [
    (
        crate::resources::POLICY_URI,
        "policy",
        "application/toml",
        "The effective risk policy: the repository's `.release/policy.toml`, else the default, written out.",
    ),
    (
        crate::resources::RULES_URI,
        "rules",
        "application/json",
        "Every finding code with its default severity, meaning and fix.",
    ),
    (
        crate::resources::TEMPLATE_URI,
        "template",
        "text/markdown",
        "The protocol's Release Decision template in Markdown, to copy and fill in.",
    ),
];

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for ReleaseGateServer {
    /// Dispatches to the tool router. Arguments that do not fit a tool's input schema come back from rmcp
    /// as a tool result with `isError: true` (SEP-1303); its text is rewritten to name the tool and say how
    /// to correct the call, the same shape as the tools' own argument checks (`ToolError::Invalid`).
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.clone();
        let mut response = self.tool_router.call(ToolCallContext::new(self, request, context)).await?;
        if let CallToolResponse::Complete(result) = &mut response
            && result.is_error == Some(true)
            && let Some(block) = result.content.first_mut()
            && let Some(text) = block.as_text()
            && let Some(detail) = text.text.strip_prefix(ARGUMENT_ERROR_PREFIX)
        {
            *block = rmcp::model::ContentBlock::text(format!(
                "{} {}; the input schema of `{name}` in tools/list gives each argument's name and type. \
                 Correct the arguments and call again.",
                input::INVALID_ARGUMENTS,
                detail.trim()
            ));
        }
        Ok(response)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder().enable_tools().enable_prompts().enable_resources().build(),
        )
        .with_server_info(Implementation::new("release-gate", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut resources: Vec<Resource> = RESOURCES
            .iter()
            .map(|(uri, name, mime, description)| {
                Resource::new(*uri, *name).with_mime_type(*mime).with_description(*description)
            })
            .collect();
        for id in self.stored_ids().await {
            resources.push(
                Resource::new(crate::resources::decision_uri(&id), format!("decision {id}"))
                    .with_mime_type("application/json")
                    .with_description(format!(
                        "The stored decision `{id}`: its JSON record with its history."
                    )),
            );
        }
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let template = ResourceTemplate::new(crate::resources::DECISION_URI_TEMPLATE, "decision")
            .with_mime_type("application/json")
            .with_description(
                "A stored decision's JSON record with its history, by id (`list_decisions` lists the ids).",
            );
        Ok(ListResourceTemplatesResult::with_all_items(vec![template]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.as_str();
        let (text, mime) = match uri {
            crate::resources::POLICY_URI => match self.root.policy_text() {
                Ok(Some(text)) => (text, "application/toml"),
                Ok(None) => (release_gate_core::policy::DEFAULT_POLICY_TOML.to_owned(), "application/toml"),
                Err(ToolError::Failed(message)) => return Err(ErrorData::internal_error(message, None)),
                Err(invalid @ ToolError::Invalid(_)) => return Err(invalid.into_error_data()),
            },
            crate::resources::RULES_URI => (crate::resources::rules_json(), "application/json"),
            crate::resources::TEMPLATE_URI => (crate::resources::TEMPLATE.to_owned(), "text/markdown"),
            _ if uri.starts_with(crate::resources::DECISION_URI_PREFIX) => {
                let raw = uri.get(crate::resources::DECISION_URI_PREFIX.len()..).unwrap_or_default();
                let id = repo::id(raw).map_err(ToolError::into_error_data)?;
                let decision = match self.stored(id).await {
                    Ok(decision) => decision,
                    Err(ToolError::Failed(message)) => {
                        return Err(ErrorData::resource_not_found(format!("{uri}: {message}"), None));
                    }
                    Err(invalid @ ToolError::Invalid(_)) => return Err(invalid.into_error_data()),
                };
                (decision.to_json(), "application/json")
            }
            _ => {
                return Err(ErrorData::resource_not_found(
                    format!(
                        "no resource {uri:?}; this server has {}, {}, {} and {}",
                        crate::resources::POLICY_URI,
                        crate::resources::RULES_URI,
                        crate::resources::TEMPLATE_URI,
                        crate::resources::DECISION_URI_TEMPLATE
                    ),
                    None,
                ));
            }
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(mime)]).into())
    }
}
