//! How a hop's expected program is recognised in a process's image or
//! command line: file names, `*` patterns, and Windows' case-blind paths.

/// The path the kernel would report as the image of `program`.
pub fn canonical(program: &str) -> String {
    std::fs::canonicalize(program)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| program.to_string())
}

/// The file name of a Linux or Windows path.
pub(super) fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `*`-wildcard match of a file name.
pub fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// Whether two file names are one program's. Windows file names are not
/// case-sensitive (`C:\windows\system32\cmd.exe` as Wine and many
/// launchers spell it is `C:\Windows\System32\cmd.exe`); elsewhere case
/// counts.
pub(super) fn same_name(a: &str, b: &str) -> bool {
    a == b || (is_windows_name(b) && a.eq_ignore_ascii_case(b))
}

/// A Windows path without a known image (the process table could not read
/// it): the command line's program, compared as Windows compares paths.
pub(super) fn windows_same(argv0: &str, program: &str) -> bool {
    program.contains('\\') && argv0.eq_ignore_ascii_case(program)
}

fn is_windows_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".exe", ".com", ".bat", ".cmd", ".dll", ".cpl", ".scr"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}
