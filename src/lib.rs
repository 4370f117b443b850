//! sorabot's core: the Sora service client and its dialects, the command
//! grammar, job ids. It knows nothing of any chat platform.

pub mod backend;
pub mod ids;
