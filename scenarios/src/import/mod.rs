//! # Import: a real Prometheus configuration → scenario files
//!
//! Reads the three forms users deploy Prometheus with, and writes one scenario per
//! `remote_write` entry, every value with its provenance ([`Draft`], [`Provenance`]):
//!
//! - a `prometheus.yml` (`global`, `remote_write`, `scrape_configs`; also the YAML of
//!   `/api/v1/status/config`, which has every default filled in);
//! - a Prometheus Operator `Prometheus` (or `PrometheusAgent`) resource:
//!   `spec.remoteWrite[].queueConfig`, camelCase, with the Operator's defaults;
//! - kube-prometheus-stack Helm values: `prometheus.prometheusSpec.remoteWrite`.
//!
//! Command-line flags ([`Flags`]) supply the TSDB and flush settings. What a configuration
//! cannot tell — the series count, the receiver's latency, the bytes per sample — is either
//! an explicit, loudly marked assumption or rwsim's documented default; `rwsim calibrate`
//! measures them from the running server. Keys that Prometheus has but rwsim does not model
//! (`write_relabel_configs`, `metadata_config`, `protobuf_message`, ...) become [`Note`]s,
//! never silently dropped.
//!
//! ```
//! use scenarios::import::{import, ImportOptions};
//! let yml = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [\"a:9100\", \"b:9100\"]\nremote_write:\n  - url: https://mimir.example/api/v1/push\n    name: mimir\n    queue_config:\n      max_shards: 30\n      batch_send_deadline: 1m30s\n";
//! let imported = import(yml, "prometheus.yml", &ImportOptions::default()).unwrap();
//! let d = &imported.drafts[0];
//! assert_eq!(d.queue.max_shards.value, 30);
//! assert_eq!(d.queue.max_shards.from.to_string(), "prometheus.yml:11:19 remote_write[0].queue_config.max_shards");
//! assert_eq!(d.targets.value, 2);
//! assert!(d.series.from.is_assumed(), "a configuration does not say how many series there are");
//! let scenario = d.load("mimir.toml").unwrap();
//! assert_eq!(scenario.config.remote_write.queue.batch_send_deadline.to_string(), "1m30s");
//! ```

mod draft;
mod flags;
pub mod yaml;

pub use draft::{Draft, LatencyDraft, Note, Provenance, QueueDraft, Val, format_number};
pub use flags::Flags;

use crate::error::{ErrorKind, ScenarioError};
use crate::units;
use sim_core::config::{DEFAULT_WAL_BYTES_PER_SAMPLE, DEFAULT_WIRE_BYTES_PER_SAMPLE, QueueConfig};
use sim_core::profile::Profile;
use sim_core::time::SimDuration;
use yaml::{Node, Value};

/// Errors of import are scenario errors: `ORIGIN:LINE:COLUMN: KEY: MESSAGE`, the key being
/// the path in the input file.
pub type ImportError = ScenarioError;

impl ScenarioError {
    pub(crate) fn at(origin: &str, line: usize, column: usize, key: &str, message: impl Into<String>) -> Self {
        ScenarioError {
            origin: origin.to_string(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
            kind: if key.is_empty() { ErrorKind::Syntax } else { ErrorKind::Schema },
        }
    }
}

/// Series per target assumed when nothing says how many there are: about what one
/// node_exporter exposes.
pub const ASSUMED_SERIES_PER_TARGET: u64 = 1000;
/// Receiver latency assumed when nothing was measured (rwsim's default).
pub const ASSUMED_LATENCY: SimDuration = SimDuration::from_millis(20);

/// What the command line adds to the file.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Prometheus's flags, if known.
    pub flags: Option<Flags>,
    /// The Prometheus version (`2.42.0`, `v2.45.0`, `3.5.0`) and where it came from; else
    /// the file's (Operator `spec.version`, Helm image tag), else 3.x with a warning.
    pub version: Option<(String, Provenance)>,
    /// `--series`: the scraped series, if the user knows them.
    pub series: Option<u64>,
    /// `--targets`: the scrape targets, if the user knows them.
    pub targets: Option<u32>,
    /// `--duration`: the length of the run (default: 6h, or 3 block ranges if longer).
    pub duration: Option<SimDuration>,
}

/// A scrape job of the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// `job_name`.
    pub name: String,
    /// Its `scrape_interval` (or the global one).
    pub interval: Val<SimDuration>,
    /// Targets listed in `static_configs`.
    pub static_targets: u32,
    /// Service-discovery mechanisms (`kubernetes_sd_configs`, ...) whose targets are only
    /// known at run time.
    pub discovery: Vec<String>,
}

/// What an import found.
#[derive(Clone, Debug)]
pub struct Imported {
    /// What the file is: "a prometheus.yml", "a Prometheus Operator `Prometheus` resource", ...
    pub form: String,
    /// One draft per `remote_write` entry, in file order.
    pub drafts: Vec<Draft>,
    /// The scrape jobs found (empty for Operator resources, whose jobs come from monitors).
    pub jobs: Vec<Job>,
    /// `global.scrape_interval` (or the Operator's `scrapeInterval`), with its default.
    pub global_interval: Val<SimDuration>,
}

impl Imported {
    /// The drafts to write: all, or the one whose `name`, URL or index (`0`, `1`, ...) is
    /// `remote`.
    pub fn select(&self, remote: Option<&str>) -> Result<Vec<&Draft>, String> {
        let Some(want) = remote else { return Ok(self.drafts.iter().collect()) };
        let found: Vec<&Draft> = self
            .drafts
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                i.to_string() == want
                    || d.remote_name.as_ref().is_some_and(|n| n.value == want)
                    || d.url.as_ref().is_some_and(|u| u.value == want)
                    || d.name == want
            })
            .map(|(_, d)| d)
            .collect();
        if found.is_empty() {
            let known: Vec<String> = self
                .drafts
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    format!(
                        "{i}: {}{}",
                        d.remote_name.as_ref().map_or("(no name)".to_string(), |n| format!("name {:?}", n.value)),
                        d.url.as_ref().map_or(String::new(), |u| format!(", url {}", u.value))
                    )
                })
                .collect();
            return Err(format!("no remote_write entry matches {want:?}; the entries are: {}", known.join("; ")));
        }
        Ok(found)
    }
}

/// The key spellings of one input form.
struct Keys {
    remote_write: &'static str,
    url: &'static str,
    name: &'static str,
    remote_timeout: &'static str,
    queue_config: &'static str,
    /// queue_config keys: capacity, max_shards, min_shards, max_samples_per_send,
    /// batch_send_deadline, min_backoff, max_backoff, retry_on_http_429, sample_age_limit.
    queue: [&'static str; 9],
    /// Keys of a remote_write entry that rwsim does not model, with what they mean for the
    /// forecast and whether that can change it.
    unmodelled: &'static [(&'static str, bool, &'static str)],
}

const WRITE_RELABEL: &str = "drops or rewrites series before they are queued; the model queues every \
    appended sample, so it overstates this queue's load by the share dropped (calibrate measures it)";
const METADATA: &str = "metric metadata is sent by its own loop (every 1m by default), outside the \
    shards; not modelled (its requests do count in sent_batch_duration_seconds)";
const EXEMPLARS: &str = "exemplars travel in the same requests; the model counts float samples only";
const HISTOGRAMS: &str = "native histograms travel in the same requests; the model counts float samples only";
const PROTO: &str = "the model is remote-write 1.0 (prometheus.WriteRequest); 2.0 changes the wire \
    bytes per sample (calibrate measures them) and sends metadata with the samples";
const HTTP2: &str = "over HTTPS with HTTP/2 on (the 2.x default) all shards share one connection; the \
    model gives each shard its own request slot";
const AUTH_TIME: &str = "request signing or token fetching adds time to requests: part of the latency \
    calibrate measures, not modelled on its own";
const NO_EFFECT: &str = "no effect on the model";

const PROM_KEYS: Keys = Keys {
    remote_write: "remote_write",
    url: "url",
    name: "name",
    remote_timeout: "remote_timeout",
    queue_config: "queue_config",
    queue: crate::raw::QUEUE_CONFIG_KEYS,
    unmodelled: &[
        ("write_relabel_configs", true, WRITE_RELABEL),
        ("metadata_config", false, METADATA),
        ("send_exemplars", true, EXEMPLARS),
        ("send_native_histograms", true, HISTOGRAMS),
        ("protobuf_message", true, PROTO),
        ("enable_http2", true, HTTP2),
        ("sigv4", false, AUTH_TIME),
        ("azuread", false, AUTH_TIME),
        ("google_iam", false, AUTH_TIME),
        ("oauth2", false, AUTH_TIME),
        ("headers", false, NO_EFFECT),
        ("http_headers", false, NO_EFFECT),
        ("basic_auth", false, NO_EFFECT),
        ("authorization", false, NO_EFFECT),
        ("bearer_token", false, NO_EFFECT),
        ("bearer_token_file", false, NO_EFFECT),
        ("tls_config", false, NO_EFFECT),
        ("proxy_url", false, NO_EFFECT),
        ("no_proxy", false, NO_EFFECT),
        ("proxy_from_environment", false, NO_EFFECT),
        ("proxy_connect_header", false, NO_EFFECT),
        ("follow_redirects", false, NO_EFFECT),
        ("round_robin_dns", false, NO_EFFECT),
    ],
};

const OPERATOR_KEYS: Keys = Keys {
    remote_write: "remoteWrite",
    url: "url",
    name: "name",
    remote_timeout: "remoteTimeout",
    queue_config: "queueConfig",
    queue: [
        "capacity",
        "maxShards",
        "minShards",
        "maxSamplesPerSend",
        "batchSendDeadline",
        "minBackoff",
        "maxBackoff",
        "retryOnRateLimit",
        "sampleAgeLimit",
    ],
    unmodelled: &[
        ("writeRelabelConfigs", true, WRITE_RELABEL),
        ("metadataConfig", false, METADATA),
        ("sendExemplars", true, EXEMPLARS),
        ("sendNativeHistograms", true, HISTOGRAMS),
        ("messageVersion", true, PROTO),
        ("enableHTTP2", true, HTTP2),
        ("sigv4", false, AUTH_TIME),
        ("azureAd", false, AUTH_TIME),
        ("oauth2", false, AUTH_TIME),
        ("headers", false, NO_EFFECT),
        ("basicAuth", false, NO_EFFECT),
        ("authorization", false, NO_EFFECT),
        ("bearerToken", false, NO_EFFECT),
        ("bearerTokenFile", false, NO_EFFECT),
        ("tlsConfig", false, NO_EFFECT),
        ("proxyUrl", false, NO_EFFECT),
        ("noProxy", false, NO_EFFECT),
        ("proxyFromEnvironment", false, NO_EFFECT),
        ("proxyConnectHeader", false, NO_EFFECT),
        ("followRedirects", false, NO_EFFECT),
        ("roundRobinDNS", false, NO_EFFECT),
    ],
};

/// Reading context: the input's origin and helpers that locate errors.
struct Reader<'a> {
    origin: &'a str,
}

impl Reader<'_> {
    fn err(&self, n: &Node, path: &str, message: impl Into<String>) -> ImportError {
        ImportError::at(self.origin, n.line, n.column, path, message)
    }

    fn from(&self, n: &Node, path: &str) -> Provenance {
        Provenance::File { origin: self.origin.to_string(), line: n.line, column: n.column, path: path.to_string() }
    }

    fn string(&self, n: &Node, path: &str) -> Result<Val<String>, ImportError> {
        match &n.value {
            Value::Str(s) => Ok(Val::new(s.clone(), self.from(n, path))),
            _ => Err(self.err(n, path, format!("expected a string, found {}", n.kind()))),
        }
    }

    fn duration(&self, n: &Node, path: &str) -> Result<Val<SimDuration>, ImportError> {
        let text = match &n.value {
            Value::Str(s) => s.clone(),
            Value::Int(0) => "0".to_string(),
            _ => {
                return Err(self.err(
                    n,
                    path,
                    format!("expected a duration such as \"30s\" or \"1m30s\", found {}", n.kind()),
                ));
            }
        };
        parse_prometheus_duration(&text).map(|d| Val::new(d, self.from(n, path))).map_err(|e| self.err(n, path, e))
    }

    fn uint(&self, n: &Node, path: &str) -> Result<Val<u32>, ImportError> {
        match &n.value {
            Value::Int(i) => u32::try_from(*i)
                .map(|v| Val::new(v, self.from(n, path)))
                .map_err(|_| self.err(n, path, format!("expected an integer from 0 to {}, found {i}", u32::MAX))),
            _ => Err(self.err(n, path, format!("expected an integer, found {}", n.kind()))),
        }
    }

    fn boolean(&self, n: &Node, path: &str) -> Result<Val<bool>, ImportError> {
        let b = match &n.value {
            Value::Bool(b) => Some(*b),
            // YAML 1.1 spellings, which Prometheus's YAML parser accepts for booleans.
            Value::Str(s) => match s.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "True" | "TRUE" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        };
        b.map(|b| Val::new(b, self.from(n, path)))
            .ok_or_else(|| self.err(n, path, format!("expected true or false, found {}", n.kind())))
    }

    fn mapping<'n>(&self, n: &'n Node, path: &str) -> Result<&'n Node, ImportError> {
        if n.is_map() { Ok(n) } else { Err(self.err(n, path, format!("expected a mapping, found {}", n.kind()))) }
    }

    fn list<'n>(&self, n: &'n Node, path: &str) -> Result<&'n [Node], ImportError> {
        match &n.value {
            Value::Seq(s) => Ok(s),
            _ => Err(self.err(n, path, format!("expected a list, found {}", n.kind()))),
        }
    }
}

/// Parses a Prometheus duration (`model.ParseDuration`): the scenario syntax plus the units
/// `y` (365d) and `w` (7d), e.g. `1w2d`, `1m30s`, `0`.
///
/// ```
/// use scenarios::import::parse_prometheus_duration;
/// assert_eq!(parse_prometheus_duration("1m30s").unwrap().to_string(), "1m30s");
/// assert_eq!(parse_prometheus_duration("1w").unwrap().to_string(), "168h");
/// assert!(parse_prometheus_duration("1.5m").is_err());
/// ```
pub fn parse_prometheus_duration(s: &str) -> Result<SimDuration, String> {
    const DAY: u64 = 86_400_000_000_000;
    let mut rest = s;
    let mut total: u64 = 0;
    for (unit, mult) in [("y", 365 * DAY), ("w", 7 * DAY)] {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(unit) && !rest[digits..].starts_with("ms") {
            let n: u64 = rest[..digits].parse().map_err(|_| format!("invalid duration {s:?}: too long"))?;
            total = n
                .checked_mul(mult)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| format!("invalid duration {s:?}: too long"))?;
            rest = &rest[digits + unit.len()..];
        }
    }
    if rest.is_empty() && rest.len() < s.len() {
        return Ok(SimDuration::from_nanos(total));
    }
    let tail = units::parse_duration(rest).map_err(|e| {
        let m = e.to_string();
        if rest.len() < s.len() { m.replace(&format!("{rest:?}"), &format!("{s:?}")) } else { m }
    })?;
    Ok(SimDuration::from_nanos(total.saturating_add(tail.nanos())))
}

/// The profile for a Prometheus version, and what differs between that version and the
/// model of the profile (`docs/model.md` §13).
///
/// ```
/// use scenarios::import::profile_for_version;
/// use sim_core::profile::Profile;
/// assert_eq!(profile_for_version("2.42.0+ds").unwrap().0, Profile::V2_42);
/// let (p, diffs) = profile_for_version("v2.47.2").unwrap();
/// assert_eq!(p, Profile::V3);
/// assert!(diffs.iter().any(|d| d.contains("v2.48.0")), "{diffs:?}");
/// assert!(profile_for_version("latest").is_err());
/// ```
pub fn profile_for_version(version: &str) -> Result<(Profile, Vec<String>), String> {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(|| bad_version(version))?;
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(|| bad_version(version))?;
    let mut diffs = Vec::new();
    if major < 2 || (major == 2 && minor < 44) {
        if (major, minor) < (2, 42) {
            diffs.push(format!(
                "v{major}.{minor} is older than the modelled v2.42; differences before v2.42 are not checked"
            ));
        }
        return Ok((Profile::V2_42, diffs));
    }
    // Changes after v2.44 that the 3.x model has and an older server lacks.
    const LATER: [((u32, u32), &str); 5] = [
        ((2, 45), "v2.45.0: the WAL watcher reads on write notifications instead of every 10ms"),
        ((2, 48), "v2.48.0: Retry-After is honoured on 5xx too"),
        ((2, 50), "v2.50.0: sample_age_limit exists"),
        ((2, 51), "v2.51.0: resharding pauses after a recoverable error"),
        ((2, 55), "v2.55.0: the reshard gate is 10s since the last send, not 2 × batch_send_deadline"),
    ];
    for (at, what) in LATER {
        if (major, minor) < at {
            diffs.push(format!("your v{major}.{minor} predates {what}; the 3.x model has it"));
        }
    }
    if (major, minor) > (3, 14) {
        diffs.push(format!("v{major}.{minor} is newer than the modelled v3.14; later changes are not modelled"));
    }
    Ok((Profile::V3, diffs))
}

fn bad_version(v: &str) -> String {
    format!("cannot read a Prometheus version from {v:?}: expected e.g. 2.42.0, v2.45.0 or 3.5.0")
}

/// Reads a configuration in any of the three forms and makes one draft per `remote_write`
/// entry.
pub fn import(text: &str, origin: &str, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let docs = yaml::parse(text, origin)?;
    let r = Reader { origin };
    let mut resources = Vec::new();
    for doc in &docs {
        collect_resources(doc, &mut resources);
    }
    if !resources.is_empty() {
        return import_operator(&r, &resources, "resource", opts);
    }
    let Some(doc) = docs.first() else {
        return Err(ImportError::at(
            origin,
            1,
            1,
            "",
            "the file is empty: expected a prometheus.yml, a Prometheus Operator `Prometheus` resource or kube-prometheus-stack Helm values",
        ));
    };
    if docs.len() > 1 {
        return Err(ImportError::at(
            origin,
            docs[1].line,
            docs[1].column,
            "",
            "several YAML documents, none of them a Prometheus Operator resource: a prometheus.yml is one document",
        ));
    }
    r.mapping(doc, "")?;
    if let Some(spec) = doc.get("prometheus").and_then(|p| p.get("prometheusSpec")) {
        return import_operator(&r, &[(spec, "prometheus.prometheusSpec".to_string(), None, false)], "helm", opts);
    }
    import_prometheus_yml(&r, doc, opts)
}

/// Operator resources in a document (`kind: Prometheus`, `PrometheusAgent`, or a `List` of
/// them): the spec, its key path, the resource name, and whether it is an agent.
fn collect_resources<'n>(doc: &'n Node, out: &mut Vec<(&'n Node, String, Option<String>, bool)>) {
    let kind = doc.get("kind").and_then(Node::scalar_text).unwrap_or_default();
    let api = doc.get("apiVersion").and_then(Node::scalar_text).unwrap_or_default();
    if kind == "List" {
        for item in doc.get("items").map(Node::items).unwrap_or_default() {
            collect_resources(item, out);
        }
    } else if api.starts_with("monitoring.coreos.com/")
        && (kind == "Prometheus" || kind == "PrometheusAgent")
        && let Some(spec) = doc.get("spec")
    {
        let name = doc.get("metadata").and_then(|m| m.get("name")).and_then(Node::scalar_text);
        out.push((spec, "spec".to_string(), name, kind == "PrometheusAgent"));
    }
}

/// What both forms share once read: the global interval, jobs, flags, version, notes.
struct Common {
    form: String,
    global_interval: Val<SimDuration>,
    jobs: Vec<Job>,
    /// Targets whose count is not in the file (service discovery, monitors).
    discovery_jobs: Vec<String>,
    version: Option<(String, Provenance)>,
    flags: Option<Flags>,
    notes: Vec<Note>,
    made_from: String,
}

fn import_prometheus_yml(r: &Reader, doc: &Node, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let mut notes = Vec::new();
    let global = doc.get("global");
    let global_interval = match global.and_then(|g| g.get("scrape_interval")) {
        Some(n) => r.duration(n, "global.scrape_interval")?,
        None => Val::new(
            SimDuration::from_mins(1),
            Provenance::Default("Prometheus global.scrape_interval (config/config.go DefaultGlobalConfig)".into()),
        ),
    };
    if let Some(labels) = global.and_then(|g| g.get("external_labels")) {
        let n = labels.entries().len();
        notes.push(Note {
            matters: false,
            text: format!(
                "global.external_labels ({}:{}): {n} label{} added to every series sent; they lengthen requests \
                 (wire_bytes_per_sample; calibrate measures it)",
                r.origin,
                labels.line,
                if n == 1 { "" } else { "s" }
            ),
        });
    }
    for key in ["rule_files"] {
        if let Some(n) = doc.get(key) {
            notes.push(Note {
                matters: true,
                text: format!(
                    "{key} ({}:{}): recording rules append samples too; they are not in the series count \
                     (calibrate measures the total sample rate)",
                    r.origin, n.line
                ),
            });
        }
    }
    if let Some(n) = doc.get("scrape_config_files") {
        notes.push(Note {
            matters: true,
            text: format!(
                "scrape_config_files ({}:{}): the jobs in those files are not read; pass --targets",
                r.origin, n.line
            ),
        });
    }
    let mut jobs = Vec::new();
    let mut discovery_jobs = Vec::new();
    if let Some(sc) = doc.get("scrape_configs") {
        for (i, job) in r.list(sc, "scrape_configs")?.iter().enumerate() {
            let path = format!("scrape_configs[{i}]");
            r.mapping(job, &path)?;
            let name = match job.get("job_name") {
                Some(n) => r.string(n, &format!("{path}.job_name"))?.value,
                None => return Err(r.err(job, &path, "job_name is missing")),
            };
            let interval = match job.get("scrape_interval") {
                Some(n) => r.duration(n, &format!("{path}.scrape_interval"))?,
                None => global_interval.clone(),
            };
            let mut static_targets = 0u32;
            if let Some(sc) = job.get("static_configs") {
                for (k, group) in r.list(sc, &format!("{path}.static_configs"))?.iter().enumerate() {
                    if let Some(t) = group.get("targets") {
                        let list = r.list(t, &format!("{path}.static_configs[{k}].targets"))?;
                        static_targets = static_targets.saturating_add(list.len() as u32);
                    }
                }
            }
            let discovery: Vec<String> = job
                .entries()
                .iter()
                .filter(|(k, v)| k.ends_with("_sd_configs") && !v.items().is_empty())
                .map(|(k, _)| k.clone())
                .collect();
            if !discovery.is_empty() {
                discovery_jobs.push(format!("{name} ({})", discovery.join(", ")));
            }
            jobs.push(Job { name, interval, static_targets, discovery });
        }
    }
    let common = Common {
        form: "a prometheus.yml".into(),
        global_interval,
        jobs,
        discovery_jobs,
        version: opts.version.clone(),
        flags: opts.flags.clone(),
        notes,
        made_from: r.origin.to_string(),
    };
    let mut entries = Vec::new();
    if let Some(rw) = doc.get("remote_write") {
        for (i, e) in r.list(rw, "remote_write")?.iter().enumerate() {
            entries.push((e, format!("remote_write[{i}]")));
        }
    }
    build(r, common, &entries, &PROM_KEYS, opts, None)
}

fn import_operator(
    r: &Reader,
    specs: &[(&Node, String, Option<String>, bool)],
    what: &str,
    opts: &ImportOptions,
) -> Result<Imported, ImportError> {
    let mut all = Vec::new();
    let mut form = String::new();
    let mut jobs_out = Vec::new();
    let mut global_out = None;
    for (spec, base, name, agent) in specs {
        r.mapping(spec, base)?;
        let mut notes = Vec::new();
        let global_interval = match spec.get("scrapeInterval") {
            Some(n) => r.duration(n, &format!("{base}.scrapeInterval"))?,
            None => Val::new(
                SimDuration::from_secs(30),
                Provenance::Default("Prometheus Operator spec.scrapeInterval (30s)".into()),
            ),
        };
        // Version: spec.version, else the image tag.
        let mut version = opts.version.clone();
        if version.is_none() {
            if let Some(n) = spec.get("version") {
                let v = r.string(n, &format!("{base}.version"))?;
                version = Some((v.value, v.from));
            } else if let Some(img) = spec.get("image") {
                let (node, text, path) = match img.get("tag") {
                    Some(t) => (t, t.scalar_text(), format!("{base}.image.tag")),
                    None => (
                        img,
                        img.scalar_text().and_then(|s| s.rsplit_once(':').map(|(_, t)| t.to_string())),
                        format!("{base}.image"),
                    ),
                };
                if let Some(t) = text.filter(|t| profile_for_version(t).is_ok()) {
                    version = Some((t, r.from(node, &path)));
                }
            }
        }
        // Flags the Operator passes: additionalArgs, the Thanos block size, agent mode.
        let mut flags = opts.flags.clone().unwrap_or_default();
        if flags.source.is_empty() {
            flags.source = format!("{base}.additionalArgs");
        }
        if let Some(args) = spec.get("additionalArgs") {
            for (i, a) in r.list(args, &format!("{base}.additionalArgs"))?.iter().enumerate() {
                let p = format!("{base}.additionalArgs[{i}]");
                let n = a.get("name").map(|n| r.string(n, &format!("{p}.name"))).transpose()?;
                let v = a.get("value").and_then(Node::scalar_text).unwrap_or_else(|| "true".into());
                if let Some(n) = n {
                    flags.values.entry(n.value).or_insert(v);
                }
            }
        }
        if let Some(th) = spec.get("thanos")
            && (th.get("objectStorageConfig").is_some() || th.get("objectStorageConfigFile").is_some())
        {
            let block = th.get("blockSize").and_then(Node::scalar_text).unwrap_or_else(|| "2h".into());
            flags.values.entry("storage.tsdb.min-block-duration".into()).or_insert(block);
            notes.push(Note {
                matters: false,
                text: format!(
                    "{base}.thanos: the Thanos sidecar uploads blocks, so the Operator sets \
                     --storage.tsdb.min-block-duration to spec.thanos.blockSize (2h by default)"
                ),
            });
        }
        if let Some(wc) = spec.get("walCompression") {
            let b = r.boolean(wc, &format!("{base}.walCompression"))?;
            flags.values.entry("storage.tsdb.wal-compression".into()).or_insert(b.value.to_string());
        }
        if *agent {
            flags.values.insert("agent".into(), "true".into());
        }
        for (key, text) in [
            (
                "shards",
                "the Operator splits the targets over this many Prometheus shards, each with its own queue: a \
                 scenario models one shard, so divide the series by it",
            ),
            (
                "replicas",
                "each replica scrapes and sends everything: the receiver gets every sample once per replica \
                 (it deduplicates); a scenario models one replica",
            ),
        ] {
            if let Some(n) = spec.get(key).filter(|n| n.value != Value::Int(1)) {
                notes.push(Note {
                    matters: key == "shards",
                    text: format!(
                        "{base}.{key} = {} ({}:{}): {text}",
                        n.scalar_text().unwrap_or_default(),
                        r.origin,
                        n.line
                    ),
                });
            }
        }
        if let Some(n) = spec.get("externalLabels") {
            notes.push(Note {
                matters: false,
                text: format!(
                    "{base}.externalLabels ({}:{}): added to every series sent; they lengthen requests \
                     (wire_bytes_per_sample; calibrate measures it)",
                    r.origin, n.line
                ),
            });
        }
        // Helm: additionalScrapeConfigs are prometheus.yml scrape jobs.
        let mut jobs = Vec::new();
        if let Some(extra) = spec.get("additionalScrapeConfigs").filter(|n| matches!(n.value, Value::Seq(_))) {
            for (i, job) in extra.items().iter().enumerate() {
                let p = format!("{base}.additionalScrapeConfigs[{i}]");
                let name = job.get("job_name").and_then(Node::scalar_text).unwrap_or_else(|| format!("job{i}"));
                let interval = match job.get("scrape_interval") {
                    Some(n) => r.duration(n, &format!("{p}.scrape_interval"))?,
                    None => global_interval.clone(),
                };
                let static_targets = job
                    .get("static_configs")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .map(|g| g.get("targets").map_or(0, |t| t.items().len() as u32))
                    .sum();
                jobs.push(Job { name, interval, static_targets, discovery: Vec::new() });
            }
        }
        let resource = name.clone().map_or_else(|| "the resource".to_string(), |n| format!("{n:?}"));
        let this_form = if what == "helm" {
            "kube-prometheus-stack Helm values".to_string()
        } else {
            format!(
                "a Prometheus Operator `{}` resource {resource}",
                if *agent { "PrometheusAgent" } else { "Prometheus" }
            )
        };
        if form.is_empty() {
            form = this_form.clone();
        }
        let common = Common {
            form: this_form,
            global_interval: global_interval.clone(),
            jobs: jobs.clone(),
            discovery_jobs: vec!["ServiceMonitors, PodMonitors, Probes and ScrapeConfigs (not in this file)".into()],
            version,
            flags: Some(flags),
            notes,
            made_from: r.origin.to_string(),
        };
        let mut entries = Vec::new();
        if let Some(rw) = spec.get("remoteWrite") {
            for (i, e) in r.list(rw, &format!("{base}.remoteWrite"))?.iter().enumerate() {
                entries.push((e, format!("{base}.remoteWrite[{i}]")));
            }
        }
        let prefix = if specs.len() > 1 { name.clone() } else { None };
        let imported = build(r, common, &entries, &OPERATOR_KEYS, opts, prefix)?;
        all.extend(imported.drafts);
        jobs_out.extend(jobs);
        global_out.get_or_insert(global_interval);
    }
    if all.is_empty() {
        return Err(ImportError::at(
            r.origin,
            1,
            1,
            "",
            format!("{form} without remoteWrite entries: nothing to forecast"),
        ));
    }
    Ok(Imported { form, drafts: all, jobs: jobs_out, global_interval: global_out.expect("at least one spec") })
}

/// A flag's value with its provenance, if set.
fn flag<'f>(flags: &'f Option<Flags>, name: &str) -> Option<(&'f str, Provenance)> {
    let f = flags.as_ref()?;
    f.get(name).map(|v| (v, Provenance::Flag { flag: format!("--{name}={v}"), source: f.source.clone() }))
}

/// Builds the drafts of one configuration.
fn build(
    r: &Reader,
    c: Common,
    entries: &[(&Node, String)],
    keys: &Keys,
    opts: &ImportOptions,
    prefix: Option<String>,
) -> Result<Imported, ImportError> {
    if entries.is_empty() {
        return Err(ImportError::at(
            r.origin,
            1,
            1,
            keys.remote_write,
            format!("{} has no {} entries: nothing to forecast", c.form, keys.remote_write),
        ));
    }
    let mut shared_notes = c.notes.clone();
    // Version and profile.
    let (profile, version_text) = match &c.version {
        Some((v, from)) => {
            let (p, diffs) = profile_for_version(v).map_err(|e| match from {
                Provenance::File { line, column, path, .. } => ImportError::at(r.origin, *line, *column, path, e),
                _ => ImportError::at(r.origin, 0, 0, "", e),
            })?;
            for d in diffs {
                shared_notes.push(Note { matters: true, text: d });
            }
            (Val::new(p, from.clone()), format!("Prometheus {v}"))
        }
        None => {
            shared_notes.push(Note {
                matters: true,
                text: "the Prometheus version is not known: the 3.x model and defaults are used; pass \
                       --prometheus-version (2.42 and 3.x differ in queue_config defaults and behaviour)"
                    .into(),
            });
            (Val::new(Profile::V3, Provenance::Assumed("version unknown, 3.x assumed".into())), "Prometheus 3.x".into())
        }
    };
    let defaults = QueueConfig::defaults(profile.value);
    let default_from = |key: &str| {
        Provenance::Default(format!(
            "Prometheus {} {key} (config/config.go)",
            if profile.value == Profile::V2_42 { "2.42" } else { "3.x" }
        ))
    };
    // Flags.
    let agent = c.flags.as_ref().is_some_and(Flags::agent_mode);
    if agent {
        shared_notes.push(Note {
            matters: true,
            text: "agent mode: the agent truncates its WAL at the oldest sample not yet sent (after \
                   --storage.agent.retention.min-time, 5m), or past --storage.agent.retention.max-time (4h), \
                   not at every head compaction; the model's WAL-truncation loss is that of server mode \
                   and overstates an agent's loss in short outages"
                .into(),
        });
    }
    let min_block_duration = match flag(&c.flags, "storage.tsdb.min-block-duration") {
        Some((v, from)) => Val::new(
            parse_prometheus_duration(v).map_err(|e| ImportError::at(r.origin, 0, 0, "", format!("{from}: {e}")))?,
            from,
        ),
        None => {
            Val::new(SimDuration::from_hours(2), Provenance::Default("--storage.tsdb.min-block-duration (2h)".into()))
        }
    };
    let wal_segment_size = match flag(&c.flags, "storage.tsdb.wal-segment-size") {
        Some((v, from)) => {
            let bytes =
                units::parse_size(v).map_err(|e| ImportError::at(r.origin, 0, 0, "", format!("{from}: {e}")))?;
            if bytes == 0 {
                Val::new(128 << 20, Provenance::Default(format!("{from}: 0 means the default, 128MiB")))
            } else {
                Val::new(bytes, from)
            }
        }
        None => Val::new(128 << 20, Provenance::Default("--storage.tsdb.wal-segment-size (128MiB)".into())),
    };
    let flush_deadline = match flag(&c.flags, "storage.remote.flush-deadline") {
        Some((v, from)) => Val::new(
            parse_prometheus_duration(v).map_err(|e| ImportError::at(r.origin, 0, 0, "", format!("{from}: {e}")))?,
            from,
        ),
        None => Val::new(SimDuration::from_mins(1), Provenance::Default("--storage.remote.flush-deadline (1m)".into())),
    };
    let wal_bytes_per_sample = match flag(&c.flags, "storage.tsdb.wal-compression") {
        Some(("false", from)) => Val::new(
            11.5,
            Provenance::Rwsim(format!(
                "WAL compression is off ({from}): about 11-12 bytes per sample uncompressed; calibrate measures yours"
            )),
        ),
        _ => Val::new(
            DEFAULT_WAL_BYTES_PER_SAMPLE,
            Provenance::Rwsim(
                "10, rwsim's default: 2.42 measured 6.3 (small integers) to 11.4 (random gauges), 9.2 on a realistic mix; calibrate measures yours"
                    .into(),
            ),
        ),
    };
    // The workload: the interval most targets use, the targets, the series.
    let mut by_interval: Vec<(SimDuration, u32, Val<SimDuration>)> = Vec::new();
    for j in &c.jobs {
        let weight = j.static_targets + u32::from(!j.discovery.is_empty());
        match by_interval.iter_mut().find(|(d, _, _)| *d == j.interval.value) {
            Some(e) => e.1 += weight,
            None => by_interval.push((j.interval.value, weight, j.interval.clone())),
        }
    }
    by_interval.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let scrape_interval = by_interval.first().map_or_else(|| c.global_interval.clone(), |e| e.2.clone());
    if by_interval.len() > 1 {
        let others: Vec<String> = by_interval[1..]
            .iter()
            .map(|(d, n, _)| format!("{} ({n} target{})", units::format_duration(*d), if *n == 1 { "" } else { "s" }))
            .collect();
        shared_notes.push(Note {
            matters: true,
            text: format!(
                "jobs scrape at several intervals; the model scrapes every target every {}; also: {}. \
                 Give the series as the equivalent at {} (series × {} ÷ their interval); calibrate does this from \
                 the measured sample rate",
                units::format_duration(scrape_interval.value),
                others.join(", "),
                units::format_duration(scrape_interval.value),
                units::format_duration(scrape_interval.value),
            ),
        });
    }
    let static_targets: u32 = c.jobs.iter().map(|j| j.static_targets).sum();
    let sd_jobs = c.jobs.iter().filter(|j| !j.discovery.is_empty()).count() as u32;
    let targets = match opts.targets {
        Some(t) => Val::new(t, Provenance::CommandLine(format!("--targets {t}"))),
        None if c.discovery_jobs.is_empty() && static_targets > 0 => Val::new(
            static_targets,
            Provenance::File {
                origin: r.origin.to_string(),
                line: 0,
                column: 0,
                path: format!("{static_targets} static targets in scrape_configs"),
            },
        ),
        None => {
            let counted = static_targets + sd_jobs;
            Val::new(
                counted.max(1),
                Provenance::Assumed(format!(
                    "{} static target{}{}; the targets of {} are only known at run time",
                    static_targets,
                    if static_targets == 1 { "" } else { "s" },
                    if sd_jobs > 0 { format!(" + 1 per service-discovery job ({sd_jobs})") } else { String::new() },
                    c.discovery_jobs.join(", ")
                )),
            )
        }
    };
    let series = match opts.series {
        Some(s) => Val::new(s, Provenance::CommandLine(format!("--series {s}"))),
        None => Val::new(
            u64::from(targets.value) * ASSUMED_SERIES_PER_TARGET,
            Provenance::Assumed(format!(
                "required and not in any configuration: {} targets × {ASSUMED_SERIES_PER_TARGET} series per target \
                 (about one node_exporter each)",
                targets.value
            )),
        ),
    };
    let duration = match opts.duration {
        Some(d) => Val::new(d, Provenance::CommandLine(format!("--duration {d}"))),
        None => {
            let three = SimDuration::from_nanos(min_block_duration.value.nanos().saturating_mul(3));
            let d = three.max(SimDuration::from_hours(6));
            Val::new(
                d,
                Provenance::Rwsim(format!(
                    "the run length: 6h or 3 block ranges (3 × min_block_duration), whichever is longer; set the \
                     length you want to forecast ({})",
                    units::format_duration(d)
                )),
            )
        }
    };

    let mut drafts = Vec::new();
    let mut used_names: Vec<String> = Vec::new();
    for (entry, path) in entries {
        r.mapping(entry, path)?;
        let mut notes = shared_notes.clone();
        let url = match entry.get(keys.url) {
            Some(n) => Some(r.string(n, &format!("{path}.{}", keys.url))?),
            None => return Err(r.err(entry, path, format!("{} is missing (Prometheus requires it)", keys.url))),
        };
        let remote_name = entry.get(keys.name).map(|n| r.string(n, &format!("{path}.{}", keys.name))).transpose()?;
        let remote_timeout = match entry.get(keys.remote_timeout) {
            Some(n) => r.duration(n, &format!("{path}.{}", keys.remote_timeout))?,
            None => Val::new(SimDuration::from_secs(30), default_from("remote_timeout")),
        };
        // Every key of the entry is either read, or noted as not modelled, or an error.
        for (k, v) in entry.entries() {
            if [keys.url, keys.name, keys.remote_timeout, keys.queue_config].contains(&k.as_str()) {
                continue;
            }
            let at = format!("{path}.{k} ({}:{})", r.origin, v.line);
            match keys.unmodelled.iter().find(|(name, _, _)| name == k) {
                Some((_, matters, what)) => {
                    let off = matches!(v.value, Value::Bool(false) | Value::Null)
                        || (k == "metadata_config" || k == "metadataConfig")
                            && v.get("send").is_some_and(|s| s.value == Value::Bool(false));
                    let v1 = v.scalar_text().is_some_and(|s| s == "prometheus.WriteRequest" || s == "V1.0");
                    let plain_http = url.as_ref().is_some_and(|u| u.value.starts_with("http://"));
                    if off || v1 {
                        notes.push(Note { matters: false, text: format!("{at}: off, as the model assumes") });
                    } else if plain_http && (k == "enable_http2" || k == "enableHTTP2") {
                        notes.push(Note {
                            matters: false,
                            text: format!("{at}: plain http://, so HTTP/1.1: no effect"),
                        });
                    } else {
                        notes.push(Note { matters: *matters, text: format!("{at}: {what}") });
                    }
                }
                None if k == "maxRetries" || k == "max_retries" => {
                    notes.push(Note {
                        matters: false,
                        text: format!("{at}: no Prometheus since v2.11 has it; recoverable errors are retried forever"),
                    });
                }
                None => {
                    notes.push(Note {
                        matters: true,
                        text: format!("{at}: not a remote_write setting rwsim knows; left out"),
                    });
                }
            }
        }
        let q = entry.get(keys.queue_config);
        let qpath = format!("{path}.{}", keys.queue_config);
        if let Some(q) = q {
            r.mapping(q, &qpath)?;
            for (k, v) in q.entries() {
                if keys.queue.contains(&k.as_str()) {
                    continue;
                }
                if k == "maxRetries" || k == "max_retries" {
                    if keys.remote_write == "remote_write" {
                        return Err(r.err(
                            v,
                            &format!("{qpath}.{k}"),
                            "unknown field `max_retries`: removed in Prometheus v2.11 (Prometheus refuses this \
                             configuration); recoverable errors are retried forever",
                        ));
                    }
                    notes.push(Note {
                        matters: false,
                        text: format!(
                            "{qpath}.{k} ({}:{}): no Prometheus since v2.11 has it; recoverable errors are retried forever",
                            r.origin, v.line
                        ),
                    });
                    continue;
                }
                if keys.remote_write == "remote_write" {
                    return Err(r.err(
                        v,
                        &format!("{qpath}.{k}"),
                        format!(
                            "unknown field `{k}` in queue_config: Prometheus refuses this configuration (strict YAML); \
                             the keys are {}",
                            keys.queue.join(", ")
                        ),
                    ));
                }
                notes.push(Note {
                    matters: true,
                    text: format!("{qpath}.{k} ({}:{}): not a queueConfig field; left out", r.origin, v.line),
                });
            }
        }
        let get = |i: usize| q.and_then(|q| q.get(keys.queue[i])).map(|n| (n, format!("{qpath}.{}", keys.queue[i])));
        let uint = |i: usize, default: u32, name: &str| -> Result<Val<u32>, ImportError> {
            match get(i) {
                Some((n, p)) => r.uint(n, &p),
                None => Ok(Val::new(default, default_from(name))),
            }
        };
        let duration_key = |i: usize, default: SimDuration, name: &str| -> Result<Val<SimDuration>, ImportError> {
            match get(i) {
                Some((n, p)) => r.duration(n, &p),
                None => Ok(Val::new(default, default_from(name))),
            }
        };
        let mut queue = QueueDraft {
            capacity: uint(0, defaults.capacity, "capacity")?,
            max_shards: uint(1, defaults.max_shards, "max_shards")?,
            min_shards: uint(2, defaults.min_shards, "min_shards")?,
            max_samples_per_send: uint(3, defaults.max_samples_per_send, "max_samples_per_send")?,
            batch_send_deadline: duration_key(4, defaults.batch_send_deadline, "batch_send_deadline")?,
            min_backoff: duration_key(5, defaults.min_backoff, "min_backoff")?,
            max_backoff: duration_key(6, defaults.max_backoff, "max_backoff")?,
            retry_on_http_429: match get(7) {
                Some((n, p)) => r.boolean(n, &p)?,
                None => Val::new(false, default_from("retry_on_http_429")),
            },
            sample_age_limit: duration_key(8, SimDuration::ZERO, "sample_age_limit")?,
        };
        if !profile.value.has_sample_age_limit() && queue.sample_age_limit.value > SimDuration::ZERO {
            notes.push(Note {
                matters: true,
                text: format!(
                    "{}: sample_age_limit needs Prometheus v2.50+; this 2.x version ignores it, and so does the scenario",
                    queue.sample_age_limit.from
                ),
            });
            queue.sample_age_limit = Val::new(SimDuration::ZERO, default_from("sample_age_limit"));
        }
        // The scenario's name: the entry's name, else the URL's host.
        let base = remote_name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| url.as_ref().map_or_else(|| "remote".to_string(), |u| host_of(&u.value)));
        let mut stem = slug(&match &prefix {
            Some(p) => format!("{p}-{base}"),
            None => base,
        });
        if used_names.contains(&stem) {
            stem = format!("{stem}-{}", drafts.len());
        }
        used_names.push(stem.clone());
        let mut d = Draft {
            name: stem.clone(),
            description: String::new(),
            made_from: vec![format!(
                "Imported by rwsim {} from {} ({}), {}{}.",
                env!("CARGO_PKG_VERSION"),
                c.made_from,
                c.form,
                path,
                remote_name.as_ref().map_or(String::new(), |n| format!(" ({:?})", n.value))
            )],
            profile: profile.clone(),
            duration: duration.clone(),
            series: series.clone(),
            targets: targets.clone(),
            scrape_interval: scrape_interval.clone(),
            scrape_duration: None,
            wire_bytes_per_sample: Val::new(
                DEFAULT_WIRE_BYTES_PER_SAMPLE,
                Provenance::Rwsim(
                    "19.3, measured on node-exporter data with 2.42 (22-23 on noisy application metrics); \
                     calibrate measures yours"
                        .into(),
                ),
            ),
            url,
            remote_name,
            remote_timeout,
            queue,
            flush_deadline: flush_deadline.clone(),
            request_overhead: Val::new(
                SimDuration::ZERO,
                Provenance::Rwsim("the client's share of each request is in receiver.latency".into()),
            ),
            min_block_duration: min_block_duration.clone(),
            wal_segment_size: wal_segment_size.clone(),
            wal_bytes_per_sample: wal_bytes_per_sample.clone(),
            latency: Val::new(
                LatencyDraft::Fixed(ASSUMED_LATENCY),
                Provenance::Assumed(
                    "the receiver's answer time is in no configuration; 20ms is rwsim's default. Calibrate fits \
                     it to sent_batch_duration_seconds"
                        .into(),
                ),
            ),
            notes,
        };
        d.description = describe(&d, &version_text);
        if !d.assumed().is_empty() && d.series.from.is_assumed() {
            d.name = format!("{stem}-assumed-series");
        }
        check(r, &d)?;
        drafts.push(d);
    }
    Ok(Imported { form: c.form, drafts, jobs: c.jobs, global_interval: c.global_interval })
}

/// One line for `description`: the remote, the version, and what is assumed.
pub fn describe(d: &Draft, version: &str) -> String {
    let assumed = d.assumed();
    let remote =
        d.remote_name.as_ref().map_or_else(|| host_of(d.url.as_ref().map_or("", |u| &u.value)), |n| n.value.clone());
    format!(
        "{version}, remote_write {remote}{}",
        if assumed.is_empty() {
            String::new()
        } else {
            format!(
                "; ASSUMED: {}",
                assumed.iter().map(|k| k.rsplit('.').next().unwrap_or(k)).collect::<Vec<_>>().join(", ")
            )
        }
    )
}

/// Loads the draft as a scenario; an invalid value is reported where it came from.
fn check(r: &Reader, d: &Draft) -> Result<(), ImportError> {
    let Err(e) = d.load(&format!("{}.toml", d.name)) else { return Ok(()) };
    let message = format!("{} (scenario key {})", e.message, e.key);
    Err(match d.provenance_of(&e.key) {
        Some(Provenance::File { line, column, path, .. }) => ImportError::at(r.origin, *line, *column, path, message),
        Some(other) => ImportError::at(r.origin, 0, 0, &e.key, format!("{} (from {other})", e.message)),
        None => ImportError::at(r.origin, 0, 0, &e.key, e.message),
    })
}

/// The host of a URL, for a default scenario name.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    host.split(':').next().unwrap_or(host).to_string()
}

/// A file-name-safe name: lowercase letters, digits and dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "remote".to_string() } else { out }
}

#[cfg(test)]
mod tests;
