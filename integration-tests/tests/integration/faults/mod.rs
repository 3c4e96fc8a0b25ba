//! The fault matrix: one test per class of fault a peer, a client, an
//! operator or the machine can throw at linesman, each beside a healthy
//! connection that must not notice. `docs/reliability.md` lists them with
//! what linesman does and the figures measured.

mod no_loss;
