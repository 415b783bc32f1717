//! Loopback ports: whether one is free, a free one, and the address a server says it bound.
//! Servers are started on port 0 where they can be (they bind a free port and print it), so no
//! port is ever chosen and then lost; the wasm test runner, which can't, gets a checked free port.

use std::net::{Ipv4Addr, TcpListener};

/// Whether PORT on 127.0.0.1 can be bound right now.
pub fn is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// PREFERRED if it is free on 127.0.0.1 (0: no preference), else a port the system hands out.
pub fn pick(preferred: u16) -> std::io::Result<u16> {
    if preferred != 0 && is_free(preferred) {
        return Ok(preferred);
    }
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// The `http://127.0.0.1:PORT` a server printed as `… listening on http://127.0.0.1:PORT …`
/// (the backend and the fault server both do), from the first such line of TEXT.
pub fn listening_url(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let at = line.find("listening on http://")? + "listening on ".len();
        let url: String = line[at..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        let port = url.strip_prefix("http://127.0.0.1:")?;
        (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())).then_some(url)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_keeps_a_free_preferred_port_and_replaces_a_taken_one() {
        let free = pick(0).unwrap();
        assert_ne!(free, 0);
        assert!(is_free(free));
        assert_eq!(pick(free).unwrap(), free);

        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken = held.local_addr().unwrap().port();
        assert!(!is_free(taken));
        let other = pick(taken).unwrap();
        assert_ne!(other, taken);
        assert!(is_free(other));
    }

    #[test]
    fn listening_url_reads_both_servers_lines() {
        assert_eq!(
            listening_url(
                "x\nconnect-ui-backend listening on http://127.0.0.1:41234 (db: /tmp/a)\n"
            )
            .as_deref(),
            Some("http://127.0.0.1:41234")
        );
        assert_eq!(
            listening_url("connect-ui-faultserver listening on http://127.0.0.1:5000").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(listening_url("listening on http://127.0.0.1:"), None);
        assert_eq!(listening_url("listening on http://0.0.0.0:80"), None);
        assert_eq!(listening_url(""), None);
    }
}
