//! Prometheus command-line flags: from a command line (`--flags "…"`), a file (one flag per
//! line, a whole command line, or a Debian/systemd `ARGS="…"` environment file), or the JSON
//! of `/api/v1/status/flags`.
//!
//! Only the flags that change the model are read: `--storage.tsdb.min-block-duration`,
//! `--storage.tsdb.wal-segment-size`, `--storage.tsdb.wal-compression`,
//! `--storage.remote.flush-deadline` and agent mode (`--enable-feature=agent` in 2.x,
//! `--agent` in 3.x). The rest are kept, so that nothing is silently ignored when asked.

use std::collections::BTreeMap;

/// Flags by name (without the leading dashes), each with its value as written and where the
/// set came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// Name → value. A boolean flag given bare is `"true"`; `--no-NAME` is `"false"`.
    /// `--enable-feature` may be repeated: its values are joined with commas.
    pub values: BTreeMap<String, String>,
    /// `--flags`, a file name or `/api/v1/status/flags`.
    pub source: String,
}

impl Flags {
    /// Parses a command line or the contents of a flags file. Arguments that are not flags
    /// (the program name) are ignored; quotes group words as in a shell.
    ///
    /// ```
    /// let f = scenarios::import::Flags::parse(
    ///     "prometheus --storage.tsdb.wal-segment-size=64MB --storage.remote.flush-deadline 2m --no-storage.tsdb.wal-compression",
    ///     "--flags",
    /// );
    /// assert_eq!(f.get("storage.tsdb.wal-segment-size"), Some("64MB"));
    /// assert_eq!(f.get("storage.remote.flush-deadline"), Some("2m"));
    /// assert_eq!(f.get("storage.tsdb.wal-compression"), Some("false"));
    /// ```
    pub fn parse(text: &str, source: &str) -> Flags {
        let mut words = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            // An environment file: ARGS="--flag=value ..." (Debian's /etc/default/prometheus).
            let line = match line.split_once('=') {
                Some((var, rest))
                    if !var.starts_with('-') && var.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
                {
                    // The shell expands the variable unquoted: its value is split into words.
                    shell_words(rest).join(" ")
                }
                _ => line.to_string(),
            };
            words.extend(shell_words(&line));
        }
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            i += 1;
            let Some(flag) = w.strip_prefix("--") else { continue };
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => match flag.strip_prefix("no-") {
                    Some(n) if is_bool_flag(n) => (n.to_string(), "false".to_string()),
                    _ if is_bool_flag(flag) => (flag.to_string(), "true".to_string()),
                    _ => match words.get(i) {
                        Some(v) if !v.starts_with("--") => {
                            i += 1;
                            (flag.to_string(), v.clone())
                        }
                        _ => (flag.to_string(), "true".to_string()),
                    },
                },
            };
            if name == "enable-feature"
                && let Some(prev) = values.get_mut(&name)
            {
                prev.push(',');
                prev.push_str(&value);
                continue;
            }
            values.insert(name, value);
        }
        Flags { values, source: source.to_string() }
    }

    /// Flags from the JSON object of `/api/v1/status/flags` (`data`: name → value).
    pub fn from_map(values: BTreeMap<String, String>, source: &str) -> Flags {
        Flags { values, source: source.to_string() }
    }

    /// A flag's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether Prometheus runs in agent mode.
    pub fn agent_mode(&self) -> bool {
        self.get("agent") == Some("true")
            || self.get("enable-feature").is_some_and(|f| f.split(',').any(|x| x.trim() == "agent"))
    }
}

/// The boolean flags rwsim reads (a bare `--NAME` is true, `--no-NAME` false).
fn is_bool_flag(name: &str) -> bool {
    matches!(name, "storage.tsdb.wal-compression" | "agent" | "storage.agent.wal-compression")
}

/// Splits a line into words: whitespace separates, single and double quotes group, a
/// backslash escapes the next character (outside single quotes).
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_files_and_repeated_features() {
        let text = "# Set the command-line arguments to pass to the server.\n\
                    ARGS=\"--storage.tsdb.min-block-duration=30m --enable-feature=agent --enable-feature='memory-snapshot-on-shutdown'\"\n";
        let f = Flags::parse(text, "/etc/default/prometheus");
        assert_eq!(f.get("storage.tsdb.min-block-duration"), Some("30m"));
        assert_eq!(f.get("enable-feature"), Some("agent,memory-snapshot-on-shutdown"));
        assert!(f.agent_mode());
    }

    #[test]
    fn one_flag_per_line_and_bare_booleans() {
        let f = Flags::parse("--agent\n--storage.remote.flush-deadline=30s\n", "flags.txt");
        assert!(f.agent_mode());
        assert_eq!(f.get("storage.remote.flush-deadline"), Some("30s"));
        assert!(!Flags::parse("--config.file=/etc/p.yml", "x").agent_mode());
    }
}
