//! `--static-dir`: every file is sent with security headers (a CSP whose `frame-ancestors`
//! comes from the configuration, `nosniff`, `no-referrer`), and no dotfile is ever served.

mod common;

use common::*;
use std::path::PathBuf;

/// A Trunk-like `dist/` with an index page, a script, and files that must stay private.
fn dist() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    let p = dist.path();
    std::fs::write(p.join("index.html"), "<!doctype html><title>page</title>").unwrap();
    std::fs::write(p.join("app.js"), "console.log('hi')").unwrap();
    std::fs::write(p.join(".env"), "SECRET_DOTFILE=1").unwrap();
    std::fs::create_dir_all(p.join(".git")).unwrap();
    std::fs::write(p.join(".git/config"), "SECRET_DOTFILE=2").unwrap();
    std::fs::create_dir_all(p.join("assets")).unwrap();
    std::fs::write(p.join("assets/.hidden"), "SECRET_DOTFILE=3").unwrap();
    dist
}

async fn fetch(url: &str) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

#[tokio::test]
async fn static_files_carry_security_headers_with_frame_ancestors_from_config() {
    let d = dist();
    let dir = PathBuf::from(d.path());
    let s = start(move |c| {
        c.static_dir = Some(dir);
        c.frame_ancestors = vec!["https://host.example".into(), "'self'".into()];
    })
    .await;
    for path in ["/", "/app.js", "/connect/workos"] {
        let res = fetch(&format!("{}{path}", s.url)).await;
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers();
        let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(
            header("content-security-policy"),
            "frame-ancestors https://host.example 'self'",
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }

    // Without configured ancestors only the page's own origin may frame it.
    let d2 = dist();
    let dir = PathBuf::from(d2.path());
    let s = start(move |c| c.static_dir = Some(dir)).await;
    let res = fetch(&format!("{}/", s.url)).await;
    assert_eq!(
        res.headers()["content-security-policy"],
        "frame-ancestors 'self'"
    );
}

#[tokio::test]
async fn dotfiles_are_never_served() {
    let d = dist();
    let dir = PathBuf::from(d.path());
    let s = start(move |c| c.static_dir = Some(dir)).await;
    for path in [
        "/.env",
        "/.git/config",
        "/assets/.hidden",
        "/%2eenv",
        "/%2Egit/config",
        "/assets/%2ehidden",
    ] {
        let res = fetch(&format!("{}{path}", s.url)).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("SECRET_DOTFILE"),
            "{path} was served ({status}): {body}"
        );
        assert_eq!(status, 404, "{path}: {body}");
    }
    assert_eq!(fetch(&format!("{}/app.js", s.url)).await.status(), 200);
}
