//! One interface over the two ways of reading Prometheus's own metrics over a window:
//! PromQL over the series it scraped from itself ([`Promql`]), or samples of its `/metrics`
//! page taken by rwsim ([`Sampled`]). Each reading says how it was obtained, for the
//! calibration table.

use super::expo::{self, Sample};
use super::{Result, Source, api};
use std::collections::BTreeMap;

/// Equality label matchers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<(String, String)>);

impl Matchers {
    /// Parses `{job="prometheus",instance="x:9090"}` (braces optional; equality only).
    ///
    /// ```
    /// use live::calibrate::metrics::Matchers;
    /// let m = Matchers::parse(r#"{job="prometheus", instance="a:9090"}"#).unwrap();
    /// assert_eq!(m.promql(), r#"job="prometheus",instance="a:9090""#);
    /// assert!(Matchers::parse("job=~\"p.*\"").is_err());
    /// ```
    pub fn parse(s: &str) -> std::result::Result<Matchers, String> {
        let s = s.trim().trim_start_matches('{').trim_end_matches('}');
        let mut out = Vec::new();
        let mut rest = s.trim();
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=').ok_or_else(|| format!("expected name=\"value\" in {s:?}"))?;
            let name = name.trim();
            let after = after.trim_start();
            if name.ends_with('!') || after.starts_with('~') || !after.starts_with('"') {
                return Err(format!("only name=\"value\" matchers are supported, in {s:?}"));
            }
            let mut value = String::new();
            let mut chars = after[1..].char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = Some(i + 2);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| format!("unterminated quote in {s:?}"))?;
            out.push((name.to_string(), value));
            rest = after[end..].trim_start().trim_start_matches(',').trim_start();
        }
        Ok(Matchers(out))
    }

    /// The matchers in PromQL, without braces.
    pub fn promql(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// These matchers and `other`'s.
    pub fn and(&self, other: &Matchers) -> Matchers {
        Matchers(self.0.iter().chain(&other.0).cloned().collect())
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

/// A number and how it was obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// The value.
    pub value: f64,
    /// The PromQL query, or a description of the samples.
    pub how: String,
}

/// Readings over a window of Prometheus's own metrics.
pub trait Metrics {
    /// The increase of a counter (summed over the matching series) over the window.
    fn increase(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>>;
    /// The time average of a gauge (summed over the matching series).
    fn avg(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>>;
    /// The value at the end of the window (summed over the matching series).
    fn last(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>>;
    /// Highest minus lowest value of a gauge in the window (summed over matching series).
    fn growth(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>>;
    /// How often the process restarted in the window.
    fn restarts(&mut self) -> Result<f64>;
    /// A histogram's cumulative bucket increases, `(le, count)` sorted by `le`.
    fn buckets(&mut self, name: &str, m: &Matchers) -> Result<Vec<(f64, f64)>>;
    /// The label sets of the series of `name` matching `m` at the end of the window.
    fn label_sets(&mut self, name: &str, m: &Matchers) -> Result<Vec<BTreeMap<String, String>>>;
    /// The window the readings cover, seconds.
    fn window_secs(&self) -> f64;
}

/// PromQL over the series Prometheus scraped from itself.
pub struct Promql<'a> {
    src: &'a mut dyn Source,
    /// Matchers of Prometheus's own series (its self-scrape job and instance).
    pub own: Matchers,
    window_s: u64,
    time: f64,
}

impl<'a> Promql<'a> {
    /// Readings of the series matching `own` over `window_s` seconds ending at `time`
    /// (Unix seconds).
    pub fn new(src: &'a mut dyn Source, own: Matchers, window_s: u64, time: f64) -> Self {
        Promql { src, own, window_s, time }
    }

    fn selector(&self, name: &str, m: &Matchers) -> String {
        format!("{name}{{{}}}", self.own.and(m).promql())
    }

    fn scalar(&mut self, q: String) -> Result<Option<Reading>> {
        let v = api::query(self.src, &q, self.time)?;
        Ok(v.first().map(|e| Reading { value: e.value, how: q }))
    }
}

impl Metrics for Promql<'_> {
    fn increase(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        let q = format!("sum(increase({}[{}s]))", self.selector(name, m), self.window_s);
        self.scalar(q)
    }
    fn avg(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        let q = format!("sum(avg_over_time({}[{}s]))", self.selector(name, m), self.window_s);
        self.scalar(q)
    }
    fn last(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        let q = format!("sum({})", self.selector(name, m));
        self.scalar(q)
    }
    fn growth(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        let s = self.selector(name, m);
        let q = format!("sum(max_over_time({s}[{w}s]) - min_over_time({s}[{w}s]))", w = self.window_s);
        self.scalar(q)
    }
    fn restarts(&mut self) -> Result<f64> {
        let q = format!(
            "sum(changes({}[{}s]))",
            self.selector("process_start_time_seconds", &Matchers::default()),
            self.window_s
        );
        Ok(self.scalar(q)?.map_or(0.0, |r| r.value))
    }
    fn buckets(&mut self, name: &str, m: &Matchers) -> Result<Vec<(f64, f64)>> {
        let q = format!("sum by (le) (increase({}[{}s]))", self.selector(name, m), self.window_s);
        let v = api::query(self.src, &q, self.time)?;
        Ok(sorted_buckets(v.into_iter().filter_map(|e| Some((parse_le(e.labels.get("le")?)?, e.value)))))
    }
    fn label_sets(&mut self, name: &str, m: &Matchers) -> Result<Vec<BTreeMap<String, String>>> {
        let q = self.selector(name, m);
        Ok(api::query(self.src, &q, self.time)?.into_iter().map(|e| e.labels).collect())
    }
    fn window_secs(&self) -> f64 {
        self.window_s as f64
    }
}

fn parse_le(s: &str) -> Option<f64> {
    if s == "+Inf" { Some(f64::INFINITY) } else { s.parse().ok() }
}

fn sorted_buckets(it: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = it.collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Pages of `/metrics` taken by rwsim at known times.
pub struct Sampled {
    /// `(Unix ms, samples)` in time order.
    pub pages: Vec<(u64, Vec<Sample>)>,
}

impl Sampled {
    /// From page texts with their times.
    pub fn new(pages: Vec<(u64, String)>) -> Self {
        Sampled { pages: pages.into_iter().map(|(t, p)| (t, expo::parse(&p))).collect() }
    }

    fn how(&self, what: &str) -> String {
        format!("{what} in {} samples of /metrics over {:.0}s", self.pages.len(), self.window_secs())
    }

    /// Per page, the matching series by label set.
    fn series(&self, name: &str, m: &Matchers) -> Vec<BTreeMap<BTreeMap<String, String>, f64>> {
        self.pages
            .iter()
            .map(|(_, s)| {
                s.iter()
                    .filter(|x| x.name == name && m.matches(&x.labels))
                    .map(|x| (x.labels.clone(), x.value))
                    .collect()
            })
            .collect()
    }

    fn sums(&self, name: &str, m: &Matchers) -> Vec<Option<f64>> {
        self.series(name, m).into_iter().map(|p| if p.is_empty() { None } else { Some(p.values().sum()) }).collect()
    }

    /// Counter increase per label set, with resets (a drop restarts from zero).
    fn increases(&self, name: &str, m: &Matchers) -> BTreeMap<BTreeMap<String, String>, f64> {
        let mut prev: BTreeMap<BTreeMap<String, String>, f64> = BTreeMap::new();
        let mut inc: BTreeMap<BTreeMap<String, String>, f64> = BTreeMap::new();
        for page in self.series(name, m) {
            for (labels, v) in page {
                if let Some(p) = prev.get(&labels) {
                    *inc.entry(labels.clone()).or_default() += if v >= *p { v - p } else { v };
                } else {
                    inc.entry(labels.clone()).or_default();
                }
                prev.insert(labels, v);
            }
        }
        inc
    }
}

impl Metrics for Sampled {
    fn increase(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        let inc = self.increases(name, m);
        Ok((!inc.is_empty())
            .then(|| Reading { value: inc.values().sum(), how: self.how(&format!("increase of {name}")) }))
    }
    fn avg(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        let v: Vec<f64> = self.sums(name, m).into_iter().flatten().collect();
        Ok((!v.is_empty()).then(|| Reading {
            value: v.iter().sum::<f64>() / v.len() as f64,
            how: self.how(&format!("mean of {name}")),
        }))
    }
    fn last(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        Ok(self
            .sums(name, m)
            .into_iter()
            .flatten()
            .last()
            .map(|v| Reading { value: v, how: format!("{name}, last sample of /metrics") }))
    }
    fn growth(&mut self, name: &str, m: &Matchers) -> Result<Option<Reading>> {
        let v: Vec<f64> = self.sums(name, m).into_iter().flatten().collect();
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        Ok((!v.is_empty()).then(|| Reading { value: hi - lo, how: self.how(&format!("max − min of {name}")) }))
    }
    fn restarts(&mut self) -> Result<f64> {
        let v: Vec<f64> = self.sums("process_start_time_seconds", &Matchers::default()).into_iter().flatten().collect();
        Ok(v.windows(2).filter(|w| w[0] != w[1]).count() as f64)
    }
    fn buckets(&mut self, name: &str, m: &Matchers) -> Result<Vec<(f64, f64)>> {
        let mut by_le: BTreeMap<String, f64> = BTreeMap::new();
        for (labels, inc) in self.increases(name, m) {
            if let Some(le) = labels.get("le") {
                *by_le.entry(le.clone()).or_default() += inc;
            }
        }
        Ok(sorted_buckets(by_le.into_iter().filter_map(|(le, v)| Some((parse_le(&le)?, v)))))
    }
    fn label_sets(&mut self, name: &str, m: &Matchers) -> Result<Vec<BTreeMap<String, String>>> {
        Ok(self.series(name, m).pop().map(|p| p.into_keys().collect()).unwrap_or_default())
    }
    fn window_secs(&self) -> f64 {
        match (self.pages.first(), self.pages.last()) {
            (Some(a), Some(b)) => (b.0 - a.0) as f64 / 1000.0,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_counters_with_a_reset_gauges_and_buckets() {
        let page = |c: f64, g: f64, b: f64| {
            format!(
                "x_total{{r=\"a\"}} {c}\nx_total{{r=\"b\"}} 1\ng{{r=\"a\"}} {g}\nh_bucket{{le=\"0.1\",r=\"a\"}} {b}\nh_bucket{{le=\"+Inf\",r=\"a\"}} {}\n",
                b * 2.0
            )
        };
        let mut s =
            Sampled::new(vec![(0, page(10.0, 1.0, 0.0)), (1000, page(15.0, 3.0, 5.0)), (2000, page(4.0, 2.0, 6.0))]);
        let a = Matchers(vec![("r".into(), "a".into())]);
        assert_eq!(s.increase("x_total", &a).unwrap().unwrap().value, 5.0 + 4.0, "the drop is a reset");
        assert_eq!(s.increase("x_total", &Matchers::default()).unwrap().unwrap().value, 9.0);
        assert_eq!(s.avg("g", &a).unwrap().unwrap().value, 2.0);
        assert_eq!(s.last("g", &a).unwrap().unwrap().value, 2.0);
        assert_eq!(s.growth("g", &a).unwrap().unwrap().value, 2.0);
        assert_eq!(s.buckets("h_bucket", &a).unwrap(), vec![(0.1, 6.0), (f64::INFINITY, 12.0)]);
        assert_eq!(s.window_secs(), 2.0);
        assert!(s.increase("missing_total", &a).unwrap().is_none());
        assert_eq!(s.label_sets("x_total", &Matchers::default()).unwrap().len(), 2);
    }
}
