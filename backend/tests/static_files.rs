//! `--static-dir`: every file is sent with security headers (a CSP whose `frame-ancestors`
//! comes from the configuration, `nosniff`, `no-referrer`) and its type, compressed when the
//! client accepts it, and no dotfile is ever served.

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

/// A wasm module large and repetitive enough to be worth compressing: the magic, the version and
/// a custom section of repeated text.
fn wasm_bytes() -> Vec<u8> {
    let payload = "connect-ui ".repeat(2000);
    let mut section = vec![4u8, b'n', b'a', b'm', b'e'];
    section.extend_from_slice(payload.as_bytes());
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.push(0);
    let mut len = section.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        bytes.push(if len == 0 { byte } else { byte | 0x80 });
        if len == 0 {
            break;
        }
    }
    bytes.extend_from_slice(&section);
    bytes
}

#[tokio::test]
async fn wasm_is_served_as_application_wasm_and_compressed_as_accepted() {
    let d = dist();
    let wasm = wasm_bytes();
    std::fs::write(d.path().join("app_bg.wasm"), &wasm).unwrap();
    let dir = PathBuf::from(d.path());
    let s = start(move |c| c.static_dir = Some(dir)).await;
    let url = format!("{}/app_bg.wasm", s.url);
    // reqwest is built without its decompression features: it neither asks for an encoding nor
    // decodes one, so each answer is seen as sent.
    for (accept, encoding) in [
        (None, None),
        (Some("identity"), None),
        (Some("gzip"), Some("gzip")),
        (Some("gzip, deflate, br, zstd"), Some("br")),
    ] {
        let mut req = client().get(&url);
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "{accept:?}");
        let h = res.headers().clone();
        let header = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        // The streaming compile (WebAssembly.instantiateStreaming) refuses any other type.
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/wasm"),
            "{accept:?}"
        );
        assert_eq!(
            header("content-encoding").as_deref(),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{accept:?}"
        );
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("frame-ancestors 'self'"),
            "{accept:?}"
        );
        let body = res.bytes().await.unwrap();
        match encoding {
            None => assert_eq!(body.as_ref(), wasm.as_slice(), "{accept:?}"),
            Some(e) => {
                assert!(
                    body.len() * 4 < wasm.len(),
                    "{e}: {} of {} bytes",
                    body.len(),
                    wasm.len()
                );
                assert!(
                    header("vary")
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                        .contains("accept-encoding"),
                    "{e}: no Vary: accept-encoding"
                );
                if e == "gzip" {
                    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip member");
                }
            }
        }
    }
    // The page and its script are compressed too; a tiny file is not worth it.
    std::fs::write(
        d.path().join("big.js"),
        "console.log('connect');\n".repeat(500),
    )
    .unwrap();
    let res = client()
        .get(format!("{}/big.js", s.url))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["content-type"], "text/javascript");
    std::fs::write(d.path().join("tiny.js"), "1").unwrap();
    let res = client()
        .get(format!("{}/tiny.js", s.url))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.text().await.unwrap(), "1");
}
