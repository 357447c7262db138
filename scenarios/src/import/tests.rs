//! Import on real-world-shaped configurations (written for these tests).

use super::*;

/// A production-style prometheus.yml: anchors shared by two remote_write entries, merge
/// keys, `1m30s` durations, relabelling, metadata, service discovery, rules.
const PROM_YML: &str = r#"# Production Prometheus, region eu-west-1
global:
  scrape_interval: 15s
  scrape_timeout: 10s
  evaluation_interval: 30s
  external_labels:
    cluster: prod-eu-1
    replica: a

rule_files:
  - /etc/prometheus/rules/*.yml

x-queue: &queue
  capacity: 10000
  max_shards: 50
  max_samples_per_send: 2000
  batch_send_deadline: 1m30s
  min_backoff: 100ms
  max_backoff: 10s

scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['localhost:9090']
  - job_name: node
    scrape_interval: 30s
    static_configs:
      - targets: ['10.0.0.1:9100', '10.0.0.2:9100', '10.0.0.3:9100']
        labels: {role: db}
      - targets: ['10.0.1.1:9100']
  - job_name: kubernetes-pods
    kubernetes_sd_configs:
      - role: pod
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: "true"

remote_write:
  - url: https://mimir.prod.example.com/api/v1/push
    name: mimir
    remote_timeout: 1m
    headers:
      X-Scope-OrgID: prod
    queue_config:
      <<: *queue
      retry_on_http_429: yes
    write_relabel_configs:
      - source_labels: [__name__]
        regex: "go_.*"
        action: drop
    metadata_config:
      send: true
      send_interval: 2m
  - url: http://thanos-receive.monitoring.svc:19291/api/v1/receive
    queue_config:
      <<: *queue
      max_shards: 10
    metadata_config:
      send: false
"#;

fn import_ok(text: &str, opts: &ImportOptions) -> Imported {
    import(text, "prometheus.yml", opts).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn prometheus_yml_with_anchors_and_two_remotes() {
    let opts = ImportOptions {
        version: Some(("2.42.0".into(), Provenance::CommandLine("--prometheus-version".into()))),
        ..Default::default()
    };
    let imp = import_ok(PROM_YML, &opts);
    assert_eq!(imp.form, "a prometheus.yml");
    assert_eq!(imp.drafts.len(), 2);
    let (a, b) = (&imp.drafts[0], &imp.drafts[1]);
    assert_eq!(a.name, "mimir-assumed-series", "assumed series are in the name every result shows");
    assert_eq!(b.name, "thanos-receive-monitoring-svc-assumed-series", "no name: from the URL's host");
    assert_eq!(a.queue.batch_send_deadline.value, SimDuration::from_secs(90));
    assert_eq!(a.queue.max_shards.value, 50);
    assert_eq!(b.queue.max_shards.value, 10, "an explicit key wins over the merged anchor");
    assert!(a.queue.retry_on_http_429.value, "YAML 1.1 `yes`, as Prometheus reads it");
    assert_eq!(a.queue.min_shards.value, 1);
    assert_eq!(a.queue.min_shards.from.to_string(), "default: Prometheus 2.42 min_shards (config/config.go)");
    // The capacity comes from the anchor: located at its definition.
    assert_eq!(a.queue.capacity.from.to_string(), "prometheus.yml:14:13 remote_write[0].queue_config.capacity");
    assert_eq!(a.remote_timeout.value, SimDuration::from_mins(1));
    // The workload: most targets scrape every 30s (node: 4 targets).
    assert_eq!(a.scrape_interval.value, SimDuration::from_secs(30));
    assert_eq!(a.targets.value, 1 + 4 + 1);
    assert!(a.targets.from.is_assumed(), "service discovery: the target count is a guess");
    assert_eq!(a.series.value, 6000);
    assert!(a.series.from.is_assumed());
    // Nothing silently dropped.
    let notes: Vec<&str> = a.notes.iter().map(|n| n.text.as_str()).collect();
    let has = |s: &str| notes.iter().any(|n| n.contains(s));
    assert!(has("remote_write[0].write_relabel_configs (prometheus.yml:49)"), "{notes:#?}");
    assert!(has("remote_write[0].metadata_config"), "{notes:#?}");
    assert!(has("remote_write[0].headers"), "{notes:#?}");
    assert!(has("rule_files"), "{notes:#?}");
    assert!(has("global.external_labels"), "{notes:#?}");
    assert!(has("several intervals"), "{notes:#?}");
    assert!(a.notes.iter().any(|n| n.matters && n.text.contains("write_relabel_configs")));
    let b_notes: Vec<&str> = b.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(b_notes.iter().any(|n| n.contains("metadata_config") && n.contains("off")), "{b_notes:#?}");
    // Both render to scenarios that load, with the values as imported.
    for d in &imp.drafts {
        let text = d.render();
        let sc = crate::load_str(&text, "imported.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(sc.config.profile, Profile::V2_42);
        assert_eq!(sc.config.remote_write.queue.batch_send_deadline, SimDuration::from_secs(90));
        assert_eq!(sc.config.workload.series, 6000);
        assert!(text.contains("# ASSUMED"), "{text}");
        assert!(text.contains("WARNING: rule_files"), "{text}");
        assert!(text.lines().all(|l| l.len() <= 120), "{text}");
    }
    let text = a.render();
    assert!(text.contains("WARNING: remote_write[0].write_relabel_configs"), "{text}");
    assert!(
        text.contains("capacity = 10000                # prometheus.yml:14:13 remote_write[0].queue_config.capacity\n"),
        "{text}"
    );
    assert!(text.contains("batch_send_deadline = \"1m30s\""), "{text}");
    assert!(!text.contains("sample_age_limit"), "2.42 has no sample_age_limit: {text}");
}

#[test]
fn select_by_name_url_or_index() {
    let imp = import_ok(PROM_YML, &ImportOptions::default());
    assert_eq!(imp.select(Some("mimir")).unwrap().len(), 1);
    assert_eq!(imp.select(Some("1")).unwrap()[0].queue.max_shards.value, 10);
    assert_eq!(
        imp.select(Some("http://thanos-receive.monitoring.svc:19291/api/v1/receive")).unwrap()[0]
            .queue
            .max_shards
            .value,
        10
    );
    let e = imp.select(Some("cortex")).unwrap_err();
    assert!(e.contains("0: name \"mimir\", url https://mimir.prod.example.com/api/v1/push"), "{e}");
    assert_eq!(imp.select(None).unwrap().len(), 2);
}

#[test]
fn unknown_version_is_3x_and_said_loudly() {
    let imp = import_ok(PROM_YML, &ImportOptions::default());
    let d = &imp.drafts[0];
    assert_eq!(d.profile.value, Profile::V3);
    assert!(d.profile.from.is_assumed());
    assert!(d.notes.iter().any(|n| n.matters && n.text.contains("--prometheus-version")));
    assert!(d.render().contains("sample_age_limit = \"0s\""));
}

#[test]
fn known_series_and_targets_from_the_command_line_and_flags() {
    let opts = ImportOptions {
        series: Some(250_000),
        targets: Some(120),
        flags: Some(Flags::parse(
            "--storage.tsdb.min-block-duration=30m --storage.tsdb.wal-segment-size=32MB --storage.remote.flush-deadline=2m --no-storage.tsdb.wal-compression",
            "--flags",
        )),
        version: Some(("3.5.0".into(), Provenance::CommandLine("--prometheus-version 3.5.0".into()))),
        ..Default::default()
    };
    let imp = import_ok(PROM_YML, &opts);
    let d = &imp.drafts[0];
    assert_eq!(d.name, "mimir");
    assert!(d.assumed() == vec!["receiver.latency"], "{:?}", d.assumed());
    assert_eq!(d.min_block_duration.value, SimDuration::from_mins(30));
    assert_eq!(d.min_block_duration.from.to_string(), "--storage.tsdb.min-block-duration=30m (--flags)");
    assert_eq!(d.wal_segment_size.value, 32 << 20);
    assert_eq!(d.flush_deadline.value, SimDuration::from_mins(2));
    assert_eq!(d.wal_bytes_per_sample.value, 11.5, "compression off");
    assert_eq!(d.duration.value, SimDuration::from_hours(6));
    let sc = d.load("x.toml").unwrap();
    assert_eq!(sc.config.workload.series, 250_000);
    assert_eq!(sc.config.workload.targets, 120);
    assert_eq!(sc.config.tsdb.wal_segment_size, 32 << 20);
}

const OPERATOR: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: prometheus
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata:
  name: k8s
  namespace: monitoring
spec:
  version: v2.47.2
  replicas: 2
  shards: 3
  scrapeInterval: 1m
  externalLabels:
    cluster: prod
  serviceMonitorSelector: {}
  additionalArgs:
    - name: storage.tsdb.wal-segment-size
      value: 64MB
  thanos:
    objectStorageConfig:
      name: thanos-objstore
      key: objstore.yml
    blockSize: 2h
  remoteWrite:
    - url: https://prometheus-prod-01.grafana.net/api/prom/push
      name: grafana-cloud
      remoteTimeout: 45s
      basicAuth:
        username: {name: grafana-cloud, key: username}
        password: {name: grafana-cloud, key: password}
      queueConfig:
        capacity: 20000
        maxShards: 100
        maxSamplesPerSend: 4000
        batchSendDeadline: 10s
        retryOnRateLimit: true
        sampleAgeLimit: 2h
        maxRetries: 10
      writeRelabelConfigs:
        - sourceLabels: [__name__]
          regex: "apiserver_.*"
          action: drop
"#;

#[test]
fn operator_resource_camel_case() {
    let imp = import(OPERATOR, "prometheus-k8s.yaml", &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imp.form, "a Prometheus Operator `Prometheus` resource \"k8s\"");
    let d = &imp.drafts[0];
    assert_eq!(d.profile.value, Profile::V3, "v2.47 has the 3.x defaults");
    assert_eq!(d.profile.from.to_string(), "prometheus-k8s.yaml:12:12 spec.version");
    assert!(d.notes.iter().any(|n| n.text.contains("predates v2.48.0")), "{:#?}", d.notes);
    assert_eq!(d.queue.capacity.value, 20000);
    assert_eq!(d.queue.max_samples_per_send.value, 4000);
    assert!(d.queue.retry_on_http_429.value);
    assert_eq!(
        d.queue.retry_on_http_429.from.to_string(),
        "prometheus-k8s.yaml:39:27 spec.remoteWrite[0].queueConfig.retryOnRateLimit"
    );
    assert_eq!(d.queue.sample_age_limit.value, SimDuration::from_hours(2));
    assert_eq!(d.queue.min_shards.value, 1);
    assert_eq!(d.queue.max_backoff.value, SimDuration::from_secs(5));
    assert_eq!(d.remote_timeout.value, SimDuration::from_secs(45));
    assert_eq!(d.scrape_interval.value, SimDuration::from_mins(1));
    assert_eq!(d.wal_segment_size.value, 64 << 20);
    assert!(d.wal_segment_size.from.to_string().contains("spec.additionalArgs"), "{}", d.wal_segment_size.from);
    assert!(d.targets.from.is_assumed(), "monitors select the targets");
    let notes: Vec<&str> = d.notes.iter().map(|n| n.text.as_str()).collect();
    for want in
        ["spec.shards = 3", "spec.replicas = 2", "queueConfig.maxRetries", "writeRelabelConfigs", "basicAuth", "thanos"]
    {
        assert!(notes.iter().any(|n| n.contains(want)), "{want}: {notes:#?}");
    }
    let sc = d.load("grafana-cloud.toml").unwrap();
    assert!(sc.config.remote_write.queue.retry_on_http_429);
    assert_eq!(d.name, "grafana-cloud-assumed-series");
}

const HELM: &str = r#"# values-prod.yaml for kube-prometheus-stack
defaultRules:
  create: true
alertmanager:
  enabled: false
prometheus:
  prometheusSpec:
    image:
      registry: quay.io
      repository: prometheus/prometheus
      tag: v2.42.0
    scrapeInterval: 30s
    walCompression: true
    remoteWrite:
      - url: http://mimir-distributor.mimir.svc:8080/api/v1/push
        headers:
          X-Scope-OrgID: k8s-prod
        queueConfig:
          maxShards: 20
          batchSendDeadline: 1m30s
    additionalScrapeConfigs:
      - job_name: external-nodes
        static_configs:
          - targets: ['db1:9100', 'db2:9100']
"#;

#[test]
fn helm_values() {
    let imp = import(HELM, "values-prod.yaml", &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imp.form, "kube-prometheus-stack Helm values");
    let d = &imp.drafts[0];
    assert_eq!(d.profile.value, Profile::V2_42);
    assert_eq!(d.profile.from.to_string(), "values-prod.yaml:11:12 prometheus.prometheusSpec.image.tag");
    assert_eq!(d.queue.max_shards.value, 20);
    assert_eq!(d.queue.capacity.value, 2500, "the 2.42 default");
    assert_eq!(d.queue.batch_send_deadline.value, SimDuration::from_secs(90));
    assert_eq!(d.name, "mimir-distributor-mimir-svc-assumed-series");
    assert_eq!(imp.jobs.len(), 1);
    assert_eq!(imp.jobs[0].static_targets, 2);
    d.load("x.toml").unwrap();
}

#[test]
fn errors_point_at_the_yaml() {
    let err = |text: &str| import(text, "p.yml", &ImportOptions::default()).unwrap_err().to_string();
    assert_eq!(
        err("remote_write:\n  - url: http://x\n    remote_timeout: 1.5m\n"),
        "p.yml:3:21: remote_write[0].remote_timeout: invalid duration \"1.5m\": use whole numbers, e.g. \"1h30m\" rather than \"1.5h\", \"1500ms\" rather than \"1.5s\""
    );
    assert_eq!(
        err("remote_write:\n  - url: http://x\n    queue_config:\n      max_retries: 3\n"),
        "p.yml:4:20: remote_write[0].queue_config.max_retries: unknown field `max_retries`: removed in Prometheus v2.11 (Prometheus refuses this configuration); recoverable errors are retried forever"
    );
    assert!(
        err("remote_write:\n  - url: http://x\n    queue_config:\n      batch_size: 3\n")
            .starts_with("p.yml:4:19: remote_write[0].queue_config.batch_size: unknown field `batch_size`")
    );
    assert_eq!(
        err("remote_write:\n  - url: http://x\n    queue_config:\n      capacity: -5\n"),
        "p.yml:4:17: remote_write[0].queue_config.capacity: expected an integer from 0 to 4294967295, found -5"
    );
    // A value Prometheus accepts but that cannot run: reported at the YAML, with the scenario key.
    let e = err("remote_write:\n  - url: http://x\n    queue_config:\n      min_shards: 20\n      max_shards: 10\n");
    assert!(e.starts_with("p.yml:4:19: remote_write[0].queue_config.min_shards: "), "{e}");
    assert!(e.contains("scenario key remote_write.queue_config.min_shards"), "{e}");
    assert!(err("global:\n  scrape_interval: 15s\n").contains("no remote_write entries: nothing to forecast"));
    assert!(err("remote_write:\n  - name: a\n").starts_with("p.yml:2:5: remote_write[0]: url is missing"));
    assert!(err("").contains("the file is empty"));
    assert!(err("global: [1, 2\n").starts_with("p.yml:"));
}

/// The YAML Prometheus 2.42 serves at /api/v1/status/config: every default written out.
const API_CONFIG_242: &str = r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1m
scrape_configs:
- job_name: rwsim
  honor_timestamps: true
  scrape_interval: 1s
  scrape_timeout: 1s
  metrics_path: /metrics
  scheme: http
  follow_redirects: true
  enable_http2: true
  static_configs:
  - targets:
    - 127.0.0.1:19301
remote_write:
- url: http://127.0.0.1:19302/api/v1/push
  remote_timeout: 30s
  name: rwsim
  follow_redirects: true
  enable_http2: true
  queue_config:
    capacity: 2500
    max_shards: 200
    min_shards: 1
    max_samples_per_send: 500
    batch_send_deadline: 5s
    min_backoff: 30ms
    max_backoff: 5s
  metadata_config:
    send: false
    send_interval: 1m
    max_samples_per_send: 500
"#;

#[test]
fn the_config_prometheus_serves_with_defaults_filled_in() {
    let opts = ImportOptions {
        version: Some(("2.42.0+ds".into(), Provenance::Measured("buildinfo".into()))),
        ..Default::default()
    };
    let imp = import(API_CONFIG_242, "/api/v1/status/config", &opts).unwrap();
    let d = &imp.drafts[0];
    assert_eq!(d.targets.value, 1);
    assert!(!d.targets.from.is_assumed(), "static targets only: known");
    assert_eq!(d.scrape_interval.value, SimDuration::from_secs(1));
    let matters: Vec<&str> = d.notes.iter().filter(|n| n.matters).map(|n| n.text.as_str()).collect();
    assert!(matters.is_empty(), "defaults and plain http: nothing that changes the forecast: {matters:?}");
    assert!(
        d.notes.iter().any(|n| n.text
            == "remote_write[0].enable_http2 (/api/v1/status/config:22): plain http://, so HTTP/1.1: no effect")
    );
    let https = API_CONFIG_242.replace("http://127.0.0.1:19302", "https://mimir.example");
    let d = import(&https, "/api/v1/status/config", &opts).unwrap().drafts.remove(0);
    assert!(d.notes.iter().any(|n| n.matters && n.text.contains("all shards share one connection")));
}

#[test]
fn agent_mode_is_a_warning() {
    let opts = ImportOptions { flags: Some(Flags::parse("--enable-feature=agent", "--flags")), ..Default::default() };
    let imp = import_ok(PROM_YML, &opts);
    assert!(imp.drafts[0].notes.iter().any(|n| n.matters && n.text.starts_with("agent mode")));
}

#[test]
fn prometheus_durations() {
    assert_eq!(parse_prometheus_duration("0").unwrap(), SimDuration::ZERO);
    assert_eq!(parse_prometheus_duration("1y").unwrap(), SimDuration::from_hours(365 * 24));
    assert_eq!(parse_prometheus_duration("2w1d12h").unwrap(), SimDuration::from_hours(15 * 24 + 12));
    assert_eq!(parse_prometheus_duration("250ms").unwrap(), SimDuration::from_millis(250));
    assert!(parse_prometheus_duration("1w1y").unwrap_err().contains("\"1w1y\""));
    assert!(parse_prometheus_duration("").is_err());
}
