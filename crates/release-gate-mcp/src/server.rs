//! The MCP server: tools over the core's validate / audit / render, the protocol's prompts, and resources.

use release_gate_core::{Audit, Code, Report};
use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourcesResult, PaginatedRequestParams,
    PromptMessage, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{
    ErrorData, Json, RoleServer, ServerHandler, prompt, prompt_handler, prompt_router, tool, tool_handler,
    tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::input::{self, Root, ToolError};
use crate::prompts;

/// What a model reads first about this server (Codex shows it as the description of the whole server).
pub const INSTRUCTIONS: &str = "release-gate checks whether a release may ship under a release-readiness \
protocol: a declared risk class (low/medium/high), five gate layers (code, review, operational, \
communication, decision) marked pass/fail/n/a with evidence, a concrete rollback trigger and owner, a drill \
and rollback rehearsal for risky changes, a communication package, and a person's timestamped GO/NO-GO. \
Order of work: read the `release-gate://template` resource and write or find the Release Decision \
(Markdown or JSON); call `validate_decision` and fix every error finding (each says what to do), reading \
the warnings; call `audit_decision` for the five-question audit; use `render_decision` to convert between \
Markdown and JSON. A failing verdict is an answer, not an error. Never record GO, or name an owner, on a \
person's behalf.";

/// The names of the tools this server registers, in the order `tools/list` gives them.
pub const TOOL_NAMES: [&str; 3] = ["audit_decision", "render_decision", "validate_decision"];

/// The release-gate MCP server, working on one repository root.
#[derive(Debug, Clone)]
pub struct ReleaseGateServer {
    root: Root,
    tool_router: ToolRouter<ReleaseGateServer>,
    prompt_router: PromptRouter<ReleaseGateServer>,
}

/// Arguments of `validate_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateArgs {
    /// The decision's text: a Markdown document containing a `Release Decision` section (e.g. a pull-request
    /// description), or the canonical JSON record. Give this or `path`, not both.
    #[serde(default)]
    #[schemars(with = "String")]
    pub content: Option<String>,
    /// A decision file, relative to the repository root (e.g. `docs/release.md`). It must stay inside the
    /// repository. Give this or `content`, not both.
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: Option<String>,
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
    /// JSON record. Give this or `path`, not both.
    #[serde(default)]
    #[schemars(with = "String")]
    pub content: Option<String>,
    /// A decision file, relative to the repository root. Give this or `content`, not both.
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: Option<String>,
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
    /// JSON record. Give this or `path`, not both.
    #[serde(default)]
    #[schemars(with = "String")]
    pub content: Option<String>,
    /// A decision file, relative to the repository root. Give this or `content`, not both.
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: Option<String>,
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
pub struct RehearsalArgs {
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
            again. Pass exactly one of `content` or `path`.",
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
        let document = input::document(&self.root, args.content.as_deref(), args.path.as_deref())?;
        let policy = self.root.policy()?;
        Ok(Json(release_gate_core::validate(&document, &policy, now)))
    }

    /// The protocol's five-question audit of a decision.
    #[tool(
        name = "audit_decision",
        description = "Answer the release-readiness protocol's five-question fast audit for a Release Decision \
            (Markdown or JSON): risk class declared before verification, required gate layers evaluated with \
            evidence, a concrete rollback trigger and owner, a rehearsal or drill where the risk needs one, an \
            explicit timestamped GO/NO-GO by a named owner. `ready` is true only when every answer is yes. \
            Pass exactly one of `content` or `path`.",
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
        let document = input::document(&self.root, args.content.as_deref(), args.path.as_deref())?;
        Ok(Json(release_gate_core::audit(&document)))
    }

    /// Convert a decision between the Markdown template and the JSON record.
    #[tool(
        name = "render_decision",
        description = "Convert a Release Decision between the protocol's Markdown template (`to: markdown`) and \
            the canonical JSON record (`to: json`); the conversion is lossless. Returns `{\"text\": ...}`. Use it \
            to write a decision back in the template's exact shape. Pass exactly one of `content` or `path`.",
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
        let document = input::document(&self.root, args.content.as_deref(), args.path.as_deref())?;
        let text = match args.to {
            RenderTarget::Markdown => release_gate_core::markdown::render(&document.decision),
            RenderTarget::Json => document.decision.to_json(),
        };
        Ok(Json(Rendered { text }))
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
        Parameters(args): Parameters<RehearsalArgs>,
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
        ReleaseGateServer { root, tool_router: Self::tool_router(), prompt_router: Self::prompt_router() }
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
    /// Dispatches to the tool router, turning arguments that do not match a tool's input schema into the
    /// JSON-RPC `invalid_params` error (rmcp reports them as a tool result; this server's contract is that
    /// malformed arguments are protocol errors and a tool result with `isError` means the tool ran).
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.clone();
        let response = self.tool_router.call(ToolCallContext::new(self, request, context)).await?;
        if let CallToolResponse::Complete(result) = &response
            && result.is_error == Some(true)
            && let Some(text) = result.content.first().and_then(|block| block.as_text())
            && text.text.starts_with(ARGUMENT_ERROR_PREFIX)
        {
            return Err(ErrorData::invalid_params(
                format!("{}; see the input schema of `{name}` in tools/list", text.text),
                None,
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
        let resources = RESOURCES
            .iter()
            .map(|(uri, name, mime, description)| {
                Resource::new(*uri, *name).with_mime_type(*mime).with_description(*description)
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
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
                Err(ToolError::Invalid(error)) => return Err(error),
            },
            crate::resources::RULES_URI => (crate::resources::rules_json(Code::ALL), "application/json"),
            crate::resources::TEMPLATE_URI => (crate::resources::TEMPLATE.to_owned(), "text/markdown"),
            _ => {
                return Err(ErrorData::resource_not_found(
                    format!(
                        "no resource {uri:?}; this server has {}, {} and {}",
                        crate::resources::POLICY_URI,
                        crate::resources::RULES_URI,
                        crate::resources::TEMPLATE_URI
                    ),
                    None,
                ));
            }
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(mime)]).into())
    }
}
