//! The command line, declared with clap's derive: every subcommand, flag and
//! default. Parsing only; the work is in `commands/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::exit;

/// linesman keeps long-lived outbound connections alive: it opens them,
/// restarts what fails with backoff, starts a connection only when the ones
/// it depends on are up, and shows it all live.
#[derive(Debug, Parser)]
#[command(name = "linesman", version, after_help = exit::HELP)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands; each is one file under `commands/`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the daemon in the foreground: supervise the connections of FILE
    /// and serve the control socket until SIGINT or SIGTERM.
    Run(RunArgs),
    /// Show the state of every connection, or of those named or selected
    /// (exit 0 when all of them are up, 3 when some are not, 1 when no
    /// daemon answers, 6 for an unknown name).
    Status(StatusArgs),
    /// Validate a configuration file: a one-line summary, or every error
    /// (`--format short|json` for editors and CI).
    Check(CheckArgs),
    /// Draw a configuration's dependency graph (Graphviz dot or Mermaid).
    Graph(GraphArgs),
    /// Show the dependency tree with each connection's state.
    Deps(DepsArgs),
    /// Print the daemon's events as JSON lines until Ctrl-C, optionally
    /// filtered, or resumed after the `seq` of the last one seen.
    Events(EventsArgs),
    /// Block until connections are up (exit 0), or the timeout passes (exit
    /// 4); a daemon not running yet is waited for too.
    Wait(WaitArgs),
    /// Start stopped or failed connections and wait until they are up.
    Start(ActionArgs),
    /// Stop connections until they are started again, and wait until they
    /// are stopped.
    Stop(ActionArgs),
    /// Reconnect connections now, skipping a running backoff, and wait
    /// until each is up in a new session.
    Restart(ActionArgs),
    /// Make the daemon read its configuration file again and apply it:
    /// unchanged connections keep their sessions, added ones start, removed
    /// ones stop, changed ones restart (exit 2 and nothing changed when the
    /// file has errors, 1 when another reload is in progress).
    Reload(ReloadArgs),
    /// A live demo: local peers that misbehave on a schedule, supervised
    /// and shown as they recover; `linesman status` works against it.
    Demo(DemoArgs),
    /// Print a shell completion script, e.g.
    /// `linesman completions bash > /etc/bash_completion.d/linesman`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `linesman man > linesman.1`, or
    /// a command's (`linesman man check > linesman-check.1`); `--dir DIR`
    /// writes them all.
    Man(ManArgs),
}

/// How to find the daemon: shared by every command that talks to one.
#[derive(Debug, Args)]
pub(crate) struct DaemonArgs {
    /// The daemon's control socket [env: LINESMAN_SOCKET]; default:
    /// control.socket of -c FILE, else $XDG_RUNTIME_DIR/linesman/linesman.sock,
    /// else /tmp/linesman-$EUID/linesman.sock.
    #[arg(long, value_name = "PATH")]
    pub(crate) socket: Option<PathBuf>,
    /// The daemon's configuration file, to read its control.socket.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

/// `linesman run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The configuration file (YAML).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(crate) config: PathBuf,
    /// The control socket [env: LINESMAN_SOCKET]; default: control.socket of
    /// FILE, else $XDG_RUNTIME_DIR/linesman/linesman.sock, else
    /// /tmp/linesman-$EUID/linesman.sock (the directory is created, mode 0700).
    #[arg(long, value_name = "PATH")]
    pub(crate) socket: Option<PathBuf>,
    /// How logs are written to stderr (filter them with RUST_LOG; default info).
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty)]
    pub(crate) log_format: LogFormat,
}

/// The log format of `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Which connections a command is about: names, or the connections a
/// selector picks.
#[derive(Debug, Args)]
pub(crate) struct Selection {
    /// The connections, by name.
    #[arg(value_name = "NAME", conflicts_with_all = ["kind", "tag", "all"])]
    pub(crate) names: Vec<String>,
    /// Every connection of this kind.
    #[arg(long, value_name = "KIND", conflicts_with = "all")]
    pub(crate) kind: Option<String>,
    /// Every connection with this tag (repeated: with all of them).
    #[arg(long, value_name = "TAG", conflicts_with = "all")]
    pub(crate) tag: Vec<String>,
    /// Every connection.
    #[arg(long)]
    pub(crate) all: bool,
}

impl Selection {
    /// Whether nothing was named or selected (`status` then shows all).
    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty() && self.kind.is_none() && self.tag.is_empty() && !self.all
    }
}

/// `linesman status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Where the daemon is.
    #[command(flatten)]
    pub(crate) daemon: DaemonArgs,
    /// The connections to show (default: all).
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// The output: a table fitted to the terminal's width (or COLUMNS), the
    /// whole table (wide), or the JSON of GET /v1/status (with --watch: one
    /// event per line).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
    /// Follow the daemon's events and redraw on each (a line per event when
    /// stdout is not a terminal) until Ctrl-C or the daemon stops; shows the
    /// connections selected (default: all), as they were when it started.
    /// While the daemon has no place for another event stream, it shows
    /// the status every second and asks again.
    #[arg(short, long)]
    pub(crate) watch: bool,
}

/// `linesman events`.
#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Where the daemon is.
    #[command(flatten)]
    pub(crate) daemon: DaemonArgs,
    /// Only these connections (repeat, or a comma list).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub(crate) conn: Vec<String>,
    /// Only connections of these kinds.
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub(crate) kind: Vec<String>,
    /// Only connections with any of these tags.
    #[arg(long, value_name = "TAG", value_delimiter = ',')]
    pub(crate) tag: Vec<String>,
    /// Only events of these types (started, waiting, connecting, connected,
    /// connect_failed, disconnected, backoff, gave_up, stopping, stopped,
    /// …); the current state is sent whatever the type.
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub(crate) types: Vec<String>,
    /// Resume after this `seq` (the last one seen): every event after it
    /// the daemon still keeps, else a `gap` line and the current state.
    #[arg(long, value_name = "SEQ")]
    pub(crate) since: Option<u64>,
}

/// The output format of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// NAME STATE SINCE ENDPOINT RESTARTS FAILURES DETAIL, one line a connection,
    /// ENDPOINT and DETAIL cut with `…` to fit the terminal (or COLUMNS).
    Table,
    /// The same table with nothing cut.
    Wide,
    /// The body of GET /v1/status.
    Json,
}

/// `linesman check`: the file as `-c FILE`, like every other command, or
/// as the plain argument; exactly one of them.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["file", "config"])))]
pub(crate) struct CheckArgs {
    /// The configuration file (YAML); the same as -c FILE.
    #[arg(value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// The configuration file (YAML).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// How problems are printed: human (miette's report on stderr), short
    /// (`FILE:LINE:COL: error: MESSAGE` lines on stdout) or json (one
    /// document on stdout); see docs/config.md.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub(crate) format: CheckFormat,
}

impl CheckArgs {
    /// The file to check, given either way (clap refuses a command line
    /// without one, so `None` does not reach a command).
    pub(crate) fn path(&self) -> Option<&Path> {
        self.config.as_deref().or(self.file.as_deref())
    }
}

/// The output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// A one-line summary on stdout, or miette's report of every problem
    /// (the first 50 with snippets) on stderr.
    Human,
    /// One line per problem on stdout, `FILE:LINE:COL: error: MESSAGE
    /// (help: HELP)`; nothing for a valid file.
    Short,
    /// One JSON document on stdout: `{"file", "valid", "problems"}`.
    Json,
}

/// `linesman completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub(crate) shell: Shell,
}

/// `linesman graph`: the file as `-c FILE` or as the plain argument, like
/// `check`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["file", "config"])))]
pub(crate) struct GraphArgs {
    /// The configuration file (YAML); the same as -c FILE.
    #[arg(value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// The configuration file (YAML).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The graph language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub(crate) format: GraphFormat,
}

impl GraphArgs {
    /// The file to draw, given either way (clap refuses a command line
    /// without one).
    pub(crate) fn path(&self) -> Option<&Path> {
        self.config.as_deref().or(self.file.as_deref())
    }
}

/// The output language of `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// Graphviz: `linesman graph FILE | dot -Tsvg > graph.svg`.
    Dot,
    /// A Mermaid flowchart, for Markdown.
    Mermaid,
}

/// `linesman deps`.
#[derive(Debug, Args)]
pub(crate) struct DepsArgs {
    /// Where the daemon is; with -c FILE and no daemon, the tree of FILE
    /// without states.
    #[command(flatten)]
    pub(crate) daemon: DaemonArgs,
    /// Show what depends on each connection instead of what it depends on.
    #[arg(long)]
    pub(crate) reverse: bool,
}

/// `linesman wait`.
#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    /// Where the daemon is.
    #[command(flatten)]
    pub(crate) daemon: DaemonArgs,
    /// The connections to wait for.
    #[arg(long = "up", value_name = "NAME", num_args = 1.., required = true)]
    pub(crate) up: Vec<String>,
    /// Wait until every one is up (the default).
    #[arg(long, conflicts_with = "any")]
    pub(crate) all: bool,
    /// Wait until at least one is up.
    #[arg(long)]
    pub(crate) any: bool,
    /// Give up after this long (exit 4), e.g. `10s`, `1m 30s`; it bounds
    /// waiting for the daemon to appear too. `0` checks once and answers at
    /// once (0 or 4).
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration, default_value = "30s")]
    pub(crate) timeout: Duration,
}

/// `linesman start|stop|restart`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).multiple(true).args(["names", "kind", "tag", "all"])))]
pub(crate) struct ActionArgs {
    /// Where the daemon is.
    #[command(flatten)]
    pub(crate) daemon: DaemonArgs,
    /// The connections to act on.
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// Return once the daemon accepted the command, without waiting for
    /// its result.
    #[arg(long)]
    pub(crate) no_block: bool,
    /// How long to wait for the result (exit 4 after it), e.g. `10s`.
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration, default_value = "30s", conflicts_with = "no_block")]
    pub(crate) timeout: Duration,
}

/// `linesman reload`.
#[derive(Debug, Args)]
pub(crate) struct ReloadArgs {
    /// Where the daemon is (the daemon reads the file it was started with,
    /// not -c FILE, which only names the socket).
    #[command(flatten)]
    pub(crate) daemon: DaemonArgs,
    /// Print the daemon's answer as JSON (the body of POST /v1/reload) on
    /// stdout, for a refused file too.
    #[arg(long)]
    pub(crate) json: bool,
    /// How long the daemon may take to answer (exit 1 after it), e.g.
    /// `1m`; stopping removed connections may take its shutdown timeout.
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration, default_value = "30s")]
    pub(crate) timeout: Duration,
}

/// `linesman demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// End after this long (default: run until Ctrl-C), e.g. `30s`.
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    pub(crate) duration: Option<Duration>,
    /// The control socket to serve [env: LINESMAN_SOCKET]; default:
    /// $XDG_RUNTIME_DIR/linesman/linesman.sock, else
    /// /tmp/linesman-$EUID/linesman.sock.
    #[arg(long, value_name = "PATH")]
    pub(crate) socket: Option<PathBuf>,
}

/// `linesman man`.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// The command whose page to print (`linesman-COMMAND(1)`); default:
    /// the page of `linesman` itself.
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub(crate) command: Option<String>,
    /// Write every page (linesman.1, linesman-run.1, …) into DIR, created
    /// if missing, and print their paths.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
