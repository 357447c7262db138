//! A YAML document as a tree of located nodes, so that every value read from a
//! `prometheus.yml`, an Operator resource or Helm values can be reported with the line and
//! column it came from (in errors and in the provenance comments of the scenario).
//!
//! Parsing is serde-saphyr's: anchors, aliases and merge keys (`<<: *defaults`) are
//! resolved, duplicate keys are errors (as in Prometheus's strict loader), and a value that
//! comes from an alias or a merge is located at its definition.

use super::ImportError;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A value and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// 1-based line of the value's definition (0 when unknown).
    pub line: usize,
    /// 1-based column of the value's definition (0 when unknown).
    pub column: usize,
}

/// A YAML value. Mapping keys are kept as text, in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string (plain or quoted).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys as text.
    Map(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        Ok(Node { value: s.value, line: s.defined.line() as usize, column: s.defined.column() as usize })
    }
}

/// A mapping key: any scalar, as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Value, D2::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Int(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
                Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some(n) = seq.next_element::<Node>()? {
                    out.push(n);
                }
                Ok(Value::Seq(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some(Key(k)) = map.next_key::<Key>()? {
                    let v = map.next_value::<Node>()?;
                    out.push((k, v));
                }
                Ok(Value::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses every document of `text` (documents are separated by `---`); empty documents are
/// left out.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Node>, ImportError> {
    let docs: Vec<Node> = serde_saphyr::from_multiple(text).map_err(|e| {
        let (line, column) =
            e.location().map_or((0, 0), |l| (usize::try_from(l.line()).unwrap_or(0), l.column() as usize));
        let message = e.without_snippet().to_string();
        let message = message.lines().next().unwrap_or("").trim().to_string();
        ImportError::at(origin, line, column, "", format!("YAML syntax error: {message}"))
    })?;
    Ok(docs.into_iter().filter(|d| d.value != Value::Null).collect())
}

impl Node {
    /// The value of `key` in a mapping (`None` for a missing key, another kind of node, or a
    /// null value).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| v.value != Value::Null),
            _ => None,
        }
    }

    /// The entries of a mapping (empty for anything else).
    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }

    /// The items of a sequence (empty for anything else).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// A scalar as text (`None` for null, sequences and mappings).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// What kind of value this is, for errors.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_aliases_and_merge_keys_are_resolved_and_located() {
        let text = "defaults: &q\n  capacity: 5000\n  max_shards: 10\nremote_write:\n  - url: http://a\n    queue_config:\n      <<: *q\n      max_shards: 20\n";
        let docs = parse(text, "p.yml").unwrap();
        assert_eq!(docs.len(), 1);
        let q = docs[0].get("remote_write").unwrap().items()[0].get("queue_config").unwrap();
        let cap = q.get("capacity").unwrap();
        assert_eq!(cap.value, Value::Int(5000));
        assert_eq!((cap.line, cap.column), (2, 13), "located at the anchored definition");
        assert_eq!(q.get("max_shards").unwrap().value, Value::Int(20), "explicit keys win over merged ones");
    }

    #[test]
    fn duplicate_keys_and_bad_syntax_are_located_errors() {
        let e = parse("global:\n  scrape_interval: 15s\n  scrape_interval: 30s\n", "p.yml").unwrap_err();
        assert!(e.to_string().starts_with("p.yml:3:"), "{e}");
        assert!(e.to_string().contains("YAML syntax error"), "{e}");
        let e = parse("remote_write:\n  - url: [\n", "p.yml").unwrap_err();
        assert!(e.to_string().starts_with("p.yml:"), "{e}");
    }

    #[test]
    fn several_documents_empty_ones_left_out() {
        let docs = parse("---\na: 1\n---\n---\nb: x\n", "m.yml").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].get("b").unwrap().scalar_text().as_deref(), Some("x"));
    }
}
