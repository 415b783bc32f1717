//! Dev mode's guard against DNS rebinding: a page on any site can make its own host name
//! resolve to 127.0.0.1 and then read the open `GET /connections` of a developer's backend, so
//! in dev mode only requests addressed to a loopback name (any port) are answered.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv6Addr};

/// Whether a `Host` header names this machine: `localhost`, `127.x.x.x` or `[::1]`, with or
/// without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6] or [v6]:port
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if !(after.is_empty() || is_port(after)) {
            return false;
        }
        return inside.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if is_port(&format!(":{port}")) => name,
            Some(_) => return false,
            None => host,
        }
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_ipv4() && ip.is_loopback())
}

/// Whether `s` is `:` followed by a port number.
fn is_port(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Middleware (dev mode only): 403 `forbidden_host` unless the `Host` header is a loopback
/// name. A request without one (HTTP/1.0 tools) is let through: browsers always send it.
pub async fn loopback_host_only(req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or(""));
    match host {
        Some(host) if !is_loopback_host(host) => ApiError::ForbiddenHost.into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_any_port_and_nothing_else() {
        for host in [
            "localhost",
            "localhost:3000",
            "LocalHost.:1",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1.2.3:9",
            "[::1]",
            "[::1]:3000",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.evil.example:80",
            "192.168.1.5:3000",
            "[::2]:1",
            "[::1]x",
            "localhost:abc",
            "0.0.0.0:3000",
            "::1",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
