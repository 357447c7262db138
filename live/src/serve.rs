//! `rwsim serve`: a real remote-write 1.0 receiver whose answers come from the model.
//!
//! Every push is read (with a size limit and a read timeout), decoded, and handed to
//! [`sim_core::receiver::Receiver::handle`] as a [`Request`] at the wall-clock time since the
//! server started. The model's [`Reply`](sim_core::receiver::Reply) is then carried out for real:
//!
//! | model answer | what the client gets |
//! |---|---|
//! | `Status(s)` `after` the request arrived | status `s` after `after` (with `Retry-After` in whole seconds, rounded up); the samples the model stores are stored then |
//! | `Hang` | nothing: the connection stays open until the client's `remote_timeout` (plus 1 s), then it is closed |
//! | `Refused` | the connection is closed at once without an answer. A real refusal happens at connect time, which one listener cannot do per request; the client sees the same kind of transport error (EOF/reset), which Prometheus retries like a refusal |
//! | `Reset` | the connection is closed without an answer |
//!
//! A receiver crash (`oom` incident) resets the requests the model had in flight: their
//! connections are closed. Scheduled crashes (`crash_at`) are driven by a 100 ms timer.
//!
//! The server never trusts its input: a `Content-Type` or `Content-Encoding` other than
//! remote-write 1.0's gets 415 (see [`check_headers`]), a body over `max_body_bytes`, a
//! decoded body over `max_decoded_bytes` or a request with more than
//! `max_samples_per_request` series or samples gets 413, a body that is not Snappy +
//! protobuf gets 400 with a one-line reason, a body slower than `body_read_timeout` gets 408,
//! headers slower than `header_read_timeout` close the connection.
//!
//! Memory is bounded by the connection cap (and hyper's per-connection buffer), the
//! [`BookLimits`], and `memory_budget_bytes`, split into three pools that a request takes in
//! order and never in reverse, so that no request waits for memory that only a request
//! behind it could free:
//! 1. *reading* (¼): the bytes of bodies, reserved as they arrive, not from the declared
//!    `Content-Length` (slow uploads hold only what they sent);
//! 2. *decoding* (½): the decompressed body, reserved from the Snappy header before
//!    decompressing; nothing else is built from it but the sample keys ([`proto::Decoder`]);
//! 3. *waiting* (¼): the sample keys (16 bytes each) held until the answer.

use crate::LiveError;
use crate::books::{BookLimits, Books, Outcome, Totals};
use crate::http::{Abort, Reply as HttpReply, accept_loop, text};
use crate::proto;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request as HttpRequest};
use sim_core::config::ReceiverConfig;
use sim_core::fault::Request;
use sim_core::receiver::{Answer, Receiver};
use sim_core::time::{SimDuration, SimTime};
use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// Paths that accept remote-write pushes.
pub const PUSH_PATHS: [&str; 3] = ["/api/v1/push", "/api/v1/write", "/api/v1/receive"];

/// Limits that protect the server from its clients.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    /// Largest accepted (compressed) body; larger gets 413. Default 8 MiB (a batch of 2000
    /// samples is about 50 KiB).
    pub max_body_bytes: u64,
    /// Largest decoded body (the Snappy header is checked before decompressing); larger gets
    /// 413. Default 64 MiB.
    pub max_decoded_bytes: u64,
    /// Most series, and most samples, in one request; more gets 413. Default 1,000,000 (500
    /// times Prometheus's default `max_samples_per_send`).
    pub max_samples_per_request: u64,
    /// Open connections at once; more wait in the accept backlog. Each HTTP/1.1 connection
    /// carries one request at a time, so this also caps concurrent requests. Default 1024.
    pub max_connections: usize,
    /// Bytes of request bodies being read (¼), decompressed bodies (½) and sample keys of
    /// requests waiting for their answer (¼) held at once; requests beyond a pool wait.
    /// Default 256 MiB.
    pub memory_budget_bytes: u64,
    /// Time for a client to send its request headers. Default 10 s.
    pub header_read_timeout: Duration,
    /// Time for a client to send its whole body; slower gets 408. Default 30 s.
    pub body_read_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_body_bytes: 8 << 20,
            max_decoded_bytes: 64 << 20,
            max_samples_per_request: 1_000_000,
            max_connections: 1024,
            memory_budget_bytes: 256 << 20,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// A limit out of its range: the flag that sets it, the accepted range, and why.
fn out_of_range(flag: &str, value: u64, lo: u64, hi: u64, hint: &str) -> Result<(), LiveError> {
    if (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(LiveError::Usage(format!("{flag} {value} is out of range: accepted {lo} to {hi} ({hint})")))
}

impl ServeOptions {
    /// Refuses limits the server cannot honour, naming the flag, the accepted range and a
    /// hint: a connection cap over the semaphore's 2^61 permits panics, a header timeout whose
    /// deadline overflows the clock panics in every connection, a body limit over the reading
    /// pool could never be read.
    pub fn check(&self) -> Result<(), LiveError> {
        let l = &self.limits;
        let budget = l.memory_budget_bytes;
        out_of_range("memory_budget_bytes", budget, 16 << 20, 1 << 40, "the three pools need 4 MiB each at least")?;
        out_of_range(
            "--max-body-bytes",
            l.max_body_bytes,
            1024,
            budget / 8,
            "bodies are read into the quarter of the memory budget that holds bodies, so at least two must fit; \
             Prometheus sends about 50 KiB for 2000 samples",
        )?;
        out_of_range(
            "max_decoded_bytes",
            l.max_decoded_bytes,
            1024,
            budget / 2,
            "at most the decoding pool, ½ of the budget",
        )?;
        out_of_range(
            "--max-samples-per-request",
            l.max_samples_per_request,
            1,
            budget / 4 / 16,
            "the keys of one request, 16 bytes a sample, must fit the quarter of the memory budget that holds them; \
             Prometheus sends 2000 by default (max_samples_per_send)",
        )?;
        out_of_range(
            "--max-connections",
            l.max_connections as u64,
            1,
            65_536,
            "each connection is a file descriptor: see `ulimit -n`",
        )?;
        let hour = "a whole number of seconds, at most an hour; Prometheus waits remote_timeout (30 s by default) for a request";
        out_of_range("--header-read-timeout-seconds", l.header_read_timeout.as_secs(), 1, 3600, hour)?;
        out_of_range("--body-read-timeout-seconds", l.body_read_timeout.as_secs(), 1, 3600, hour)?;
        out_of_range(
            "--dedup-window-seconds",
            self.books.dedup_window.as_secs(),
            1,
            7 * 86_400,
            "at most 7 days; duplicates come from retries, seconds to minutes after the first try",
        )
    }
}

/// The model the server plays: a scenario's `[receiver]`.
#[derive(Clone, Debug)]
pub struct ModelSettings {
    /// The scenario's receiver.
    pub receiver: ReceiverConfig,
    /// The scenario's seed (fault probabilities and latency draws).
    pub seed: u64,
    /// The scenario's duration (incidents without an end last this long).
    pub run: SimDuration,
    /// The sender's `remote_timeout`: how long a client waits, for the model's decisions and
    /// for how long a hang lasts.
    pub client_timeout: SimDuration,
}

/// Everything `rwsim serve` needs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Protection limits.
    pub limits: ServerLimits,
    /// Bounds of the books.
    pub books: BookLimits,
    /// Where `serve.csv` and `serve_timestamps.csv` are written at shutdown (created at start).
    pub out_dir: Option<PathBuf>,
}

/// `serve_timestamps.csv`: unique stored samples per second of sample timestamp.
#[derive(serde::Serialize)]
struct TimestampRow {
    timestamp_seconds: i64,
    samples_unique: u64,
}

struct ModelState {
    rx: Receiver,
    /// Requests the model may still reset (a crash), by batch id.
    cancels: HashMap<u64, oneshot::Sender<()>>,
}

impl ModelState {
    /// Applies resets and prints notes after the model changed.
    fn drain_news(&mut self) {
        if !self.rx.has_news() {
            return;
        }
        let (resets, notes) = self.rx.take_news();
        for r in resets {
            if let Some(tx) = self.cancels.remove(&r.batch) {
                let _ = tx.send(());
            }
        }
        for n in notes {
            log!("rwsim serve: +{}: {}", n.at, n.message);
        }
    }
}

struct State {
    started: Instant,
    limits: ServerLimits,
    client_timeout: SimDuration,
    model: Mutex<ModelState>,
    books: Mutex<Books>,
    next_batch: AtomicU64,
    in_flight: AtomicU64,
    /// The memory pools, in the order a request takes them (see the module doc).
    reading: Pool,
    decoding: Pool,
    waiting: Pool,
    /// Nanoseconds from arrival to answer, and answers, per [`AnswerClass`]: the receiver's
    /// own service time, which a client's request time includes.
    answer_ns: [AtomicU64; 4],
    answers: [AtomicU64; 4],
}

/// A memory pool in permits of 1 KiB. Tokio's semaphore is fair (first come, first served), so
/// a large reservation is not starved by small ones.
struct Pool {
    sem: Arc<Semaphore>,
    kib: u64,
}

impl Pool {
    fn new(bytes: u64) -> Self {
        let kib = (bytes / 1024).max(1);
        Pool { sem: Arc::new(Semaphore::new(kib as usize)), kib }
    }

    /// Whole KiB for `bytes`, at least 1 and at most the pool (a request as large as the pool
    /// waits for all of it instead of forever).
    fn kib(&self, bytes: u64) -> u32 {
        bytes.div_ceil(1024).clamp(1, self.kib).min(u64::from(u32::MAX)) as u32
    }

    async fn take(&self, bytes: u64) -> OwnedSemaphorePermit {
        self.sem.clone().acquire_many_owned(self.kib(bytes)).await.expect("the semaphore is never closed")
    }

    /// Grows `held` to cover `bytes`.
    async fn grow(&self, held: &mut Option<OwnedSemaphorePermit>, bytes: u64) {
        let have = held.as_ref().map_or(0, |p| p.num_permits() as u32);
        let want = self.kib(bytes);
        if want > have {
            let more = self.sem.clone().acquire_many_owned(want - have).await.expect("never closed");
            match held {
                Some(p) => p.merge(more),
                None => *held = Some(more),
            }
        }
    }
}

/// Status classes of [`State::answer_ns`].
const ANSWER_CLASSES: [&str; 4] = ["2xx", "429", "4xx", "5xx"];

fn answer_class(code: u16) -> usize {
    match code {
        200..=299 => 0,
        429 => 1,
        400..=499 => 2,
        _ => 3,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock is a bug; the books stay usable for the final CSV.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    fn since(&self) -> Duration {
        self.started.elapsed()
    }

    fn now(&self) -> SimTime {
        SimTime(self.since().as_nanos().min(u128::from(u64::MAX)) as u64)
    }

    fn answer(&self, outcome: Outcome, samples: u64, stored: u64) {
        let since = self.since();
        lock(&self.books).answer(since, outcome, samples, stored);
    }

    fn metrics(&self) -> String {
        let now = self.now();
        let snap = lock(&self.model).rx.snapshot(now);
        let gauges = [
            ("rwsim_serve_uptime_seconds", "Seconds since the server started (the scenario clock).", now.as_secs_f64()),
            (
                "rwsim_serve_requests_in_flight",
                "Push requests being read, decided or waited on.",
                self.in_flight.load(Ordering::Relaxed) as f64,
            ),
            (
                "rwsim_serve_model_up",
                "Model receiver process: 2 serving, 1 replaying its WAL, 0 down.",
                f64::from(snap.up),
            ),
            (
                "rwsim_serve_model_memory_bytes",
                "Model receiver memory (memory_base + in-flight samples).",
                snap.memory_bytes as f64,
            ),
        ];
        let mut o = lock(&self.books).render_metrics(&gauges);
        o.push_str(
            "# HELP rwsim_serve_answer_seconds Time from a push's arrival (its headers read) to its answer, by status class.\n\
             # TYPE rwsim_serve_answer_seconds summary\n",
        );
        for (i, class) in ANSWER_CLASSES.iter().enumerate() {
            let secs = self.answer_ns[i].load(Ordering::Relaxed) as f64 / 1e9;
            let n = self.answers[i].load(Ordering::Relaxed);
            o.push_str(&format!(
                "rwsim_serve_answer_seconds_sum{{class=\"{class}\"}} {secs}\nrwsim_serve_answer_seconds_count{{class=\"{class}\"}} {n}\n"
            ));
        }
        o
    }
}

/// Counts a push in flight for as long as it lives.
struct InFlight<'a>(&'a AtomicU64);
impl<'a> InFlight<'a> {
    fn new(c: &'a AtomicU64) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        InFlight(c)
    }
}
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn route(state: Arc<State>, req: HttpRequest<Incoming>) -> HttpReply {
    let path = req.uri().path();
    if PUSH_PATHS.contains(&path) {
        if req.method() != Method::POST {
            return Ok(text(405, "rwsim serve: remote write needs POST\n"));
        }
        return push(state, req).await;
    }
    match (req.method(), path) {
        (&Method::GET, "/metrics") => {
            let mut r = text(200, state.metrics());
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            Ok(r)
        }
        (&Method::GET, "/stats/timestamps.csv") => Ok(text(200, timestamps_csv(&lock(&state.books)))),
        (&Method::GET, "/") => Ok(text(
            200,
            "rwsim serve: POST remote-write 1.0 (snappy + protobuf) to /api/v1/push; metrics at /metrics\n",
        )),
        _ => Ok(text(404, "rwsim serve: not found\n")),
    }
}

/// Checks the headers of a push against remote-write 1.0 (Prometheus's
/// `storage/remote/write_handler.go`, `writeHandler.ServeHTTP` in 3.x): `Content-Type:
/// application/x-protobuf` (a `proto=` parameter, if any, must name `prometheus.WriteRequest`)
/// and `Content-Encoding: snappy`, else 415 Unsupported Media Type, which is what a 2.0 sender
/// or one trying zstd (vmagent) needs to hear to fall back. Lenient where real senders are, as
/// Prometheus's own receiver is: a missing `Content-Type` means 1.0, a missing
/// `Content-Encoding` means snappy, and `X-Prometheus-Remote-Write-Version` may be missing or
/// any `0.x`; only a `2.x` version (a 2.0 sender) is refused.
pub fn check_headers(headers: &hyper::HeaderMap) -> Result<(), String> {
    let get = |name: &str| headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_ascii_lowercase());
    const V2: &str = "io.prometheus.write.v2.request";
    let only_v1 = "rwsim serve receives remote-write 1.0 only (Content-Type: application/x-protobuf, \
                   Content-Encoding: snappy); in Prometheus, set the remote_write's protobuf_message to \
                   prometheus.WriteRequest";
    if let Some(ct) = get("content-type") {
        let mut parts = ct.split(';');
        let media = parts.next().unwrap_or("").trim();
        if media != "application/x-protobuf" {
            return Err(format!("Content-Type {ct:?} is not supported: {only_v1}"));
        }
        for p in parts {
            if let Some((k, v)) = p.split_once('=')
                && k.trim() == "proto"
            {
                let v = v.trim().trim_matches('"');
                if v == V2 {
                    return Err(format!("remote-write 2.0 ({v}) is not supported: {only_v1}"));
                }
                if v != "prometheus.writerequest" {
                    return Err(format!("Content-Type {ct:?} names an unknown message: {only_v1}"));
                }
            }
        }
    }
    if let Some(enc) = get("content-encoding")
        && enc != "snappy"
    {
        return Err(format!("Content-Encoding {enc:?} is not supported: {only_v1}"));
    }
    if let Some(v) = get("x-prometheus-remote-write-version")
        && v.starts_with('2')
    {
        return Err(format!("X-Prometheus-Remote-Write-Version {v} (remote-write 2.0) is not supported: {only_v1}"));
    }
    Ok(())
}

/// Decoded bodies up to this size are decoded on the runtime thread (well under a
/// millisecond; a Prometheus batch of 2000 samples decodes to a few hundred KiB); larger
/// ones on tokio's blocking pool, so that a 64 MiB body does not stall the connections the
/// two runtime threads serve.
const INLINE_DECODE_BYTES: u64 = 1 << 20;

/// Runs `f` on the blocking pool if `big`, else here.
async fn off_runtime<T: Send + 'static>(
    big: bool,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    if big { tokio::task::spawn_blocking(f).await } else { Ok(f()) }
}

/// Why a body was not read.
enum ReadError {
    TooLarge,
    /// The client went away mid-body: nobody to answer.
    Closed,
}

/// Reads a body into memory taken from the reading pool as the bytes arrive (never from the
/// declared length: a client that announces 8 MiB and stalls holds only what it sent).
async fn read_body(
    pool: &Pool,
    mut body: Incoming,
    declared: Option<u64>,
    max: u64,
    held: &mut Option<OwnedSemaphorePermit>,
) -> Result<Vec<u8>, ReadError> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| ReadError::Closed)?.into_data() else { continue };
        let want = (buf.len() + data.len()) as u64;
        if want > max {
            return Err(ReadError::TooLarge);
        }
        if want > buf.capacity() as u64 {
            // Grow by doubling, but never past the declared length (the usual case: one
            // allocation of exactly the body), and take the memory before allocating it.
            let cap = want.max(2 * buf.capacity() as u64).min(declared.unwrap_or(u64::MAX).max(want)).min(max);
            pool.grow(held, cap).await;
            buf.reserve_exact(cap as usize - buf.len());
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf)
}

async fn push(state: Arc<State>, req: HttpRequest<Incoming>) -> HttpReply {
    // The model's latency counts from the request's arrival: reading and decoding the body
    // are part of it, not added to it.
    let arrived = tokio::time::Instant::now();
    let _in_flight = InFlight::new(&state.in_flight);
    let lim = state.limits;
    if let Err(why) = check_headers(req.headers()) {
        state.answer(Outcome::Unsupported, 0, 0);
        return Ok(close(text(415, format!("rwsim serve: {why}\n"))));
    }
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || close(text(413, format!("rwsim serve: body over the limit of {} bytes\n", lim.max_body_bytes)));
    if declared.is_some_and(|n| n > lim.max_body_bytes) {
        state.answer(Outcome::TooLarge, 0, 0);
        return Ok(too_large());
    }
    let mut body_permit = None;
    let read = read_body(&state.reading, req.into_body(), declared, lim.max_body_bytes, &mut body_permit);
    let body = match tokio::time::timeout(lim.body_read_timeout, read).await {
        Err(_) => {
            state.answer(Outcome::ReadTimeout, 0, 0);
            return Ok(close(text(408, "rwsim serve: body not received within the read timeout\n")));
        }
        Ok(Err(ReadError::TooLarge)) => {
            state.answer(Outcome::TooLarge, 0, 0);
            return Ok(too_large());
        }
        Ok(Err(ReadError::Closed)) => return Err(Abort("client closed the connection while sending")),
        Ok(Ok(b)) => b,
    };
    let bytes = body.len() as u64;
    let refuse = |e: proto::DecodeError| {
        let outcome = if e.status() == 413 { Outcome::TooLarge } else { Outcome::Malformed };
        state.answer(outcome, 0, 0);
        Ok(text(e.status(), format!("rwsim serve: {e}\n")))
    };
    let len = match proto::decoded_len(&body, lim.max_decoded_bytes) {
        Ok(len) => len,
        Err(e) => return refuse(e),
    };
    // Each pool is taken while holding the one before it, never the reverse (see the module
    // doc).
    let decode_permit = state.decoding.take(len).await;
    let decoder = proto::Decoder { max_series: lim.max_samples_per_request, max_samples: lim.max_samples_per_request };
    let big = len > INLINE_DECODE_BYTES;
    let checked = off_runtime(big, move || decoder.check(proto::decompress(&body, len)?)).await;
    drop(body_permit);
    let decoded = match checked {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return refuse(e),
        Err(_) => return Ok(text(500, "rwsim serve: the decoder failed\n")),
    };
    let keys_permit = state.waiting.take(decoded.count * 16).await;
    let keys = match off_runtime(big, move || decoded.keys()).await {
        Ok(k) => k,
        Err(_) => return Ok(text(500, "rwsim serve: the decoder failed\n")),
    };
    drop(decode_permit);
    let samples = keys.len() as u64;
    let batch = state.next_batch.fetch_add(1, Ordering::Relaxed);
    let (reply, cancelled) = {
        let mut m = lock(&state.model);
        let now = state.now();
        let r = Request { batch, attempt: 0, samples, bytes, client_timeout: state.client_timeout };
        let reply = m.rx.handle(&r, now);
        let cancelled = if let Answer::Status(_) = reply.answer {
            let (tx, rx) = oneshot::channel();
            m.cancels.insert(batch, tx);
            Some(rx)
        } else {
            m.rx.batch_done(batch);
            None
        };
        m.drain_news();
        (reply, cancelled)
    };
    match (reply.answer, cancelled) {
        (Answer::Status(code), Some(cancelled)) => {
            // The worker runs on its own task so that the model's storage happens even if the
            // client stops waiting (a timeout), as it does in a real receiver.
            let (done_tx, done_rx) = oneshot::channel();
            let st = state.clone();
            tokio::spawn(async move {
                let _keys_permit = keys_permit;
                let until = arrived + Duration::from_nanos(reply.after.nanos());
                let reset = tokio::select! {
                    _ = tokio::time::sleep_until(until) => false,
                    _ = cancelled => true,
                };
                let stored = if reset { 0 } else { reply.stored.min(samples) };
                {
                    let since = st.since();
                    let mut b = lock(&st.books);
                    if stored > 0 {
                        b.store(since, &keys[..stored as usize]);
                    }
                    b.answer(since, if reset { Outcome::Reset } else { Outcome::Status(code) }, samples, stored);
                }
                {
                    let mut m = lock(&st.model);
                    m.cancels.remove(&batch);
                    m.rx.batch_done(batch);
                }
                let _ = done_tx.send(!reset);
            });
            match done_rx.await {
                Ok(true) => {
                    let c = answer_class(code);
                    state.answer_ns[c].fetch_add(arrived.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    state.answers[c].fetch_add(1, Ordering::Relaxed);
                    Ok(status_reply(code, reply.retry_after))
                }
                _ => Err(Abort("the receiver crashed")),
            }
        }
        (Answer::Hang, _) => {
            drop(keys_permit);
            let until = arrived + Duration::from_nanos(state.client_timeout.nanos()) + Duration::from_secs(1);
            tokio::time::sleep_until(until).await;
            state.answer(Outcome::Hang, samples, 0);
            Err(Abort("hang"))
        }
        (Answer::Refused, _) => {
            state.answer(Outcome::Refused, samples, 0);
            Err(Abort("refused"))
        }
        (Answer::Reset, _) | (Answer::Status(_), None) => {
            state.answer(Outcome::Reset, samples, 0);
            Err(Abort("reset"))
        }
    }
}

fn close(mut r: hyper::Response<http_body_util::Full<Bytes>>) -> hyper::Response<http_body_util::Full<Bytes>> {
    r.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
    r
}

fn status_reply(code: u16, retry_after: Option<SimDuration>) -> hyper::Response<http_body_util::Full<Bytes>> {
    let body = if (200..300).contains(&code) { String::new() } else { format!("rwsim serve: injected {code}\n") };
    let mut r = text(code, body);
    if let Some(ra) = retry_after {
        let secs = ra.nanos().div_ceil(1_000_000_000);
        r.headers_mut().insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from(secs));
    }
    r
}

fn timestamps_csv(b: &Books) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for (timestamp_seconds, samples_unique) in b.by_timestamp() {
        let _ = w.serialize(TimestampRow { timestamp_seconds, samples_unique });
    }
    if b.by_timestamp().next().is_none() {
        let _ = w.write_record(["timestamp_seconds", "samples_unique"]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The wall clock in ms since the Unix epoch (the books' reference for "ahead of now").
fn unix_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    since.as_millis().min(i64::MAX as u128) as i64
}

/// What a run of the server received, returned at shutdown.
#[derive(Clone, Debug)]
pub struct ServeReport {
    /// The totals.
    pub totals: Totals,
    /// How long it ran.
    pub uptime: Duration,
}

/// Runs the receiver until `shutdown` completes; `on_ready` gets the bound address.
/// Writes `serve.csv` and `serve_timestamps.csv` into `out_dir` at the end.
pub fn run(
    opts: ServeOptions,
    model: ModelSettings,
    shutdown: impl Future<Output = ()>,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<ServeReport, LiveError> {
    opts.check()?;
    // Open every output before serving, so a bad path fails at once.
    let files = match &opts.out_dir {
        None => None,
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| LiveError::Io(dir.display().to_string(), e))?;
            let open = |name: &str| {
                let p = dir.join(name);
                File::create(&p).map(|f| (p.clone(), f)).map_err(|e| LiveError::Io(p.display().to_string(), e))
            };
            Some((open("serve.csv")?, open("serve_timestamps.csv")?))
        }
    };
    let rt = crate::runtime()?;
    let state = rt.block_on(async {
        let listener =
            TcpListener::bind(opts.listen).await.map_err(|e| LiveError::Io(format!("--listen {}", opts.listen), e))?;
        let addr = listener.local_addr().map_err(|e| LiveError::Io("local address".into(), e))?;
        let state = Arc::new(State {
            started: Instant::now(),
            limits: opts.limits,
            client_timeout: model.client_timeout,
            model: Mutex::new(ModelState {
                rx: Receiver::new(&model.receiver, model.seed, model.run),
                cancels: HashMap::new(),
            }),
            books: Mutex::new(Books::new(opts.books, unix_ms())),
            next_batch: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            reading: Pool::new(opts.limits.memory_budget_bytes / 4),
            decoding: Pool::new(opts.limits.memory_budget_bytes / 2),
            waiting: Pool::new(opts.limits.memory_budget_bytes / 4),
            answer_ns: Default::default(),
            answers: Default::default(),
        });
        on_ready(addr);
        let ticker = {
            let st = state.clone();
            tokio::spawn(async move {
                let mut iv = tokio::time::interval(Duration::from_millis(100));
                loop {
                    iv.tick().await;
                    let now = st.now();
                    let mut m = lock(&st.model);
                    if m.rx.next_event_at().is_some_and(|t| t <= now) {
                        m.rx.on_time(now);
                    }
                    m.drain_news();
                }
            })
        };
        let st = state.clone();
        accept_loop(listener, opts.limits.max_connections, opts.limits.header_read_timeout, shutdown, move |req| {
            route(st.clone(), req)
        })
        .await;
        ticker.abort();
        Ok::<_, LiveError>(state)
    })?;
    let uptime = state.since();
    let mut books = lock(&state.books);
    if let Some(((p1, f1), (p2, mut f2))) = files {
        let mut w = csv::Writer::from_writer(f1);
        for row in books.rows(uptime) {
            w.serialize(row).map_err(|e| LiveError::Io(p1.display().to_string(), e.into()))?;
        }
        w.flush().map_err(|e| LiveError::Io(p1.display().to_string(), e))?;
        f2.write_all(timestamps_csv(&books).as_bytes()).map_err(|e| LiveError::Io(p2.display().to_string(), e))?;
    }
    let report = ServeReport { totals: books.totals().clone(), uptime };
    drop(books);
    // In-flight connections are dropped with the runtime.
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(report)
}
