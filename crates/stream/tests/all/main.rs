//! The tests of `linesman-stream`, in one binary: real TCP and Unix sockets
//! on this machine, real threads.

mod blocking;
mod close;
mod common;
mod connect;
mod endpoint;
mod input_end;
mod limits;
mod options;
mod unix;
