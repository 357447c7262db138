//! Prometheus's HTTP API (`/api/v1/...`): requests and their JSON answers.

use super::{CalibrateError, Result, Source, encode, fail};
use serde_json::Value;
use std::collections::BTreeMap;

/// One element of an instant vector: labels and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    /// Labels by name (`__name__` included when the query keeps it).
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// The `data` of a successful answer, or the API's error.
fn data(path: &str, body: &str) -> Result<Value> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| CalibrateError(format!("GET {path}: the answer is not JSON ({e}); is this a Prometheus?")))?;
    match v.get("status").and_then(Value::as_str) {
        Some("success") => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        _ => fail(format!(
            "GET {path}: {} {}",
            v.get("errorType").and_then(Value::as_str).unwrap_or("error"),
            v.get("error").and_then(Value::as_str).unwrap_or("(no message)")
        )),
    }
}

/// `/api/v1/status/buildinfo`: the version (`2.42.0+ds`).
pub fn buildinfo(src: &mut dyn Source) -> Result<String> {
    let path = "/api/v1/status/buildinfo";
    let d = data(path, &src.get(path)?)?;
    match d.get("version").and_then(Value::as_str) {
        Some(v) => Ok(v.to_string()),
        None => fail(format!("GET {path}: no version in the answer")),
    }
}

/// `/api/v1/status/flags`: every flag with its value (defaults included).
pub fn flags(src: &mut dyn Source) -> Result<BTreeMap<String, String>> {
    let path = "/api/v1/status/flags";
    let d = data(path, &src.get(path)?)?;
    let Some(m) = d.as_object() else { return fail(format!("GET {path}: expected an object of flags")) };
    Ok(m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect())
}

/// `/api/v1/status/config`: the loaded configuration as YAML (secrets redacted).
pub fn config(src: &mut dyn Source) -> Result<String> {
    let path = "/api/v1/status/config";
    let d = data(path, &src.get(path)?)?;
    match d.get("yaml").and_then(Value::as_str) {
        Some(y) => Ok(y.to_string()),
        None => fail(format!("GET {path}: no yaml in the answer")),
    }
}

/// An instant query evaluated at `time` (Unix seconds): its vector (a scalar answer is a
/// one-element vector without labels).
pub fn query(src: &mut dyn Source, promql: &str, time: f64) -> Result<Vec<Element>> {
    let path = format!("/api/v1/query?query={}&time={time:.3}", encode(promql));
    let d = data(&path, &src.get(&path)?).map_err(|e| CalibrateError(format!("query {promql}: {e}")))?;
    let number = |v: &Value| -> Option<f64> {
        let s = v.as_array()?.get(1)?.as_str()?;
        match s {
            "+Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            "NaN" => Some(f64::NAN),
            _ => s.parse().ok(),
        }
    };
    match d.get("resultType").and_then(Value::as_str) {
        Some("vector") => Ok(d
            .get("result")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|e| {
                        let labels = e
                            .get("metric")
                            .and_then(Value::as_object)
                            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
                            .unwrap_or_default();
                        Some(Element { labels, value: number(e.get("value")?)? })
                    })
                    .collect()
            })
            .unwrap_or_default()),
        Some("scalar") => Ok(number(d.get("result").unwrap_or(&Value::Null))
            .map(|v| vec![Element { labels: BTreeMap::new(), value: v }])
            .unwrap_or_default()),
        other => fail(format!("query {promql}: unexpected result type {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(String);
    impl Source for One {
        fn get(&mut self, _: &str) -> Result<String> {
            Ok(self.0.clone())
        }
        fn now_unix_ms(&mut self) -> u64 {
            0
        }
        fn wait_until(&mut self, _: u64) -> bool {
            false
        }
        fn describe(&self) -> String {
            String::new()
        }
    }

    #[test]
    fn vectors_scalars_and_errors() {
        let mut s = One(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"node"},"value":[1700000000.1,"12.5"]}]}}"#.into(),
        );
        let v = query(&mut s, "up", 1.0).unwrap();
        assert_eq!(v[0].labels["job"], "node");
        assert_eq!(v[0].value, 12.5);
        let mut s = One(r#"{"status":"success","data":{"resultType":"scalar","result":[1,"3"]}}"#.into());
        assert_eq!(query(&mut s, "3", 1.0).unwrap()[0].value, 3.0);
        let mut s = One(r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#.into());
        assert_eq!(
            query(&mut s, "up{", 1.0).unwrap_err().0,
            "query up{: GET /api/v1/query?query=up%7B&time=1.000: bad_data parse error at char 3"
        );
        let mut s = One("<html>login</html>".into());
        assert!(buildinfo(&mut s).unwrap_err().0.contains("is this a Prometheus?"));
    }
}
