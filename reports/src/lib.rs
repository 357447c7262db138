//! # reports: rwsim's renderers
//!
//! Renderers only format: they take results from `sim-core` and return text or write to a
//! caller-supplied writer; the CLI owns the files.
//!
//! - [`summary`]: the human-readable forecast table and timeline.
//! - [`json`]: the `--json` object.
//! - [`csv`]: `timeseries.csv`, one [`sim_core::metrics::MetricsRow`] per output step,
//!   streamed while the simulation runs.
//! - [`sweep`]: `sweep.csv` (one [`sweep::PointRow`] per grid point, with Student-t
//!   confidence intervals across replications), the Pareto front and the `queue_config`
//!   recommendation.
#![warn(missing_docs)]

pub mod csv;
pub mod json;
pub mod summary;
pub mod sweep;
