//! Delivery over real HTTP: a one-shot web server on 127.0.0.1 serves a
//! landing page and the artifact; a real client downloads it with the
//! landing page as referrer, the way a user's browser does, and the file
//! gets the origin marks a browser sets.
//!
//! Nothing here listens on any address but loopback, and the client ignores
//! proxy settings so the download never leaves the host.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::plan::OriginMark;

/// A finished download.
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    /// Where the file was saved.
    pub path: PathBuf,
    /// The URL it came from.
    pub url: String,
    /// The page that linked to it.
    pub referrer: String,
    /// HTTP requests the server answered (method, path, status).
    pub requests: Vec<String>,
}

struct Site {
    name: String,
    /// What the landing page says beside the link (an archive's password).
    note: Option<String>,
    body: Bytes,
    log: std::sync::Mutex<Vec<String>>,
}

/// Serves `body` as `name` on a fresh loopback port, downloads it into
/// `dest_dir` like a browser, and stops the server (the tests' shorthand;
/// the tests are Unix-only).
#[cfg(all(test, unix))]
pub async fn download(body: Vec<u8>, name: &str, dest_dir: &Path) -> Result<Download, String> {
    Server::start(body, name, None)
        .await?
        .download(dest_dir)
        .await
}

/// A server on a fresh loopback port with a landing page and one file.
/// Dropped, it stops.
pub struct Server {
    addr: SocketAddr,
    site: Arc<Site>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts serving `body` as `name`, the landing page saying `note`
    /// beside the link.
    pub async fn start(body: Vec<u8>, name: &str, note: Option<&str>) -> Result<Server, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("listen on 127.0.0.1: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let site = Arc::new(Site {
            name: name.to_string(),
            note: note.map(str::to_string),
            body: Bytes::from(body),
            log: Default::default(),
        });
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, site.clone(), stop_rx));
        Ok(Server {
            addr,
            site,
            stop,
            task,
        })
    }

    /// Downloads the file into `dest_dir` like a browser, then stops.
    pub async fn download(self, dest_dir: &Path) -> Result<Download, String> {
        let result = fetch(self.addr, &self.site.name, dest_dir).await;
        let _ = self.stop.send(());
        let _ = self.task.await;
        let (path, url, referrer) = result?;
        let requests = self.site.log.lock().map(|l| l.clone()).unwrap_or_default();
        Ok(Download {
            path,
            url,
            referrer,
            requests,
        })
    }
}

async fn serve(
    listener: TcpListener,
    site: Arc<Site>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = &mut stop => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let site = site.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| answer(req, site.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn answer(
    req: Request<Incoming>,
    site: Arc<Site>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let file_path = format!("/files/{}", encode(&site.name));
    let (status, content_type, body, disposition) = if path == "/" {
        let note = site
            .note
            .as_deref()
            .map(|n| format!("<p>{}</p>", html_text(n)))
            .unwrap_or_default();
        let page = format!(
            "<!doctype html><title>Invoice portal</title><p>chainproof benign test page. \
             <a href=\"{file_path}\">Download your invoice</a></p>{note}"
        );
        (
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from(page),
            None,
        )
    } else if path == file_path {
        // RFC 6266: an ASCII fallback and the exact UTF-8 name.
        let ascii: String = site
            .name
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect();
        let disposition = format!(
            "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
            encode(&site.name)
        );
        (
            StatusCode::OK,
            content_type(&site.name),
            site.body.clone(),
            Some(disposition),
        )
    } else {
        (
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found"),
            None,
        )
    };
    if let Ok(mut log) = site.log.lock() {
        log.push(format!("{} {} {}", req.method(), path, status.as_u16()));
    }
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", content_type);
    if let Some(d) = disposition {
        builder = builder.header("content-disposition", d);
    }
    Ok(builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(
            b"response could not be built",
        )));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    }))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Media types browsers are sent for these artifacts.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "odt" => "application/vnd.oasis.opendocument.text",
        "docm" => "application/vnd.ms-word.document.macroEnabled.12",
        "xlsm" => "application/vnd.ms-excel.sheet.macroEnabled.12",
        "desktop" => "application/x-desktop",
        "iso" => "application/x-iso9660-image",
        "dmg" => "application/x-apple-diskimage",
        "lnk" => "application/x-ms-shortcut",
        "sh" | "command" => "application/x-sh",
        _ => "application/octet-stream",
    }
}

async fn fetch(
    addr: SocketAddr,
    name: &str,
    dest_dir: &Path,
) -> Result<(PathBuf, String, String), String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) chainproof-benign-download")
        .build()
        .map_err(|e| format!("build HTTP client: {e}"))?;
    let referrer = format!("http://{addr}/");
    let url = format!("http://{addr}/files/{}", encode(name));
    let page = client
        .get(&referrer)
        .send()
        .await
        .map_err(|e| format!("GET {referrer}: {e}"))?;
    if !page.status().is_success() {
        return Err(format!("GET {referrer}: HTTP {}", page.status()));
    }
    let resp = client
        .get(&url)
        .header("referer", &referrer)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", resp.status()));
    }
    let body = resp.bytes().await.map_err(|e| format!("read {url}: {e}"))?;
    let path = dest_dir.join(name);
    tokio::fs::write(&path, &body)
        .await
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok((path, url, referrer))
}

/// `text` safe in HTML text.
fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Sets the origin mark a browser sets on a download, the one the plan
/// chose for the platform: the `user.xdg.*` xattrs (Linux),
/// `com.apple.quarantine` (macOS), the `Zone.Identifier` stream (Windows).
/// Returns the marks set.
pub fn mark_origin(
    path: &Path,
    mark: OriginMark,
    url: &str,
    referrer: &str,
) -> Result<Vec<(String, String)>, String> {
    use crate::artifact::origin;
    let host = crate::platform::effects::this_host();
    let set = |name: &str, value: &str| host.set_xattr(path, name, value);
    match mark {
        OriginMark::ZoneIdentifier => {
            let text = origin::zone_identifier(url, referrer).map_err(|e| e.to_string())?;
            origin::write_zone_identifier(path, url, referrer)
                .map_err(|e| format!("write {}: {e}", origin::zone_stream_path(path).display()))?;
            Ok(vec![(origin::ZONE_STREAM.to_string(), text)])
        }
        OriginMark::Quarantine => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let id: [u8; 16] = rand::random();
            let uuid = format!(
                "{}-{}-{}-{}-{}",
                hex::encode(&id[..4]),
                hex::encode(&id[4..6]),
                hex::encode(&id[6..8]),
                hex::encode(&id[8..10]),
                hex::encode(&id[10..])
            );
            let value = origin::quarantine_value(
                origin::QUARANTINE_FLAGS_DOWNLOAD,
                now,
                origin::QUARANTINE_AGENT_BROWSER,
                &uuid,
            )
            .map_err(|e| e.to_string())?;
            set(origin::QUARANTINE_XATTR, &value)?;
            Ok(vec![(origin::QUARANTINE_XATTR.to_string(), value)])
        }
        OriginMark::XdgXattrs => {
            let marks = origin::linux_origin_xattrs(url, referrer);
            for (name, value) in &marks {
                set(name, value)?;
            }
            Ok(marks.into_iter().map(|(n, v)| (n.to_string(), v)).collect())
        }
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_with_spaces_and_unicode_download_intact() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let name = "Facture 2026 é cp1.pdf.desktop";
        let d = download(b"x".to_vec(), name, dir.path()).await?;
        assert_eq!(d.path, dir.path().join(name));
        assert!(
            d.url
                .ends_with("/files/Facture%202026%20%C3%A9%20cp1.pdf.desktop"),
            "{}",
            d.url
        );
        Ok(())
    }

    #[tokio::test]
    async fn downloads_over_loopback_with_referrer_and_marks() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = download(b"hello".to_vec(), "Invoice-cp1.odt", dir.path()).await?;
        assert_eq!(std::fs::read(&d.path).map_err(|e| e.to_string())?, b"hello");
        assert!(
            d.url.starts_with("http://127.0.0.1:") && d.url.ends_with("/files/Invoice-cp1.odt")
        );
        assert_eq!(d.requests, ["GET / 200", "GET /files/Invoice-cp1.odt 200"]);
        mark_origin(&d.path, OriginMark::XdgXattrs, &d.url, &d.referrer)?;
        let marks: Vec<(String, String)> =
            crate::platform::marks::read(&d.path).into_iter().collect();
        assert_eq!(marks[0], ("user.xdg.origin.url".to_string(), d.url.clone()));
        assert_eq!(
            marks[1],
            ("user.xdg.referrer.url".to_string(), d.referrer.clone())
        );
        Ok(())
    }
}
