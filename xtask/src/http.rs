//! Just enough HTTP to wait for a loopback server to answer (what `curl -fsS` did).

use crate::process::Group;
use anyhow::{anyhow, bail, Result};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The parts of an `http://host:port/path` URL a GET needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// `host:port` (the Host header and where to connect).
    pub authority: &'a str,
    /// The path and query, `/` at least.
    pub path: &'a str,
}

/// Splits a plain `http://` URL; None for anything else.
pub fn parse_url(url: &str) -> Option<Url<'_>> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    (!authority.is_empty()).then_some(Url { authority, path })
}

/// The status code of `GET URL`, within TIMEOUT.
pub fn get_status(url: &str, timeout: Duration) -> Result<u16> {
    let u = parse_url(url).ok_or_else(|| anyhow!("not an http:// URL: {url}"))?;
    let addr = u
        .authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow!("no address for {}", u.authority))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // One write: `write!` on a bare socket sends each piece separately, and a
    // server that answers after the first piece and closes resets the rest.
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: */*\r\n\r\n",
        u.path, u.authority
    );
    stream.write_all(request.as_bytes())?;
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < head.len() {
        let n = stream.read(&mut head[len..])?;
        if n == 0 || head[..len + n].contains(&b'\n') {
            len += n;
            break;
        }
        len += n;
    }
    status_code(&head[..len]).ok_or_else(|| anyhow!("not an HTTP answer from {url}"))
}

/// The status code from the start of an HTTP/1.x response.
pub fn status_code(head: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(head).ok()?.lines().next()?;
    let mut words = line.split(' ');
    words.next()?.strip_prefix("HTTP/1.")?;
    words.next()?.parse().ok()
}

/// Whether `GET URL` answers 2xx within 2 s.
pub fn answers(url: &str) -> bool {
    get_status(url, Duration::from_secs(2)).is_ok_and(|s| (200..300).contains(&s))
}

/// Waits until URL answers 2xx, at most LIMIT; fails early if PROCESS exits first.
pub fn wait_http(url: &str, limit: Duration, mut process: Option<&mut Group>) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if answers(url) {
            return Ok(());
        }
        if let Some(p) = process.as_deref_mut() {
            if let Some(status) = p.poll() {
                bail!("process {} exited ({status}) before {url} answered", p.id());
            }
        }
        if Instant::now() >= deadline {
            bail!("timed out after {} s waiting for {url}", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_split_into_authority_and_path() {
        assert_eq!(
            parse_url("http://127.0.0.1:3000/health"),
            Some(Url {
                authority: "127.0.0.1:3000",
                path: "/health"
            })
        );
        assert_eq!(
            parse_url("http://127.0.0.1:3000").map(|u| u.path),
            Some("/")
        );
        assert_eq!(parse_url("https://example.com/"), None);
        assert_eq!(parse_url("http:///x"), None);
    }

    #[test]
    fn status_codes_are_read_from_the_status_line() {
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_code(b"HTTP/1.0 404 Not Found\r\n"), Some(404));
        assert_eq!(status_code(b"SSH-2.0-x\r\n"), None);
    }

    #[test]
    fn a_local_server_answers_and_a_closed_port_does_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            // Read the whole head, as a real server does: closing with unread
            // bytes makes the kernel reset the connection instead of ending it.
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "the client closed before its request ended");
                head.extend_from_slice(&buf[..n]);
            }
            assert!(head.starts_with(b"GET /health HTTP/1.1\r\n"));
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        });
        assert!(answers(&format!("http://127.0.0.1:{port}/health")));
        server.join().unwrap();
        assert!(!answers(&format!("http://127.0.0.1:{port}/health")));
        let err = wait_http(
            &format!("http://127.0.0.1:{port}/"),
            Duration::from_millis(300),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
    }
}
