//! Phase one for the settings a connection shares with `defaults`: every
//! key read into an optional, located raw value ([`RawSettings`]), so that
//! phase two can merge a connection over the defaults field by field.

use std::time::Duration;

use linesman_ipc_codec::{ByteOrder, IdField, Replies};
use linesman_supervisor::OnDependencyDown;

use super::restart::{RawRestart, read_restart};

use crate::error::{ConfigError, ConfigErrorKind as Kind};
use crate::tree::Node;
use crate::walk::{Duplicates, Fields, Sp, Walker, is_off, quoted};

/// The keys of [`RawSettings`], valid in `defaults` and in a connection.
pub(crate) const SETTING_KEYS: &[&str] = &[
    "kind",
    "tags",
    "on_dependency_down",
    "restart",
    "connect_timeout",
    "idle_timeout",
    "write_timeout",
    "frame_timeout",
    "heartbeat",
    "keepalive",
    "user_timeout",
    "nodelay",
    "send_buffer_size",
    "recv_buffer_size",
    "outbox",
    "framing",
    "max_frame",
];

const HEARTBEAT_KEYS: &[&str] = &["type", "interval"];
const KEEPALIVE_KEYS: &[&str] = &["idle", "interval", "count"];
const OUTBOX_KEYS: &[&str] = &["max_frames", "max_bytes"];
const FRAMING_KEYS: &[&str] = &[
    "type_width",
    "length_width",
    "byte_order",
    "length_includes_header",
    "flags",
    "id",
    "replies",
];

/// Every setting of a connection or of `defaults`, as written (unset
/// fields `None`). Values that failed to read were reported and are `None`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawSettings {
    pub(crate) kind: Option<Sp<String>>,
    pub(crate) tags: Option<Sp<Vec<String>>>,
    pub(crate) on_dependency_down: Option<Sp<OnDependencyDown>>,
    pub(crate) restart: RawRestart,
    pub(crate) connect_timeout: Option<Sp<Duration>>,
    pub(crate) idle_timeout: Option<Sp<Option<Duration>>>,
    pub(crate) write_timeout: Option<Sp<Option<Duration>>>,
    pub(crate) frame_timeout: Option<Sp<Option<Duration>>>,
    pub(crate) heartbeat: Option<Sp<Option<RawHeartbeat>>>,
    pub(crate) keepalive: Option<Sp<Option<RawKeepalive>>>,
    pub(crate) user_timeout: Option<Sp<Option<Duration>>>,
    pub(crate) nodelay: Option<Sp<bool>>,
    pub(crate) send_buffer_size: Option<Sp<u64>>,
    pub(crate) recv_buffer_size: Option<Sp<u64>>,
    pub(crate) outbox: Option<Sp<Option<RawOutbox>>>,
    pub(crate) framing: RawFraming,
    pub(crate) max_frame: Option<Sp<u64>>,
}

/// `heartbeat: { type, interval }`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawHeartbeat {
    pub(crate) ty: Option<Sp<u32>>,
    pub(crate) interval: Option<Sp<Duration>>,
    /// `type` was given with a value refused (and said so) while
    /// reading: it is not missing too.
    pub(crate) ty_refused: bool,
    /// The same for `interval`.
    pub(crate) interval_refused: bool,
}

/// `keepalive: { idle, interval, count }`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawKeepalive {
    pub(crate) idle: Option<Sp<Duration>>,
    pub(crate) interval: Option<Sp<Duration>>,
    pub(crate) count: Option<Sp<u32>>,
}

/// `outbox: { max_frames, max_bytes }`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawOutbox {
    pub(crate) max_frames: Option<Sp<u64>>,
    pub(crate) max_bytes: Option<Sp<u64>>,
    /// `max_frames` was given with a value refused (and said so) while
    /// reading: it is not missing too.
    pub(crate) max_frames_refused: bool,
    /// The same for `max_bytes`.
    pub(crate) max_bytes_refused: bool,
}

/// `framing:`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawFraming {
    pub(crate) at: Option<crate::error::Location>,
    pub(crate) type_width: Option<Sp<u8>>,
    pub(crate) length_width: Option<Sp<u8>>,
    pub(crate) byte_order: Option<Sp<ByteOrder>>,
    pub(crate) length_includes_header: Option<Sp<bool>>,
    pub(crate) flags: Option<Sp<bool>>,
    pub(crate) id: Option<Sp<IdField>>,
    pub(crate) replies: Option<Sp<Replies>>,
}

/// Reads every setting key present in `fields`.
pub(crate) fn read_settings(w: &mut Walker<'_>, fields: &mut Fields<'_>) -> RawSettings {
    let mut s = RawSettings::default();
    if let Some(n) = fields.take("kind") {
        s.kind = w.shown_string(n, &fields.path_of("kind"));
    }
    if let Some(n) = fields.take("tags") {
        s.tags = w.strings(n, &fields.path_of("tags"));
    }
    if let Some(n) = fields.take("on_dependency_down") {
        s.on_dependency_down = w.word(
            n,
            &fields.path_of("on_dependency_down"),
            &["stop", "keep", "restart"],
            |t| t.parse().ok(),
        );
    }
    if let Some(n) = fields.take("restart") {
        s.restart = read_restart(w, n, &fields.path_of("restart"));
    }
    if let Some(n) = fields.take("connect_timeout") {
        let path = fields.path_of("connect_timeout");
        s.connect_timeout = w.duration(n, &path).and_then(|d| nonzero(w, d, &path));
    }
    if let Some(n) = fields.take("idle_timeout") {
        let path = fields.path_of("idle_timeout");
        s.idle_timeout = w
            .optional_duration(n, &path)
            .and_then(|d| nonzero_opt(w, d, &path));
    }
    if let Some(n) = fields.take("write_timeout") {
        let path = fields.path_of("write_timeout");
        s.write_timeout = w
            .optional_duration(n, &path)
            .and_then(|d| nonzero_opt(w, d, &path));
    }
    if let Some(n) = fields.take("frame_timeout") {
        let path = fields.path_of("frame_timeout");
        s.frame_timeout = w
            .optional_duration(n, &path)
            .and_then(|d| nonzero_opt(w, d, &path));
    }
    if let Some(n) = fields.take("heartbeat") {
        s.heartbeat = read_heartbeat(w, n, &fields.path_of("heartbeat"));
    }
    if let Some(n) = fields.take("keepalive") {
        s.keepalive = read_keepalive(w, n, &fields.path_of("keepalive"));
    }
    if let Some(n) = fields.take("user_timeout") {
        let path = fields.path_of("user_timeout");
        s.user_timeout = w
            .optional_duration(n, &path)
            .and_then(|d| nonzero_opt(w, d, &path));
    }
    if let Some(n) = fields.take("nodelay") {
        s.nodelay = w.boolean(n, &fields.path_of("nodelay"));
    }
    if let Some(n) = fields.take("send_buffer_size") {
        s.send_buffer_size = w.size(n, &fields.path_of("send_buffer_size"), 1);
    }
    if let Some(n) = fields.take("recv_buffer_size") {
        s.recv_buffer_size = w.size(n, &fields.path_of("recv_buffer_size"), 1);
    }
    if let Some(n) = fields.take("outbox") {
        s.outbox = read_outbox(w, n, &fields.path_of("outbox"));
    }
    if let Some(n) = fields.take("framing") {
        s.framing = read_framing(w, n, &fields.path_of("framing"));
    }
    if let Some(n) = fields.take("max_frame") {
        s.max_frame = w.size(n, &fields.path_of("max_frame"), 1);
    }
    s
}

pub(super) fn nonzero(w: &mut Walker<'_>, d: Sp<Duration>, path: &str) -> Option<Sp<Duration>> {
    if d.value.is_zero() {
        w.push(
            ConfigError::at(
                Kind::OutOfRange,
                d.at,
                format!("{} must be greater than zero", quoted(path)),
            )
            .help("use a duration such as `100ms` or `5s`"),
        );
        return None;
    }
    Some(d)
}

fn nonzero_opt(
    w: &mut Walker<'_>,
    d: Sp<Option<Duration>>,
    path: &str,
) -> Option<Sp<Option<Duration>>> {
    match d.value {
        Some(inner) if inner.is_zero() => {
            w.push(
                ConfigError::at(
                    Kind::OutOfRange,
                    d.at,
                    format!("{} must be greater than zero", quoted(path)),
                )
                .help("use a duration such as `30s`, or `off` to turn it off"),
            );
            None
        }
        _ => Some(d),
    }
}

fn read_heartbeat(w: &mut Walker<'_>, node: &Node, path: &str) -> Option<Sp<Option<RawHeartbeat>>> {
    if is_off(node) {
        return Some(Sp::new(None, node.at));
    }
    let mut fields = w.mapping(node, path, Duplicates::Keys)?;
    let mut h = RawHeartbeat::default();
    if let Some(n) = fields.take("type") {
        h.ty = w
            .integer(n, &fields.path_of("type"), 0, u64::from(u32::MAX))
            .map(|v| Sp::new(v.value as u32, v.at));
        h.ty_refused = h.ty.is_none();
    }
    if let Some(n) = fields.take("interval") {
        let p = fields.path_of("interval");
        h.interval = w.duration(n, &p).and_then(|d| nonzero(w, d, &p));
        h.interval_refused = h.interval.is_none();
    }
    fields.finish(w, HEARTBEAT_KEYS, &[]);
    Some(Sp::new(Some(h), node.at))
}

fn read_keepalive(w: &mut Walker<'_>, node: &Node, path: &str) -> Option<Sp<Option<RawKeepalive>>> {
    if is_off(node) {
        return Some(Sp::new(None, node.at));
    }
    let mut fields = w.mapping(node, path, Duplicates::Keys)?;
    let mut k = RawKeepalive::default();
    if let Some(n) = fields.take("idle") {
        let p = fields.path_of("idle");
        k.idle = w.duration(n, &p).and_then(|d| nonzero(w, d, &p));
    }
    if let Some(n) = fields.take("interval") {
        let p = fields.path_of("interval");
        k.interval = w.duration(n, &p).and_then(|d| nonzero(w, d, &p));
    }
    if let Some(n) = fields.take("count") {
        k.count = w
            .integer(n, &fields.path_of("count"), 1, 127)
            .map(|v| Sp::new(v.value as u32, v.at));
    }
    fields.finish(w, KEEPALIVE_KEYS, &[]);
    Some(Sp::new(Some(k), node.at))
}

fn read_outbox(w: &mut Walker<'_>, node: &Node, path: &str) -> Option<Sp<Option<RawOutbox>>> {
    if is_off(node) {
        return Some(Sp::new(None, node.at));
    }
    let mut fields = w.mapping(node, path, Duplicates::Keys)?;
    let mut o = RawOutbox::default();
    if let Some(n) = fields.take("max_frames") {
        o.max_frames = w.integer(n, &fields.path_of("max_frames"), 1, u64::from(u32::MAX));
        o.max_frames_refused = o.max_frames.is_none();
    }
    if let Some(n) = fields.take("max_bytes") {
        o.max_bytes = w.size(n, &fields.path_of("max_bytes"), 1);
        o.max_bytes_refused = o.max_bytes.is_none();
    }
    fields.finish(w, OUTBOX_KEYS, &[]);
    Some(Sp::new(Some(o), node.at))
}

fn read_framing(w: &mut Walker<'_>, node: &Node, path: &str) -> RawFraming {
    let mut f = RawFraming::default();
    let Some(mut fields) = w.mapping(node, path, Duplicates::Keys) else {
        return f;
    };
    f.at = Some(node.at);
    if let Some(n) = fields.take("type_width") {
        f.type_width = width(w, n, &fields.path_of("type_width"), &[1, 2, 4]);
    }
    if let Some(n) = fields.take("length_width") {
        f.length_width = width(w, n, &fields.path_of("length_width"), &[2, 4]);
    }
    if let Some(n) = fields.take("byte_order") {
        f.byte_order = w.word(
            n,
            &fields.path_of("byte_order"),
            &["big", "little"],
            |t| match t {
                "big" => Some(ByteOrder::Big),
                "little" => Some(ByteOrder::Little),
                _ => None,
            },
        );
    }
    if let Some(n) = fields.take("length_includes_header") {
        f.length_includes_header = w.boolean(n, &fields.path_of("length_includes_header"));
    }
    if let Some(n) = fields.take("flags") {
        f.flags = w.boolean(n, &fields.path_of("flags"));
    }
    if let Some(n) = fields.take("id") {
        f.id = w.word(
            n,
            &fields.path_of("id"),
            &["flagged", "always", "never"],
            |t| match t {
                "flagged" => Some(IdField::Flagged),
                "always" => Some(IdField::Always),
                "never" => Some(IdField::Never),
                _ => None,
            },
        );
    }
    if let Some(n) = fields.take("replies") {
        f.replies = w.word(
            n,
            &fields.path_of("replies"),
            &["marked", "by_id"],
            |t| match t {
                "marked" => Some(Replies::Marked),
                "by_id" => Some(Replies::ById),
                _ => None,
            },
        );
    }
    fields.finish(w, FRAMING_KEYS, &[]);
    f
}

fn width(w: &mut Walker<'_>, node: &Node, path: &str, allowed: &[u8]) -> Option<Sp<u8>> {
    let v = w.integer(node, path, 0, u64::MAX)?;
    if let Some(&width) = allowed.iter().find(|&&a| u64::from(a) == v.value) {
        return Some(Sp::new(width, v.at));
    }
    let words: Vec<String> = allowed.iter().map(u8::to_string).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    w.push(ConfigError::at(
        Kind::OutOfRange,
        v.at,
        format!(
            "`{path}` must be {} bytes, found {}",
            crate::walk::one_of(&words),
            v.value
        ),
    ));
    None
}
