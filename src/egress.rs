//! Where the service may call out to on someone else's say-so. A partner's webhook URL is partner input: it
//! must not point the service at itself, the machine's neighbours or the cloud's metadata address. The URL
//! must be `https`, and every address its host resolves to must be public (not loopback, private, shared,
//! link-local, multicast, unspecified, broadcast or documentation). `NONGSAN_ALLOW_LOCAL_WEBHOOKS=true` lets
//! `http` and loopback hosts through, for tests and local development only. URLs that operators configure
//! (`SMTP_URL` and the like) are not checked here.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::Url;

use crate::error::Text;

/// A host that does not resolve within this time is refused (also a slow resolver's answer).
const RESOLVE_WITHIN: Duration = Duration::from_secs(1);

/// Why a URL is refused, in the person's words.
#[derive(Debug)]
pub struct Refused {
    pub code: &'static str,
    pub message: Text,
}

fn refused(code: &'static str, vi: &'static str, en: &'static str) -> Refused {
    Refused { code, message: Text::new(vi, en) }
}

/// Whether the service may call this address for a partner.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
            let this_network = a == 0; // 0.0.0.0/8
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || shared
                || this_network)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

/// The URL, if it may be used for a partner's calls; checks its form only (see [`resolve`]).
pub fn check_form(url: &str, allow_local: bool) -> Result<Url, Refused> {
    let parsed = Url::parse(url).ok().filter(|parsed| parsed.host().is_some());
    let Some(parsed) = parsed.filter(|parsed| matches!(parsed.scheme(), "http" | "https")) else {
        return Err(refused(
            "url_invalid",
            "Địa chỉ webhook phải là một URL đầy đủ bắt đầu bằng https://.",
            "The webhook URL must be a full URL starting with https://.",
        ));
    };
    if parsed.scheme() != "https" && !allow_local {
        return Err(refused(
            "url_not_https",
            "Địa chỉ webhook phải dùng https://.",
            "The webhook URL must use https://.",
        ));
    }
    Ok(parsed)
}

/// The addresses to call `url` at: every one its host resolves to (within a second), all public unless
/// `allow_local`. Checked when the URL is registered and again before each call, and the call then goes to
/// the address checked, so a name that changes its answer in between (DNS rebinding) gains nothing.
pub async fn resolve(url: &Url, allow_local: bool) -> Result<Vec<SocketAddr>, Refused> {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(RESOLVE_WITHIN, tokio::net::lookup_host((host, port))).await;
    let addresses: Vec<SocketAddr> = match lookup {
        Ok(Ok(found)) => found.collect(),
        _ => Vec::new(),
    };
    if addresses.is_empty() {
        return Err(refused(
            "url_unresolved",
            "Không tìm thấy máy chủ của địa chỉ webhook.",
            "The webhook URL's host could not be found.",
        ));
    }
    if !allow_local && !addresses.iter().all(|address| is_public(address.ip())) {
        return Err(refused(
            "url_not_public",
            "Địa chỉ webhook phải là một máy chủ công khai trên Internet, không phải địa chỉ nội bộ.",
            "The webhook URL must be a public Internet host, not an internal address.",
        ));
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public(ip.parse().expect("an address"))
    }

    #[test]
    fn inside_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!public(ip), "{ip} is inside");
        }
        for ip in ["1.1.1.1", "203.162.4.191", "2001:4860:4860::8888", "::ffff:8.8.8.8"] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn only_https_unless_local_is_allowed() {
        assert_eq!(check_form("http://example.vn/hook", false).map_err(|r| r.code).err(), Some("url_not_https"));
        assert!(check_form("http://127.0.0.1:9000/hook", true).is_ok());
        assert_eq!(check_form("ftp://example.vn", true).map_err(|r| r.code).err(), Some("url_invalid"));
    }
}
