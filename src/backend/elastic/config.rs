//! The `elastic` profile: where the cluster is, how to authenticate, which
//! index patterns hold the telemetry and the alerts, and the page size.
//! Shape checks only (no I/O); the client is built in the parent module.

use std::time::Duration;

use serde::Deserialize;

use super::profile::FieldProfile;
use crate::backend::http::AuthConfig;

/// The largest page Elasticsearch serves by default (`index.max_result_window`).
const MAX_PAGE_SIZE: u32 = 10_000;

/// An `elastic` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ElasticConfig {
    /// Cluster endpoint, e.g. `https://es.lab:9200`.
    pub url: String,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "crate::vocab::duration_text")]
    pub timeout: Duration,
    /// Authentication; Elastic API keys are `type: scheme`, `scheme: ApiKey`.
    pub auth: AuthConfig,
    /// How the documents name their fields, and which alerts they hold.
    #[serde(default)]
    pub fields: FieldProfile,
    /// Index pattern of the telemetry (default by profile: `logs-*`,
    /// `winlogbeat-*`, `wazuh-archives-4.x-*`).
    #[serde(default)]
    pub events_index: Option<String>,
    /// Index pattern of the alerts (default by profile:
    /// `.alerts-security.alerts-*`, or `wazuh-alerts-4.x-*` for `wazuh`).
    #[serde(default)]
    pub alerts_index: Option<String>,
    /// Hits per page.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_page_size() -> u32 {
    500
}

impl ElasticConfig {
    /// The events index pattern, the profile's default if none is set.
    pub fn events_index(&self) -> &str {
        self.events_index
            .as_deref()
            .unwrap_or(self.fields.default_events_index())
    }

    /// The alerts index pattern, the profile's default if none is set.
    pub fn alerts_index(&self) -> &str {
        self.alerts_index
            .as_deref()
            .unwrap_or(self.fields.default_alerts_index())
    }

    /// Checks shape, no I/O: index patterns fit in a URL path, the page
    /// size is one Elasticsearch serves, the auth references are sound.
    pub fn validate(&self) -> Result<(), String> {
        check_index("events_index", self.events_index())?;
        check_index("alerts_index", self.alerts_index())?;
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(format!(
                "page_size {} is outside 1..={MAX_PAGE_SIZE}",
                self.page_size
            ));
        }
        self.auth.validate()
    }
}

/// An index pattern goes into the URL path as is, so it may hold only
/// what index names and multi-target syntax use (`logs-*,-logs-x`,
/// `cluster:index`, `.alerts-*`).
fn check_index(field: &str, pattern: &str) -> Result<(), String> {
    let bad = pattern.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | ',' | ':' | '+'))
    });
    if let Some(c) = bad {
        return Err(format!("{field} `{pattern}` holds {c:?}"));
    }
    if pattern.split(',').any(str::is_empty) {
        return Err(format!("{field} `{pattern}` has an empty index name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "url: https://es.lab:9200\ntimeout: 20s\nauth: {type: scheme, scheme: ApiKey, credential: {env: ES_API_KEY}}\n";

    #[test]
    fn profiles_parse_with_defaults_and_refuse_unknown_fields() -> Result<(), serde_yaml_ng::Error>
    {
        let yaml = YAML;
        let cfg: ElasticConfig = serde_yaml_ng::from_str(yaml)?;
        assert_eq!(cfg.fields, FieldProfile::Ecs);
        assert_eq!(cfg.timeout, Duration::from_secs(20));
        assert_eq!(
            (cfg.events_index(), cfg.alerts_index()),
            ("logs-*", ".alerts-security.alerts-*")
        );
        assert_eq!(cfg.page_size, 500);
        assert_eq!(cfg.validate(), Ok(()));
        let wazuh: ElasticConfig = serde_yaml_ng::from_str(&format!(
            "{yaml}fields: wazuh\nalerts_index: wazuh-alerts-4.x-2026.*\npage_size: 100\n"
        ))?;
        assert_eq!(wazuh.events_index(), "wazuh-archives-4.x-*");
        assert_eq!(wazuh.alerts_index(), "wazuh-alerts-4.x-2026.*");
        assert!(serde_yaml_ng::from_str::<ElasticConfig>(&format!("{yaml}index: x\n")).is_err());
        assert!(
            serde_yaml_ng::from_str::<ElasticConfig>(&format!("{yaml}fields: sysmon\n")).is_err()
        );
        Ok(())
    }

    #[test]
    fn validation_refuses_unsafe_index_patterns_and_page_sizes() {
        let good: ElasticConfig = serde_yaml_ng::from_str(YAML).unwrap_or_else(|e| panic!("{e}"));
        for pattern in [
            "logs-*",
            "logs-*,-logs-x",
            "remote:logs-*",
            ".alerts-security.alerts-default",
        ] {
            let mut c = good.clone();
            c.events_index = Some(pattern.into());
            assert_eq!(c.validate(), Ok(()), "{pattern}");
        }
        for pattern in [
            "",
            "logs-*/_delete_by_query",
            "a b",
            "logs?x",
            "a,,b",
            "x#y",
            "é",
        ] {
            let mut c = good.clone();
            c.alerts_index = Some(pattern.into());
            assert!(c.validate().is_err(), "{pattern:?}");
        }
        for size in [0, 10_001] {
            let mut c = good.clone();
            c.page_size = size;
            assert!(c.validate().is_err(), "{size}");
        }
    }
}
