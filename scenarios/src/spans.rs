//! Where every key of a parsed TOML document sits, by dotted path.
//!
//! Built once from toml's span-preserving document tree, before any schema checks, so that
//! every error (an unknown key, a bad value, or a [`sim_core::config::ConfigError`] coming back
//! from validation) can point at a line and column.

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One key of the document.
#[derive(Clone, Debug)]
struct Entry {
    /// Dotted path, arrays as `receiver.fault[1]` (0-based).
    path: String,
    /// Byte range of the key itself; `None` for array elements.
    key: Option<Range<usize>>,
    /// Byte range of the value: the value text, a `[table]` header, or for an implicit table
    /// (one only named in a longer header) the key inside that header.
    value: Range<usize>,
}

/// Dotted path → byte ranges, for every key and array element of one document.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanIndex {
    entries: Vec<Entry>,
}

/// Nesting deeper than this is not indexed (a scenario has four levels; TOML itself allows
/// arbitrary nesting of inline arrays).
const MAX_DEPTH: usize = 32;

impl SpanIndex {
    /// Indexes every key of `root`.
    pub(crate) fn build(root: &Spanned<DeTable<'_>>) -> Self {
        let mut index = SpanIndex::default();
        index.add_table("", root.get_ref(), 0);
        index
    }

    fn add_table(&mut self, prefix: &str, table: &DeTable<'_>, depth: usize) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() { k.get_ref().to_string() } else { format!("{prefix}.{}", k.get_ref()) };
            self.entries.push(Entry { path: path.clone(), key: Some(k.span()), value: v.span() });
            self.add_value(&path, v.get_ref(), depth + 1);
        }
    }

    fn add_value(&mut self, path: &str, value: &DeValue<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            DeValue::Table(t) => self.add_table(path, t, depth),
            DeValue::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.entries.push(Entry { path: p.clone(), key: None, value: v.span() });
                    self.add_value(&p, v.get_ref(), depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Every indexed path, in document order.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.path.as_str())
    }

    /// Whether `path` is present in the document.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.entries.iter().any(|e| e.path == path)
    }

    /// The byte range of `path`'s value (see [`Entry::value`]), if it is in the document.
    pub(crate) fn value_span(&self, path: &str) -> Option<Range<usize>> {
        self.entries.iter().find(|e| e.path == path).map(|e| e.value.clone())
    }

    /// The byte offset to report for `path`: its value if present, else the nearest enclosing
    /// key that is present (its table header or its key), else the start of the file.
    pub(crate) fn offset_of(&self, path: &str) -> usize {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.iter().find(|e| e.path == p) {
                return e.value.start;
            }
            match parent(p) {
                Some(up) => p = up,
                None => return 0,
            }
        }
    }

    /// The path of the key whose name lies exactly at `span` (an unknown key).
    pub(crate) fn key_named_at(&self, span: &Range<usize>) -> Option<&str> {
        self.entries.iter().filter(|e| e.key.as_ref() == Some(span)).map(|e| e.path.as_str()).next()
    }

    /// The path of the innermost entry whose value covers `span`: an exact match if there is
    /// one (deepest first, so an array-of-tables element wins over its array), else the
    /// smallest enclosing value.
    pub(crate) fn value_at(&self, span: &Range<usize>) -> Option<&str> {
        let exact = self.entries.iter().filter(|e| e.value == *span).max_by_key(|e| e.path.len());
        if let Some(e) = exact {
            return Some(&e.path);
        }
        self.entries
            .iter()
            .filter(|e| e.value.start <= span.start && span.end <= e.value.end && !e.value.is_empty())
            .min_by_key(|e| (e.value.len(), std::cmp::Reverse(e.path.len())))
            .map(|e| e.path.as_str())
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `None`.
pub(crate) fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// 1-based line and column (in characters) of byte `offset` in `text`. Offsets past the end
/// or inside a character are moved back to the nearest character boundary.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_walk_up_tables_and_arrays() {
        assert_eq!(parent("receiver.fault[1].end"), Some("receiver.fault[1]"));
        assert_eq!(parent("receiver.fault[1]"), Some("receiver.fault"));
        assert_eq!(parent("receiver.fault"), Some("receiver"));
        assert_eq!(parent("receiver"), Some(""));
        assert_eq!(parent(""), None);
    }

    #[test]
    fn line_and_column_are_one_based_characters() {
        let t = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 11), (2, 5), "é is one column");
        assert_eq!(line_col(t, 8), (2, 2), "inside é: moved back to its start");
        assert_eq!(line_col(t, 1000), (3, 1));
    }

    #[test]
    fn index_points_at_values_headers_and_implicit_tables() {
        let t = "duration = \"1h\"\n[remote_write.queue_config]\ncapacity = 5\n[[receiver.fault]]\nend = \"2m\"\n";
        let doc = DeTable::parse(t).unwrap();
        let ix = SpanIndex::build(&doc);
        let at = |p: &str| line_col(t, ix.offset_of(p));
        assert_eq!(at("duration"), (1, 12));
        assert_eq!(at("remote_write.queue_config.capacity"), (3, 12));
        assert_eq!(at("remote_write.queue_config.max_shards"), (2, 1), "missing: its table header");
        assert_eq!(at("remote_write"), (2, 2), "implicit table: its name in the header");
        assert_eq!(at("receiver.fault[0].end"), (5, 7));
        assert_eq!(at("receiver.fault[0].start"), (4, 1));
        assert_eq!(at("receiver.fault[3].start"), (4, 1), "no such element: the array (its first header)");
        assert_eq!(at("receiver.latency"), (4, 3), "implicit [receiver]: its name in the header");
        assert_eq!(at("output.step"), (1, 1), "nothing present: start of file");
    }
}
