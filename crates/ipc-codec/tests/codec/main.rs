//! Tests of linesman-ipc-codec, in one binary: round trips over arbitrary
//! layouts, every split of the input, hostile input, typed messages and
//! dispatch, the hex examples of docs/wire-format.md, and a real socket.

mod dispatch;
mod hostile;
mod replies;
mod roundtrip;
mod socket;
mod split;
mod support;
mod wire_format_doc;
