//! Where verification may connect: public addresses only (unless a test flag allows private
//! ones), decided on the addresses the connection is then made to, so a DNS answer that changes
//! between a check and the connection (rebinding) cannot slip past.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why no address was given to the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// The name does not resolve.
    NotFound,
    /// The name resolves to an address in a private, loopback, link-local or otherwise
    /// non-public range.
    Private,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressError::NotFound => "no such host",
            AddressError::Private => "the host resolves to a non-public address",
        })
    }
}

impl std::error::Error for AddressError {}

/// Whether `ip` is an address on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local, shared (CGNAT), unspecified, broadcast, multicast, documentation,
/// benchmarking or reserved, also when an IPv4 address hides in an IPv6 one (mapped,
/// compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0; 6] {
        // :: and ::1, and the deprecated IPv4-compatible form.
        return !(ip.is_unspecified() || ip.is_loopback()) && is_public_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b {
        // NAT64: the IPv4 address it reaches.
        return is_public_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        // 6to4: the IPv4 address of the relay.
        return is_public_v4(embedded(s[1], s[2]));
    }
    !((s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || s[0] == 0x0100 && s[1..4] == [0; 3]) // discard-only
}

/// A resolver that hands the connector only addresses it may use: every address of the name
/// must be public unless `allow_private`; otherwise the name fails with
/// [`AddressError::Private`].
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Tests: let private and loopback addresses through.
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let Ok(found) = tokio::net::lookup_host((host.as_str(), 0)).await else {
                return Err(Box::new(AddressError::NotFound) as _);
            };
            let addrs: Vec<SocketAddr> = found.collect();
            if addrs.is_empty() {
                return Err(Box::new(AddressError::NotFound) as _);
            }
            if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(Box::new(AddressError::Private) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The [`AddressError`] somewhere in `error`'s chain of causes, if there is one.
pub fn address_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a AddressError> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<AddressError>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a00:1::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_private_addresses_unless_allowed() {
        let name = |n: &str| n.parse::<Name>().unwrap();
        let refused = GuardedResolver {
            allow_private: false,
        }
        .resolve(name("localhost"))
        .await
        .err()
        .unwrap();
        assert_eq!(
            address_error(refused.as_ref()),
            Some(&AddressError::Private)
        );
        let allowed = GuardedResolver {
            allow_private: true,
        }
        .resolve(name("localhost"))
        .await
        .unwrap();
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
        let missing = GuardedResolver {
            allow_private: true,
        }
        .resolve(name("nothing-here.invalid"))
        .await
        .err()
        .unwrap();
        assert_eq!(
            address_error(missing.as_ref()),
            Some(&AddressError::NotFound)
        );
    }
}
