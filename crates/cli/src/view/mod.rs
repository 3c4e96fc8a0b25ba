//! How the CLI shows the daemon: the [`Model`](model::Model) kept from
//! status and events, the table, the DETAIL text, event log lines, and the
//! live loop shared by `status --watch` and `demo`.

pub(crate) mod detail;
pub(crate) mod fit;
pub(crate) mod log;
pub(crate) mod model;
pub(crate) mod table;
pub(crate) mod time;
pub(crate) mod watch;
