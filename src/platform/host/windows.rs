//! Windows implementations of [`super`]'s calls, through sysinfo and std.

use std::path::Path;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

fn this_process(kind: ProcessRefreshKind) -> Option<(System, Pid)> {
    let mut sys = System::new().ok()?;
    let pid = Pid::from_u32(std::process::id());
    sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
    sys.process(pid)?;
    Some((sys, pid))
}

/// The parent's pid.
pub fn parent_pid() -> u32 {
    this_process(ProcessRefreshKind::nothing())
        .and_then(|(sys, pid)| sys.process(pid)?.parent())
        .map_or(0, |p| p.as_u32())
}

/// Windows has no numeric user ids; 0 stands for "this user" and
/// [`user_name`] resolves it.
pub fn uid() -> u32 {
    0
}

/// `DOMAIN\user` of this process (the only user chainproof asks about).
pub fn user_name(_uid: u32) -> Option<String> {
    let user = std::env::var("USERNAME").ok()?;
    Some(match std::env::var("USERDOMAIN") {
        Ok(domain) => format!("{domain}\\{user}"),
        Err(_) => user,
    })
}

/// Whether this process is elevated (an administrator's full token), read
/// from the process's own token. Asking the token starts nothing: `net
/// session`, the usual script check, would put a discovery command (T1049)
/// in the sensor's telemetry at every run.
pub fn is_privileged() -> bool {
    use std::ffi::c_void;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetCurrentProcess() -> *mut c_void;
        fn CloseHandle(handle: *mut c_void) -> i32;
    }
    #[link(name = "advapi32")]
    unsafe extern "system" {
        fn OpenProcessToken(process: *mut c_void, access: u32, token: *mut *mut c_void) -> i32;
        fn GetTokenInformation(
            token: *mut c_void,
            class: i32,
            info: *mut c_void,
            length: u32,
            returned: *mut u32,
        ) -> i32;
    }
    const TOKEN_QUERY: u32 = 0x0008;
    const TOKEN_ELEVATION: i32 = 20;
    let mut token: *mut c_void = std::ptr::null_mut();
    // SAFETY: the pseudo-handle of this process, and a valid out pointer.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return false;
    }
    let mut elevated: u32 = 0;
    let mut returned: u32 = 0;
    // SAFETY: TOKEN_ELEVATION is one DWORD; the buffer is that DWORD.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TOKEN_ELEVATION,
            (&mut elevated as *mut u32).cast(),
            4,
            &mut returned,
        )
    };
    // SAFETY: the handle OpenProcessToken returned, closed once.
    unsafe { CloseHandle(token) };
    ok != 0 && elevated != 0
}

/// The Windows build, e.g. `10.0.22631`.
pub fn kernel() -> String {
    System::kernel_version().unwrap_or_default()
}

/// Ends process `pid` (TerminateProcess; Windows has no gentle signal for
/// a process without a window, so `force` changes nothing).
pub fn kill(pid: u32, _force: bool) -> bool {
    let Ok(mut sys) = System::new() else {
        return false;
    };
    let pid = Pid::from_u32(pid);
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing().with_exe(UpdateKind::Never),
    );
    sys.process(pid).is_some_and(|p| p.kill())
}

/// Windows runs any `.exe`: nothing to do.
pub fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Windows names a process by its file: the copy already has the
/// application's name.
pub fn start_as(_cmd: &mut tokio::process::Command, _name: &str) {}

/// Nothing to do: Windows delivers no console signal to a process
/// without a console of ours.
pub fn own_process_group(_cmd: &mut tokio::process::Command) {}

/// `wine` when this Windows program runs under Wine, else `None`. Wine's
/// ntdll exports `wine_get_version`, which no Windows ntdll has; looking
/// the export up starts no process and touches no registry key, so a real
/// Windows host's sensor sees nothing that looks like sandbox probing.
pub fn environment() -> Option<String> {
    wine_version().map(|_| "wine".to_string())
}

/// Wine's version (`8.0`), when this program runs under Wine.
pub fn wine_version() -> Option<String> {
    use std::ffi::{CStr, c_char, c_void};
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetModuleHandleW(name: *const u16) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const c_char) -> *mut c_void;
    }
    let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
    // SAFETY: a NUL-terminated UTF-16 name; ntdll is mapped into every
    // Windows process, and the handle is not freed (GetModuleHandleW does
    // not add a reference).
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    if module.is_null() {
        return None;
    }
    // SAFETY: a valid module handle and a NUL-terminated ASCII name.
    let export = unsafe { GetProcAddress(module, c"wine_get_version".as_ptr()) };
    if export.is_null() {
        return None;
    }
    // SAFETY: Wine declares `const char * CDECL wine_get_version(void)`,
    // returning a static NUL-terminated string; on x86-64 CDECL is the
    // platform's C calling convention.
    let get: extern "C" fn() -> *const c_char = unsafe { std::mem::transmute(export) };
    let text = get();
    if text.is_null() {
        return None;
    }
    // SAFETY: non-null, NUL-terminated, static for the process's life.
    Some(
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned(),
    )
}
