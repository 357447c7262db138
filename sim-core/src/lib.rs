//! # sim-core: the Prometheus remote-write path on a virtual clock
//!
//! A deterministic discrete-event model of one Prometheus `remote_write` queue — WAL, WAL
//! watcher, shards, batching, sends with retries and backoff, resharding, head compaction and
//! WAL truncation — against a receiver with injected faults. The model follows the
//! Prometheus source (v2.42 and v3.x); `docs/model.md` in the repository describes each
//! mechanism, and § numbers in doc comments (§5, §9.2, ...) refer to its sections.
//!
//! Pure: no file or network I/O, no wall clock, no threads. Same [`config::SimConfig`] ⇒ the
//! same [`result::RunResult`] and the same rows, bit for bit.
//!
//! ## Map
//! - [`config`]: the validated input ([`config::SimConfig`]) with Prometheus's names and defaults.
//! - [`profile`]: what differs between Prometheus 2.42 and 3.x.
//! - [`engine`]: the event loop; [`simulate`] runs it.
//! - [`sender`]: who owns the WAL and when it is truncated (Prometheus server: head compaction).
//! - Model parts: [`workload`] (scrapes as a closed-form arrival function), [`wal`] (segments,
//!   compaction, truncation), [`watcher`], [`shard`], [`backoff`], [`resharder`],
//!   [`receiver`] and [`fault`].
//! - Outputs: [`metrics::MetricsRow`] per step via an [`observer::Observer`], and the summary
//!   [`result::RunResult`], with its losses as time ranges ([`gaps`]).
//!
//! ## Example
//! ```
//! use sim_core::config::{FaultWindow, Response, SimConfig};
//! use sim_core::profile::Profile;
//! use sim_core::time::SimDuration;
//!
//! // 100k series for 1 h; the receiver answers 503 for 10 minutes.
//! let mut cfg = SimConfig::baseline(Profile::V3);
//! cfg.receiver.faults.push(FaultWindow {
//!     start: SimDuration::from_mins(20),
//!     end: SimDuration::from_mins(30),
//!     response: Response::Status(503),
//!     probability: 1.0,
//!     retry_after: None,
//!     latency: None,
//! });
//! let r = sim_core::simulate(&cfg, &mut ()).unwrap();
//! assert!(r.conservation_ok);
//! assert_eq!(r.samples.dropped.wal_truncation, 0, "10 minutes is well within the WAL");
//! assert!(r.samples.retried > 0);
//! assert_eq!(r.samples.failed, 0, "5xx is retried, never failed");
//! ```
#![warn(missing_docs)]

pub mod backoff;
pub mod config;
pub mod divisor;
pub(crate) mod edges;
pub mod engine;
pub mod event;
pub mod fault;
pub mod gaps;
pub mod histogram;
pub mod incident;
pub(crate) mod lag;
pub mod metrics;
pub mod mintree;
pub mod observer;
pub mod profile;
pub mod receiver;
pub mod resharder;
pub mod result;
pub mod rng;
pub mod sender;
pub mod shard;
pub mod time;
pub mod wal;
pub mod watcher;
pub mod workload;

pub use engine::{SimError, simulate};
