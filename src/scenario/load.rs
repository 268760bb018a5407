//! Reading scenario files from disk or from the embedded default set, with
//! errors that name the file, the line and column, and the field.

use std::path::{Path, PathBuf};

use super::{Scenario, Source, check};
use crate::intake;
use crate::intake::yaml::YamlError;

/// The scenarios compiled into the binary, so `chainproof run` works from any
/// directory; `scenarios/` in the repository holds the same files.
const EMBEDDED: &[(&str, &str)] = crate::shipped::SCENARIOS;

/// A scenario that passed every check.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The parsed scenario.
    pub scenario: Scenario,
    /// Where it came from.
    pub source: Source,
}

impl Loaded {
    /// The file's name (for the built-in set, its name in `scenarios/`),
    /// or `<id>.yaml`: how evidence bundles and remote runs name its copy.
    pub fn file_name(&self) -> String {
        self.source
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{}.yaml", self.scenario.id))
    }
}

/// Why scenarios could not be loaded; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file or folder could not be read.
    #[error("read scenario {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file was refused before parsing: not a regular file, too large,
    /// not UTF-8 (see [`crate::intake`]).
    /// (The cause is in the message: `validate` prints no cause chain.)
    #[error("{}: {refusal}", refusal.path().display())]
    Refused {
        /// Why.
        refusal: crate::intake::IntakeError,
    },
    /// The file is not a valid scenario.
    #[error(transparent)]
    Invalid(YamlError),
    /// Two files declare the same id.
    #[error("{}: id: `{id}` is already used by {}", second.display(), first.display())]
    DuplicateId {
        /// The id.
        id: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// A folder held no scenario file.
    #[error("find scenarios: {} holds no .yaml or .yml file", path.display())]
    Empty {
        /// The folder.
        path: PathBuf,
    },
}

impl From<intake::IntakeError> for LoadError {
    fn from(refusal: intake::IntakeError) -> LoadError {
        LoadError::Refused { refusal }
    }
}

/// Loads scenarios from files and folders (folders: every `*.yaml`/`*.yml`,
/// sorted), or the embedded set when `paths` is empty. Returns every error,
/// not only the first, so `validate` can list them all.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Loaded>, Vec<LoadError>> {
    load_paths_with(paths, load_source)
}

/// Loads the scenario texts a recorded run ran with (a report folder's
/// `scenarios/`, `verify --scenarios`): parsed, but not checked again. A
/// rule added since (a macOS container, say) must not make history
/// unreadable: the record's SHA-256 of each text, compared before the text
/// is used, is what proves it is the one that ran, and it was checked then.
pub fn load_paths_as_ran(paths: &[PathBuf]) -> Result<Vec<Loaded>, Vec<LoadError>> {
    load_paths_with(paths, parse_source)
}

fn load_paths_with(
    paths: &[PathBuf],
    load: fn(Source) -> Result<Loaded, Vec<LoadError>>,
) -> Result<Vec<Loaded>, Vec<LoadError>> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    if paths.is_empty() {
        for (name, text) in EMBEDDED {
            sources.push(Source {
                path: Path::new("<embedded>").join(name),
                text: text.to_string(),
            });
        }
    }
    for path in paths {
        match collect_files(path) {
            Ok(files) => {
                for file in files {
                    match intake::read_text(&file, intake::Kind::Scenario) {
                        Ok(text) => sources.push(Source { path: file, text }),
                        Err(e) => errors.push(e.into()),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let mut loaded: Vec<Loaded> = Vec::new();
    for source in sources {
        match load(source) {
            Ok(l) => {
                if let Some(first) = loaded.iter().find(|o| o.scenario.id == l.scenario.id) {
                    errors.push(LoadError::DuplicateId {
                        id: l.scenario.id.clone(),
                        first: first.source.path.clone(),
                        second: l.source.path.clone(),
                    });
                } else {
                    loaded.push(l);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

fn collect_files(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|error| intake::IntakeError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read)? {
        let p = entry.map_err(read)?.path();
        let yaml = matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
        // Not `is_file`: a FIFO named like a scenario is refused, not skipped.
        if yaml && !p.is_dir() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(files)
}

/// Parses and checks one scenario text: the entry point for "this text is a
/// scenario" (what `validate` does after reading a file). Texts nested
/// deeper than [`intake::yaml::MAX_DEPTH`] are refused before parsing.
pub fn load_source(source: Source) -> Result<Loaded, Vec<LoadError>> {
    let loaded = parse_source(source)?;
    let problems = check::check(&loaded.scenario);
    if !problems.is_empty() {
        let source = loaded.source;
        return Err(problems
            .into_iter()
            .map(|p| {
                let line = locate(&source.text, &p.field);
                LoadError::Invalid(YamlError {
                    path: source.path.clone(),
                    line,
                    column: None,
                    field: p.field,
                    message: p.message,
                })
            })
            .collect());
    }
    Ok(loaded)
}

/// Parses one scenario text without checking it: control characters and
/// nesting are still refused.
fn parse_source(source: Source) -> Result<Loaded, Vec<LoadError>> {
    if let Some((line, column)) = control_character(&source.text) {
        return Err(vec![LoadError::Invalid(YamlError {
            path: source.path.clone(),
            line: Some(line),
            column: Some(column),
            field: "(document)".into(),
            message: "control character in the file (terminal escapes and the like are refused)"
                .into(),
        })]);
    }
    let scenario: Scenario =
        intake::yaml::parse(&source.text, &source.path).map_err(|e| vec![LoadError::Invalid(e)])?;
    Ok(Loaded { scenario, source })
}

/// Line and column of the first control character other than tab and line
/// ends, or a bidirectional override, which could disguise a command line.
fn control_character(text: &str) -> Option<(usize, usize)> {
    for (i, line) in text.lines().enumerate() {
        let bad = |c: char| {
            (c.is_control() && !matches!(c, '\t' | '\r'))
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        };
        if let Some(col) = line.chars().position(bad) {
            return Some((i + 1, col + 1));
        }
    }
    None
}

/// Best-effort line of a dotted field path (`variants.linux.chain[1].run`)
/// in the YAML text: each key is searched for after the previous one.
fn locate(text: &str, field: &str) -> Option<usize> {
    let keys: Vec<&str> = field
        .split('.')
        .map(|k| k.split('[').next().unwrap_or(k))
        .filter(|k| !k.is_empty())
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    let mut line = 0;
    let mut found = None;
    for key in keys {
        let needle = format!("{key}:");
        let hit = (line..lines.len()).find(|&i| {
            let l = lines[i];
            l.match_indices(&needle).any(|(j, _)| {
                j == 0 || !l[..j].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            })
        })?;
        line = hit;
        found = Some(hit + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_set_loads_and_passes_checks() {
        let loaded = load_paths(&[]).map_err(|e| format!("{e:?}"));
        let loaded = loaded.unwrap_or_else(|e| panic!("embedded scenarios invalid: {e}"));
        let ids: Vec<&str> = loaded.iter().map(|l| l.scenario.id.as_str()).collect();
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(ids.len(), files, "every file in scenarios/ is embedded");
        for id in [
            "macro-doc-shell",
            "shortcut-script",
            "iso-exec",
            "control-pdf-browser",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
    }

    /// A text that ran before a check was added (the recording's iso-exec
    /// starts its DMG's program at the image's root) is refused as a
    /// scenario, and read as the text a run used.
    #[test]
    fn a_recorded_text_is_read_as_it_ran_and_not_checked_again() {
        let recorded = concat!(env!("CARGO_MANIFEST_DIR"), "/ci/recording/scenarios");
        let path = PathBuf::from(recorded);
        let refused = load_paths(std::slice::from_ref(&path))
            .err()
            .unwrap_or_default();
        assert!(
            refused
                .iter()
                .any(|e| e.to_string().contains("application bundle")),
            "{refused:?}"
        );
        let ran = load_paths_as_ran(&[path]).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ran.len(), 3);
    }

    #[test]
    fn locate_finds_nested_keys_in_order() {
        let text = "id: x\nvariants:\n  linux:\n    artifact: { kind: odt-macro, name: a }\n  windows:\n    artifact:\n      name: b\n";
        assert_eq!(locate(text, "variants.linux.artifact.name"), Some(4));
        assert_eq!(locate(text, "variants.windows.artifact.name"), Some(7));
        assert_eq!(locate(text, "nothing"), None);
    }

    #[test]
    fn control_characters_are_refused_where_they_are() {
        assert_eq!(
            control_character("id: x\ntitle: a\u{1b}[31mred\n"),
            Some((2, 9))
        );
        assert_eq!(control_character("a: \u{202e}x\n"), Some((1, 4)));
        assert_eq!(control_character("a: b\tc\r\nd: e\n"), None);
    }
}
