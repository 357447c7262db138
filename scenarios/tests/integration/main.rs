//! Integration tests of the scenario loader, one module per concern.

mod abuse;
mod defaults;
mod docs;
mod errors;
mod fuzz_run;
mod library;
mod no_panic;
mod round_trip;
mod sweep;
