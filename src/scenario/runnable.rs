//! Checks that make `validate` refuse what a run would fail on later: file
//! names the file system cannot hold once the token is in, documents the
//! emulated opener cannot recognise, and commands the artifact cannot carry.
//!
//! Each of these used to pass `validate` and fail at run time; the ODT ones
//! were worse than a failure: the opener read nothing, started nothing, and
//! the chain was reported `blocked`, a false verdict about the host.

use super::check::Problem;
use super::template::Vars;
use super::{Platform, Scenario, Variant};
use crate::artifact::{ArtifactKind, odt};

/// Longest file name (in bytes) Linux, macOS and Windows file systems hold.
pub const NAME_MAX: usize = 255;

/// Every problem of this kind in `s`.
pub fn check(s: &Scenario) -> Vec<Problem> {
    let mut problems = Vec::new();
    for platform in Platform::ALL {
        if let Some(v) = s.variants.get(platform) {
            variant(&mut problems, &format!("variants.{platform}"), v);
        }
    }
    problems
}

fn variant(out: &mut Vec<Problem>, at: &str, v: &Variant) {
    let mut fail = |field: String, message: String| out.push(Problem { field, message });
    let name_field = format!("{at}.artifact.name");
    if let Some(why) = too_long(&v.artifact.name) {
        fail(name_field.clone(), why);
    }
    if let Some(exe) = &v.artifact.executable
        && let Some(why) = too_long(exe)
    {
        fail(format!("{at}.artifact.executable"), why);
    }
    for name in v.files.keys() {
        if let Some(why) = too_long(name) {
            fail(format!("{at}.files"), format!("`{name}`: {why}"));
        }
    }
    let kind = v.artifact.kind;
    if v.open.emulated.is_some() && read_by_extension(kind) {
        let ext = kind.extension();
        let named = v
            .artifact
            .name
            .rsplit_once('.')
            .is_some_and(|(_, e)| e.eq_ignore_ascii_case(ext));
        if !named {
            fail(
                name_field,
                format!(
                    "must end in `.{ext}`: the emulated opener recognises {} by its extension, \
                     and would start nothing (the chain would wrongly read as blocked)",
                    kind.describe()
                ),
            );
        }
    }
    if kind == ArtifactKind::OdtMacro
        && let Some(i) = v.carried_step()
        && let Err(e) = odt::check_command(&v.chain[i].run)
    {
        fail(
            format!("{at}.chain[{i}].run"),
            format!("{} cannot carry this command: {e}", kind.describe()),
        );
    }
}

/// Why `template` is too long a file name once `{token}` is rendered.
fn too_long(template: &str) -> Option<String> {
    let mut vars = Vars::default();
    // A fresh token: rendered names are measured at the real length.
    vars.set("token", crate::token::new());
    // A template that does not render is reported by the syntax check.
    let name = vars.render(template).ok()?;
    (name.len() > NAME_MAX).then(|| {
        format!(
            "is {} bytes with the token in; a file name holds at most {NAME_MAX}",
            name.len()
        )
    })
}

/// Kinds whose command the emulated opener finds by the file's extension
/// (see `artifact::instruction::read_command`).
fn read_by_extension(kind: ArtifactKind) -> bool {
    matches!(
        kind,
        ArtifactKind::OdtMacro
            | ArtifactKind::DesktopEntry
            | ArtifactKind::Docm
            | ArtifactKind::Xlsm
            | ArtifactKind::Rtf
            | ArtifactKind::Pdf
            | ArtifactKind::Lnk
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_measured_with_the_token_in() {
        let fits = format!(
            "{}{{token}}",
            "a".repeat(NAME_MAX - crate::token::new().len())
        );
        assert_eq!(too_long(&fits), None);
        let over = format!("a{fits}");
        assert_eq!(
            too_long(&over).as_deref(),
            Some("is 256 bytes with the token in; a file name holds at most 255")
        );
    }

    #[test]
    fn every_kind_read_by_extension_is_read_by_build() {
        let dir = std::env::temp_dir();
        for kind in ArtifactKind::ALL {
            let path = dir.join(format!("none.{}", kind.extension()));
            let read = crate::artifact::instruction::read_command(&path).is_some();
            assert_eq!(
                read,
                read_by_extension(kind) || kind == ArtifactKind::Cpl,
                "{kind:?}"
            );
        }
    }
}
