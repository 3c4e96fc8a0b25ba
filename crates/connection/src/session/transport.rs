//! Opening a session's transport: a socket by the spec's endpoint, or a
//! blocking source.

use linesman_stream::{BlockingSource, Stream, connect};

use crate::reason::Reason;
use crate::spec::{ConnectionSpec, Target};

/// An opened transport. Boxed (for the moment between the connect and
/// the split into the session's reader and writer): the session's future
/// keeps the slot of its transport for the whole session, so a small one.
pub(crate) enum Transport {
    Socket(Box<Stream>),
    Blocking(Box<BlockingSource>),
}

/// Opens `target` for one session, as the settings of `spec` say.
pub(crate) async fn open(target: &Target, spec: &ConnectionSpec) -> Result<Transport, Reason> {
    match target {
        Target::Endpoint(endpoint) => connect(endpoint, &spec.connect, &spec.hooks)
            .await
            .map(|stream| Transport::Socket(Box::new(stream)))
            .map_err(|error| Reason::ConnectFailed {
                kind: error.kind(),
                error: error.to_string(),
            }),
        Target::Blocking(target) => target
            .open()
            .map(|source| Transport::Blocking(Box::new(source)))
            .map_err(|error| Reason::ConnectFailed {
                kind: error.kind(),
                error: format!("opening blocking source {} failed: {error}", target.label()),
            }),
    }
}
