//! A toy backend that exists only in tests, to prove what adding a backend
//! costs: this folder and one line in the `backends!` list. It answers from
//! a fixed list of command lines given in its profile, attributed to runs
//! by the shared rule.

use serde::Deserialize;
use serde_json::json;

use super::{BackendError, Context, Plugin, Query, RunAnswer, attribution};
use crate::telemetry::{Category, Event};

/// A `toy` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToyConfig {
    /// Command lines the toy "saw".
    pub seen: Vec<String>,
}

/// The toy backend.
#[derive(Debug)]
pub struct Toy {
    events: Vec<Event>,
}

impl super::Backend for Toy {
    const NAME: &'static str = "toy";
    const POLLS: bool = false;

    async fn check(&self) -> Result<(), BackendError> {
        Ok(())
    }

    async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        let no_alerts: [serde_json::Value; 0] = [];
        Ok(attribution::answers(
            q.runs,
            &self.events,
            &no_alerts,
            Event::clone,
            |_, _| unreachable!("the toy has no alerts"),
            None,
        ))
    }
}

impl Plugin for Toy {
    type Config = ToyConfig;

    fn validate(c: &ToyConfig) -> Result<(), String> {
        if c.seen.is_empty() {
            return Err("`seen` is empty".into());
        }
        Ok(())
    }

    fn build(c: &ToyConfig, _: Context<'_>) -> Result<Toy, BackendError> {
        let events = c
            .seen
            .iter()
            .map(|cmd| Event {
                category: Category::ProcessCreation,
                arrived: None,
                at: None,
                hop: None,
                fields: json!({ "CommandLine": cmd })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Toy { events })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::backend::conformance::run;
    use crate::backend::{AnyBackend, Query};
    use crate::config::{Config, Profile};
    use crate::detect::Rules;

    #[tokio::test]
    async fn one_line_in_the_list_makes_a_profile_a_backend_and_dispatch() -> Result<(), String> {
        let text = "backends:\n  play:\n    kind: toy\n    seen: [\"sh -c echo cp01\", \"ls\"]\n";
        let config = Config::parse(text, Path::new("c.yaml")).map_err(|e| e.to_string())?;
        let profile = config
            .profile("play", Path::new("c.yaml"))
            .map_err(|e| e.to_string())?;
        assert!(matches!(profile, Profile::Toy(_)));
        let rules = Rules::load(&[]).map_err(|e| e.to_string())?;
        let backend = profile.build("play", rules).map_err(|e| e.to_string())?;
        assert!(matches!(backend, AnyBackend::Toy(_)));
        assert_eq!((backend.name(), backend.polls()), ("toy", false));
        backend.check().await.map_err(|e| e.to_string())?;
        let runs = [run("cp01"), run("cp02")];
        let answers = backend
            .query(Query { runs: &runs })
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(
            answers.iter().map(|a| a.events.len()).collect::<Vec<_>>(),
            [1, 0]
        );
        let bad = Config::parse(
            "backends:\n  p: { kind: toy, seen: [] }\n",
            Path::new("c.yaml"),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            bad.as_deref(),
            Some("load config c.yaml: backends.p: `seen` is empty")
        );
        Ok(())
    }
}
