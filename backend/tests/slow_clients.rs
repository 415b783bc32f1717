//! Slow and idle clients cannot hold the server: a request whose headers never finish and a
//! connection that sends nothing are closed after the header timeout, and a thousand idle
//! connections against a process with few file descriptors never stop a real request.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// When the server closed `stream` (EOF or reset), measured from `since`; `None` when it was
/// still open after `wait`. Any bytes it sends first (a 408) are read and ignored.
fn closed_within(mut stream: TcpStream, since: Instant, wait: Duration) -> Option<Duration> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(since.elapsed()),
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            Err(_) => return Some(since.elapsed()),
        }
    }
}

#[tokio::test]
async fn a_half_sent_request_and_a_silent_connection_are_closed_after_the_header_timeout() {
    let s = start(|c| c.header_timeout_ms = 1000).await;
    let addr = s.url.trim_start_matches("http://").to_string();
    let (half, silent) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut half = TcpStream::connect(&addr).unwrap();
        half.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .unwrap();
        let silent = TcpStream::connect(&addr).unwrap();
        let wait = Duration::from_secs(6);
        (
            closed_within(half, started, wait),
            closed_within(silent, started, wait),
        )
    })
    .await
    .unwrap();
    for (what, closed) in [("half-sent request", half), ("silent connection", silent)] {
        let closed = closed.unwrap_or_else(|| panic!("the {what} was still open after 6 s"));
        assert!(
            closed < Duration::from_secs(4),
            "the {what} was closed only after {closed:?}"
        );
    }
    // The server itself is fine.
    assert_eq!(get(&s.url, "/health").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_never_stop_a_real_request() {
    // The real binary with 256 file descriptors: fewer than the idle connections.
    let b = spawn_binary_limited(&["--mode", "dev"], "warn", 256);
    assert_eq!(get(&b.url, "/health").await.0, 200);

    let addr: std::net::SocketAddr = b.url.trim_start_matches("http://").parse().unwrap();
    let (idle, refused) = tokio::task::spawn_blocking(move || {
        let mut idle = Vec::new();
        let mut refused = 0;
        for _ in 0..1000 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                Ok(s) => idle.push(s),
                Err(_) => {
                    // The server stopped accepting; more attempts would only wait longer.
                    refused += 1;
                    if refused == 3 {
                        break;
                    }
                }
            }
        }
        (idle, refused)
    })
    .await
    .unwrap();

    let started = Instant::now();
    let res = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("{}/health", b.url))
        .send()
        .await;
    let status = res.map(|r| r.status().as_u16()).map_err(|e| e.to_string());
    assert_eq!(
        status,
        Ok(200),
        "GET /health beside {} idle connections ({refused} not connected) after {:?}; log: {}",
        idle.len(),
        started.elapsed(),
        b.log()
    );
    drop(idle);
}

#[tokio::test]
async fn a_half_sent_body_is_answered_and_closed_after_the_timeout() {
    let s = start(|c| c.header_timeout_ms = 1000).await;
    let token = s.session().await;
    let addr = s.url.trim_start_matches("http://").to_string();
    let (closed, answer) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut stream = TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"provider\":"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream
            .set_read_timeout(Some(Duration::from_secs(6)))
            .unwrap();
        let mut buf = [0u8; 4096];
        let closed = loop {
            match stream.read(&mut buf) {
                Ok(0) => break Some(started.elapsed()),
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break None,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break None,
                Err(_) => break Some(started.elapsed()),
            }
        };
        (closed, String::from_utf8_lossy(&answer).to_string())
    })
    .await
    .unwrap();
    let closed = closed.unwrap_or_else(|| panic!("a half-sent body was still open after 6 s"));
    assert!(closed < Duration::from_secs(4), "closed after {closed:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "answered {answer:?}");
    assert!(answer.contains("request_timeout"), "{answer}");
}
