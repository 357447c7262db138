//! Lag episodes for the timeline: when remote write falls behind and when it has caught up.
//!
//! Both sender models (the Prometheus queue in [`crate::engine`] and vmagent) report the same
//! two moments with the same thresholds, so that their timelines compare line for line in
//! `rwsim compare`. The gap between the thresholds keeps a lag hovering around one of them
//! from flapping.

use crate::observer::NotableKind;
use crate::result::{BEHIND_LAG_SECS, CAUGHT_UP_LAG_SECS};
use crate::time::{SimDuration, SimTime};

/// The open lag episode, if any, and its worst lag.
#[derive(Clone, Debug, Default)]
pub(crate) struct LagEpisode {
    since: Option<SimTime>,
    lag_max: f64,
}

impl LagEpisode {
    /// Feeds the lag (seconds) measured at `now`. Returns the timeline note when an episode
    /// starts or ends. A new episode starts only when `may_start` (vmagent does not report
    /// falling behind while it is down).
    pub(crate) fn observe(&mut self, now: SimTime, lag: f64, may_start: bool) -> Option<(NotableKind, String)> {
        match self.since {
            None if lag > BEHIND_LAG_SECS && may_start => {
                self.since = Some(now);
                self.lag_max = lag;
                Some((NotableKind::FellBehind, format!("remote write fell behind: lag {lag:.0}s")))
            }
            Some(since) => {
                self.lag_max = self.lag_max.max(lag);
                if lag >= CAUGHT_UP_LAG_SECS {
                    return None;
                }
                self.since = None;
                let d = now.saturating_since(since);
                let max = SimDuration::from_secs_f64(self.lag_max);
                Some((NotableKind::CaughtUp, format!("caught up after {d} behind (max lag {max})")))
            }
            None => None,
        }
    }

    /// Ends the open episode without a note: what the sender was behind by was skipped (a
    /// restarted queue starts at "now"), not caught up.
    pub(crate) fn forget(&mut self) {
        self.since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    #[test]
    fn an_episode_opens_above_60s_and_closes_below_30s_with_its_worst_lag() {
        let mut e = LagEpisode::default();
        assert_eq!(e.observe(at(0), 59.0, true), None);
        assert_eq!(e.observe(at(10), 61.0, true).map(|n| n.0), Some(NotableKind::FellBehind));
        assert_eq!(e.observe(at(20), 300.0, true), None);
        assert_eq!(e.observe(at(30), 45.0, true), None, "between the thresholds: still behind");
        let (kind, msg) = e.observe(at(130), 29.0, true).expect("caught up");
        assert_eq!(kind, NotableKind::CaughtUp);
        assert_eq!(msg, "caught up after 2m behind (max lag 5m)");
    }

    #[test]
    fn a_forgotten_episode_says_nothing_and_may_start_gates_only_new_ones() {
        let mut e = LagEpisode::default();
        assert_eq!(e.observe(at(0), 100.0, false), None, "down: no new episode");
        assert!(e.observe(at(1), 100.0, true).is_some());
        e.forget();
        assert_eq!(e.observe(at(2), 1.0, true), None, "forgotten: no caught-up note");
    }
}
