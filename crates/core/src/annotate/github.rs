//! `annotate --post github --pr N`: what posting one pull request review needs and tells
//! (docs/annotations.md). The HTTP client that posts it lives in the network crate
//! (`git-handoff-net`, `github.rs`); this module holds its settings, errors and result, so that
//! the front end can phrase them without the HTTP stack.
//!
//! Findings on lines of the pull request's diff become inline comments (`line` = end,
//! `start_line` = start, side RIGHT); the others go into the review body. The event is
//! REQUEST_CHANGES when a P0 or P1 finding is open, else COMMENT. GitHub refuses a whole review
//! with 422 when one comment's line is not in the diff, without saying which: the review is
//! then posted again with every comment in the body, so nothing is lost. Rate limits (403 or 429
//! with `Retry-After` or `X-RateLimit-Reset`) are waited out up to a minute, otherwise reported.
//! A marker in the body makes a re-run on the same pull request post nothing new.

use std::time::Duration;

use serde::Serialize;

/// Where and as whom to post.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `GITHUB_API_URL` (default `https://api.github.com`).
    pub api_url: String,
    /// `owner/repo` (`GITHUB_REPOSITORY`).
    pub repository: String,
    /// `GITHUB_TOKEN`.
    pub token: String,
    /// The pull request number.
    pub pr: u64,
    /// Longest rate-limit wait.
    pub max_wait: Duration,
}

/// Why posting failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401.
    #[error(
        "GitHub refused the token (HTTP 401): set GITHUB_TOKEN to a token that may review pull requests"
    )]
    Unauthorized,
    /// Rate limited for longer than we wait.
    #[error("GitHub's rate limit holds for {0}s more; nothing was posted, run it again later")]
    RateLimited(u64),
    /// Any other answer.
    #[error("GitHub answered {status} to {what}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The request.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// The request did not get through.
    #[error("cannot reach GitHub at {url}: {reason}")]
    Network {
        /// The API URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// What posting did.
#[derive(Debug, Clone, Serialize)]
pub struct Posted {
    /// The review's ID, when one was posted.
    pub review: Option<u64>,
    /// Whether the same review was on the pull request already (nothing posted).
    pub duplicate: bool,
    /// `REQUEST_CHANGES` or `COMMENT`.
    pub event: String,
    /// Findings posted as inline comments.
    pub inline: usize,
    /// Findings written into the review body.
    pub in_body: usize,
    /// Whether GitHub refused the inline comments (422) and they went into the body.
    pub moved_after_422: bool,
}
