//! Semantic checks of the delivery paths beyond a plain download: an
//! archive and its member, a message and its mail client, and a real
//! extraction.

use super::check::{Checker, bad_file_name};
use super::{Encryption, Variant, Via};
use crate::artifact::{ArtifactKind, handling};

/// Checks `v`'s archive, message and extraction settings.
pub(super) fn check(c: &mut Checker, at: &str, v: &Variant) {
    archive(c, at, v);
    mail(c, at, v);
    if let Some(r) = &v.open.real
        && r.extract
        && !v.artifact.kind.is_archive()
    {
        c.fail(
            format!("{at}.open.real.extract"),
            "only archives (zip, 7z) are extracted",
        );
    }
}

fn archive(c: &mut Checker, at: &str, v: &Variant) {
    let a = &v.artifact;
    let field = format!("{at}.artifact.member");
    match (&a.member, a.kind.is_archive()) {
        (None, true) => c.fail(&field, "an archive needs the member it holds"),
        (Some(_), false) => c.fail(&field, "only archives (zip, 7z) hold a member"),
        (Some(m), true) => {
            if m.kind.is_archive() {
                c.fail(
                    format!("{field}.kind"),
                    "an archive inside an archive is not supported",
                );
            }
            if m.member.is_some() || m.protect.is_some() {
                c.fail(&field, "a member holds no member and has no password");
            }
            let name = format!("{field}.name");
            if !c.template(&name, &m.name, &["token"]).contains(&"token") {
                c.fail(
                    &name,
                    "must contain {token} so the run can be found in telemetry",
                );
            }
            if let Some(why) = bad_file_name(&m.name) {
                c.fail(&name, why);
            }
            let exe = format!("{field}.executable");
            match (&m.executable, m.kind.is_disk_image()) {
                (None, true) => c.fail(&exe, "a disk image needs the name of its executable"),
                (Some(_), false) => c.fail(&exe, "only disk images carry an executable"),
                (Some(e), true) => {
                    if !c.template(&exe, e, &["token"]).contains(&"token") {
                        c.fail(&exe, "must contain {token}");
                    }
                }
                (None, false) => {}
            }
        }
        (None, false) => {}
    }
    if let Some(p) = &a.protect {
        let field = format!("{at}.artifact.protect");
        if !a.kind.is_archive() {
            c.fail(&field, "only archives (zip, 7z) take a password");
        }
        if a.kind == ArtifactKind::SevenZ && p.encryption == Encryption::Zipcrypto {
            c.fail(format!("{field}.encryption"), "7z archives use aes");
        }
        c.template(&format!("{field}.password"), &p.password, &["token"]);
        if p.password.is_empty() {
            c.fail(format!("{field}.password"), "must not be empty");
        }
    }
}

fn mail(c: &mut Checker, at: &str, v: &Variant) {
    let d = &v.delivery;
    let field = format!("{at}.delivery.mail");
    match (&d.mail, d.via) {
        (None, Via::Email) => c.fail(&field, "delivery by email needs the message: from, subject"),
        (Some(_), Via::Http | Via::Copy) => c.fail(
            &field,
            "only delivery by email (`via: email`) sends a message",
        ),
        (Some(m), Via::Email) => {
            let allowed = ["token", "password"];
            c.template(&format!("{field}.subject"), &m.subject, &allowed);
            c.template(&format!("{field}.body"), &m.body, &allowed);
            for (name, addr) in [("from", &m.from), ("to", &m.to)] {
                let ok = addr.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !addr.contains(['<', '>', '\r', '\n', ' '])
                });
                if !ok {
                    c.fail(
                        format!("{field}.{name}"),
                        format!("`{addr}` is not a plain address like name@example.com"),
                    );
                }
            }
            let known: Vec<&str> = handling::MAIL_CLIENTS.iter().map(|c| c.name).collect();
            let known = known.join(", ");
            match (&m.client, &v.open.emulated) {
                (Some(client), _) if handling::mail_client(client).is_none() => c.fail(
                    format!("{field}.client"),
                    format!("`{client}` is not a mail client chainproof plays: one of {known}"),
                ),
                (None, Some(e)) if handling::mail_client(&e.as_name).is_none() => c.fail(
                    format!("{at}.open.emulated.as"),
                    format!("a message is opened by a mail client: one of {known}"),
                ),
                (None, None) => c.fail(
                    format!("{field}.client"),
                    "name the mail client that saves the attachment before the real opener",
                ),
                _ => {}
            }
        }
        (None, Via::Http | Via::Copy) => {}
    }
    if let Some(p) = &v.artifact.protect
        && d.via == Via::Email
        && let Some(m) = &d.mail
        && !m.body.contains("{password}")
        && !m.body.contains(&p.password)
    {
        c.fail(
            format!("{field}.body"),
            "the archive has a password: the message must give it ({password})",
        );
    }
}

/// A macOS `.command` or program downloaded or mailed on its own arrives
/// without its execute bit (browsers and Mail save files 0644, and
/// Terminal refuses a `.command` that is not executable), so the real run
/// would end `blocked`. Real lures ship these inside a disk image or a ZIP,
/// which keep the mode; so must a macOS variant.
pub(super) fn macos_container(c: &mut Checker, at: &str, v: &Variant) {
    let kind = v.artifact.kind;
    // A DMG holds its program inside an application bundle.
    if kind == ArtifactKind::Dmg
        && let (Some(exe), Some(real)) = (&v.artifact.executable, &v.open.real)
        && real.command.first() == Some(&format!("{{mount}}/{exe}"))
    {
        c.fail(
            format!("{at}.open.real.command"),
            format!(
                "a dmg holds its program in an application bundle: start {{mount}}/{}",
                crate::artifact::build::image_program(kind, exe)
            ),
        );
    }
    if v.delivery.via == Via::Copy
        || !matches!(kind, ArtifactKind::Command | ArtifactKind::Executable)
    {
        return;
    }
    let what = match kind {
        ArtifactKind::Command => "a .command file",
        _ => "a program",
    };
    c.fail(
        format!("{at}.artifact.kind"),
        format!(
            "{what} downloaded or mailed bare to macOS is saved without its execute bit, \
             which Terminal and Finder refuse: deliver it inside a container that keeps \
             the mode (kind: zip with member: {{ kind: {} }}, or kind: dmg)",
            serde_yaml_ng::to_string(&kind).unwrap_or_default().trim()
        ),
    );
}

#[cfg(test)]
mod tests {
    /// The problems of a scenario whose Linux variant is `variant` (YAML).
    fn problems(variant: &str) -> Vec<String> {
        problems_on("linux", variant)
    }

    /// The problems of a scenario whose macOS variant is `variant` (YAML).
    fn macos_problems(variant: &str) -> Vec<String> {
        problems_on("macos", variant)
    }

    /// The problems of a scenario whose only variant, on `platform`, is
    /// `variant` (YAML).
    fn problems_on(platform: &str, variant: &str) -> Vec<String> {
        let text = format!(
            "id: t\ntitle: t\ntechnique: T1204.002\nvariants:\n  {platform}:\n{variant}\nexpect:\n  observe: [file, open, spawn]\n"
        );
        let s: crate::scenario::Scenario =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        super::super::check::check(&s)
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[test]
    fn a_macos_command_or_program_is_not_downloaded_bare() {
        let chain = "    chain:\n      - run: [\"/bin/sh\", \"{artifact}\"]\n      - run: [\"/usr/bin/touch\", \"{workdir}/p-{token}\"]\n";
        let open = "    open: { by_association: true, emulated: { as: Terminal, args: [\"{artifact}\"] } }\n";
        let bare = macos_problems(&format!(
            "    artifact: {{ kind: command, name: \"a-{{token}}.command\" }}\n    delivery: {{ via: http }}\n{open}{chain}"
        ));
        assert!(
            bare.iter().any(
                |p| p.starts_with("variants.macos.artifact.kind: a .command file")
                    && p.contains("kind: zip with member: { kind: command }")
            ),
            "{bare:?}"
        );
        let program = macos_problems(&format!(
            "    artifact: {{ kind: executable, name: \"a-{{token}}\" }}\n    delivery: {{ via: http }}\n{open}{chain}"
        ));
        assert!(
            program
                .iter()
                .any(|p| p.starts_with("variants.macos.artifact.kind: a program")),
            "{program:?}"
        );
        let copied = macos_problems(&format!(
            "    artifact: {{ kind: command, name: \"a-{{token}}.command\" }}\n    delivery: {{ via: copy }}\n{open}{chain}"
        ));
        assert!(
            !copied.iter().any(|p| p.contains("execute bit")),
            "{copied:?}"
        );
        let zipped = macos_problems(
            "    artifact: { kind: zip, name: \"a-{token}.zip\", member: { kind: command, name: \"a-{token}.command\" } }\n    delivery: { via: http }\n    open: { by_association: true, emulated: { as: Archive Utility, args: [\"{artifact}\"] } }\n    chain:\n      - run: [\"/bin/sh\", \"{member}\"]\n      - run: [\"/usr/bin/touch\", \"{workdir}/p-{token}\"]\n",
        );
        assert_eq!(zipped, Vec::<String>::new());
        let dmg = |program: &str| {
            macos_problems(&format!(
                "    artifact: {{ kind: dmg, name: \"a-{{token}}.dmg\", executable: \"S-{{token}}\" }}\n    delivery: {{ via: http }}\n    open: {{ real: {{ command: [\"{{mount}}/{program}\"], image: \"S-*\", mount: true }} }}\n    chain:\n      - run: [\"/bin/sh\", \"-c\", \"touch {{workdir}}/p-{{token}}\"]\n      - run: [\"/usr/bin/touch\", \"{{workdir}}/p-{{token}}\"]\n"
            ))
        };
        let bare = dmg("S-{token}");
        assert!(
            bare.iter()
                .any(|p| p.starts_with("variants.macos.open.real.command")
                    && p.ends_with("start {mount}/S-{token}.app/Contents/MacOS/S-{token}")),
            "{bare:?}"
        );
        assert_eq!(
            dmg("S-{token}.app/Contents/MacOS/S-{token}"),
            Vec::<String>::new()
        );
    }

    const CHAIN: &str = "    chain:\n      - run: [\"/bin/sh\", \"{workdir}/l-{token}.sh\"]\n      - run: [\"/usr/bin/touch\", \"{workdir}/p-{token}\"]\n";

    #[test]
    fn archives_need_a_plain_member_and_a_cipher_their_format_has() {
        let zip = |member: &str, protect: &str| {
            problems(&format!(
                "    artifact: {{ kind: 7z, name: \"a-{{token}}.7z\"{member}{protect} }}\n    delivery: {{ via: http }}\n    open: {{ emulated: {{ as: file-roller, args: [\"{{artifact}}\"] }} }}\n{CHAIN}"
            ))
        };
        let none = zip("", "");
        assert!(
            none.iter().any(|p| p.contains("needs the member")),
            "{none:?}"
        );
        let nested = zip(", member: { kind: zip, name: \"b-{token}.zip\" }", "");
        assert!(
            nested.iter().any(|p| p.contains("inside an archive")),
            "{nested:?}"
        );
        let cipher = zip(
            ", member: { kind: desktop-entry, name: \"b-{token}.desktop\" }",
            ", protect: { encryption: zipcrypto, password: x }",
        );
        assert!(
            cipher.iter().any(|p| p.contains("7z archives use aes")),
            "{cipher:?}"
        );
        let ok = zip(
            ", member: { kind: desktop-entry, name: \"b-{token}.desktop\" }",
            ", protect: { encryption: aes, password: x }",
        );
        assert_eq!(ok, Vec::<String>::new());
    }

    #[test]
    fn a_message_names_its_client_and_gives_the_archives_password() {
        let mail = |client: &str, body: &str| {
            problems(&format!(
                "    artifact: {{ kind: zip, name: \"a-{{token}}.zip\", member: {{ kind: desktop-entry, name: \"b-{{token}}.desktop\" }}, protect: {{ encryption: aes, password: pw }} }}\n    delivery: {{ via: email, mail: {{ from: a@b.example, subject: s, body: \"{body}\" }} }}\n    open: {{ emulated: {{ as: {client}, args: [\"{{message}}\"] }} }}\n{CHAIN}"
            ))
        };
        let no_password = mail("thunderbird", "hello");
        assert!(
            no_password.iter().any(|p| p.contains("must give it")),
            "{no_password:?}"
        );
        let not_client = mail("nautilus", "the password is {password}");
        assert!(
            not_client
                .iter()
                .any(|p| p.contains("opened by a mail client")),
            "{not_client:?}"
        );
        assert_eq!(
            mail("thunderbird", "the password is {password}"),
            Vec::<String>::new()
        );
        let stray = problems(&format!(
            "    artifact: {{ kind: desktop-entry, name: \"a-{{token}}.desktop\" }}\n    delivery: {{ via: http, mail: {{ from: a@b.example, subject: s }} }}\n    open: {{ emulated: {{ as: nautilus, args: [\"{{artifact}}\"] }} }}\n{CHAIN}"
        ));
        assert!(
            stray.iter().any(|p| p.contains("only delivery by email")),
            "{stray:?}"
        );
    }
}
