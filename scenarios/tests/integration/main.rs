//! Integration tests of the scenario loader, one module per concern.

mod defaults;
mod docs;
mod errors;
mod library;
mod no_panic;
mod round_trip;
mod sweep;
