//! # analysis: what rwsim concludes from its runs
//!
//! `sim-core` simulates one configuration; this crate decides which runs to make and what
//! they say, without drawing or printing anything (`reports` renders its results, the CLI
//! glues). Every function here is deterministic: runs are independent and collected in a
//! fixed order, so one thread or many give the same answer.
//!
//! - [`stats`]: means, Student-t intervals, and when two figures differ by less than noise.
//! - [`settings`]: what a scenario key is to the user — a `queue_config` key, a flag, a
//!   model constant or a condition of the world.
//! - [`sweep`]: sweep rows, the Pareto front over settings, the noise-aware recommendation,
//!   the outage budget per setting.
//! - [`constants`]: the model constants nobody sets, with their plausible ranges.
//! - [`phase`]: moving an outage against the TSDB block boundaries.
//! - [`robust`]: best, median and worst case over what the user cannot control.
//! - [`budget`]: the longest outage that loses nothing.
//! - [`levers`]: what else would meet the targets, each evaluated by running it.
#![warn(missing_docs)]

pub mod budget;
pub mod compare;
pub mod constants;
pub mod levers;
pub mod phase;
pub mod robust;
pub mod settings;
pub mod stats;
pub mod sweep;
