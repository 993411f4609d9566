//! git-handoff's network crate: everything that talks to other programs over MCP or HTTP, with
//! the async runtime, HTTP and TLS stacks that brings. The core (`git_handoff`) knows none of
//! it; the front end (`handoff_cli`) reaches it only through [`Net`], its
//! [`handoff_cli::network::Network`], which the `git-handoff-net` executable passes in.
//!
//! - [`server`]: `git handoff mcp`, the MCP server agents call (rmcp, stdio).
//! - [`byterover`]: the `mcp` sync backend, an MCP client to Byterover or any MCP memory.
//! - [`github`]: `annotate --post github`, one pull request review through GitHub's REST API.

pub mod byterover;
pub mod github;
pub mod server;

use git_handoff::annotate::{Selection, github as review};
use git_handoff::error::{CommandError, CommandResult};
use git_handoff::sync::backend::{Backend, Fault};
use git_handoff::sync::mcp::{Connector, Settings};

/// The network part of the front end.
pub struct Net;

impl handoff_cli::network::Network for Net {
    fn serve_mcp(&self) -> CommandResult {
        server::serve().map_err(CommandError::from)
    }

    fn mcp_connector(&self) -> &dyn Connector {
        self
    }

    fn post_review(
        &self,
        settings: review::Settings,
        selection: &Selection,
    ) -> Result<review::Posted, review::Error> {
        github::post(settings, selection)
    }
}

impl Connector for Net {
    fn connect(&self, settings: Settings) -> Result<Box<dyn Backend>, Fault> {
        Ok(Box::new(byterover::McpBackend::new(settings)?))
    }
}
