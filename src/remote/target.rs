//! Remote targets: `ssh://[user@]host[:port]` addresses and inventory files
//! that list them.
//!
//! ```yaml
//! targets:
//!   - ssh://lab@lab-linux-01
//!   - url: ssh://admin@lab-mac-01:2222
//!     name: mac-01
//!     harness: dist/chainproof-aarch64-apple-darwin
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One host to run the suite on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address as written (`ssh://…`).
    pub url: String,
    /// Login user; `None` lets ssh decide (`~/.ssh/config`, the local user).
    pub user: Option<String>,
    /// Host name, address or `~/.ssh/config` alias, checked by the lab guard.
    pub host: String,
    /// Port; `None` lets ssh decide.
    pub port: Option<u16>,
    /// Name in reports and folder names (the inventory's `name`, else the host).
    pub name: String,
    /// A chainproof binary built for the target's OS and CPU, when it is not
    /// the controller's own.
    pub harness: Option<PathBuf>,
}

/// Parses `ssh://[user@]host[:port][/]`; IPv6 addresses in brackets.
pub fn parse(url: &str) -> Result<Target, String> {
    let bad = |why: &str| format!("target `{url}`: {why} (expected ssh://[user@]host[:port])");
    let rest = url
        .strip_prefix("ssh://")
        .ok_or_else(|| bad("not an ssh:// address"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err(bad("a path, query or fragment is not allowed"));
    }
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed `[` in the host"))?;
        match after {
            "" => (h, None),
            p => (
                h,
                Some(p.strip_prefix(':').ok_or_else(|| bad("junk after `]`"))?),
            ),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
        ),
    };
    // Whatever reaches ssh's command line must not read as an option.
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('-')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-:%".contains(c))
    };
    if !plain(host) || host.starts_with('.') {
        return Err(bad(
            "the host is empty or has characters a host name cannot have",
        ));
    }
    if let Some(u) = user
        && !plain(u)
    {
        return Err(bad(
            "the user is empty or has characters a user name cannot have",
        ));
    }
    Ok(Target {
        url: url.to_string(),
        user: user.map(String::from),
        host: host.to_string(),
        port,
        name: host.to_string(),
        harness: None,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inventory {
    targets: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Url(String),
    Full(FullEntry),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FullEntry {
    url: String,
    name: Option<String>,
    harness: Option<PathBuf>,
}

/// Reads an inventory file. Errors name the file and, where the YAML parser
/// knows it, the line; relative `harness` paths are resolved against the
/// file's folder. Names must be unique.
pub fn load_inventory(path: &Path) -> Result<Vec<Target>, String> {
    let file = path.display();
    let text = crate::intake::read_text(path, crate::intake::Kind::Inventory)
        .map_err(|e| format!("{file}: {e}"))?;
    let inv: Inventory = crate::intake::yaml::parse(&text, path).map_err(|e| {
        format!(
            "{e} (an inventory is `targets:` with ssh:// addresses or \
             {{url, name, harness}} entries)"
        )
    })?;
    if inv.targets.is_empty() {
        return Err(format!("{file}: `targets` is empty"));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut targets: Vec<Target> = Vec::new();
    for (i, entry) in inv.targets.into_iter().enumerate() {
        let (url, name, harness) = match entry {
            Entry::Url(u) => (u, None, None),
            Entry::Full(f) => (f.url, f.name, f.harness),
        };
        let mut t = parse(&url).map_err(|e| format!("{file}: targets[{i}]: {e}"))?;
        if let Some(n) = name {
            if n.is_empty()
                || n.starts_with('.')
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                return Err(format!(
                    "{file}: targets[{i}].name `{n}`: use letters, digits, `.`, `_` and `-` \
                     (it names a folder)"
                ));
            }
            t.name = n;
        }
        t.harness = harness.map(|h| base.join(h));
        if targets.iter().any(|o| o.name == t.name) {
            return Err(format!(
                "{file}: targets[{i}]: the name `{}` is used twice; give each entry its own `name`",
                t.name
            ));
        }
        targets.push(t);
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_into_user_host_and_port() {
        let t = parse("ssh://lab@10.0.0.2:2222").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port),
            (Some("lab"), "10.0.0.2", Some(2222))
        );
        let t = parse("ssh://lab-linux-01/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.user, t.host.as_str(), t.port),
            (None, "lab-linux-01", None)
        );
        let t = parse("ssh://root@[fd00::2]:22").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.host.as_str(), t.port), ("fd00::2", Some(22)));
        for bad in [
            "lab-linux-01",
            "http://x",
            "ssh://",
            "ssh://-oProxyCommand=x",
            "ssh://a@-b",
            "ssh://host:0",
            "ssh://host:99999",
            "ssh://host/path",
            "ssh://us er@host",
            "ssh://host;rm",
            "ssh://[::1",
            "ssh://..",
            "ssh://.hidden",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn inventories_name_file_line_and_entry_in_errors() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("targets.yaml");
        let ok = "targets:\n  - ssh://lab@a\n  - url: ssh://b:2200\n    name: mac-01\n    harness: bin/cp\n";
        std::fs::write(&p, ok).unwrap_or_else(|e| panic!("{e}"));
        let t = load_inventory(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].name.as_str(), t[1].name.as_str()), ("a", "mac-01"));
        assert_eq!(
            t[1].harness.as_deref(),
            Some(dir.path().join("bin/cp").as_path())
        );
        for (text, want) in [
            ("targets:\n  - ssh://a\n  - ftp://b\n", "targets[1]"),
            (
                "targets:\n  - url: ssh://a\n    port: 2\n",
                "targets.yaml:2:",
            ),
            ("targets: []\n", "empty"),
            ("targets:\n  - ssh://a\n  - ssh://u@a\n", "used twice"),
            (
                "targets:\n  - url: ssh://a\n    name: ../x\n",
                "names a folder",
            ),
        ] {
            std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
            let err = load_inventory(&p).err().unwrap_or_default();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn hostile_inventories_are_refused_unparsed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let deep = dir.path().join("deep.yaml");
        let text = format!("targets: {}\n", "[".repeat(50_000));
        std::fs::write(&deep, text).unwrap_or_else(|e| panic!("{e}"));
        let err = load_inventory(&deep).err().unwrap_or_default();
        assert!(
            err.contains("deep.yaml:1:73: (document): nesting deeper than 64 levels"),
            "{err}"
        );
        let err = load_inventory(Path::new("/dev/zero"))
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("/dev/zero: is a device, not a regular file"),
            "{err}"
        );
    }
}
