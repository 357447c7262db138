//! # calibrate: measure a running Prometheus
//!
//! `rwsim calibrate` asks a Prometheus for its version, flags and configuration, then for
//! the constants a forecast depends on — sample rate, series, targets and intervals, WAL and
//! wire bytes per sample, the receiver's latency distribution, the queue's state, error and
//! retry rates — over a window of its own history (PromQL over the series it scrapes from
//! itself), or, when it does not scrape itself, by sampling its `/metrics` for the window.
//!
//! I/O and arithmetic are apart:
//! - [`Source`]: every exchange with the server (`GET` a path, the clock, waiting between
//!   samples). [`http::HttpSource`] talks to a real server (ureq, rustls); [`Recorder`]
//!   keeps every answer for `--save`; [`Replay`] answers from a saved file (`--from`),
//!   which is how the tests run without a server.
//! - [`metrics`]: one interface over the two ways of measuring (PromQL over history,
//!   samples of `/metrics`), built on [`api`] (the HTTP API's JSON) and [`expo`] (the text
//!   exposition format).
//! - [`measure`]: which metrics are read and how they become constants, with the query and
//!   window each came from and warnings where the data is thin.
//! - [`fit`]: the receiver latency distribution fitted to `sent_batch_duration_seconds`.
//! - [`check`]: the calibrated model's steady state against the live one.

pub mod api;
pub mod check;
pub mod expo;
pub mod fit;
pub mod http;
pub mod measure;
pub mod metrics;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// Why a calibration could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalibrateError(pub String);

impl fmt::Display for CalibrateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CalibrateError {}

/// Shorthand for calibration results.
pub type Result<T> = std::result::Result<T, CalibrateError>;

fn fail<T>(m: impl Into<String>) -> Result<T> {
    Err(CalibrateError(m.into()))
}

/// Everything calibrate exchanges with the world. Implementations: a real server, a
/// recording of one, a replay.
pub trait Source {
    /// `GET path` (with its query string) under the server's base URL: the body of a 2xx
    /// answer, or an error that says what went wrong.
    fn get(&mut self, path: &str) -> Result<String>;
    /// The time now, in Unix milliseconds.
    fn now_unix_ms(&mut self) -> u64;
    /// Waits until `unix_ms`; false when the user interrupted (Ctrl-C) and sampling should
    /// stop.
    fn wait_until(&mut self, unix_ms: u64) -> bool;
    /// Where the answers come from, for messages (`http://...`, `saved answers in FILE`).
    fn describe(&self) -> String;
}

impl<S: Source + ?Sized> Source for Box<S> {
    fn get(&mut self, path: &str) -> Result<String> {
        (**self).get(path)
    }
    fn now_unix_ms(&mut self) -> u64 {
        (**self).now_unix_ms()
    }
    fn wait_until(&mut self, unix_ms: u64) -> bool {
        (**self).wait_until(unix_ms)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// One recorded exchange.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// `GET` path, or `#now` / `#wait`.
    pub key: String,
    /// The answer body (for `#now` the time, for `#wait` `true`/`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The error, when there was no 2xx answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The file `--save` writes and `--from` reads: the options of the run and every answer, in
/// order. It holds no credentials (they are never part of an answer; Prometheus redacts
/// secrets in the configuration it serves).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// `rwsim-calibrate/1`.
    pub format: String,
    /// The Prometheus URL it was recorded from.
    pub prometheus: String,
    /// The options that shape the queries (`window`, `selector`, `sample_every`), as given.
    pub options: BTreeMap<String, String>,
    /// The exchanges, in order.
    pub exchanges: Vec<Exchange>,
}

/// The format tag of [`Saved`].
pub const SAVED_FORMAT: &str = "rwsim-calibrate/1";

/// Wraps a source and records every exchange.
pub struct Recorder<S> {
    inner: S,
    /// What was exchanged so far.
    pub exchanges: Vec<Exchange>,
}

impl<S: Source> Recorder<S> {
    /// Records what `inner` answers.
    pub fn new(inner: S) -> Self {
        Recorder { inner, exchanges: Vec::new() }
    }
}

impl<S: Source> Source for Recorder<S> {
    fn get(&mut self, path: &str) -> Result<String> {
        let r = self.inner.get(path);
        // Of a /metrics page only the lines calibration reads are kept.
        let body = r.as_ref().ok().map(|b| if path == "/metrics" { measure::filter_page(b) } else { b.clone() });
        self.exchanges.push(Exchange { key: path.to_string(), body, error: r.as_ref().err().map(|e| e.0.clone()) });
        r
    }
    fn now_unix_ms(&mut self) -> u64 {
        let t = self.inner.now_unix_ms();
        self.exchanges.push(Exchange { key: "#now".into(), body: Some(t.to_string()), error: None });
        t
    }
    fn wait_until(&mut self, unix_ms: u64) -> bool {
        let ok = self.inner.wait_until(unix_ms);
        self.exchanges.push(Exchange { key: "#wait".into(), body: Some(ok.to_string()), error: None });
        ok
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Answers from a saved file: each key's answers in the order they were recorded.
pub struct Replay {
    by_key: BTreeMap<String, VecDeque<Exchange>>,
    origin: String,
    last_now: u64,
}

impl Replay {
    /// A replay of `saved`; `origin` names the file in messages.
    pub fn new(saved: Saved, origin: &str) -> Result<Self> {
        if saved.format != SAVED_FORMAT {
            return fail(format!("{origin}: not a file written by rwsim calibrate --save (format {:?})", saved.format));
        }
        let mut by_key: BTreeMap<String, VecDeque<Exchange>> = BTreeMap::new();
        for e in saved.exchanges {
            by_key.entry(e.key.clone()).or_default().push_back(e);
        }
        Ok(Replay { by_key, origin: origin.to_string(), last_now: 0 })
    }

    fn next(&mut self, key: &str) -> Option<Exchange> {
        self.by_key.get_mut(key).and_then(VecDeque::pop_front)
    }
}

impl Source for Replay {
    fn get(&mut self, path: &str) -> Result<String> {
        match self.next(path) {
            Some(Exchange { body: Some(b), .. }) => Ok(b),
            Some(Exchange { error: Some(e), .. }) => Err(CalibrateError(e)),
            _ => fail(format!(
                "{}: no saved answer to GET {path}: the file was saved with other options (see its \"options\"), \
                 or by another rwsim version",
                self.origin
            )),
        }
    }
    fn now_unix_ms(&mut self) -> u64 {
        if let Some(t) = self.next("#now").and_then(|e| e.body).and_then(|b| b.parse().ok()) {
            self.last_now = t;
        }
        self.last_now
    }
    fn wait_until(&mut self, _unix_ms: u64) -> bool {
        self.next("#wait").and_then(|e| e.body).is_some_and(|b| b == "true")
    }
    fn describe(&self) -> String {
        format!("the answers saved in {}", self.origin)
    }
}

/// Percent-encodes a query parameter (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u64);
    impl Source for Fixed {
        fn get(&mut self, path: &str) -> Result<String> {
            if path == "/bad" { fail("503 Service Unavailable") } else { Ok(format!("body of {path}")) }
        }
        fn now_unix_ms(&mut self) -> u64 {
            self.0 += 1000;
            self.0
        }
        fn wait_until(&mut self, _: u64) -> bool {
            true
        }
        fn describe(&self) -> String {
            "fixed".into()
        }
    }

    #[test]
    fn a_recording_replays_the_same_answers() {
        let mut r = Recorder::new(Fixed(0));
        assert_eq!(r.get("/a").unwrap(), "body of /a");
        assert!(r.get("/bad").is_err());
        assert_eq!(r.now_unix_ms(), 1000);
        assert!(r.wait_until(5));
        assert_eq!(r.get("/a").unwrap(), "body of /a");
        let saved = Saved {
            format: SAVED_FORMAT.into(),
            prometheus: "http://x".into(),
            options: BTreeMap::new(),
            exchanges: r.exchanges.clone(),
        };
        let json = serde_json::to_string(&saved).unwrap();
        let mut p = Replay::new(serde_json::from_str(&json).unwrap(), "saved.json").unwrap();
        assert_eq!(p.get("/a").unwrap(), "body of /a");
        assert_eq!(p.get("/bad").unwrap_err().0, "503 Service Unavailable");
        assert_eq!(p.now_unix_ms(), 1000);
        assert!(p.wait_until(0));
        assert!(!p.wait_until(0), "the recording ends: sampling stops");
        assert_eq!(p.get("/a").unwrap(), "body of /a");
        assert!(p.get("/a").unwrap_err().0.contains("no saved answer to GET /a"));
    }

    #[test]
    fn query_encoding() {
        assert_eq!(encode("sum(rate(x{a=\"b\"}[5m]))"), "sum%28rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29%29");
    }
}
