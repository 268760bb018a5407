//! Semantic checks of a parsed scenario: what serde's types cannot say.
//! Pure; runs before anything executes.

use std::time::Duration;

use super::{Platform, Scenario, Variant, template};
use crate::artifact::ArtifactKind;
use crate::payload;

/// One problem, with the dotted path of the field it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Dotted field path, e.g. `variants.linux.artifact.name`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

pub(super) struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    pub(super) fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Checks template syntax and that only `allowed` placeholders appear.
    pub(super) fn template(
        &mut self,
        field: &str,
        text: &str,
        allowed: &[&str],
    ) -> Vec<&'static str> {
        match template::placeholders(text) {
            Ok(used) => {
                for name in &used {
                    if !allowed.contains(name) {
                        self.fail(
                            field,
                            format!("placeholder `{{{name}}}` cannot be used here"),
                        );
                    }
                }
                used
            }
            Err(e) => {
                self.fail(field, e);
                Vec::new()
            }
        }
    }
}

/// Every problem of `s`; empty when it is valid.
pub fn check(s: &Scenario) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    let id_ok = !s.id.is_empty()
        && s.id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    if !id_ok {
        c.fail(
            "id",
            format!("`{}` must be lowercase letters, digits and dashes", s.id),
        );
    }
    if !technique_ok(&s.technique) {
        c.fail(
            "technique",
            format!("`{}` is not an ATT&CK id like T1204.002", s.technique),
        );
    }
    if s.title.trim().is_empty() {
        c.fail("title", "must not be empty");
    }
    if Platform::ALL.iter().all(|p| s.variants.get(*p).is_none()) {
        c.fail("variants", "needs at least one of linux, macos, windows");
    }
    for platform in Platform::ALL {
        if let Some(v) = s.variants.get(platform) {
            variant(&mut c, &format!("variants.{platform}"), v);
        }
    }
    if let Some(v) = s.variants.get(Platform::Macos) {
        super::check_delivery::macos_container(&mut c, "variants.macos", v);
    }
    if s.expect.observe.contains(&crate::vocab::HopKind::Mail) {
        for platform in Platform::ALL {
            if let Some(v) = s.variants.get(platform)
                && v.delivery.via != super::Via::Email
            {
                c.fail(
                    "expect.observe",
                    format!("`mail` needs delivery by email; the {platform} variant is not mailed"),
                );
            }
        }
    }
    if s.expect.observe.is_empty() {
        c.fail(
            "expect.observe",
            "must name at least one hop kind (file, open, spawn)",
        );
    }
    for platform in Platform::ALL {
        if s.expect.no_alert
            && s.variants
                .get(platform)
                .is_some_and(|v| !v.rules.is_empty())
        {
            c.fail(
                format!("variants.{platform}.rules"),
                "a negative control (`no-alert`) expects no rule to fire",
            );
        }
    }
    if s.expect.no_alert && s.expect.alert.is_some() {
        c.fail(
            "expect.no-alert",
            "a negative control expects no alert; remove `alert` or `no-alert`",
        );
    }
    if let Some(alert) = &s.expect.alert
        && let Some(t) = &alert.technique
        && !technique_ok(t)
    {
        c.fail(
            "expect.alert.technique",
            format!("`{t}` is not an ATT&CK id"),
        );
    }
    c.problems.extend(super::text::check(s));
    c.problems.extend(super::runnable::check(s));
    c.problems
}

/// Why `name` cannot be a file name in the run directory (and in a URL
/// path), if it cannot.
pub(super) fn bad_file_name(name: &str) -> Option<&'static str> {
    if name.contains(['/', '\\']) {
        return Some("must be a file name, not a path");
    }
    if name == "." || name == ".." || name.starts_with('-') {
        return Some("must not be `.`, `..` or start with `-`");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '%' | '#' | '?' | '"'))
    {
        return Some("must not contain control characters, `%`, `#`, `?` or `\"`");
    }
    None
}

fn technique_ok(t: &str) -> bool {
    let b = t.as_bytes();
    let base = b.len() >= 5 && b[0] == b'T' && b[1..5].iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => base,
        9 => base && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

fn variant(c: &mut Checker, at: &str, v: &Variant) {
    let image = v.artifact.kind.is_disk_image();
    let name_field = format!("{at}.artifact.name");
    if !c
        .template(&name_field, &v.artifact.name, &["token"])
        .contains(&"token")
    {
        c.fail(
            &name_field,
            "must contain {token} so the run can be found in telemetry",
        );
    }
    if let Some(why) = bad_file_name(&v.artifact.name) {
        c.fail(&name_field, why);
    }
    if let Some(link) = &v.artifact.opened().link {
        let field = format!("{at}.artifact.link");
        if v.artifact.opened().kind != ArtifactKind::Pdf {
            c.fail(&field, "only a pdf carries a link");
        } else if !link.starts_with("https://") && !link.starts_with("http://") {
            c.fail(&field, "must be an http:// or https:// address");
        }
    }
    if let Some(i) = v.artifact.carries {
        let field = format!("{at}.artifact.carries");
        if i >= v.chain.len() {
            c.fail(
                &field,
                format!(
                    "step {i} does not exist: the chain has {} step(s)",
                    v.chain.len()
                ),
            );
        } else if !v.artifact.carries_command() {
            c.fail(&field, "this kind of artifact carries no command");
        } else if v.chain[i].run.iter().any(|a| a.contains("{mount}")) {
            c.fail(
                &field,
                "the step an artifact carries is built before any mount: it cannot use {mount}",
            );
        }
    }
    if v.opener_starts_first() && v.chain.len() < 2 && v.artifact.carries_command() {
        c.fail(
            format!("{at}.open.by_association"),
            "the opener starts the first step and the artifact carries the second: the chain needs two steps",
        );
    }
    super::check_delivery::check(c, at, v);
    for (i, name) in v.programs.iter().enumerate() {
        if name.is_empty() || bad_file_name(name).is_some() || name.starts_with('.') {
            c.fail(
                format!("{at}.programs[{i}]"),
                format!("`{name}` must be a plain executable name"),
            );
        }
    }
    let exe_field = format!("{at}.artifact.executable");
    match (&v.artifact.executable, image) {
        (Some(exe), true) => {
            if !c.template(&exe_field, exe, &["token"]).contains(&"token") {
                c.fail(&exe_field, "must contain {token}");
            }
            if let Some(why) = bad_file_name(exe) {
                c.fail(&exe_field, why);
            }
        }
        (None, true) => c.fail(&exe_field, "a disk image needs the name of its executable"),
        (Some(_), false) => c.fail(
            &exe_field,
            "only disk images (iso, img, vhd, dmg) carry an executable",
        ),
        (None, false) => {}
    }
    for (name, template_name) in &v.files {
        let field = format!("{at}.files");
        if !c.template(&field, name, &["token"]).contains(&"token") {
            c.fail(&field, format!("file name `{name}` must contain {{token}}"));
        }
        if let Some(why) = bad_file_name(name) {
            c.fail(&field, format!("`{name}`: {why}"));
        }
        if payload::get(template_name).is_none() {
            c.fail(
                &field,
                format!("`{template_name}` is not a template in payloads-benign/"),
            );
        }
    }
    open(c, at, v, image);
    if v.chain.is_empty() {
        c.fail(format!("{at}.chain"), "needs at least one process");
    }
    for (i, step) in v.chain.iter().enumerate() {
        let field = format!("{at}.chain[{i}].run");
        if step.run.is_empty() || step.run[0].trim().is_empty() {
            c.fail(
                &field,
                "needs a command: the image first, then its arguments",
            );
            continue;
        }
        let mut token = false;
        let mounted = v.open.real.as_ref().is_some_and(|r| r.mount);
        let mut allowed = vec!["token", "workdir", "downloads", "artifact", "programs"];
        // The first step is what the artifact carries: it is built before any mount.
        if i > 0 && mounted {
            allowed.push("mount");
        }
        // An archive's member, where the archive tool puts it.
        if v.artifact.kind.is_archive() && v.carried_step() != Some(i) {
            allowed.push("member");
        }
        let allowed = allowed.as_slice();
        for arg in &step.run {
            let used = c.template(&field, arg, allowed);
            // `{programs}` lies in the run directory, whose name holds the
            // token; a member's name must hold it too (checked above).
            token |= used
                .iter()
                .any(|u| matches!(*u, "token" | "artifact" | "programs" | "member"));
        }
        if !token {
            c.fail(
                &field,
                "must contain {token} so every command line carries the run token",
            );
        }
    }
    if let Some(proof) = &v.proof {
        let field = format!("{at}.proof");
        c.template(&field, proof, &["token", "workdir"]);
        let rest = proof
            .strip_prefix("{workdir}/")
            .or_else(|| proof.strip_prefix("{workdir}\\"));
        if rest.is_none_or(|r| {
            r.split(['/', '\\'])
                .any(|seg| seg == ".." || seg.is_empty())
        }) {
            c.fail(
                &field,
                "must lie in the run directory: `{workdir}/` then a relative path without `..`",
            );
        }
    }
    if v.timeout.is_zero() || v.timeout > Duration::from_secs(600) {
        c.fail(format!("{at}.timeout"), "must be between 1ms and 10m");
    }
}

fn open(c: &mut Checker, at: &str, v: &Variant, image: bool) {
    if v.open.emulated.is_none() && v.open.real.is_none() {
        c.fail(format!("{at}.open"), "needs `emulated`, `real`, or both");
    }
    if let Some(e) = &v.open.emulated {
        let field = format!("{at}.open.emulated.as");
        if e.as_name.is_empty() || e.as_name.contains(['/', '\\']) || e.as_name.starts_with('.') {
            c.fail(
                &field,
                format!("`{}` must be a plain executable name", e.as_name),
            );
        }
        let field = format!("{at}.open.emulated.args");
        let mut opens = false;
        let email = v.delivery.via == super::Via::Email;
        let mut allowed = vec!["token", "workdir", "downloads", "artifact"];
        if email {
            allowed.push("message");
        }
        for arg in &e.args {
            opens |= c
                .template(&field, arg, &allowed)
                .iter()
                .any(|u| *u == "artifact" || (email && *u == "message"));
        }
        if !opens {
            c.fail(
                &field,
                "must pass {artifact} (or {message} for a mail client): an opener opens the delivered file",
            );
        }
    }
    if let Some(r) = &v.open.real {
        let field = format!("{at}.open.real.command");
        if r.command.is_empty() {
            c.fail(&field, "needs a command");
        }
        let mut allowed = vec!["token", "workdir", "downloads", "artifact"];
        if r.mount {
            allowed.push("mount");
        }
        if r.profile.is_some() {
            allowed.push("profile");
        }
        if r.extract {
            allowed.extend(["member", "password"]);
        }
        let mut opens = false;
        for arg in &r.command {
            opens |= c
                .template(&field, arg, &allowed)
                .iter()
                .any(|u| matches!(*u, "artifact" | "mount" | "member"));
        }
        if !opens && !r.command.is_empty() {
            c.fail(
                &field,
                "must use {artifact}, {mount} or {member}: the opener opens the delivered file",
            );
        }
        if r.mount && !image && !(r.extract && v.artifact.opened().kind.is_disk_image()) {
            c.fail(
                format!("{at}.open.real.mount"),
                "only disk images (iso, img, vhd, dmg) can be mounted",
            );
        }
        if r.image.is_empty() || r.image.contains('/') {
            c.fail(
                format!("{at}.open.real.image"),
                "must be the opener's file name (`*` allowed)",
            );
        }
    }
}

#[cfg(test)]
mod tests;
