//! What the programs and tests that run the real `sorabot` binary as child
//! processes share: finding (and building) the binary, one bot process
//! (started, killed with SIGKILL, stopped, its log and CPU time), the
//! `/video` commands people send and what the chats show of them, a
//! round-robin load balancer on loopback, and a world of several instances
//! sharing one PostgreSQL. Included by the `chaos` and `scale` benchmarks
//! and by the two-instance test (`#[path]`), each using a part of it.

#![allow(dead_code)]

pub mod balancer;
pub mod binary;
pub mod cluster;
pub mod commands;
pub mod figures;
pub mod process;
pub mod rng;
pub mod service;
