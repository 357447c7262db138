//! A progress bar for one run: simulated time against the run's length, with elapsed time
//! and an ETA, on stderr only when stderr is a terminal (never in a pipe, a file or CI).
//!
//! It only observes rows and feeds nothing back into the model, so every output is the same
//! with or without it; it is drawn on stderr, so stdout stays the forecast alone.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim_core::metrics::MetricsRow;
use sim_core::observer::Observer;
use sim_core::time::SimDuration;
use std::io::IsTerminal;

/// Position updates per run: often enough for a smooth bar and ETA, rare enough to cost
/// nothing next to the simulation (a 366-day run has 3 million rows).
const UPDATES: u64 = 1000;

/// Observes a run's rows and moves the bar with their simulated time.
pub struct RunProgress {
    bar: ProgressBar,
    /// Simulated second of the next update.
    next: u64,
    step: u64,
}

impl RunProgress {
    /// A bar for a run of `duration`; hidden unless stderr is a terminal.
    pub fn new(duration: SimDuration) -> Self {
        let len = duration.nanos().div_ceil(sim_core::time::NANOS_PER_SEC).max(1);
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {percent:>3}% of {msg} simulated  {elapsed} elapsed, ETA {eta}")
                    .expect("valid template"),
            );
            bar.set_message(duration.to_string());
            bar
        } else {
            ProgressBar::hidden()
        };
        RunProgress { bar, next: 0, step: (len / UPDATES).max(1) }
    }
}

impl Observer for RunProgress {
    fn on_step(&mut self, row: &MetricsRow) {
        let s = row.t_seconds as u64;
        if s >= self.next {
            self.bar.set_position(s);
            self.next = s + self.step;
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
