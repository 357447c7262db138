//! `rwsim serve` and `rwsim target` as a user (or a Prometheus) meets them: real HTTP on
//! 127.0.0.1, a free port picked by the kernel, and the files written at SIGTERM.

use crate::temp_dir;
use live::proto::{self, Label, Sample, TimeSeries, WriteRequest};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `rwsim` subcommand, killed when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
    /// Kept open so that the process can still write to its stderr.
    stderr: BufReader<std::process::ChildStderr>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Sends SIGTERM and waits for a clean exit; returns the output directory and what the
    /// process wrote on stderr after its first line.
    fn terminate(mut self) -> (PathBuf, String) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success();
        assert!(ok, "kill -TERM {pid}");
        let status = self.child.wait().expect("waits");
        assert!(status.success(), "exit status {status}");
        let mut log = String::new();
        let _ = self.stderr.read_to_string(&mut log);
        (self.dir.clone(), log)
    }

    /// Peak resident memory of the process so far (Linux's VmHWM), in bytes.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("Linux /proc");
        let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).expect("VmHWM");
        kb.trim().trim_end_matches("kB").trim().parse::<u64>().expect("a number of kB") * 1024
    }
}

fn start(args: &[&str], dir: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rwsim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rwsim starts");
    let mut line = String::new();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    stderr.read_line(&mut line).expect("a first line");
    // "rwsim serve: listening on 127.0.0.1:PORT: ..."
    let addr = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split(": ").next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Running { child, addr, dir: dir.to_path_buf(), stderr }
}

/// `rwsim serve` on a scenario whose `[receiver]` (and `remote_timeout`) is `receiver`.
fn serve(name: &str, receiver: &str, extra: &[&str]) -> Running {
    let dir = temp_dir(&format!("serve-{name}"));
    let file = dir.join("scenario.toml");
    std::fs::write(&file, format!("duration = \"1h\"\n[workload]\nseries = 1000\n{receiver}")).unwrap();
    let out = dir.join("out");
    let mut args = vec!["serve", file.to_str().unwrap(), "--listen", "127.0.0.1:0", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    start(&args, &out)
}

struct Response {
    /// None: the connection closed without an answer.
    status: Option<u16>,
    headers: String,
    body: String,
}

/// The headers Prometheus sends with a push (remote-write 1.0).
const RW1: &str =
    "Content-Encoding: snappy\r\nContent-Type: application/x-protobuf\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n";

/// One HTTP/1.1 request on a fresh connection, with remote-write 1.0's headers.
fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Response {
    http_with(addr, method, path, RW1, body)
}

/// One HTTP/1.1 request on a fresh connection with these header lines (each ending in CRLF).
fn http_with(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &[u8]) -> Response {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers.split(' ').nth(1).and_then(|c| c.parse().ok());
    Response { status, headers: headers.to_string(), body: body.to_string() }
}

fn push(addr: SocketAddr, req: &WriteRequest) -> Response {
    http(addr, "POST", "/api/v1/push", &proto::encode(req))
}

const T0: i64 = 1_700_000_000_000;

fn request(series: u32, samples: u32) -> WriteRequest {
    WriteRequest {
        timeseries: (0..series)
            .map(|i| TimeSeries {
                labels: vec![
                    Label { name: "__name__".into(), value: "rwsim_test".into() },
                    Label { name: "id".into(), value: i.to_string() },
                ],
                samples: (0..samples).map(|k| Sample { value: 1.0, timestamp: T0 + i64::from(k) * 1000 }).collect(),
            })
            .collect(),
    }
}

/// The value of an unlabelled line of a /metrics page.
fn metric(page: &str, name: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in\n{page}"))
}

const HEALTHY: &str = "[receiver]\nlatency = \"1ms\"\n";

#[test]
fn a_push_is_stored_and_a_repeat_counted_as_duplicates() {
    let s = serve("push", HEALTHY, &[]);
    assert_eq!(push(s.addr, &request(3, 2)).status, Some(200));
    assert_eq!(push(s.addr, &request(3, 2)).status, Some(200), "a retry of the same batch");
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 12.0);
    assert_eq!(metric(&page, "rwsim_serve_samples_duplicate_total"), 6.0);
    assert_eq!(metric(&page, "rwsim_serve_samples_unique_total"), 6.0);
    assert_eq!(metric(&page, "rwsim_serve_highest_timestamp_seconds"), (T0 + 1000) as f64 / 1000.0);
    assert!(page.contains("rwsim_serve_requests_total{code=\"200\"} 2"), "{page}");
}

#[test]
fn malformed_bodies_get_400_with_a_reason_and_oversized_413() {
    let s = serve("malformed", HEALTHY, &["--max-body-bytes", "2000"]);
    let r = http(s.addr, "POST", "/api/v1/push", b"this is not snappy");
    assert_eq!(r.status, Some(400));
    assert!(r.body.starts_with("rwsim serve: snappy: ") && !r.body.contains("snappy: snappy:"), "{}", r.body);
    let not_protobuf = snap::raw::Encoder::new().compress_vec(&[0x0f, 0xff, 0xff]).unwrap();
    let r = http(s.addr, "POST", "/api/v1/push", &not_protobuf);
    assert_eq!(r.status, Some(400));
    assert!(r.body.starts_with("rwsim serve: protobuf: "), "{}", r.body);
    let big = proto::encode(&request(200, 20));
    assert!(big.len() > 2000);
    assert_eq!(http(s.addr, "POST", "/api/v1/push", &big).status, Some(413));
    // Still serving, and nothing was stored.
    assert_eq!(push(s.addr, &request(1, 1)).status, Some(200));
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 1.0);
    assert!(page.contains("rwsim_serve_bad_requests_total{reason=\"malformed\"} 2"), "{page}");
    assert!(page.contains("rwsim_serve_bad_requests_total{reason=\"too_large\"} 1"), "{page}");
    assert_eq!(http(s.addr, "GET", "/api/v1/push", b"").status, Some(405));
    assert_eq!(http(s.addr, "GET", "/nope", b"").status, Some(404));
}

#[test]
fn a_fault_window_answers_its_status_with_retry_after() {
    let rx = "[receiver]\nlatency = \"1ms\"\n[[receiver.fault]]\nstart = \"0s\"\nend = \"1h\"\nstatus = 503\nretry_after = \"7s\"\n";
    let s = serve("fault", rx, &[]);
    let r = push(s.addr, &request(2, 2));
    assert_eq!(r.status, Some(503));
    assert!(r.headers.to_ascii_lowercase().contains("retry-after: 7"), "{}", r.headers);
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 0.0);
    assert_eq!(metric(&page, "rwsim_serve_samples_rejected_total"), 4.0);
    assert!(page.contains("rwsim_serve_requests_total{code=\"503\"} 1"));
}

#[test]
fn refused_and_hanging_requests_get_no_answer() {
    let refused = "[receiver]\n[[receiver.fault]]\nstart = \"0s\"\nend = \"1h\"\nstatus = \"refused\"\n";
    let s = serve("refused", refused, &[]);
    let r = push(s.addr, &request(1, 1));
    assert_eq!(r.status, None, "closed without an answer: {:?}", r.headers);
    // A hang lasts the client's remote_timeout (1s here) plus a second, then the connection closes.
    let hang = "[remote_write]\nremote_timeout = \"1s\"\n[receiver]\n[[receiver.fault]]\nstart = \"0s\"\nend = \"1h\"\nstatus = \"timeout\"\n";
    let s = serve("hang", hang, &[]);
    assert_eq!(push(s.addr, &request(1, 1)).status, None);
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert!(page.contains("rwsim_serve_requests_total{code=\"hang\"} 1"), "{page}");
}

#[test]
fn a_client_that_stalls_mid_body_gets_408_and_others_are_still_served() {
    let s = serve("stall", HEALTHY, &["--body-read-timeout-seconds", "1"]);
    let mut slow = TcpStream::connect(s.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // Announces 1000 bytes, sends 10, then stalls.
    let head = "POST /api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789";
    slow.write_all(head.as_bytes()).unwrap();
    assert_eq!(push(s.addr, &request(1, 1)).status, Some(200), "served while another client stalls");
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert!(page.contains("rwsim_serve_bad_requests_total{reason=\"read_timeout\"} 1"), "{page}");
}

/// An `oom` incident: the crash closes the connections of requests in flight, and while the
/// receiver is down (CrashLoopBackOff 10 s + restart 30 s) every request is refused.
#[test]
fn a_receiver_crash_closes_requests_in_flight() {
    let rx = "[receiver]\nlatency = \"20s\"\n[[receiver.incident]]\nkind = \"oom\"\ncrash_at = \"2s\"\n";
    let s = serve("crash", rx, &[]);
    // Sent at once, answered (if ever) after 20 s: the crash at 2 s comes first. A slow
    // machine that sends it after 2 s finds the receiver down instead; no answer either way.
    assert_eq!(push(s.addr, &request(2, 1)).status, None);
    assert_eq!(push(s.addr, &request(2, 1)).status, None, "down: refused");
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert_eq!(metric(&page, "rwsim_serve_model_up"), 0.0, "{page}");
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 0.0);
    let count = |code: &str| {
        let line = format!("rwsim_serve_requests_total{{code=\"{code}\"}} ");
        page.lines().find_map(|l| l.strip_prefix(&line)).and_then(|v| v.parse::<u64>().ok()).unwrap()
    };
    assert_eq!(count("reset") + count("refused"), 2, "{page}");
}

#[test]
fn hundreds_of_concurrent_pushes_are_all_served() {
    let s = serve("concurrent", "[receiver]\nlatency = \"300ms\"\n", &[]);
    let addr = s.addr;
    let threads: Vec<_> = (0..200)
        .map(|i| {
            std::thread::spawn(move || {
                let mut req = request(5, 1);
                req.timeseries[0].labels[1].value = format!("thread-{i}");
                push(addr, &req).status
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Some(200));
    }
    let page = http(addr, "GET", "/metrics", b"").body;
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 1000.0);
    // Series 1..4 are the same in every request: only 200 + 4 distinct samples.
    assert_eq!(metric(&page, "rwsim_serve_samples_unique_total"), 204.0);
}

#[test]
fn sigterm_writes_the_csv_files() {
    let s = serve("csv", HEALTHY, &[]);
    assert_eq!(push(s.addr, &request(4, 3)).status, Some(200));
    assert_eq!(push(s.addr, &request(4, 3)).status, Some(200));
    let (dir, log) = s.terminate();
    let (csv_path, ts_path) = (dir.join("serve.csv"), dir.join("serve_timestamps.csv"));
    // Where it writes is said at start, and both files are named at the end.
    let said = |p: &Path| log.matches(p.to_str().unwrap()).count();
    assert_eq!((said(&csv_path), said(&ts_path)), (2, 2), "{log}");
    let csv = std::fs::read_to_string(dir.join("serve.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..3], ["t_seconds", "requests", "requests_2xx"]);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<u64>> = lines.map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    let sum = |name: &str| rows.iter().map(|r| r[col(name)]).sum::<u64>();
    assert_eq!(sum("requests_2xx"), 2);
    assert_eq!(sum("samples_accepted"), 24);
    assert_eq!(sum("samples_duplicate"), 12);
    let by_ts = std::fs::read_to_string(dir.join("serve_timestamps.csv")).unwrap();
    assert_eq!(
        by_ts.lines().collect::<Vec<_>>(),
        ["timestamp_seconds,samples_unique", "1700000000,4", "1700000001,4", "1700000002,4"]
    );
}

#[test]
fn target_serves_a_fixed_set_of_series() {
    let dir = temp_dir("target");
    let t = start(&["target", "--series", "10", "--targets", "2", "--listen", "127.0.0.1:0"], &dir);
    let series = |page: &str| page.lines().filter(|l| !l.starts_with('#')).count();
    let a = http(t.addr, "GET", "/metrics/0", b"");
    assert_eq!(a.status, Some(200));
    assert_eq!(series(&a.body), 5);
    assert_eq!(series(&http(t.addr, "GET", "/metrics", b"").body), 10);
    assert_eq!(http(t.addr, "GET", "/metrics/2", b"").status, Some(404));
    let log = http(t.addr, "GET", "/scrapes.csv", b"").body;
    assert_eq!(log.lines().count(), 1 + 2, "a header and two scrapes: {log}");
    assert!(log.lines().nth(1).unwrap().starts_with("0,"));
}

#[test]
fn target_values_flag_chooses_the_pattern() {
    let dir = temp_dir("target-values");
    let t =
        start(&["target", "--series", "28", "--values", "histogram", "--seed", "7", "--listen", "127.0.0.1:0"], &dir);
    let page = http(t.addr, "GET", "/metrics", b"").body;
    assert!(page.contains("# TYPE http_request_duration_seconds histogram"), "{page}");
    assert_eq!(page.lines().filter(|l| l.contains("_bucket{")).count(), 24, "two histograms of 12 buckets");
    assert_eq!(page.lines().filter(|l| l.contains("le=\"+Inf\"")).count(), 2);
    drop(t);
    let out = Command::new(env!("CARGO_BIN_EXE_rwsim"))
        .args(["target", "--series", "10", "--values", "sawtooth", "--listen", "127.0.0.1:0"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sawtooth") && err.contains("mix"), "names the bad value and the choices: {err}");
}

#[test]
fn serve_reports_its_own_answer_time_by_status_class() {
    // 300 ms per request; a 429 window answering at once.
    let rx = "[receiver]\nlatency = \"300ms\"\n[[receiver.fault]]\nstart = \"0s\"\nend = \"1h\"\nprobability = 0.5\nstatus = 429\nlatency = \"0s\"\n";
    let s = serve("answer-time", rx, &[]);
    let mut codes = Vec::new();
    for _ in 0..12 {
        codes.push(push(s.addr, &request(2, 1)).status.unwrap());
    }
    let page = http(s.addr, "GET", "/metrics", b"").body;
    let ok = codes.iter().filter(|c| **c == 200).count() as f64;
    let throttled = codes.iter().filter(|c| **c == 429).count() as f64;
    assert!(ok > 0.0 && throttled > 0.0, "{codes:?}");
    assert_eq!(metric(&page, "rwsim_serve_answer_seconds_count{class=\"2xx\"}"), ok);
    assert_eq!(metric(&page, "rwsim_serve_answer_seconds_count{class=\"429\"}"), throttled);
    let mean_ok = metric(&page, "rwsim_serve_answer_seconds_sum{class=\"2xx\"}") / ok;
    let mean_429 = metric(&page, "rwsim_serve_answer_seconds_sum{class=\"429\"}") / throttled;
    assert!(mean_ok >= 0.3, "a 2xx waits the latency: {mean_ok}");
    assert!(mean_429 < 0.3, "a 429 without latency does not: {mean_429}");
}

/// A Snappy block that decodes to `total` bytes: `prefix`, then the 2-byte `unit` over and
/// over, written as one literal and 64-byte copies of 3 bytes each (about 21 times smaller).
fn snappy_repeat(prefix: &[u8], unit: [u8; 2], total: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = total;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    let literal = [prefix, &unit].concat();
    out.push(((literal.len() - 1) << 2) as u8);
    out.extend_from_slice(&literal);
    let mut left = total - literal.len();
    while left > 0 {
        let k = left.min(64);
        out.extend_from_slice(&[(((k - 1) << 2) | 2) as u8, 2, 0]);
        left -= k;
    }
    out
}

/// Issue 15's amplification bodies: 3 MB that decode to 64 MB of empty series, or of empty
/// samples in one series (each once took 1–1.6 GB to decode). Sixteen at once: each is
/// refused with a 413 that says which limit, the process stays under 1 GiB, and the server
/// still serves.
#[test]
fn amplification_bodies_get_413_and_memory_stays_under_1_gib() {
    let s = serve("amplification", HEALTHY, &[]);
    const DECODED: usize = 64_000_000;
    let series = std::sync::Arc::new(snappy_repeat(&[], [0x0a, 0x00], DECODED));
    // One TimeSeries (tag, 4-byte length) holding k empty Samples.
    let k = (DECODED - 5) / 2;
    let len = 2 * k;
    let prefix = [0x0a, (len as u8) | 0x80, ((len >> 7) as u8) | 0x80, ((len >> 14) as u8) | 0x80, (len >> 21) as u8];
    let samples = std::sync::Arc::new(snappy_repeat(&prefix, [0x12, 0x00], 5 + len));
    for body in [&series, &samples] {
        assert!(body.len() < 3_100_000);
        assert!((DECODED - 1..=DECODED).contains(&snap::raw::decompress_len(body).unwrap()));
    }
    let addr = s.addr;
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let body = if i % 2 == 0 { series.clone() } else { samples.clone() };
            std::thread::spawn(move || http(addr, "POST", "/api/v1/push", &body))
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let r = t.join().unwrap();
        let what = if i % 2 == 0 { "series" } else { "samples" };
        assert_eq!(r.status, Some(413), "{}", r.body);
        assert!(r.body.contains(&format!("more than 1000000 {what} in one request")), "{}", r.body);
    }
    let peak = s.peak_rss();
    assert!(peak < 1 << 30, "peak RSS {peak} bytes");
    assert_eq!(push(addr, &request(1, 1)).status, Some(200));
    let page = http(addr, "GET", "/metrics", b"").body;
    assert!(page.contains("rwsim_serve_bad_requests_total{reason=\"too_large\"} 16"), "{page}");
}

/// Issue 15's push starvation: 40 uploads that announce the largest body and stall after 10
/// bytes once held the whole memory budget, and every valid push waited for their 30 s read
/// timeout. Memory is now taken as bytes arrive: a push is answered while all 40 are still
/// being read (none has timed out yet).
#[test]
fn a_push_is_answered_while_forty_slow_uploads_are_in_progress() {
    let s = serve("slow-uploads", HEALTHY, &[]);
    let head = format!("POST /api/v1/push HTTP/1.1\r\nHost: x\r\n{RW1}Content-Length: {}\r\n\r\n0123456789", 8 << 20);
    let slow: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr).unwrap();
            c.write_all(head.as_bytes()).unwrap();
            c
        })
        .collect();
    let in_flight = || metric(&http(s.addr, "GET", "/metrics", b"").body, "rwsim_serve_requests_in_flight");
    for _ in 0..200 {
        if in_flight() >= 40.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(in_flight(), 40.0, "the slow uploads are being read");
    assert_eq!(push(s.addr, &request(1, 1)).status, Some(200));
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert!(page.contains("rwsim_serve_bad_requests_total{reason=\"read_timeout\"} 0"), "{page}");
    assert_eq!(metric(&page, "rwsim_serve_requests_in_flight"), 40.0, "{page}");
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 1.0);
    drop(slow);
}

/// Issue 15: one sample at i64::MAX moved the duplicate window past every real sample for the
/// life of the process. It is stored, but counted as unchecked and ignored by the highest
/// timestamp (more than 10 minutes ahead of the server's clock, Prometheus 3's limit).
#[test]
fn one_sample_far_in_the_future_does_not_switch_duplicate_detection_off() {
    let s = serve("future", HEALTHY, &[]);
    let mut future = request(1, 1);
    future.timeseries[0].samples[0].timestamp = i64::MAX;
    assert_eq!(push(s.addr, &future).status, Some(200));
    assert_eq!(push(s.addr, &request(2, 2)).status, Some(200));
    assert_eq!(push(s.addr, &request(2, 2)).status, Some(200));
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 9.0);
    assert_eq!(metric(&page, "rwsim_serve_samples_duplicate_total"), 4.0, "{page}");
    assert_eq!(metric(&page, "rwsim_serve_samples_unchecked_total"), 1.0);
    assert_eq!(metric(&page, "rwsim_serve_highest_timestamp_seconds"), (T0 / 1000 + 1) as f64);
}

/// Remote-write 1.0's headers are checked: what is not 1.0 gets 415 Unsupported Media Type
/// with the reason; what real 1.0 senders leave out (the version header, even the content
/// type and encoding, which Prometheus's own receiver assumes) is accepted.
#[test]
fn unsupported_media_types_get_415_and_real_senders_are_accepted() {
    let s = serve("headers", HEALTHY, &[]);
    let body = proto::encode(&request(1, 1));
    let refused = [
        ("Content-Encoding: gzip\r\nContent-Type: application/x-protobuf\r\n", "Content-Encoding \"gzip\""),
        ("Content-Encoding: snappy\r\nContent-Type: application/json\r\n", "Content-Type \"application/json\""),
        (
            "Content-Encoding: snappy\r\nContent-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request\r\n\
             X-Prometheus-Remote-Write-Version: 2.0.0\r\n",
            "remote-write 2.0",
        ),
        ("Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 2.0.0\r\n", "2.0.0 (remote-write 2.0)"),
    ];
    for (headers, reason) in refused {
        let r = http_with(s.addr, "POST", "/api/v1/push", headers, &body);
        assert_eq!(r.status, Some(415), "{headers:?}: {}", r.body);
        assert!(r.body.contains(reason) && r.body.contains("remote-write 1.0 only"), "{}", r.body);
    }
    let accepted = [
        "",
        "Content-Encoding: snappy\r\nContent-Type: application/x-protobuf\r\n",
        "Content-Encoding: Snappy\r\nContent-Type: application/x-protobuf; proto=prometheus.WriteRequest\r\n\
         X-Prometheus-Remote-Write-Version: 0.1.0\r\n",
    ];
    for headers in accepted {
        let r = http_with(s.addr, "POST", "/api/v1/push", headers, &body);
        assert_eq!(r.status, Some(200), "{headers:?}: {}", r.body);
    }
    let page = http(s.addr, "GET", "/metrics", b"").body;
    assert!(page.contains("rwsim_serve_bad_requests_total{reason=\"unsupported_media_type\"} 4"), "{page}");
    assert!(page.contains("rwsim_serve_requests_total{code=\"415\"} 4"), "{page}");
    assert_eq!(metric(&page, "rwsim_serve_samples_accepted_total"), 3.0);
}

/// Issue 15's flags that panicked or hung (and the target's silent ones): each is refused at
/// once, naming the flag and the accepted range.
#[test]
fn absurd_flags_are_refused_naming_the_flag_and_its_range() {
    let dir = temp_dir("serve-flags");
    let file = dir.join("scenario.toml");
    std::fs::write(&file, "duration = \"1h\"\n[workload]\nseries = 1000\n").unwrap();
    let serve = |flag: &str, value: &str| {
        let out = dir.join("out");
        let args =
            ["serve", file.to_str().unwrap(), "--listen", "127.0.0.1:0", "--out", out.to_str().unwrap(), flag, value];
        (flag.to_string(), args.map(String::from).to_vec())
    };
    let target =
        |args: &[&str]| (args[args.len() - 2].to_string(), args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    let cases = [
        serve("--max-connections", "2305843009213693952"),
        serve("--header-read-timeout-seconds", "18446744073709551615"),
        serve("--body-read-timeout-seconds", "0"),
        serve("--max-body-bytes", "1000000000000"),
        serve("--max-samples-per-request", "0"),
        serve("--dedup-window-seconds", "0"),
        target(&["target", "--listen", "127.0.0.1:0", "--series", "0"]),
        target(&["target", "--listen", "127.0.0.1:0", "--series", "3", "--targets", "5"]),
        target(&["target", "--listen", "127.0.0.1:0", "--series", "3", "--targets", "0"]),
    ];
    for (flag, args) in cases {
        let out = crate::rwsim().args(&args).timeout(Duration::from_secs(60)).output().expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted: {err}");
        assert!(err.contains(&format!("{flag} ")) && err.contains("out of range: accepted "), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("listening"), "{args:?}: {err}");
    }
}
