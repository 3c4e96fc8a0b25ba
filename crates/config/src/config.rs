//! [`Config`]: what a valid file gives — the supervisor's [`Spec`], the
//! control-plane settings and the source it came from — and the
//! entry points [`load`](crate::load), [`parse`](crate::parse) and
//! [`parse_with_env`](crate::parse_with_env).

use std::path::{Path, PathBuf};

use linesman_supervisor::Spec;

use crate::error::{ConfigError, ConfigErrorKind};
use crate::errors::ConfigErrors;
use crate::source::ConfigSource;
use crate::walk::Walker;
use crate::{budget, raw, tree, validate};

/// A validated configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The connections and their rules, ready for
    /// `Supervisor::new(config.spec)` — or, to add what only code can give
    /// (socket hooks, blocking targets, connections of its own), for
    /// `config.spec.into_builder()`, which keeps every setting of the file
    /// (see [`Spec::into_builder`]).
    pub spec: Spec,
    /// The `control:` section.
    pub control: ControlSettings,
    /// The file it was read from, kept for later diagnostics and graph
    /// output.
    pub source: ConfigSource,
}

/// The `control:` section: where the daemon serves its control API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ControlSettings {
    /// `control.socket`, `${VAR}`s expanded; `None` when not set (the CLI
    /// then picks its default). When the file was read by
    /// [`load`](crate::load), a relative path is joined to the file's
    /// directory; [`parse`](crate::parse) leaves it as written.
    pub socket: Option<PathBuf>,
}

impl Config {
    /// One line for `linesman check`: how many connections and start rules,
    /// and the control socket.
    ///
    /// ```
    /// let config = linesman_config::parse(
    ///     "demo.yaml",
    ///     "connections:\n  a: { endpoint: tcp://127.0.0.1:7001 }\n  b: { endpoint: tcp://127.0.0.1:7002, depends_on: [a] }\n",
    /// )?;
    /// assert_eq!(config.summary(), "2 connections, 1 start rule, default control socket");
    /// # Ok::<(), linesman_config::ConfigErrors>(())
    /// ```
    pub fn summary(&self) -> String {
        let connections = self.spec.connections();
        let rules = connections
            .iter()
            .filter(|c| c.start_when.is_some())
            .count();
        let socket = match &self.control.socket {
            Some(path) => format!("control socket {}", path.display()),
            None => "default control socket".to_owned(),
        };
        format!(
            "{}, {}, {socket}",
            plural(connections.len(), "connection"),
            plural(rules, "start rule")
        )
    }
}

impl Config {
    /// This configuration, read from the file at `path`: a relative
    /// `control.socket` joined to the file's directory.
    fn relative_to(mut self, path: &Path) -> Config {
        if let Some(socket) = &self.control.socket
            && socket.is_relative()
            && !socket.as_os_str().is_empty()
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            self.control.socket = Some(dir.join(socket));
        }
        self
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The largest file [`load`] reads: 16 MiB. 20,000 connections of ten
/// keys take about 7 MB (800,000 YAML nodes), beyond what one daemon can
/// open anyway (its descriptor limit); a file written like a
/// configuration reaches the 2,000,000 YAML nodes the parser admits at
/// about 18 MB, so such a file is refused from its size before any of it
/// is read or parsed (a 31 MB file
/// took 3.9 s and 658 MB to be refused by the node count). Reading stops
/// there too, so a path to something endless (`/dev/zero`) or a file that
/// grows while read cannot exhaust memory.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// What to do about a configuration over [`MAX_FILE_BYTES`].
const TOO_LARGE_HELP: &str = "check the path and what generated the file (20,000 connections of ten keys take about 7 MB); split the connections over several files and daemons";

/// Reads the file at `path` and [`parse`]s it, `${VAR}`s from the process
/// environment. A file that cannot be read, is not a regular file (a FIFO,
/// a directory, a device: refused without waiting on it), or is larger than
/// [`MAX_FILE_BYTES`] (refused from its size, unread), is a [`ConfigErrors`] too (kind
/// [`Io`](ConfigErrorKind::Io), no location). A file that is not UTF-8
/// is one of kind [`Syntax`](ConfigErrorKind::Syntax) located at its
/// first invalid byte.
///
/// A relative `control.socket` is taken relative to the directory of
/// `path` (not to the current directory), so that the daemon and every
/// client given the same file find the same socket wherever they run.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let name = path.display().to_string();
    let unreadable = |message: String, help: &str| {
        Err(ConfigErrors::new(
            ConfigSource::new(name.clone(), String::new()),
            vec![ConfigError::new(ConfigErrorKind::Io, None, message).help(help)],
        ))
    };
    match read_at_most(path, MAX_FILE_BYTES) {
        Ok(Read::Text(text)) => parse(&name, &text).map(|config| config.relative_to(path)),
        Ok(Read::NotUtf8 { lossy, valid, byte }) => {
            let (line, column) = line_and_column(&lossy, valid);
            let source = ConfigSource::new(name.clone(), visible(&lossy));
            let at = source.locate(line, column, 1);
            Err(ConfigErrors::new(
                source,
                vec![
                    ConfigError::at(
                        ConfigErrorKind::Syntax,
                        at,
                        format!(
                            "the file is not UTF-8 text: byte 0x{byte:02x} at line {}, column {} (byte offset {valid}) is not valid UTF-8",
                            at.line, at.column
                        ),
                    )
                    .help("check that the path is the YAML configuration and not a binary file; save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"),
                ],
            ))
        }
        Ok(Read::NotAFile(what)) => unreadable(
            format!("cannot read {name}: it is {what}, not a regular file"),
            "give the path of the YAML configuration file itself",
        ),
        Ok(Read::TooLarge(size)) => unreadable(
            format!(
                "cannot read {name}: it {}, more than the {} bytes ({} MiB) a configuration file may have",
                match size {
                    Some(size) => format!("is {} bytes", budget::grouped(size)),
                    None => "grew while being read".to_owned(),
                },
                budget::grouped(MAX_FILE_BYTES),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
            TOO_LARGE_HELP,
        ),
        Err(error) => unreadable(
            format!("cannot read {name}: {error}"),
            "check the path and its permissions",
        ),
    }
}

/// What [`read_at_most`] found.
enum Read {
    /// The text of the file.
    Text(String),
    /// Longer than the limit: its size when known before reading, `None`
    /// when it grew past the limit while being read.
    TooLarge(Option<u64>),
    /// Not UTF-8: the text with every invalid sequence replaced by U+FFFD,
    /// how many bytes were valid before the first invalid one, and that
    /// byte.
    NotUtf8 {
        lossy: String,
        valid: usize,
        byte: u8,
    },
    /// Not a regular file: "a FIFO (named pipe)", "a directory"…
    NotAFile(&'static str),
}

/// The text of the regular file at `path`, if it has at most `limit` bytes
/// (of which no more than `limit + 1` are read).
///
/// The file is opened with `O_NONBLOCK` and its type taken from the open
/// descriptor (`fstat`), not from the path: opening a FIFO without it
/// would wait for a writer forever, and a path checked before opening may
/// be swapped between the check and the open.
fn read_at_most(path: &Path, limit: usize) -> std::io::Result<Read> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        // A socket cannot be opened at all (ENXIO): say what it is.
        Err(error) => match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Ok(Read::NotAFile(linesman_stream::file_kind(meta.file_type())));
            }
            _ => return Err(error),
        },
    };
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Ok(Read::NotAFile(linesman_stream::file_kind(kind)));
    }
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let size = meta.len();
    if size > limit_u64 {
        return Ok(Read::TooLarge(Some(size)));
    }
    // `size` is at most `limit`; a file that grows meanwhile is cut at
    // `limit + 1` bytes below.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit_u64.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Ok(Read::TooLarge(None));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Read::Text(text),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            Read::NotUtf8 {
                byte: bytes.get(valid).copied().unwrap_or_default(),
                lossy: String::from_utf8_lossy(&bytes).into_owned(),
                valid,
            }
        }
    })
}

/// The line, and the column in characters (as every other position of a
/// configuration), of byte `offset` of `text`, both from 1.
fn line_and_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// `text` with each control character but a newline, a carriage return and
/// a tab shown as its picture (`␀`, `␛`…), or as U+FFFD: the snippet of a
/// binary file given as the configuration then cannot drive the terminal.
/// One character for one, so lines and columns stay where they were.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Parses and validates `source`, the text of a file named `file_name`
/// (used in messages only), with `${VAR}`s from the process environment.
/// A text over [`MAX_FILE_BYTES`] is refused unparsed, as [`load`] refuses
/// such a file.
///
/// ```
/// let yaml = "
/// connections:
///   quotes: { endpoint: tcp://127.0.0.1:7001 }
///   audit:
///     endpiont: tcp://127.0.0.1:7004
///     depends_on: [qoutes]
/// ";
/// let errors = linesman_config::parse("demo.yaml", yaml).unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     "demo.yaml:4:3: connection `audit` has no `endpoint`
///   help: add `endpoint: tcp://host:port` or `endpoint: unix:///absolute/path`
/// demo.yaml:5:5: unknown key `endpiont` in `connections.audit`
///   help: did you mean `endpoint`?
/// demo.yaml:6:18: connection `audit` depends on unknown connection `qoutes`
///   help: did you mean `quotes`?"
/// );
/// ```
pub fn parse(file_name: &str, source: &str) -> Result<Config, ConfigErrors> {
    parse_with_env(file_name, source, &|name| std::env::var(name).ok())
}

/// [`parse`] with `${VAR}`s looked up through `env` instead of the process
/// environment (`None`: not set).
///
/// ```
/// let yaml = "control: { socket: '${RUN}/linesman.sock' }\nconnections: { a: { endpoint: tcp://127.0.0.1:1 } }";
/// let env = |name: &str| (name == "RUN").then(|| "/run/user/7".to_owned());
/// let config = linesman_config::parse_with_env("x.yaml", yaml, &env)?;
/// assert_eq!(config.control.socket.as_deref(), Some(std::path::Path::new("/run/user/7/linesman.sock")));
/// # Ok::<(), linesman_config::ConfigErrors>(())
/// ```
pub fn parse_with_env(
    file_name: &str,
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    if source.len() > MAX_FILE_BYTES {
        // As `load` refuses such a file: the parser's budget would refuse
        // it too, but only after seconds and hundreds of megabytes.
        return Err(ConfigErrors::new(
            ConfigSource::new(file_name, String::new()),
            vec![ConfigError::new(
                ConfigErrorKind::Budget,
                None,
                format!(
                    "the configuration is {} bytes, more than the {} bytes ({} MiB) a configuration may have",
                    budget::grouped(source.len()),
                    budget::grouped(MAX_FILE_BYTES),
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            )
            .help(TOO_LARGE_HELP)],
        ));
    }
    let source = ConfigSource::new(file_name, source);
    let root = match tree::parse_tree(&source) {
        Ok(root) => root,
        Err(error) => return Err(ConfigErrors::new(source, vec![error])),
    };
    let mut walker = Walker::new(&source, env);
    let file = raw::read_file(&mut walker, &root);
    let spec = file
        .as_ref()
        .and_then(|f| validate::validate(&mut walker, f));
    let mut errors = walker.errors;
    match (spec, file) {
        (Some(spec), Some(file)) if errors.is_empty() => Ok(Config {
            spec,
            control: ControlSettings {
                socket: file.control_socket.map(|s| PathBuf::from(s.value)),
            },
            source,
        }),
        _ => {
            if errors.is_empty() {
                errors.push(ConfigError::new(
                    ConfigErrorKind::Invalid,
                    None,
                    "the configuration could not be validated".to_owned(),
                ));
            }
            Err(ConfigErrors::new(source, in_file_order(errors)))
        }
    }
}

/// Sorts by position (problems without one first) and drops repeats: a
/// problem in `defaults` is found once per connection that inherits it.
fn in_file_order(mut errors: Vec<ConfigError>) -> Vec<ConfigError> {
    errors.sort_by_key(|e| e.location.map(|at| (at.offset, at.line, at.column)));
    errors.dedup_by(|a, b| a.kind == b.kind && a.location == b.location && a.message == b.message);
    errors
}
