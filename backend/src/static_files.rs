//! `--static-dir`: a Trunk `dist/` served at `/` with security headers on every file and no
//! dotfile (`.env`, `.git/…`) ever served. Types come from the file name (`.wasm` is
//! `application/wasm`, which the browser's streaming compile requires) and bodies are compressed
//! (brotli or gzip, as the browser's `Accept-Encoding` allows): the release wasm shrinks to about
//! a third.

use crate::api::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use tower::Layer;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

/// The `Content-Security-Policy` of the static pages: only who may frame them, from
/// `--frame-ancestor` (`'self'` when none is configured). Script and style rules are the
/// page's own business (its `<meta>` CSP), so nothing here can break it.
pub fn content_security_policy(frame_ancestors: &[String]) -> String {
    if frame_ancestors.is_empty() {
        "frame-ancestors 'self'".into()
    } else {
        format!("frame-ancestors {}", frame_ancestors.join(" "))
    }
}

/// Whether a request path names a dotfile or a dot-directory anywhere, also when the dot is
/// percent-encoded (`/%2eenv`).
pub fn names_a_dotfile(path: &str) -> bool {
    path.split(['/', '\\']).any(|segment| {
        segment.starts_with('.')
            || segment
                .get(..3)
                .is_some_and(|p| p.eq_ignore_ascii_case("%2e"))
    })
}

/// Middleware of the static files: 404 for any dotfile, security headers on everything else.
async fn guard(State(csp): State<HeaderValue>, req: Request, next: Next) -> Response {
    if names_a_dotfile(req.uri().path()) {
        return ApiError::NotFound.into_response();
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Serves `dir`, answering unknown paths with `index.html` so client-side routes survive a
/// reload, compressed (brotli, else gzip) when the client accepts it; the frame ancestors were
/// checked by the configuration, so the header is valid.
pub fn service(
    dir: &Path,
    frame_ancestors: &[String],
) -> impl tower::Service<
    Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    let csp = HeaderValue::from_str(&content_security_policy(frame_ancestors))
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"));
    let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    // tower-http's default level: brotli quality 4, as nginx compresses on the fly (quality 11
    // costs far more CPU per request); images, ranges and bodies under 32 bytes are left alone.
    let compressed = CompressionLayer::new().br(true).gzip(true).layer(files);
    from_fn_with_state(csp, guard).layer(compressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotfiles_are_recognised_plain_and_encoded() {
        for path in [
            "/.env",
            "/a/.git/config",
            "/%2eenv",
            "/x/%2Essh",
            "/.",
            "/a\\.env",
        ] {
            assert!(names_a_dotfile(path), "{path}");
        }
        for path in [
            "/",
            "/app.js",
            "/assets/app-1.2.css",
            "/connect/workos",
            "/a.env",
        ] {
            assert!(!names_a_dotfile(path), "{path}");
        }
    }
}
