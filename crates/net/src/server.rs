//! `git handoff mcp`: an MCP server on stdio (rmcp), a second front end over the core, so that
//! Claude Code and Codex use the repository itself as their shared memory. stdout is the
//! protocol: nothing else is ever written there (the core never prints; logs go to stderr).
//!
//! Tools: the seed's `byterover-store-knowledge {messages}` and
//! `byterover-retrieve-knowledge {query, limit}`, so the seed skill works unchanged, and typed
//! tools for each step. Prompts: the seed's four steps. Every call opens the repository around
//! the server's working directory afresh (any subdirectory or worktree), and errors become tool
//! errors carrying the CLI's message and hints.

use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, PromptMessage, Role, ServerCapabilities,
    ServerConfig,
};
use rmcp::{
    ServerHandler, ServiceExt, prompt, prompt_handler, prompt_router, tool, tool_handler,
    tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;

use git_handoff::error::{CommandError, Remedy};
use git_handoff::session::{Finding, Kind, Verdict};
use git_handoff::workflow::prompt::{self as context, Purpose};
use git_handoff::workflow::{Handoff, Input, seed};

/// The server: the routers of its tools and prompts, and the repository handle its calls share.
#[derive(Clone)]
pub(crate) struct Server {
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
    repo: RepoSlot,
}

/// The repository around the server's working directory, opened by the first call and kept
/// for the next: libgit2 re-reads refs, packs and configuration as they change on disk, and
/// opening a repository with many packed refs again for every call was most of a call's cost.
/// The configuration (`.handoff.toml`) is loaded afresh by every call.
type RepoSlot = std::sync::Arc<std::sync::Mutex<Option<git_handoff::git::Repo>>>;

/// `byterover-store-knowledge` arguments, the seed's.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StoreArgs {
    /// The text to store, in the seed's format: `**[SESSION-ID] CODEX REVIEW: title**`, the
    /// body, a `## Verdict` section for reviews and validations.
    pub messages: String,
}

/// `byterover-retrieve-knowledge` arguments, the seed's.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RetrieveArgs {
    /// What to look for; a session ID ranks that session's artifacts first.
    pub query: String,
    /// How many results (default 5).
    pub limit: Option<usize>,
}

/// Arguments naming a session.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionArgs {
    /// Session: full ID, random part, unique prefix or slug.
    pub session: String,
}

/// `handoff_context` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ContextArgs {
    /// Session: full ID, random part, unique prefix or slug.
    pub session: String,
    /// review, implement or validate (default: inferred from the status).
    #[serde(rename = "for")]
    pub purpose: Option<String>,
}

/// `handoff_plan` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanArgs {
    /// The plan in markdown.
    pub body: String,
    /// Title of a new session (required unless `session` is given).
    pub title: Option<String>,
    /// An existing session, for the next plan iteration.
    pub session: Option<String>,
    /// Who wrote it (default: the configured planner).
    pub agent: Option<String>,
    /// Record it even where the session's status does not allow a plan (default false).
    pub force: Option<bool>,
}

/// `handoff_review` and `handoff_validate` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VerdictArgs {
    /// Session: full ID, random part, unique prefix or slug.
    pub session: String,
    /// approve, approve-with-changes, request-changes or reject.
    pub verdict: String,
    /// The review or validation in markdown.
    pub body: String,
    /// Findings: the JSON array of docs/format.md, or a Codex review object, as a JSON string.
    pub findings: Option<String>,
    /// Who wrote it (default: the configured reviewer).
    pub agent: Option<String>,
    /// Record it even where the session's status does not allow this step (default false).
    pub force: Option<bool>,
}

/// `handoff_implement` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ImplementArgs {
    /// Session: full ID, random part, unique prefix or slug.
    pub session: String,
    /// The implementation summary in markdown.
    pub body: String,
    /// The commits, in git's revision forms (`A..B`, `A^!`, `B ^X`, several separated by
    /// spaces; default: the session's own commits, those carrying its trailer).
    pub range: Option<String>,
    /// Record it even without commits, or where the session's status does not allow an
    /// implementation (default false).
    pub force: Option<bool>,
}

/// `handoff_search` and `handoff_list` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// Words to look for (search) or ignored (list).
    pub query: Option<String>,
    /// How many results.
    pub limit: Option<usize>,
}

/// Arguments of the step prompts.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StepArgs {
    /// The session (for review, implement and validate) or the feature to plan.
    pub session_or_feature: String,
}

/// What a tool answers: text, or a whole result (text with structured content beside it).
enum Answer {
    Text(String),
    Full(CallToolResult),
}

impl From<String> for Answer {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<CallToolResult> for Answer {
    fn from(result: CallToolResult) -> Self {
        Self::Full(result)
    }
}

/// A tool's outcome: its answer, or an error with the core's message, the remedy in an
/// agent's words ([`remedy_for_agent`]) and the hints.
fn reply(result: Result<Answer, CommandError>) -> CallToolResult {
    match result {
        Ok(Answer::Text(text)) => CallToolResult::success(vec![ContentBlock::text(text)]),
        Ok(Answer::Full(result)) => result,
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.render(remedy_for_agent))]),
    }
}

/// What an agent can do about an error, with this server's tools and their arguments (the
/// CLI says the same facts with commands and flags).
fn remedy_for_agent(remedy: &Remedy) -> String {
    match remedy {
        Remedy::NextStepOrForce { session, state } => {
            let next = match (next_tool(state), state.status) {
                (Some(tool), _) => format!("next: {tool} with session {session}"),
                (None, Some(git_handoff::session::Status::Abandoned)) => {
                    "the session is abandoned; nothing follows".to_owned()
                }
                (None, _) => "the session is complete; nothing follows but an optional pattern (stored with byterover-store-knowledge)".to_owned(),
            };
            format!("; {next}, or call this tool again with force: true to record it anyway")
        }
        Remedy::NameCommitsOrForce { session } => format!(
            "; commit the work first (each commit with the trailer 'Handoff-Session: {session}'), give the commits as range (A..B, A^!, B ^X), or call handoff_implement again with force: true to record it anyway"
        ),
        Remedy::GiveBody => " (give it as body)".to_owned(),
        Remedy::GiveVerdict => {
            ": verdict approve, approve-with-changes, request-changes or reject".to_owned()
        }
        Remedy::ForceUndo => " (a person can, with git handoff undo --force)".to_owned(),
    }
}

/// The tool that takes a session in `state` on: `None` when nothing follows or no tool does
/// it (a pattern is stored through byterover-store-knowledge).
fn next_tool(state: &git_handoff::session::status::State) -> Option<&'static str> {
    use git_handoff::session::Status;
    match state.status {
        None => Some("handoff_plan"),
        Some(Status::AwaitingCodexReview) => Some("handoff_review"),
        Some(Status::ReadyForImplementation) => Some("handoff_implement"),
        Some(Status::ReadyForCodexValidation) => Some("handoff_validate"),
        Some(Status::ChangesRequested) if state.changes_requested_by == Some(Kind::Validation) => {
            Some("handoff_implement")
        }
        Some(Status::ChangesRequested) => Some("handoff_plan"),
        Some(Status::Complete | Status::Abandoned) => None,
    }
}

/// Runs core work off the async runtime, one call at a time, on the server's repository.
async fn with_handoff<T: Into<Answer> + Send + 'static>(
    slot: &RepoSlot,
    work: impl FnOnce(&Handoff) -> Result<T, CommandError> + Send + 'static,
) -> CallToolResult {
    let slot = slot.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut kept = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let repo = match kept.take() {
            Some(repo) => repo,
            None => git_handoff::git::Repo::open_from_env()
                .map_err(git_handoff::workflow::Error::from)?,
        };
        let handoff = Handoff {
            // What this server writes is retrievable at once, index or not before.
            index_every_write: true,
            ..Handoff::with_repo(repo)?
        };
        let result = work(&handoff).map(Into::into);
        *kept = Some(handoff.repo);
        result
    })
    .await
    // The work panicked (or the runtime dropped it): a bug of ours, said as one ("internal
    // error"), not as the agent's mistake.
    .unwrap_or_else(|e| {
        Err(CommandError::new(
            git_handoff::error::ErrorKind::Internal,
            anyhow::anyhow!("the tool failed: {e}"),
        ))
    });
    reply(result)
}

/// When this server last wrote (see [`index_own_write`]).
static LAST_WRITE: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);

/// How long after its own write the server trusts the index it updated itself over the refs
/// fingerprint, which the file system's timestamp tick makes racy for a moment.
const OWN_WRITE_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);

/// Notes that a tool's write was indexed (by the write itself), so that the next read trusts
/// the index for a moment instead of listing every ref of a large repository.
fn index_own_write(recorded: &git_handoff::workflow::Recorded) {
    // The write itself indexed it (this server's Handoff indexes every write); a failure there
    // only means the next read refreshes fully.
    if recorded.indexed {
        *LAST_WRITE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(std::time::Instant::now());
    }
}

/// The index, brought up to date: fully, or, right after this server's own write, from what
/// it indexed itself (others' writes of that moment are seen by the next call).
fn open_index(handoff: &Handoff) -> Result<git_handoff::index::Index, CommandError> {
    let recent = LAST_WRITE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .is_some_and(|at| at.elapsed() < OWN_WRITE_WINDOW);
    let store = handoff.store();
    Ok(if recent {
        git_handoff::index::open_after_own_write(&store, &mut |_| {})?
    } else {
        git_handoff::index::open_refreshed(&store, &mut |_| {}, &mut |_, _| {})?
    })
}

fn json(value: &impl serde::Serialize) -> Result<String, CommandError> {
    serde_json::to_string_pretty(value).map_err(|e| CommandError::user(anyhow::anyhow!(e)))
}

fn recorded_json(recorded: &git_handoff::workflow::Recorded) -> Result<String, CommandError> {
    json(&git_handoff::views::recorded(recorded))
}

fn parse_verdict(text: &str) -> Result<Verdict, CommandError> {
    text.trim()
        .to_ascii_lowercase()
        .parse::<Verdict>()
        .map_err(|e| CommandError::user(anyhow::anyhow!(e)))
}

fn parse_findings(handoff: &Handoff, text: Option<&str>) -> Result<Vec<Finding>, CommandError> {
    match text {
        None => Ok(Vec::new()),
        Some(t) if t.trim().is_empty() => Ok(Vec::new()),
        Some(t) => Ok(git_handoff::workflow::findings::parse(t, handoff.repo.work_dir())?.findings),
    }
}

#[tool_router(router = tool_router)]
impl Server {
    /// A server for the repository around the working directory.
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
            repo: RepoSlot::default(),
        }
    }

    #[tool(
        name = "byterover-store-knowledge",
        title = "Store a handoff text (seed format)",
        annotations(
            title = "Store a handoff text (seed format)",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        ),
        description = "Store a plan, review, implementation summary, validation or pattern in the repository, in the seed's format: first line **[SESSION-ID] CLAUDE PLAN|CODEX REVIEW|IMPLEMENTATION COMPLETE|CODEX VALIDATION|VALIDATED PATTERN: title**, a '## Verdict' section for reviews and validations. It is recorded in the session it names (a plan naming none starts one) and is retrievable at once. A text is never lost: one that cannot be the step it names now is kept (out of order, or as a note) and the answer says so and what to do next."
    )]
    async fn store_knowledge(&self, Parameters(args): Parameters<StoreArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            let stored = seed::store(handoff, &args.messages, None)?;
            index_own_write(&stored.recorded);
            let a = &stored.recorded.artifact;
            let id = &a.session;
            if stored.new_session && a.kind == Kind::Plan {
                // As `git handoff plan` does: commits made for it from now get its trailer,
                // unless another unfinished session is current.
                let _ = handoff.offer_current(id);
            }
            let view = git_handoff::views::recorded(&stored.recorded);
            let mut text = format!(
                "Stored in git as {} {} of {id}{}: status {}.",
                a.kind.article(),
                a.kind,
                if stored.new_session {
                    " (a new session)"
                } else {
                    ""
                },
                a.status
            );
            if let Some(kept) = &stored.kept_as {
                text.push_str(&format!("\nNote: {kept}."));
            }
            let next = view
                .next_text
                .strip_prefix("next: ")
                .unwrap_or(&view.next_text);
            text.push_str(&format!("\nNext: {next}\nSession ID: {id}\n"));
            // Both agent CLIs hand the model the structured content when there is one: it
            // carries what the text says, the note on what the text became included.
            let mut structured =
                serde_json::to_value(&view).map_err(|e| CommandError::user(anyhow::anyhow!(e)))?;
            if let Some(object) = structured.as_object_mut() {
                object.insert("kept_as".to_owned(), serde_json::json!(stored.kept_as));
                object.insert("answer".to_owned(), serde_json::json!(text));
            }
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = Some(structured);
            Ok(result)
        })
        .await
    }

    #[tool(
        name = "byterover-retrieve-knowledge",
        title = "Retrieve stored handoff texts",
        annotations(
            title = "Retrieve stored handoff texts",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        ),
        description = "Retrieve stored plans, reviews, implementation summaries and validations, each as its whole text in the seed's format. A session ID in the query returns that session's texts; words like plan, review, implementation, validation, claude or codex put those first, newest first. Other queries are a ranked full-text search. Texts over 16 KiB are cut with a pointer to the rest; an answer holds at most 48 KiB."
    )]
    async fn retrieve_knowledge(
        &self,
        Parameters(args): Parameters<RetrieveArgs>,
    ) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            use git_handoff::workflow::retrieve;
            let query = retrieve::Query::new(handoff, &args.query, args.limit.unwrap_or(5));
            let searched = match query.search_limit() {
                Some(wanted) => {
                    let filter = git_handoff::index::Filter {
                        limit: Some(wanted),
                        ..git_handoff::index::Filter::default()
                    };
                    open_index(handoff)?
                        .search(&handoff.store(), &args.query, &filter)?
                        .into_iter()
                        .map(|h| (h.found.session, h.found.artifact))
                        .collect()
                }
                None => Vec::new(),
            };
            let retrieved = query.answer(handoff, searched)?;
            let mut result = CallToolResult::success(vec![ContentBlock::text(retrieved.text())]);
            result.structured_content = Some(
                serde_json::to_value(&retrieved)
                    .map_err(|e| CommandError::user(anyhow::anyhow!(e)))?,
            );
            Ok(result)
        })
        .await
    }

    #[tool(
        name = "handoff_plan",
        title = "Record a plan",
        annotations(
            title = "Record a plan",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        ),
        description = "Start a session with a plan (title and body), or add the next plan iteration to a session. Returns the session ID and status."
    )]
    async fn plan(&self, Parameters(args): Parameters<PlanArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            let mut input = Input::new(Kind::Plan, args.body);
            input.agent = args.agent;
            input.force = args.force.unwrap_or(false);
            let recorded = match &args.session {
                Some(s) => handoff.record(&handoff.resolve(s)?, input)?,
                None => handoff.start(args.title.as_deref().unwrap_or_default(), None, input)?,
            };
            index_own_write(&recorded);
            recorded_json(&recorded)
        })
        .await
    }

    #[tool(
        name = "handoff_review",
        title = "Record a review",
        annotations(
            title = "Record a review",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        ),
        description = "Record a review of a session's plan: verdict approve|approve-with-changes|request-changes|reject, a markdown body, and optional findings (JSON)."
    )]
    async fn review(&self, Parameters(args): Parameters<VerdictArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            record_verdict(handoff, Kind::Review, args)
        })
        .await
    }

    #[tool(
        name = "handoff_validate",
        title = "Record a validation",
        annotations(
            title = "Record a validation",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        ),
        description = "Record a validation of a session's implementation (its real diff): verdict, markdown body, optional findings (JSON)."
    )]
    async fn validate(&self, Parameters(args): Parameters<VerdictArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            record_verdict(handoff, Kind::Validation, args)
        })
        .await
    }

    #[tool(
        name = "handoff_implement",
        title = "Record an implementation",
        annotations(
            title = "Record an implementation",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        ),
        description = "Record a session's implementation: a markdown summary; each of the session's commits (default: those carrying its Handoff-Session trailer on this branch, plus its earlier implementation's as rewritten) gets a note."
    )]
    async fn implement(&self, Parameters(args): Parameters<ImplementArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            let id = handoff.resolve(&args.session)?;
            let mut input = Input::new(Kind::Implementation, args.body);
            input.range = args.range;
            input.force = args.force.unwrap_or(false);
            let recorded = handoff.record(&id, input)?;
            index_own_write(&recorded);
            recorded_json(&recorded)
        })
        .await
    }

    #[tool(
        name = "handoff_show",
        title = "Show a session",
        annotations(
            title = "Show a session",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        ),
        description = "A session as JSON: status, next step, and every artifact with its body and findings."
    )]
    async fn show(&self, Parameters(args): Parameters<SessionArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            let session = handoff.session(&args.session)?;
            json(&git_handoff::views::detail(&session))
        })
        .await
    }

    #[tool(
        name = "handoff_context",
        title = "Context for the next step",
        annotations(
            title = "Context for the next step",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        ),
        description = "The self-contained prompt for the next step of a session: the plan, every review, and for validation the real git diff. 'for' is review, implement or validate (default: from the status)."
    )]
    async fn context(&self, Parameters(args): Parameters<ContextArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            let session = handoff.session(&args.session)?;
            let purpose = match args.purpose.as_deref() {
                Some("review") => Purpose::Review,
                Some("implement") => Purpose::Implement,
                Some("validate") => Purpose::Validate,
                Some(other) => {
                    return Err(CommandError::user(anyhow::anyhow!(
                        "unknown step '{other}' (expected review, implement or validate)"
                    )));
                }
                None => Purpose::for_status(&session.state),
            };
            let diff = match purpose {
                Purpose::Validate | Purpose::Implement => {
                    handoff.work_diff(&session, handoff.config.context.max_diff_bytes)?
                }
                Purpose::Review => None,
            };
            Ok(context::build(&session, purpose, diff.as_ref()))
        })
        .await
    }

    #[tool(
        name = "handoff_search",
        title = "Search stored artifacts",
        annotations(
            title = "Search stored artifacts",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        ),
        description = "Ranked full-text search over every artifact; returns session, kind, status and snippet per hit."
    )]
    async fn search_tool(&self, Parameters(args): Parameters<SearchArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            search(
                handoff,
                args.query.as_deref().unwrap_or_default(),
                args.limit.unwrap_or(10),
            )
        })
        .await
    }

    #[tool(
        name = "handoff_list",
        title = "List sessions",
        annotations(
            title = "List sessions",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        ),
        description = "Sessions of this repository, most recently updated first, with status and title."
    )]
    async fn list(&self, Parameters(args): Parameters<SearchArgs>) -> CallToolResult {
        with_handoff(&self.repo, move |handoff| {
            let index = open_index(handoff)?;
            let filter = git_handoff::index::Filter {
                limit: Some(args.limit.unwrap_or(50)),
                ..git_handoff::index::Filter::default()
            };
            json(&index.list(&filter)?)
        })
        .await
    }
}

fn record_verdict(
    handoff: &Handoff,
    kind: Kind,
    args: VerdictArgs,
) -> Result<String, CommandError> {
    let id = handoff.resolve(&args.session)?;
    let mut input = Input::new(kind, args.body);
    input.verdict = Some(parse_verdict(&args.verdict)?);
    input.findings = parse_findings(handoff, args.findings.as_deref())?;
    input.agent = args.agent;
    input.force = args.force.unwrap_or(false);
    let recorded = handoff.record(&id, input)?;
    index_own_write(&recorded);
    recorded_json(&recorded)
}

fn search(handoff: &Handoff, query: &str, limit: usize) -> Result<String, CommandError> {
    let index = open_index(handoff)?;
    let filter = git_handoff::index::Filter {
        limit: Some(limit),
        ..git_handoff::index::Filter::default()
    };
    let hits = index.search(&handoff.store(), query, &filter)?;
    json(&git_handoff::index::search_view(query, hits))
}

fn step(text: String) -> Vec<PromptMessage> {
    vec![PromptMessage::new_text(Role::User, text)]
}

#[prompt_router]
impl Server {
    #[prompt(
        name = "handoff-plan",
        description = "Step 1: Claude plans a feature and stores the plan in the repository."
    )]
    async fn plan_prompt(&self, Parameters(args): Parameters<StepArgs>) -> Vec<PromptMessage> {
        step(format!(
            "Plan this feature: {}\n\nWrite an implementation plan in markdown (goal, steps, files, risks, tests). Store it with the handoff_plan tool (title and body), or with byterover-store-knowledge as '**[SESSION-ID] CLAUDE PLAN: <title>**' followed by the plan. Then tell the user the session ID and that the next step is the review: git handoff run review <ID>.",
            args.session_or_feature
        ))
    }

    #[prompt(
        name = "handoff-review",
        description = "Step 2: Codex reviews a session's plan and records its verdict."
    )]
    async fn review_prompt(&self, Parameters(args): Parameters<StepArgs>) -> Vec<PromptMessage> {
        step(format!(
            "Review the plan of session {0}. Get it with the handoff_context tool (for: review). Record your review with handoff_review: verdict (approve, approve-with-changes, request-changes or reject), a markdown body (strengths, concerns, recommendations), and findings as JSON if you point at code.",
            args.session_or_feature
        ))
    }

    #[prompt(
        name = "handoff-implement",
        description = "Step 3: Claude implements an approved plan, taking the reviews into account."
    )]
    async fn implement_prompt(&self, Parameters(args): Parameters<StepArgs>) -> Vec<PromptMessage> {
        step(format!(
            "Implement session {0}. Get the plan and every review with the handoff_context tool (for: implement), address the reviews, commit your work, then record it with handoff_implement (a summary of what was built and how the reviews were addressed).",
            args.session_or_feature
        ))
    }

    #[prompt(
        name = "handoff-validate",
        description = "Step 4: Codex validates the real diff of an implemented session."
    )]
    async fn validate_prompt(&self, Parameters(args): Parameters<StepArgs>) -> Vec<PromptMessage> {
        step(format!(
            "Validate session {0}. Get the plan, the reviews and the real diff with the handoff_context tool (for: validate). Check the diff against the plan and the reviews; record the result with handoff_validate: verdict, a markdown body, and findings as JSON for problems in the code.",
            args.session_or_feature
        ))
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .build(),
        );
        info.server_info = Implementation::new("git-handoff", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "This repository is the agents' shared memory: plans, reviews, implementations and validations are stored in git. Store with byterover-store-knowledge (the seed's format) or the handoff_* tools; read with byterover-retrieve-knowledge, handoff_show and handoff_context."
                .to_owned(),
        );
        info
    }
}

/// Serves MCP on stdin/stdout until the client closes the connection.
pub fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let service = Server::new()
            .serve(wire::guarded())
            .await
            .map_err(|e| anyhow::anyhow!("starting the MCP server: {e}"))?;
        service
            .waiting()
            .await
            .map_err(|e| anyhow::anyhow!("the MCP server stopped: {e}"))?;
        Ok(())
    })
}

/// What reaches the server from stdin, and how a request it cannot take is still answered.
///
/// rmcp drops a line it cannot read (over its 16 MiB limit, not JSON, nested past serde_json's
/// 128 levels) without a word, and the client waits for an answer forever. Every line is
/// checked here first; one that would be dropped gets a JSON-RPC error (`-32700` parse error,
/// `-32600` invalid request) with the request's `id` when it can be found, written between two
/// of the server's own messages, never inside one.
mod wire {
    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
    use tokio::sync::mpsc;

    /// The longest request line taken: rmcp's own limit. The largest text the store tool keeps
    /// (8 MiB) fits in it with every character escaped twice over.
    pub const MAX_LINE: usize = 16 * 1024 * 1024;

    /// The deepest nesting of a request that rmcp's parser (serde_json) takes.
    const MAX_DEPTH: usize = 127;

    /// How deep `json`'s arrays and objects nest (brackets inside strings aside).
    fn nesting(json: &[u8]) -> usize {
        let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
        for &b in json {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        deepest
    }

    /// The pipes the server reads and writes, and the tasks that fill and drain them.
    pub fn guarded() -> (impl AsyncRead + Unpin, impl AsyncWrite + Unpin) {
        let (to_server, server_reads) = tokio::io::duplex(1 << 20);
        let (server_writes, from_server) = tokio::io::duplex(1 << 20);
        let (errors, pending) = mpsc::unbounded_channel::<String>();
        tokio::spawn(read_requests(tokio::io::stdin(), to_server, errors));
        tokio::spawn(write_answers(from_server, tokio::io::stdout(), pending));
        (server_reads, server_writes)
    }

    /// Reads stdin line by line, bounded; passes good lines on, answers the others.
    async fn read_requests(
        input: impl AsyncRead + Unpin,
        mut to_server: impl AsyncWrite + Unpin,
        errors: mpsc::UnboundedSender<String>,
    ) {
        let mut input = BufReader::with_capacity(1 << 16, input);
        loop {
            let mut line = Vec::new();
            let mut too_long = false;
            // Up to the newline, keeping at most MAX_LINE bytes of it.
            loop {
                let Ok(chunk) = input.fill_buf().await else {
                    return;
                };
                if chunk.is_empty() {
                    if line.is_empty() && !too_long {
                        return;
                    }
                    break;
                }
                let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                    Some(at) => (at + 1, true),
                    None => (chunk.len(), false),
                };
                if !too_long && line.len() + take <= MAX_LINE + 1 {
                    line.extend_from_slice(&chunk[..take]);
                } else {
                    if !too_long {
                        // Keep the start: the id is usually near it.
                        line.truncate(4096);
                    }
                    too_long = true;
                }
                input.consume(take);
                if done {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&line);
            if text.trim().is_empty() {
                continue;
            }
            let problem = if too_long {
                Some((
                    -32600,
                    format!(
                        "the request line is over {MAX_LINE} bytes (16 MiB), the most this server reads"
                    ),
                ))
            } else {
                // Checked without building the value (rmcp builds it next, and drops what nests
                // deeper than serde_json's limit of 128).
                match serde_json::from_slice::<serde::de::IgnoredAny>(&line) {
                    Err(e) => Some((
                        -32700,
                        format!("parse error: the request is not JSON ({e})"),
                    )),
                    Ok(_) if nesting(&line) > MAX_DEPTH => Some((
                        -32600,
                        format!(
                            "the request nests JSON deeper than {MAX_DEPTH} levels, the most this server reads"
                        ),
                    )),
                    Ok(_) => None,
                }
            };
            match problem {
                None => {
                    if !line.ends_with(b"\n") {
                        line.push(b'\n');
                    }
                    if to_server.write_all(&line).await.is_err() {
                        return;
                    }
                }
                Some((code, message)) => {
                    let answer = serde_json::json!({
                        "jsonrpc": "2.0",
                        "id": id_of(&text),
                        "error": {"code": code, "message": message},
                    });
                    if errors.send(format!("{answer}\n")).is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The `id` of a request that could not be read whole, when its start names one.
    fn id_of(text: &str) -> serde_json::Value {
        let Some(at) = text.find("\"id\"") else {
            return serde_json::Value::Null;
        };
        let rest = text[at + 4..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            return serde_json::Value::Null;
        };
        let rest = rest.trim_start();
        let end = if let Some(quoted) = rest.strip_prefix('"') {
            quoted.find('"').map(|e| e + 2)
        } else {
            rest.find(|c: char| !(c.is_ascii_digit() || c == '-'))
        }
        .unwrap_or(rest.len());
        serde_json::from_str(&rest[..end]).unwrap_or(serde_json::Value::Null)
    }

    /// Copies the server's output to stdout, and the error answers in between its messages.
    async fn write_answers(
        mut from_server: impl AsyncRead + Unpin,
        mut output: impl AsyncWrite + Unpin,
        mut pending: mpsc::UnboundedReceiver<String>,
    ) {
        use tokio::io::AsyncReadExt as _;
        let mut buf = vec![0u8; 1 << 16];
        // Whether the server's last byte ended a message: only then may an answer go out.
        let mut at_boundary = true;
        let mut waiting: Vec<String> = Vec::new();
        loop {
            tokio::select! {
                read = from_server.read(&mut buf) => {
                    let Ok(n) = read else { return };
                    if n == 0 {
                        return;
                    }
                    if output.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    at_boundary = buf[n - 1] == b'\n';
                }
                Some(answer) = pending.recv() => waiting.push(answer),
            }
            if at_boundary && !waiting.is_empty() {
                for answer in waiting.drain(..) {
                    if output.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            }
            if output.flush().await.is_err() {
                return;
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn nesting_counts_brackets_outside_strings() {
            assert_eq!(nesting(br#"{"a":[1,{"b":"[[[["}]}"#), 3);
            assert_eq!(nesting(br#""\"[""#), 0);
            assert_eq!(nesting(b"[[[]]]"), 3);
        }

        #[test]
        fn the_id_is_read_from_the_start_of_a_request() {
            assert_eq!(
                id_of(r#"{"jsonrpc":"2.0","id":7,"method":"x""#),
                serde_json::json!(7)
            );
            assert_eq!(
                id_of(r#"{"id": "a-1", "params": {"#),
                serde_json::json!("a-1")
            );
            assert_eq!(id_of("not json at all"), serde_json::Value::Null);
        }
    }
}
