//! Loading a rule corpus: every file parsed, every rule compiled in one
//! batch (one index rebuild for the whole set, not one per file), and every
//! refusal counted with its file and reason instead of ending the load.
//!
//! What may be refused is decided here and nowhere else: a file that cannot
//! be read safely (see [`crate::intake`]), YAML that is not Sigma, a correlation rule (the embedded engine
//! evaluates single events), a rule the engine cannot compile, a filter that
//! names no loaded rule. `strict` turns any refusal into an error naming all
//! of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rsigma_eval::Engine;
use rsigma_parser::{SigmaRule, parse_sigma_yaml};

use super::{DetectError, analytic};

/// Why a rule (or a whole file) was not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The file was refused before parsing: not a regular file, over the
    /// size limit, not UTF-8, or nested too deep (see [`crate::intake`]).
    Input,
    /// The file is not valid YAML or not a Sigma document.
    Parse,
    /// A legacy aggregation in the condition (`| count() by …`, `| near`),
    /// which Sigma 2 replaced by correlation rules.
    Aggregation,
    /// A correlation rule (`count`, `near`, `temporal`…): the embedded engine
    /// evaluates events one at a time.
    Correlation,
    /// The rule parsed but the engine cannot compile it (an unsupported
    /// modifier or condition).
    Compile,
    /// A filter rule the engine could not apply.
    Filter,
}

impl Reason {
    /// The reason as JSON and the run record name it (`parse`,
    /// `aggregation`…), the same as its serialised form.
    pub fn key(self) -> &'static str {
        match self {
            Reason::Input => "input",
            Reason::Parse => "parse",
            Reason::Aggregation => "aggregation",
            Reason::Correlation => "correlation",
            Reason::Compile => "compile",
            Reason::Filter => "filter",
        }
    }

    /// The reason as the summary shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Input => "refused input",
            Reason::Parse => "not valid Sigma",
            Reason::Aggregation => "legacy aggregation (not supported)",
            Reason::Correlation => "correlation rule (not supported)",
            Reason::Compile => "not supported by the engine",
            Reason::Filter => "filter not applicable",
        }
    }
}

/// One refused rule or file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Refusal {
    /// The file it came from.
    pub path: PathBuf,
    /// The rule's id, or its title when it has none (absent when the whole
    /// file was refused).
    pub rule: Option<String>,
    /// Why, as a class.
    pub reason: Reason,
    /// The parser's or engine's own words.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(rule) = &self.rule {
            write!(f, " ({rule})")?;
        }
        write!(f, ": {}: {}", self.reason.as_str(), self.message)
    }
}

/// What a load read, loaded and refused.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Rule files read.
    pub files: usize,
    /// Rules loaded (Sigma rules and chain analytics).
    pub loaded: usize,
    /// Everything not loaded, in file order.
    pub refused: Vec<Refusal>,
}

impl Summary {
    /// Refusals counted by reason, in a stable order.
    pub fn by_reason(&self) -> BTreeMap<Reason, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.refused {
            *counts.entry(r.reason).or_insert(0) += 1;
        }
        counts
    }

    /// The load as the run record keeps it.
    pub fn to_record(&self) -> crate::record::RuleLoad {
        crate::record::RuleLoad {
            files: self.files,
            loaded: self.loaded,
            by_reason: self
                .by_reason()
                .into_iter()
                .map(|(r, n)| (r.key().to_string(), n))
                .collect(),
            refused: self
                .refused
                .iter()
                .map(|r| crate::record::RuleRefusal {
                    path: r.path.display().to_string(),
                    rule: r.rule.clone(),
                    reason: r.reason.key().to_string(),
                    message: r.message.clone(),
                })
                .collect(),
        }
    }

    /// One line: `N rules loaded from F files; M refused (a: x, b: y)`.
    pub fn line(&self) -> String {
        let mut text = format!(
            "{} rule{} loaded from {} file{}",
            self.loaded,
            if self.loaded == 1 { "" } else { "s" },
            self.files,
            if self.files == 1 { "" } else { "s" }
        );
        if !self.refused.is_empty() {
            let reasons: Vec<String> = self
                .by_reason()
                .into_iter()
                .map(|(r, n)| format!("{}: {n}", r.as_str()))
                .collect();
            text.push_str(&format!(
                "; {} refused ({})",
                self.refused.len(),
                reasons.join(", ")
            ));
        }
        text
    }
}

/// The parts of a loaded rule set.
pub(super) struct Loaded {
    pub engine: Engine,
    pub analytics: Vec<analytic::Det0294Linux>,
    pub summary: Summary,
    pub needs: Vec<super::needs::Needs>,
}

/// Parses every `(path, text)`, compiles all Sigma rules in one batch and
/// applies filters once they are all in. `refused` holds the files already
/// refused unread; they count as files of the load. `parsed(done, total)`
/// is called before each text is parsed, with how many are done.
pub(super) fn compile(
    texts: Vec<(PathBuf, String)>,
    refused: Vec<Refusal>,
    parsed: &mut dyn FnMut(usize, usize),
) -> Loaded {
    let total = texts.len();
    let mut summary = Summary {
        files: texts.len() + refused.len(),
        refused,
        ..Summary::default()
    };
    let mut analytics = Vec::new();
    let mut rules: Vec<(PathBuf, SigmaRule)> = Vec::new();
    let mut filters = Vec::new();
    for (done, (path, text)) in texts.into_iter().enumerate() {
        parsed(done, total);
        // rsigma-parser and serde_yaml_ng share a scanner that is quadratic
        // in nesting depth: refuse deep files before either sees them.
        if let Err(e) = crate::intake::yaml::check(&text) {
            let message = format!("line {} column {}: {e}", e.line, e.column);
            summary
                .refused
                .push(Refusal::new(&path, None, Reason::Input, message));
            continue;
        }
        if text.lines().any(|l| l.starts_with("chainproof_analytic:")) {
            match analytic::load(&path, &text) {
                Ok(a) => analytics.push(a),
                Err(e) => summary
                    .refused
                    .push(Refusal::new(&path, None, Reason::Parse, e)),
            }
            continue;
        }
        let collection = match parse_sigma_yaml(&text) {
            Ok(c) => c,
            Err(e) => {
                let message = e.to_string();
                let reason = parse_reason(&message);
                summary
                    .refused
                    .push(Refusal::new(&path, None, reason, message));
                continue;
            }
        };
        for message in collection.errors {
            let reason = parse_reason(&message);
            summary
                .refused
                .push(Refusal::new(&path, None, reason, message));
        }
        for c in collection.correlations {
            let name = c.id.clone().unwrap_or(c.title.clone());
            let message = format!("correlation `{}`", c.title);
            summary.refused.push(Refusal::new(
                &path,
                Some(name),
                Reason::Correlation,
                message,
            ));
        }
        rules.extend(collection.rules.into_iter().map(|r| (path.clone(), r)));
        filters.extend(collection.filters.into_iter().map(|f| (path.clone(), f)));
    }
    let mut engine = Engine::new();
    let errors = engine.add_rules(rules.iter().map(|(_, r)| r));
    let mut failed = vec![false; rules.len()];
    for (index, error) in errors {
        if let Some((path, rule)) = rules.get(index) {
            failed[index] = true;
            let name = rule.id.clone().unwrap_or(rule.title.clone());
            summary
                .refused
                .push(Refusal::new(path, Some(name), Reason::Compile, error));
        }
    }
    for (path, filter) in &filters {
        if let Err(e) = engine.apply_filter(filter) {
            let name = filter.id.clone().unwrap_or(filter.title.clone());
            summary
                .refused
                .push(Refusal::new(path, Some(name), Reason::Filter, e));
        }
    }
    summary.loaded = failed.iter().filter(|f| !**f).count() + analytics.len();
    let needs = rules
        .iter()
        .zip(&failed)
        .filter(|(_, failed)| !**failed)
        .map(|((_, r), _)| super::needs::Needs::of(r))
        .collect();
    // File order, then the order found: the summary reads like the folder.
    summary.refused.sort_by(|a, b| a.path.cmp(&b.path));
    Loaded {
        engine,
        analytics,
        summary,
        needs,
    }
}

/// A parse error caused by a pipe in the condition is the legacy
/// aggregation syntax, not a broken file.
fn parse_reason(message: &str) -> Reason {
    const AGGREGATES: [&str; 6] = ["|count(", "|near", "|min(", "|max(", "|sum(", "|avg("];
    let aggregation = message.contains("Condition parse error")
        && message.lines().any(|l| {
            let packed: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            AGGREGATES.iter().any(|a| packed.contains(a))
        });
    if aggregation {
        Reason::Aggregation
    } else {
        Reason::Parse
    }
}

impl Refusal {
    /// A refusal; the message on one line (parsers draw multi-line carets).
    pub fn new(
        path: &Path,
        rule: Option<String>,
        reason: Reason,
        message: impl std::fmt::Display,
    ) -> Refusal {
        Refusal {
            path: path.to_path_buf(),
            rule,
            reason,
            message: message
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Every `*.yml`/`*.yaml` file below `path` (recursively, sorted), or
/// `path` itself when it is a file.
pub(super) fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), DetectError> {
    let read = |source| DetectError::Read {
        path: path.to_path_buf(),
        source,
    };
    if !std::fs::metadata(path).map_err(read)?.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read)?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_is_reported_before_it_is_parsed() {
        let texts: Vec<(PathBuf, String)> = (0..3)
            .map(|i| (PathBuf::from(format!("{i}.yml")), "title: [\n".to_string()))
            .collect();
        let mut seen = Vec::new();
        let loaded = compile(texts, Vec::new(), &mut |done, total| {
            seen.push((done, total))
        });
        assert_eq!(seen, [(0, 3), (1, 3), (2, 3)]);
        assert_eq!(loaded.summary.refused.len(), 3);
    }

    #[test]
    fn reason_keys_are_their_serialised_names() {
        for r in [
            Reason::Input,
            Reason::Parse,
            Reason::Aggregation,
            Reason::Correlation,
            Reason::Compile,
            Reason::Filter,
        ] {
            assert_eq!(serde_json::to_value(r).ok(), Some(r.key().into()));
        }
    }

    #[test]
    fn legacy_aggregations_are_told_from_broken_files() {
        let texts = vec![
            (
                PathBuf::from("agg.yml"),
                "title: Brute force\nlogsource: {product: linux}\ndetection:\n  sel: {a: b}\n  condition: sel | count(user) by src > 30\n".to_string(),
            ),
            (
                PathBuf::from("near.yml"),
                "title: Near\nlogsource: {product: linux}\ndetection:\n  a: {x: y}\n  b: {z: w}\n  condition: a |near b\n".to_string(),
            ),
            (PathBuf::from("broken.yml"), "title: [\n".to_string()),
        ];
        let loaded = compile(texts, Vec::new(), &mut |_, _| {});
        let got: Vec<(&str, Reason)> = loaded
            .summary
            .refused
            .iter()
            .map(|r| (r.path.to_str().unwrap_or_default(), r.reason))
            .collect();
        assert_eq!(
            got,
            [
                ("agg.yml", Reason::Aggregation),
                ("broken.yml", Reason::Parse),
                ("near.yml", Reason::Aggregation)
            ]
        );
        assert!(
            loaded
                .summary
                .refused
                .iter()
                .all(|r| !r.message.contains('\n'))
        );
        assert_eq!(loaded.summary.loaded, 0);
        assert_eq!(loaded.summary.files, 3);
    }
}
