//! The lab guard: scheduled (and remote) runs execute only on hosts an
//! allow-list in the config names, so a schedule copied to the wrong
//! machine refuses to start instead of running simulations there.
//!
//! ```yaml
//! lab:
//!   allow: [lab-linux-*, win11-lab-01]
//! ```

use serde::Deserialize;

/// The `lab` section of the config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    /// Host names (case-insensitive; `*` and `?` wildcards) where scheduled
    /// and remote runs may execute.
    #[serde(default)]
    pub allow: Vec<String>,
    /// The lab's mail server (`host:port`, plain SMTP) that scenarios
    /// delivered by email send their message to, so the lab's mail gateway
    /// and its logs see it; without it, the harness runs a loopback SMTP
    /// listener for each message.
    #[serde(default)]
    pub mail_server: Option<String>,
}

impl Lab {
    /// Ok when `host` is allowed; else why not, naming the host and the list.
    pub fn check(&self, host: &str) -> Result<(), String> {
        if self.allow.iter().any(|p| glob(p, host)) {
            return Ok(());
        }
        if self.allow.is_empty() {
            return Err(format!(
                "host `{host}` is not a lab host: the config's `lab.allow` list is empty \
                 (scheduled and remote runs need it to name the lab's hosts)"
            ));
        }
        Err(format!(
            "host `{host}` is not in the config's lab allow-list ({}); refusing to run here",
            self.allow.join(", ")
        ))
    }
}

/// Case-insensitive match of `text` against `pattern` with `*` and `?`.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_hosts_pass() {
        let lab = Lab {
            allow: vec!["lab-linux-*".into(), "WIN11-LAB-0?".into()],
            mail_server: None,
        };
        for ok in ["lab-linux-01", "LAB-LINUX-x", "win11-lab-07"] {
            assert_eq!(lab.check(ok), Ok(()), "{ok}");
        }
        for bad in ["laptop", "lab-linux", "win11-lab-10", "xlab-linux-01", ""] {
            let err = lab.check(bad).err().unwrap_or_default();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
        assert!(Lab::default().check("any").is_err());
        assert!(glob("*", "") && glob("a*b*c", "axxbyyc") && !glob("a*b", "ac"));
    }
}
