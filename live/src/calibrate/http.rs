//! [`HttpSource`]: a real Prometheus over HTTP(S), with ureq (rustls) and the credentials
//! users need: a bearer token file, basic auth, custom headers, a CA file, a client
//! certificate.

use super::{CalibrateError, Result, Source, fail};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

/// How to reach the server.
#[derive(Clone, Debug, Default)]
pub struct HttpOptions {
    /// Base URL, e.g. `https://prometheus.example:9090/prom`.
    pub base_url: String,
    /// `Authorization` header value (`Bearer …` or `Basic …`), if any.
    pub authorization: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// PEM of the CAs to trust instead of the bundled roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM of a client certificate chain and its key, for mutual TLS.
    pub client_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// Skip certificate verification.
    pub insecure_skip_verify: bool,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// A Prometheus reached over HTTP(S).
pub struct HttpSource {
    agent: ureq::Agent,
    opts: HttpOptions,
    interrupted: Arc<AtomicBool>,
}

/// Largest answer read (a big /metrics page or configuration).
const MAX_BODY: u64 = 256 << 20;

impl HttpSource {
    /// A client for `opts`; `interrupted` is set by the caller's Ctrl-C handler and ends
    /// sampling early.
    pub fn new(opts: HttpOptions, interrupted: Arc<AtomicBool>) -> Result<Self> {
        if !(opts.base_url.starts_with("http://") || opts.base_url.starts_with("https://")) {
            return fail(format!("--prometheus {}: expected a URL starting with http:// or https://", opts.base_url));
        }
        let mut tls = TlsConfig::builder().disable_verification(opts.insecure_skip_verify);
        if let Some(pem) = &opts.ca_pem {
            let certs = certificates(pem).map_err(|e| CalibrateError(format!("--ca-file: {e}")))?;
            if certs.is_empty() {
                return fail("--ca-file: no PEM certificate in the file");
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        if let Some((cert, key)) = &opts.client_pem {
            let chain = certificates(cert).map_err(|e| CalibrateError(format!("--cert-file: {e}")))?;
            let key = PrivateKey::from_pem(key).map_err(|e| CalibrateError(format!("--key-file: {e}")))?;
            tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key.to_owned())));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .tls_config(tls.build())
            .build()
            .into();
        Ok(HttpSource { agent, opts, interrupted })
    }
}

/// A flag set at the first Ctrl-C (SIGINT) or SIGTERM, for ending sampling early; a second
/// one exits (status 130).
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            rt.block_on(async {
                crate::http::termination().await;
                f.store(true, Ordering::Relaxed);
                crate::log!("rwsim calibrate: interrupted: calibrating from what was sampled (again to quit)");
                crate::http::termination().await;
                std::process::exit(130);
            });
        }
    });
    flag
}

fn certificates(pem: &[u8]) -> std::result::Result<Vec<Certificate<'static>>, ureq::Error> {
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        if let PemItem::Certificate(c) = item? {
            out.push(c.to_owned());
        }
    }
    Ok(out)
}

impl Source for HttpSource {
    fn get(&mut self, path: &str) -> Result<String> {
        let url = format!("{}{path}", self.opts.base_url.trim_end_matches('/'));
        let mut req = self.agent.get(&url);
        if let Some(a) = &self.opts.authorization {
            req = req.header("Authorization", a);
        }
        for (k, v) in &self.opts.headers {
            req = req.header(k, v);
        }
        let mut resp = req.call().map_err(|e| {
            let m = e.to_string();
            let hint = if m.contains("certificate") {
                " (--ca-file with the CA that signs the server's certificate; --insecure-skip-verify to test)"
            } else {
                ""
            };
            CalibrateError(format!("GET {url}: {m}{hint}"))
        })?;
        let status = resp.status();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| CalibrateError(format!("GET {url}: reading the answer: {e}")))?;
        if !status.is_success() {
            let hint = match status.as_u16() {
                401 | 403 => " (check --bearer-token-file, --basic-auth-user or --header)",
                404 => " (is the URL the Prometheus base URL, with its route prefix?)",
                _ => "",
            };
            let first = body.lines().next().unwrap_or("").chars().take(200).collect::<String>();
            // The API explains its own errors (a bad query) in JSON: pass it on.
            if body.trim_start().starts_with('{') && path.starts_with("/api/") {
                return Ok(body);
            }
            return fail(format!("GET {url}: HTTP {status}{hint}: {first}"));
        }
        Ok(body)
    }

    fn now_unix_ms(&mut self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    fn wait_until(&mut self, unix_ms: u64) -> bool {
        loop {
            if self.interrupted.load(Ordering::Relaxed) {
                return false;
            }
            let now = self.now_unix_ms();
            if now >= unix_ms {
                return true;
            }
            std::thread::sleep(Duration::from_millis((unix_ms - now).min(200)));
        }
    }

    fn describe(&self) -> String {
        self.opts.base_url.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on 127.0.0.1 that answers 200 only with the right bearer token and tenant
    /// header, for the duration of `f`.
    fn with_server(f: impl FnOnce(String)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = rt.spawn(crate::http::accept_loop(
            listener,
            4,
            Duration::from_secs(5),
            async move {
                let _ = stopped.await;
            },
            |req: hyper::Request<hyper::body::Incoming>| async move {
                let h = |k: &str| req.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                Ok(match req.uri().path() {
                    _ if h("authorization") != "Bearer s3cret" || h("x-scope-orgid") != "tenant-1" => {
                        crate::http::text(401, "unauthorized")
                    }
                    "/prom/api/v1/status/buildinfo" => crate::http::text(200, "{\"status\":\"success\"}"),
                    _ => crate::http::text(404, "404 page not found"),
                })
            },
        ));
        f(format!("http://{addr}/prom"));
        let _ = stop.send(());
        let _ = rt.block_on(server);
    }

    #[test]
    fn credentials_and_headers_are_sent_and_refusals_explained() {
        with_server(|base| {
            let opts = |token: &str| HttpOptions {
                base_url: base.clone(),
                authorization: Some(format!("Bearer {token}")),
                headers: vec![("X-Scope-OrgID".into(), "tenant-1".into())],
                timeout: Duration::from_secs(5),
                ..Default::default()
            };
            let mut ok = HttpSource::new(opts("s3cret"), Arc::default()).unwrap();
            assert_eq!(ok.get("/api/v1/status/buildinfo").unwrap(), "{\"status\":\"success\"}");
            let e = ok.get("/metrics").unwrap_err().0;
            assert!(e.contains("HTTP 404") && e.contains("with its route prefix?"), "{e}");
            let mut bad = HttpSource::new(opts("wrong"), Arc::default()).unwrap();
            let e = bad.get("/api/v1/status/buildinfo").unwrap_err().0;
            assert!(e.contains("HTTP 401") && e.contains("check --bearer-token-file"), "{e}");
        });
    }

    #[test]
    fn urls_and_pem_are_checked() {
        let bad = HttpOptions { base_url: "localhost:9090".into(), ..Default::default() };
        let e = HttpSource::new(bad, Arc::default()).err().unwrap();
        assert!(e.0.contains("expected a URL starting with http://"), "{e}");
        let no_ca = HttpOptions {
            base_url: "https://x".into(),
            ca_pem: Some(b"not a pem".to_vec()),
            timeout: Duration::from_secs(1),
            ..Default::default()
        };
        assert_eq!(
            HttpSource::new(no_ca, Arc::default()).err().unwrap().0,
            "--ca-file: no PEM certificate in the file"
        );
    }
}
