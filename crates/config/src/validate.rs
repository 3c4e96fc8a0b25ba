//! Phase two: the raw file merged and validated into the supervisor's
//! [`Spec`]. Every connection is its own settings laid over `defaults`,
//! laid over the built-in defaults, field by field (a connection that sets
//! only `restart.backoff.max` keeps the other backoff values of
//! `defaults`). Errors still point at the line and column of the value that
//! caused them, whether it came from the connection or from `defaults`.

use linesman_connection::{ConnectionSpec, Heartbeat, Outbox};
use linesman_ipc_codec::{FrameLayout, LayoutError};
use linesman_stream::{ConnectOptions, Keepalive};
use linesman_supervisor::{Spec, Supervised};

use crate::error::{ConfigError, ConfigErrorKind as Kind, Location};
use crate::layers::{Layer, Layers};
use crate::raw::{RawConnection, RawFile, RawSettings};
use crate::walk::{Sp, Walker};

/// A section that may be turned off (`false`/`off`) or given as a map that
/// merges field by field over the same map in `defaults`.
enum Section<'a, T> {
    /// Neither layer mentions it.
    Unset,
    /// The nearer layer that mentions it turned it off.
    Off,
    /// The maps of the layers that set it, nearest first, down to the first
    /// `off` or the end; and where the nearest one is.
    On(Vec<&'a T>, Location, String),
}

fn section<'a, T>(
    layers: &Layers<'a>,
    field: impl Fn(&'a RawSettings) -> &'a Option<Sp<Option<T>>>,
) -> Section<'a, T> {
    let mut maps = Vec::new();
    let mut nearest: Option<(Location, String)> = None;
    for layer in [&layers.top, &layers.defaults] {
        match field(layer.settings) {
            None => continue,
            Some(Sp { value: None, .. }) => break,
            Some(Sp {
                value: Some(map),
                at,
            }) => {
                nearest.get_or_insert_with(|| (*at, layer.path.clone()));
                maps.push(map);
            }
        }
    }
    match nearest {
        Some((at, path)) => Section::On(maps, at, path),
        None if field(layers.top.settings).is_some()
            || field(layers.defaults.settings).is_some() =>
        {
            Section::Off
        }
        None => Section::Unset,
    }
}

/// The first layer's value of a field among merged section maps.
fn first<'a, M, T: Clone + 'a>(
    maps: &[&'a M],
    field: impl Fn(&'a M) -> &'a Option<Sp<T>>,
) -> Option<T> {
    maps.iter()
        .find_map(|m| field(m).as_ref())
        .map(|v| v.value.clone())
}

/// Builds the [`Spec`], or records why not.
pub(crate) fn validate(w: &mut Walker<'_>, file: &RawFile) -> Option<Spec> {
    let mut builder = Spec::builder();
    let mut complete = true;
    for connection in &file.connections {
        match supervised(w, file, connection) {
            Some(s) => builder = builder.connection(s),
            None => complete = false,
        }
    }
    crate::graph::check(w, &file.connections);
    not_the_control_socket(w, file);
    if let Some(timeout) = &file.shutdown_timeout {
        builder = builder.shutdown_timeout(timeout.value);
    }
    if let Some(limit) = &file.max_concurrent_connects {
        // Checked to fit a u32 when read, so it fits a usize.
        builder =
            builder.max_concurrent_connects(usize::try_from(limit.value).unwrap_or(usize::MAX));
    }
    if !complete || !w.errors.is_empty() || file.connections.is_empty() {
        return None;
    }
    match builder.build() {
        Ok(spec) => Some(spec),
        Err(error) => {
            w.push(ConfigError::new(
                Kind::Invalid,
                None,
                format!("the supervisor refused the configuration: {error}"),
            ));
            None
        }
    }
}

fn supervised(w: &mut Walker<'_>, file: &RawFile, c: &RawConnection) -> Option<Supervised> {
    let layers = Layers {
        top: Layer {
            settings: &c.settings,
            path: format!("connections.{}", c.name.value),
        },
        defaults: Layer {
            settings: &file.defaults,
            path: "defaults".to_owned(),
        },
    };
    let errors_before = w.errors.len();
    let connect = connect_options(&layers);
    let layout = layout(w, &layers);
    if let Some(layout) = &layout {
        max_frame_fits(w, &layers, layout);
    }
    let heartbeat = heartbeat(w, &layers, layout.as_ref());
    let outbox = outbox(w, &layers);
    let restart = crate::restart::restart_policy(w, &layers);
    let endpoint = c.endpoint.as_ref()?;
    if w.errors.len() > errors_before {
        return None;
    }
    let mut spec = ConnectionSpec::new(c.name.value.clone(), endpoint.value.clone())
        .connect(connect)
        .layout(layout?)
        .heartbeat(heartbeat?)
        .outbox(outbox?)
        .idle_timeout(layers.value(|s| &s.idle_timeout).flatten())
        .frame_timeout(layers.value(|s| &s.frame_timeout).flatten());
    if let Some(timeout) = layers.value(|s| &s.write_timeout) {
        spec = spec.write_timeout(timeout);
    }
    if let Some(kind) = layers.value(|s| &s.kind) {
        spec = spec.kind(kind);
    }
    if let Some(tags) = layers.value(|s| &s.tags) {
        spec = spec.tags(tags);
    }
    if let Some(max) = layers.value(|s| &s.max_frame) {
        spec = spec.max_frame(usize::try_from(max).unwrap_or(usize::MAX));
    }
    let mut supervised = Supervised::new(spec).restart(restart?);
    if let Some(rule) = &c.rule {
        supervised = supervised.start_when(rule.to_rule());
    }
    if let Some(mode) = layers.value(|s| &s.on_dependency_down) {
        supervised = supervised.on_dependency_down(mode);
    }
    Some(supervised)
}

fn connect_options(layers: &Layers<'_>) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    if let Some(timeout) = layers.value(|s| &s.connect_timeout) {
        options = options.connect_timeout(timeout);
    }
    if let Some(nodelay) = layers.value(|s| &s.nodelay) {
        options = options.nodelay(nodelay);
    }
    if let Some(timeout) = layers.value(|s| &s.user_timeout) {
        options = options.user_timeout(timeout);
    }
    if let Some(size) = layers.value(|s| &s.send_buffer_size) {
        options = options.send_buffer_size(Some(usize::try_from(size).unwrap_or(usize::MAX)));
    }
    if let Some(size) = layers.value(|s| &s.recv_buffer_size) {
        options = options.recv_buffer_size(Some(usize::try_from(size).unwrap_or(usize::MAX)));
    }
    options.keepalive = match section(layers, |s| &s.keepalive) {
        Section::Unset => Some(Keepalive::default()),
        Section::Off => None,
        Section::On(maps, _, _) => {
            let base = Keepalive::default();
            Some(Keepalive {
                idle: first(&maps, |m| &m.idle).unwrap_or(base.idle),
                interval: first(&maps, |m| &m.interval).unwrap_or(base.interval),
                count: first(&maps, |m| &m.count).unwrap_or(base.count),
            })
        }
    };
    options
}

fn heartbeat(
    w: &mut Walker<'_>,
    layers: &Layers<'_>,
    layout: Option<&FrameLayout>,
) -> Option<Option<Heartbeat>> {
    let Section::On(maps, at, path) = section(layers, |s| &s.heartbeat) else {
        return Some(None);
    };
    let ty = first(&maps, |m| &m.ty);
    let interval = first(&maps, |m| &m.interval);
    // Each problem of the mapping at once: a key missing (unless its value
    // was refused while reading, which said so), a type too wide.
    let mut whole = true;
    for (key, given, refused) in [
        ("type", ty.is_some(), maps.iter().any(|m| m.ty_refused)),
        (
            "interval",
            interval.is_some(),
            maps.iter().any(|m| m.interval_refused),
        ),
    ] {
        whole &= given;
        if !given && !refused {
            w.push(
                ConfigError::at(Kind::MissingKey, at, format!("`{path}.heartbeat` has no `{key}`"))
                    .help("a heartbeat needs both: `heartbeat: { type: 0, interval: 10s }`, or `heartbeat: off`"),
            );
        }
    }
    if let (Some(ty), Some(layout)) = (ty, layout)
        && ty > layout.max_type()
    {
        w.push(
            ConfigError::at(
                Kind::OutOfRange,
                at,
                format!(
                    "`{path}.heartbeat` type {ty} does not fit the {}-byte type field of the framing (at most {})",
                    layout.type_width(),
                    layout.max_type()
                ),
            )
            .help("use a smaller heartbeat type, or a wider `framing.type_width`"),
        );
        return None;
    }
    let (Some(ty), Some(interval), true) = (ty, interval, whole) else {
        return None;
    };
    Some(Some(Heartbeat { ty, interval }))
}

fn outbox(w: &mut Walker<'_>, layers: &Layers<'_>) -> Option<Option<Outbox>> {
    let Section::On(maps, at, path) = section(layers, |s| &s.outbox) else {
        return Some(None);
    };
    let frames = first(&maps, |m| &m.max_frames);
    let bytes = first(&maps, |m| &m.max_bytes);
    // Each bound missing, unless its value was refused while reading
    // (which said so).
    for (key, given, refused) in [
        (
            "max_frames",
            frames.is_some(),
            maps.iter().any(|m| m.max_frames_refused),
        ),
        (
            "max_bytes",
            bytes.is_some(),
            maps.iter().any(|m| m.max_bytes_refused),
        ),
    ] {
        if !given && !refused {
            w.push(
                ConfigError::at(Kind::MissingKey, at, format!("`{path}.outbox` has no `{key}`"))
                    .help("an outbox needs both bounds: `outbox: { max_frames: 1000, max_bytes: 1MiB }`, or `outbox: off`"),
            );
        }
    }
    let (Some(frames), Some(bytes)) = (frames, bytes) else {
        return None;
    };
    Some(Some(Outbox {
        max_frames: usize::try_from(frames).unwrap_or(usize::MAX),
        max_bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
    }))
}

/// Pushes an error for each connection whose endpoint is the daemon's own
/// control socket (an absolute `control.socket`; `run` checks the socket
/// it serves, however it was given): it would take a control slot, be
/// closed as a bad request, and reconnect, forever.
fn not_the_control_socket(w: &mut Walker<'_>, file: &RawFile) {
    let Some(socket) = &file.control_socket else {
        return;
    };
    let socket_path = std::path::Path::new(&socket.value);
    for c in &file.connections {
        let Some(endpoint) = &c.endpoint else {
            continue;
        };
        if matches!(&endpoint.value, linesman_stream::Endpoint::Unix(path) if path == socket_path) {
            w.push(
                ConfigError::at(
                    Kind::Conflict,
                    endpoint.at,
                    format!(
                        "`connections.{}.endpoint` is the daemon's own control socket",
                        c.name.value
                    ),
                )
                .label(socket.at, "the control socket")
                .help("point the connection at its peer's socket: the control socket answers the CLI, not frames"),
            );
        }
    }
}

/// Pushes an error if `max_frame` is more than `layout`'s length field can
/// announce: no frame that large could be sent or received, and the limit
/// is also what one peer may make the daemon buffer (`4GiB` with a 4-byte
/// length field let a peer announce 4 GiB and fill 600 MB of it).
fn max_frame_fits(w: &mut Walker<'_>, layers: &Layers<'_>, layout: &FrameLayout) {
    let Some((max, path)) = layers.pick(|s| &s.max_frame) else {
        return;
    };
    // The field's maximum, not less the header when the length counts it:
    // `65535` for a 2-byte length is what an operator writes for "all the
    // field allows" (an example does), and a few bytes too many cost
    // nothing; a limit of gigabytes the field cannot announce does.
    let most = layout.max_length_field();
    if max.value <= most {
        return;
    }
    w.push(
        ConfigError::at(
            Kind::OutOfRange,
            max.at,
            format!(
                "`{path}.max_frame` is {} bytes, more than a frame's {}-byte length field can announce ({} bytes)",
                crate::budget::grouped(max.value),
                layout.length_width(),
                crate::budget::grouped(most)
            ),
        )
        .help("no frame that large could be sent or received: set it to what the largest message needs (the default is 16MiB)"),
    );
}

fn layout(w: &mut Walker<'_>, layers: &Layers<'_>) -> Option<FrameLayout> {
    let f = |s: &RawSettings| s.framing.clone();
    let (top, defaults) = (f(layers.top.settings), f(layers.defaults.settings));
    let mut builder = FrameLayout::builder();
    macro_rules! field {
        ($name:ident) => {
            if let Some(v) = top.$name.as_ref().or(defaults.$name.as_ref()) {
                builder = builder.$name(v.value);
            }
        };
    }
    field!(type_width);
    field!(length_width);
    field!(byte_order);
    field!(length_includes_header);
    field!(flags);
    field!(id);
    field!(replies);
    match builder.build() {
        Ok(layout) => Some(layout),
        Err(error) => {
            let (at, path) = match (top.at, defaults.at) {
                (Some(at), _) => (at, layers.top.path.as_str()),
                (None, Some(at)) => (at, layers.defaults.path.as_str()),
                (None, None) => return None,
            };
            let error = match error {
                LayoutError::FlaggedIdWithoutFlags => ConfigError::at(
                    Kind::Conflict,
                    at,
                    format!("`{path}.framing` has `flags: false` with `id: flagged` (the default), which needs the flags field"),
                )
                .help("without flags no bit can announce an id: set `id: always` or `id: never`, or `flags: true`"),
                LayoutError::MarkedRepliesWithoutFlags => ConfigError::at(
                    Kind::Conflict,
                    at,
                    format!("`{path}.framing` has `flags: false` with `replies: marked` (the default), which needs the flags field to mark replies"),
                )
                .help("without flags replies can only be matched by id: set `replies: by_id` (a peer request whose id equals a pending one of ours is then taken for its reply), or `flags: true`"),
                other => ConfigError::at(Kind::Conflict, at, format!("`{path}.framing` is not a valid layout: {other}")),
            };
            w.push(error);
            None
        }
    }
}
