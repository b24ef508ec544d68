//! What `--json` prints, as types: each command's object is one of these, serialized by
//! serde, so the schema the README documents is the code that writes it.
//!
//! Members are declared in alphabetical order, the order the objects have always been
//! printed in, and optional members are left out when absent.

use serde::Serialize;

/// The report of every command that changes files (a plugin, `all`).
#[derive(Debug, Serialize)]
pub(crate) struct ChangeReport {
    /// The backup directory, relative to the root, with `--backup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backup: Option<String>,
    pub(crate) changed: bool,
    pub(crate) check: bool,
    pub(crate) files: Vec<FileReport>,
    pub(crate) notes: Vec<String>,
    pub(crate) restart: Vec<RestartReport>,
    /// This run's id, for `history` and `restore`, when it wrote something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run: Option<String>,
    /// The services' checkers that ran before writing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) validated: Option<Vec<CheckerReport>>,
    pub(crate) warnings: Vec<String>,
}

/// One changed or created file.
#[derive(Debug, Serialize)]
pub(crate) struct FileReport {
    /// `modify` or `create`.
    pub(crate) action: &'static str,
    /// The unified diff, git-style, paths relative to the root.
    pub(crate) diff: String,
    /// The file that is written, relative to the root.
    pub(crate) path: String,
    /// The symlink the config was reached through, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) via: Option<String>,
}

/// A service to restart or reload once the files are written.
#[derive(Debug, Serialize)]
pub(crate) struct RestartReport {
    /// `restart` or `reload`.
    pub(crate) action: &'static str,
    pub(crate) command: String,
    pub(crate) service: String,
    pub(crate) why: String,
}

/// A checker that ran over the staged configuration.
#[derive(Debug, Serialize)]
pub(crate) struct CheckerReport {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) service: &'static str,
}

/// What every command prints under `--json` when it fails (exit 2): nothing was written.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorReport {
    pub(crate) changed: bool,
    pub(crate) check: bool,
    pub(crate) error: String,
    pub(crate) files: [(); 0],
    pub(crate) notes: [(); 0],
    pub(crate) restart: [(); 0],
    pub(crate) warnings: [(); 0],
}

/// `audit`: whether nothing of warning level or worse was found, and every finding.
#[derive(Debug, Serialize)]
pub(crate) struct AuditReport {
    pub(crate) clean: bool,
    pub(crate) findings: Vec<FindingReport>,
}

/// One finding: where, how bad, what breaks and the command that fixes it.
#[derive(Debug, Serialize)]
pub(crate) struct FindingReport {
    pub(crate) fix: Option<String>,
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
    pub(crate) path: String,
    /// `info`, `warning` or `error`.
    pub(crate) severity: &'static str,
}

/// `list`: every registered plugin.
#[derive(Debug, Serialize)]
pub(crate) struct ListReport {
    pub(crate) plugins: Vec<PluginReport>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PluginReport {
    pub(crate) about: &'static str,
    /// Its config files under the root, relative to it.
    pub(crate) files: Vec<String>,
    pub(crate) name: &'static str,
    /// Absent, already dual-stack, or needs conversion (with the number of findings).
    pub(crate) status: String,
}

/// `plan`: one machine's addresses, and its client network and DNS records when asked for.
#[derive(Debug, Serialize)]
pub(crate) struct AddressPlanReport {
    pub(crate) address: String,
    pub(crate) address_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client: Option<ClientReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dns: Option<DnsReport>,
    pub(crate) gateway: String,
    /// The host id, in hex.
    pub(crate) host: String,
    pub(crate) network: String,
    pub(crate) role: RoleReport,
}

#[derive(Debug, Serialize)]
pub(crate) struct RoleReport {
    pub(crate) name: Option<&'static str>,
    /// The tag, in hex.
    pub(crate) tag: String,
}

/// The machine's routed client network.
#[derive(Debug, Serialize)]
pub(crate) struct ClientReport {
    pub(crate) first_virtual_client: Option<String>,
    pub(crate) index: u64,
    pub(crate) last_virtual_client: Option<String>,
    pub(crate) network: String,
    pub(crate) pool: String,
    /// The edge routers' static route to it.
    pub(crate) route: String,
    pub(crate) virtual_client_length: u8,
}

/// The records to publish for the machine.
#[derive(Debug, Serialize)]
pub(crate) struct DnsReport {
    pub(crate) aaaa: String,
    pub(crate) name: String,
    pub(crate) ptr: String,
    pub(crate) reverse_zone: String,
}

/// `history`: the runs that can be undone, oldest first.
#[derive(Debug, Serialize)]
pub(crate) struct HistoryReport {
    pub(crate) runs: Vec<RunReport>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RunReport {
    pub(crate) command: String,
    pub(crate) files: Vec<RunFileReport>,
    pub(crate) id: String,
    /// Kept beyond the retention (`--backup`).
    pub(crate) kept: bool,
    /// The run this one undid, for a restore.
    pub(crate) restored_by: Option<String>,
    pub(crate) restores: Option<String>,
    pub(crate) time: String,
}

/// A file a run changed: `create`, `modify` or `delete`.
#[derive(Debug, Serialize)]
pub(crate) struct RunFileReport {
    pub(crate) action: &'static str,
    pub(crate) path: String,
}

/// `restore`: the run undone and this run's own id.
#[derive(Debug, Serialize)]
pub(crate) struct RestoreReport {
    pub(crate) changed: bool,
    pub(crate) files: Vec<RunFileReport>,
    pub(crate) notes: Vec<String>,
    pub(crate) restored: String,
    pub(crate) run: Option<String>,
    pub(crate) warnings: [(); 0],
}

/// `recover`: the interrupted run that was finished, if there was one.
#[derive(Debug, Serialize)]
pub(crate) struct RecoverReport {
    pub(crate) changed: bool,
    pub(crate) notes: Vec<String>,
    pub(crate) recovered: Option<RecoveredReport>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RecoveredReport {
    pub(crate) command: String,
    /// True when the run was completed, false when it was undone.
    pub(crate) completed: bool,
    pub(crate) files: Vec<String>,
    pub(crate) run: String,
}
