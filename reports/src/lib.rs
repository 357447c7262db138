//! # reports: rwsim's renderers
//!
//! Renderers only format: they take results from `sim-core` and return text or write to a
//! caller-supplied writer; the CLI owns the files.
//!
//! - [`summary`]: the human-readable forecast table and timeline.
//! - [`json`]: the `--json` object.
//! - [`csv`]: `timeseries.csv`, one [`sim_core::metrics::MetricsRow`] per output step,
//!   streamed while the simulation runs.
#![warn(missing_docs)]

pub mod charts;
pub mod csv;
pub mod json;
pub mod openmetrics;
pub mod report;
pub mod summary;
