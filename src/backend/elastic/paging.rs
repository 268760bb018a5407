//! How a search is paged so that no hit is lost or counted twice, decided
//! by the cluster's flavour and version (its `GET /` answer).
//!
//! `search_after` resumes after the sort values of the last hit, so the
//! sort must be total: with a tiebreaker that two documents can share
//! (`event.id` is often absent), the second of a tie at a page boundary is
//! skipped. A point-in-time (PIT) gives a frozen view and `_shard_doc`, a
//! tiebreaker unique per document within it:
//!
//! | cluster | paging |
//! | --- | --- |
//! | Elasticsearch ≥ 7.12 | PIT (`POST /<index>/_pit`, `DELETE /_pit`), sort `[time, _shard_doc]` |
//! | OpenSearch ≥ 3.3 | PIT (`POST /<index>/_search/point_in_time`, `DELETE /_search/point_in_time`), sort `[time, _shard_doc]` |
//! | older (OpenSearch 2.x, the Wazuh indexer; Elasticsearch < 7.12) | no PIT, sort `[time, _id]` |
//!
//! Elasticsearch added `_shard_doc` in 7.12 (PIT itself in 7.10), OpenSearch
//! in 3.3 (PIT itself in 2.4); before that no tiebreaker is unique within a
//! PIT either (`_doc` repeats across shards), so the fallback sorts by
//! `_id` — unique within an index and stable across refreshes and merges,
//! unlike `_doc`, which a merge renumbers between two requests without a
//! PIT. A document indexed behind the cursor during paging is found by the
//! next poll round.
//!
//! Owns the decision and the request shapes; the parent module sends them.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::backend::ErrorKind;

/// How long a PIT lives between two requests; each page extends it, and
/// one left open by a failure expires by itself after this.
pub const KEEP_ALIVE: &str = "1m";

/// How a cluster's searches are paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// A point-in-time with the `_shard_doc` tiebreaker, through `api`.
    Pit(PitApi),
    /// No point-in-time: sorted by time then `_id`.
    ById,
}

/// Whose point-in-time API a cluster speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PitApi {
    /// Elasticsearch's `_pit`.
    Elasticsearch,
    /// OpenSearch's `_search/point_in_time`.
    OpenSearch,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    version: Option<Version>,
}

#[derive(Deserialize)]
struct Version {
    #[serde(default)]
    distribution: Option<String>,
    #[serde(default)]
    number: Option<String>,
}

/// `major.minor` of a version number (`8.15.0`, `7.10.2-SNAPSHOT`).
fn major_minor(number: &str) -> Option<(u32, u32)> {
    let mut parts = number.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

impl Paging {
    /// The paging a cluster supports, from its `GET /` answer: OpenSearch
    /// says `version.distribution: "opensearch"`, Elasticsearch says no
    /// distribution. A version that cannot be read is taken as a current
    /// Elasticsearch (serverless projects report one; an older cluster
    /// then refuses the PIT with an error, never a silent miss).
    pub fn of(info: &[u8]) -> Result<Paging, ErrorKind> {
        let info: Info =
            serde_json::from_slice(info).map_err(|e| ErrorKind::malformed("cluster info", e))?;
        let version = info.version.as_ref();
        let opensearch = version
            .and_then(|v| v.distribution.as_deref())
            .is_some_and(|d| d.eq_ignore_ascii_case("opensearch"));
        let number = version
            .and_then(|v| v.number.as_deref())
            .and_then(major_minor);
        Ok(match (opensearch, number) {
            // 7.x from OpenSearch is its compatibility mode
            // (`compatibility.override_main_response_version`): the real
            // version is unknown, so no `_shard_doc` is assumed.
            (true, Some(v)) if v >= (3, 3) && v.0 < 7 => Paging::Pit(PitApi::OpenSearch),
            (true, _) => Paging::ById,
            (false, Some(v)) if v < (7, 12) => Paging::ById,
            (false, _) => Paging::Pit(PitApi::Elasticsearch),
        })
    }

    /// The tiebreaker that makes the sort total.
    pub fn tiebreaker(self) -> Value {
        match self {
            Paging::Pit(_) => json!({ "_shard_doc": { "order": "asc" } }),
            Paging::ById => json!({ "_id": { "order": "asc" } }),
        }
    }
}

impl PitApi {
    /// The path that opens a PIT over `index`.
    pub fn open_path(self, index: &str) -> String {
        match self {
            PitApi::Elasticsearch => format!("/{index}/_pit?keep_alive={KEEP_ALIVE}"),
            PitApi::OpenSearch => {
                format!("/{index}/_search/point_in_time?keep_alive={KEEP_ALIVE}")
            }
        }
    }

    /// The id of an opened PIT: Elasticsearch answers `{"id": ..}`,
    /// OpenSearch `{"pit_id": ..}`.
    pub fn opened(self, body: &[u8]) -> Result<String, ErrorKind> {
        let answer: Value =
            serde_json::from_slice(body).map_err(|e| ErrorKind::malformed("PIT answer", e))?;
        let key = match self {
            PitApi::Elasticsearch => "id",
            PitApi::OpenSearch => "pit_id",
        };
        answer
            .get(key)
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(String::from)
            .ok_or_else(|| ErrorKind::malformed("PIT answer", format!("no `{key}`")))
    }

    /// The path and body that close the PIT `id`.
    pub fn close(self, id: &str) -> (&'static str, Value) {
        match self {
            PitApi::Elasticsearch => ("/_pit", json!({ "id": id })),
            PitApi::OpenSearch => ("/_search/point_in_time", json!({ "pit_id": [id] })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flavour_and_version_decide_the_paging() {
        let info = |distribution: Option<&str>, number: &str| {
            let mut version = json!({ "number": number, "build_flavor": "default" });
            if let Some(d) = distribution {
                version["distribution"] = json!(d);
            }
            Paging::of(
                json!({ "name": "n1", "version": version })
                    .to_string()
                    .as_bytes(),
            )
        };
        let es = Paging::Pit(PitApi::Elasticsearch);
        let os = Paging::Pit(PitApi::OpenSearch);
        let cases = [
            (None, "8.15.0", es),
            (None, "7.12.0", es),
            (None, "7.11.2", Paging::ById),
            (None, "6.8.23", Paging::ById),
            (None, "weird", es),
            (Some("opensearch"), "3.3.0", os),
            (Some("opensearch"), "3.10.1", os),
            (Some("opensearch"), "3.2.0", Paging::ById),
            (Some("opensearch"), "2.19.1", Paging::ById),
            // The compatibility mode reports 7.10.2 and keeps the distribution.
            (Some("opensearch"), "7.10.2", Paging::ById),
        ];
        for (distribution, number, want) in cases {
            assert_eq!(
                info(distribution, number),
                Ok(want),
                "{distribution:?} {number}"
            );
        }
        assert!(matches!(
            Paging::of(b"<html>"),
            Err(ErrorKind::Malformed { .. })
        ));
    }

    #[test]
    fn each_api_opens_and_closes_its_own_way() {
        let es = PitApi::Elasticsearch;
        let os = PitApi::OpenSearch;
        assert_eq!(es.open_path("logs-*"), "/logs-*/_pit?keep_alive=1m");
        assert_eq!(
            os.open_path("logs-*"),
            "/logs-*/_search/point_in_time?keep_alive=1m"
        );
        assert_eq!(es.opened(br#"{"id":"p1","_shards":{}}"#), Ok("p1".into()));
        assert_eq!(
            os.opened(br#"{"pit_id":"p2","creation_time":1}"#),
            Ok("p2".into())
        );
        assert!(es.opened(br#"{"pit_id":"p2"}"#).is_err());
        assert!(os.opened(br#"{"id":""}"#).is_err());
        assert_eq!(es.close("p1"), ("/_pit", json!({"id": "p1"})));
        assert_eq!(
            os.close("p2"),
            ("/_search/point_in_time", json!({"pit_id": ["p2"]}))
        );
    }
}
