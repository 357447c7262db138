//! # reports: rwsim's renderers
//!
//! Renderers only format: they take results from `sim-core` and return text or bytes, or
//! write to a caller-supplied writer; the CLI owns the files.
//!
//! - [`summary`]: the human-readable forecast: the answer in time (gaps, best / median /
//!   worst case), the tables and the timeline; [`budget`]: the outage budget.
//! - [`json`]: the `--json` object (`summary.json`), the robust answer beside the run's.
//! - [`csv`]: `timeseries.csv`, one [`sim_core::metrics::MetricsRow`] per output step,
//!   streamed while the simulation runs, and read back.
//! - [`sweep`]: `sweep.csv` (one [`sweep::PointRow`] per grid point), `sweep.json`
//!   ([`sweep::SweepSummary`]) and the printed Pareto front, recommendation (in the sender's
//!   language: `queue_config:` YAML and flags, an Alloy component, vmagent flags) and levers. The statistics, Pareto front and recommendation themselves
//!   are the `analysis` crate's, which every module here only renders.
//! - [`charts`]: PNG and SVG charts. [`charts::downsample`] keeps a bounded per-pixel
//!   (min/max) downsample of a run's rows as they stream; [`charts::run`] prepares the run
//!   dashboard's panels from it, [`charts::sweep::prepare`] the sweep heatmaps and curves from the points
//!   (both pure, tested); [`charts::sweep`] draws heatmaps and curves;
//!   [`charts::write_png`] and [`charts::render_svg`] draw any [`charts::Figure`] with the
//!   bundled DejaVu Sans font.
//! - [`report`]: `report.md` and a self-contained `report.html` for a run, and
//!   [`report::sweep`] for a sweep.
//! - [`openmetrics`]: the `prometheus_remote_storage_*` series for `promtool` backfilling.
//!
//! ## Example
//! ```
//! use reports::charts::run::{Dashboard, RunCharts, RunSeries};
//! use sim_core::config::SimConfig;
//! use sim_core::profile::Profile;
//!
//! let mut cfg = SimConfig::baseline(Profile::V3);
//! cfg.duration = sim_core::time::SimDuration::from_mins(10);
//! // The dashboard's bounded downsample, filled as the rows stream.
//! let mut series = RunSeries::new(cfg.duration.as_secs_f64());
//! let result = sim_core::simulate(&cfg, &mut series).unwrap();
//! let dashboard = Dashboard::for_run(&RunCharts {
//!     config: &cfg,
//!     result: &result,
//!     series: &series,
//!     description: None,
//!     incidents: Vec::new(),
//!     headline: Some(reports::summary::headline(&result, None)),
//! });
//! let svg = reports::charts::render_svg(&dashboard).unwrap();
//! assert!(svg.contains("Samples in vs delivered (samples/s)"));
//! let mut png = Vec::new();
//! reports::charts::write_png(&dashboard, &mut png).unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! ```
#![warn(missing_docs)]

pub mod budget;
pub mod charts;
pub mod compare;
pub mod csv;
pub mod json;
pub mod openmetrics;
pub mod report;
pub mod summary;
pub mod sweep;
