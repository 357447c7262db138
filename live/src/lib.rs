//! # live: rwsim at the edge of the real world
//!
//! The model in `sim-core` is pure; this crate is where rwsim meets sockets and clocks:
//!
//! - [`serve`]: `rwsim serve`, a real remote-write 1.0 receiver (`POST /api/v1/push`) whose
//!   answers — status, latency, Retry-After, hangs, refusals, crashes — come from the
//!   scenario's `[receiver]` through [`sim_core::receiver::Receiver`], in real time from
//!   server start. It keeps honest books of what it stored ([`books`]).
//! - [`target`]: `rwsim target`, a `/metrics` page with a fixed number of series, so that a
//!   real Prometheus can be given a known workload.
//! - [`proto`]: the wire format (Snappy block + protobuf `WriteRequest`, hand-written prost
//!   messages), and the in-place decoder the server uses, which never builds a request.
//! - [`books`]: pure accounting: per-second rows, duplicates, the `/metrics` text.
//! - [`calibrate`]: `rwsim calibrate`, measuring a running Prometheus (its API and its own
//!   metrics) for the constants of a scenario.
//!
//! ## Example
//! ```
//! use live::proto::{self, Label, Sample, TimeSeries, WriteRequest};
//! let req = WriteRequest {
//!     timeseries: vec![TimeSeries {
//!         labels: vec![Label { name: "__name__".into(), value: "up".into() }],
//!         samples: vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }],
//!     }],
//! };
//! let body = proto::encode(&req);
//! assert_eq!(proto::decode(&body, 1 << 20).unwrap(), req);
//! assert!(proto::decode(b"garbage", 1 << 20).unwrap_err().to_string().starts_with("snappy: "));
//! ```
#![warn(missing_docs)]

/// A line on stderr that never panics (a closed stderr must not kill a server).
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod books;
pub mod calibrate;
pub mod http;
pub mod proto;
pub mod serve;
pub mod target;

use std::fmt;

/// Why a live command could not run.
#[derive(Debug)]
pub enum LiveError {
    /// A socket or file operation failed; the string says which.
    Io(String, std::io::Error),
    /// A bad option value.
    Usage(String),
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::Io(what, e) => write!(f, "{what}: {e}"),
            LiveError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LiveError {}

/// The runtime of a live command: two worker threads (decoding is quick; the work is
/// waiting), timers and I/O.
fn runtime() -> Result<tokio::runtime::Runtime, LiveError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| LiveError::Io("tokio runtime".into(), e))
}
