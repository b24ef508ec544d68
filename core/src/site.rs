//! The site address plan: which IPv6 address, gateway, client networks and DNS records a
//! machine gets.
//!
//! - A site network is one /64 with a VRRP gateway (`::1` in it unless given).
//! - A machine's address puts its role tag in the second-to-last 16-bit group and its host
//!   id in the last one: role `client` (tag `c`) host `1` in `2001:db8::/64` is
//!   `2001:db8::c:1`; role `admin` (tag `ad`) host `bac1` is `2001:db8::ad:bac1`. Other
//!   tags are written in hex (`--role 10`).
//! - Routed client networks: machine number N gets the Nth /64 of a client pool
//!   (`2001:db8:100::/48`, index 5: `2001:db8:100:5::/64`). Inside it, virtual client k
//!   (1..=ffff) gets the /80 with k in the fifth group (`2001:db8:100:5:1::/80`); /80 number 0
//!   stays with the machine itself (its own address on the client side). The edge routers
//!   need one static route per machine: `ip -6 route add <client /64> via <machine address>`.
//! - DNS: the AAAA record and the nibble-form `ip6.arpa` PTR record in zone-file syntax.
//!
//! Errors are [`Error::Usage`] naming the option at fault (`--host`, `--role`, `--network`,
//! `--gateway`, `--client-pool`, `--index`), the same names every command uses.

use crate::addr::Prefix;
use crate::error::{Error, Result};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// A role: its tag (the second-to-last group) and its name when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    pub tag: u16,
    pub name: Option<&'static str>,
}

impl Role {
    pub const ADMIN: Role = Role {
        tag: 0xad,
        name: Some("admin"),
    };
    pub const CLIENT: Role = Role {
        tag: 0xc,
        name: Some("client"),
    };

    /// `admin`, `client`, or a tag in hex (`ad`, `c`, `10`, `0x10`), at most 16 bits.
    pub fn parse(text: &str) -> Result<Role> {
        match text.to_ascii_lowercase().as_str() {
            "admin" => return Ok(Role::ADMIN),
            "client" => return Ok(Role::CLIENT),
            _ => {}
        }
        let tag = parse_group(text).map_err(|why| {
            Error::usage(format!(
                "--role `{text}`: {why}; use admin (tag ad), client (tag c) or a tag of 1 to 4 hex digits"
            ))
        })?;
        Ok(match tag {
            0xad => Role::ADMIN,
            0xc => Role::CLIENT,
            _ => Role { tag, name: None },
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(n) => write!(f, "{n} (tag {:x})", self.tag),
            None => write!(f, "tag {:x}", self.tag),
        }
    }
}

/// A host id: 1 to 4 hex digits (`1`, `bac1`, `0x2a`), at most 16 bits.
pub fn parse_host_id(text: &str) -> Result<u16> {
    parse_group(text).map_err(|why| {
        Error::usage(format!(
            "--host `{text}`: {why}; a host id is 1 to 4 hex digits (the last 16-bit group)"
        ))
    })
}

/// One 16-bit group in hex, with an optional `0x`.
fn parse_group(text: &str) -> std::result::Result<u16, &'static str> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("not a hex number");
    }
    let digits = t.trim_start_matches('0');
    if digits.len() > 4 {
        return Err("does not fit in 16 bits (ffff at most)");
    }
    u16::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16)
        .map_err(|_| "does not fit in 16 bits (ffff at most)")
}

/// A site network (a /64) and its gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    pub network: Prefix,
    pub gateway: Ipv6Addr,
}

impl Site {
    /// The site `network` (an IPv6 /64 without host bits) with `gateway` (default `::1`
    /// in the network), which must lie inside it and not be the network's own address.
    pub fn new(network: Prefix, gateway: Option<IpAddr>) -> Result<Site> {
        let IpAddr::V6(base) = network.addr() else {
            return Err(Error::usage(format!(
                "--network `{network}`: the site network must be IPv6"
            )));
        };
        if network.len() != 64 {
            return Err(Error::usage(format!(
                "--network `{network}`: the site network must be a /64 (the address plan puts \
                 role and host in the last 64 bits)"
            )));
        }
        if network.has_host_bits() {
            return Err(Error::usage(format!(
                "--network `{network}`: host bits are set; the network is `{}`",
                network.network()
            )));
        }
        let gateway = match gateway {
            None => with_low(base, 1),
            Some(IpAddr::V6(g)) => g,
            Some(g) => {
                return Err(Error::usage(format!(
                    "--gateway `{g}`: must be an IPv6 address"
                )))
            }
        };
        if !network.contains(IpAddr::V6(gateway)) || gateway == base {
            return Err(Error::usage(format!(
                "--gateway `{gateway}` is not a host address inside the site network {network}"
            )));
        }
        Ok(Site { network, gateway })
    }

    fn base(&self) -> Ipv6Addr {
        match self.network.addr() {
            IpAddr::V6(a) => a,
            IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
        }
    }
}

/// One machine in the site: its role, id and address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPlan {
    pub site: Site,
    pub role: Role,
    pub host: u16,
    pub address: Ipv6Addr,
}

impl AddressPlan {
    /// The address of machine `host` with `role` in `site`. Refuses an address that is
    /// the network's own (subnet-router anycast) or the gateway's.
    pub fn new(site: Site, role: Role, host: u16) -> Result<AddressPlan> {
        let low = (u64::from(role.tag) << 16) | u64::from(host);
        let address = with_low(site.base(), low);
        if low == 0 {
            return Err(Error::usage(format!(
                "--role {:x} --host {host:x} gives {address}, the network's own address \
                 (subnet-router anycast); pick another host id",
                role.tag
            )));
        }
        if address == site.gateway {
            return Err(Error::usage(format!(
                "--role {:x} --host {host:x} gives {address}, which overlaps the gateway {}; \
                 pick another host id or --gateway",
                role.tag, site.gateway
            )));
        }
        Ok(AddressPlan {
            site,
            role,
            host,
            address,
        })
    }

    /// The address with the site's prefix length: `2001:db8::c:1/64`.
    pub fn address_prefix(&self) -> Prefix {
        Prefix::new(IpAddr::V6(self.address), 64).unwrap_or(self.site.network)
    }

    /// The AAAA and PTR records for `name`.
    pub fn dns(&self, name: &str) -> Result<Dns> {
        Dns::new(name, self.address)
    }
}

/// A machine's routed client network: a /64 from the pool, /80s per virtual client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientNet {
    pub pool: Prefix,
    pub index: u64,
    pub network: Prefix,
}

impl ClientNet {
    /// The `index`th /64 of `pool` (counted from 0). The pool must be IPv6, at most a /64,
    /// large enough for the index, and apart from the site network.
    pub fn new(pool: Prefix, index: u64, site: &Site) -> Result<ClientNet> {
        let IpAddr::V6(base) = pool.addr() else {
            return Err(Error::usage(format!(
                "--client-pool `{pool}`: must be an IPv6 prefix"
            )));
        };
        if pool.has_host_bits() {
            return Err(Error::usage(format!(
                "--client-pool `{pool}`: host bits are set; the network is `{}`",
                pool.network()
            )));
        }
        if pool.len() > 64 {
            return Err(Error::usage(format!(
                "--client-pool `{pool}` is too small: it must hold at least one /64"
            )));
        }
        let bits = 64 - u32::from(pool.len());
        let count: u128 = 1u128 << bits;
        if u128::from(index) >= count {
            return Err(Error::usage(format!(
                "--client-pool `{pool}` is too small for --index {index}: it holds {count} /64s \
                 (index 0 to {})",
                count - 1
            )));
        }
        if pool.covers(&site.network) || site.network.covers(&pool) {
            return Err(Error::usage(format!(
                "--client-pool `{pool}` overlaps the site network {}",
                site.network
            )));
        }
        let addr = u128::from(base) | (u128::from(index) << 64);
        let network = Prefix::new(IpAddr::V6(Ipv6Addr::from(addr)), 64).unwrap_or(pool);
        Ok(ClientNet {
            pool,
            index,
            network,
        })
    }

    /// The /80 of virtual client `k` (1..=ffff; /80 number 0 stays with the machine).
    pub fn client(&self, k: u16) -> Option<Prefix> {
        if k == 0 {
            return None;
        }
        let IpAddr::V6(base) = self.network.addr() else {
            return None;
        };
        let addr = u128::from(base) | (u128::from(k) << 48);
        Prefix::new(IpAddr::V6(Ipv6Addr::from(addr)), 80)
    }

    /// The static route the edge routers need to reach this client network.
    pub fn route(&self, via: Ipv6Addr) -> String {
        format!("ip -6 route add {} via {via}", self.network)
    }
}

/// The DNS records of one address, in zone-file syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dns {
    /// The fully qualified name, with its final dot.
    pub name: String,
    /// `name. IN AAAA addr`
    pub aaaa: String,
    /// `<32 nibbles>.ip6.arpa. IN PTR name.`
    pub ptr: String,
    /// The /64's reverse zone: `<16 nibbles>.ip6.arpa.`
    pub reverse_zone: String,
}

impl Dns {
    pub fn new(name: &str, address: Ipv6Addr) -> Result<Dns> {
        let ok = !name.is_empty()
            && name.len() <= 254
            && name.trim_end_matches('.').split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !ok {
            return Err(Error::usage(format!(
                "--name `{name}`: not a host name (letters, digits and `-` in dot-separated labels)"
            )));
        }
        let fqdn = if name.ends_with('.') {
            name.to_ascii_lowercase()
        } else {
            format!("{}.", name.to_ascii_lowercase())
        };
        let nibbles = reverse_nibbles(address);
        Ok(Dns {
            aaaa: format!("{fqdn}\tIN\tAAAA\t{address}"),
            ptr: format!("{nibbles}\tIN\tPTR\t{fqdn}"),
            reverse_zone: nibbles[32..].to_string(),
            name: fqdn,
        })
    }
}

/// `1.0.0.0.…ip6.arpa.`: the address's 32 nibbles, least significant first.
pub fn reverse_nibbles(address: Ipv6Addr) -> String {
    let mut s = String::with_capacity(73);
    for b in address.octets().iter().rev() {
        s.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        s.push('.');
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push('.');
    }
    s.push_str("ip6.arpa.");
    s
}

fn with_low(base: Ipv6Addr, low: u64) -> Ipv6Addr {
    Ipv6Addr::from((u128::from(base) & !u128::from(u64::MAX)) | u128::from(low))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site::new(Prefix::parse("2001:db8::/64").unwrap(), None).unwrap()
    }

    #[test]
    fn role_and_host_give_the_address_and_the_default_gateway() {
        let h = AddressPlan::new(site(), Role::parse("client").unwrap(), 1).unwrap();
        assert_eq!(h.address.to_string(), "2001:db8::c:1");
        assert_eq!(h.site.gateway.to_string(), "2001:db8::1");
        assert_eq!(h.address_prefix().to_string(), "2001:db8::c:1/64");
        let h = AddressPlan::new(
            site(),
            Role::parse("admin").unwrap(),
            parse_host_id("bac1").unwrap(),
        )
        .unwrap();
        assert_eq!(h.address.to_string(), "2001:db8::ad:bac1");
        assert_eq!(Role::parse("ad").unwrap(), Role::ADMIN);
        assert_eq!(Role::parse("C").unwrap(), Role::CLIENT);
        assert_eq!(Role::parse("0x10").unwrap().tag, 0x10);
        assert_eq!(Role::parse("10").unwrap().to_string(), "tag 10");
    }

    #[test]
    fn ids_and_tags_must_fit_16_bits() {
        let e = parse_host_id("10000").unwrap_err().to_string();
        assert!(e.contains("--host `10000`: does not fit in 16 bits"), "{e}");
        assert!(parse_host_id("000ffff").is_ok());
        assert!(parse_host_id("xyz")
            .unwrap_err()
            .to_string()
            .contains("not a hex"));
        assert!(parse_host_id("").is_err());
        let e = Role::parse("12345").unwrap_err().to_string();
        assert!(e.contains("--role `12345`: does not fit in 16 bits"), "{e}");
        assert!(Role::parse("web").is_err());
    }

    #[test]
    fn the_site_must_be_a_v6_64_and_the_gateway_inside_it() {
        let net = |s| Prefix::parse(s).unwrap();
        let e = Site::new(net("2001:db8::/48"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be a /64"), "{e}");
        assert!(Site::new(net("192.0.2.0/24"), None).is_err());
        assert!(Site::new(net("2001:db8::5/64"), None)
            .unwrap_err()
            .to_string()
            .contains("host bits"));
        let e = Site::new(net("2001:db8::/64"), Some("2001:db8:1::1".parse().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a host address inside"), "{e}");
        let s = Site::new(
            net("2001:db8::/64"),
            Some("2001:db8::fffe".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(s.gateway.to_string(), "2001:db8::fffe");
    }

    #[test]
    fn addresses_that_collide_are_refused() {
        let e = AddressPlan::new(site(), Role::parse("0").unwrap(), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("overlaps the gateway"), "{e}");
        let e = AddressPlan::new(site(), Role::parse("0").unwrap(), 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("subnet-router anycast"), "{e}");
    }

    #[test]
    fn client_networks_come_from_the_pool() {
        let pool = Prefix::parse("2001:db8:100::/48").unwrap();
        let c = ClientNet::new(pool, 5, &site()).unwrap();
        assert_eq!(c.network.to_string(), "2001:db8:100:5::/64");
        assert_eq!(c.client(1).unwrap().to_string(), "2001:db8:100:5:1::/80");
        assert_eq!(
            c.client(0xffff).unwrap().to_string(),
            "2001:db8:100:5:ffff::/80"
        );
        assert!(c.client(0).is_none());
        assert_eq!(
            c.route("2001:db8::c:1".parse().unwrap()),
            "ip -6 route add 2001:db8:100:5::/64 via 2001:db8::c:1"
        );
        let e = ClientNet::new(pool, 65536, &site())
            .unwrap_err()
            .to_string();
        assert!(e.contains("too small for --index 65536"), "{e}");
        let small = Prefix::parse("2001:db8:100::/80").unwrap();
        assert!(ClientNet::new(small, 0, &site())
            .unwrap_err()
            .to_string()
            .contains("too small"));
        let over = Prefix::parse("2001:db8::/48").unwrap();
        assert!(ClientNet::new(over, 1, &site())
            .unwrap_err()
            .to_string()
            .contains("overlaps the site network"));
    }

    #[test]
    fn dns_records_in_zone_file_syntax() {
        let h = AddressPlan::new(site(), Role::CLIENT, 1).unwrap();
        let d = h.dns("web1.example.com").unwrap();
        assert_eq!(d.aaaa, "web1.example.com.\tIN\tAAAA\t2001:db8::c:1");
        assert_eq!(
            d.ptr,
            "1.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.\tIN\tPTR\tweb1.example.com."
        );
        assert_eq!(d.reverse_zone, "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
        assert!(h.dns("bad_name").is_err());
        assert!(h.dns("-x.example").is_err());
    }
}
