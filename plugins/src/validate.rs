//! Before anything is written, each changed service's own checker reads the changed
//! configuration the way the daemon would.
//!
//! For every service whose config directory a plan touches, the directory is copied from
//! the root into a private stage, the planned files are laid over the copy, and the checker
//! runs in private mount and network namespaces (`unshare --mount --net`) where the stage
//! is bind-mounted over the real directory (`/etc/nginx`, …), `/run` is a private tmpfs
//! and any address can be bound (`nginx -t` binds its listeners). Debian's
//! absolute include paths therefore read the new files, and nothing live changes: not the
//! configs, not `/run`, not the daemons' logs. Under `--root R` the copy comes from
//! `R/etc/…`, so the checker reads the root's configuration, not this machine's.
//!
//! When the changed configuration fails, the checker runs again on the unchanged copy, so
//! the error can say whether the configuration already failed before the change. A service
//! whose checker is not installed is skipped with a note; services without a checker
//! (resolv.conf, Pure-FTPd's option files) are not validated.

use std::path::Path;
use std::process::Command;
use v6fix_core::apply::stage::Stage;
use v6fix_core::{Error, Host, Plan, Result};

/// A service's checker: the program that must be installed, the config directories it
/// reads, the command shown, and the script run inside the namespace (`$W` is a private
/// scratch directory).
struct Checker {
    service: &'static str,
    program: &'static str,
    dirs: &'static [&'static str],
    /// The file the checker starts from: without it in the root, nothing is checked.
    main: &'static str,
    command: &'static str,
    script: &'static str,
}

/// The checker of each plugin, by plugin name.
const CHECKERS: &[Checker] = &[
    Checker {
        service: "postfix",
        program: "postconf",
        dirs: &["/etc/postfix"],
        main: "/etc/postfix/main.cf",
        command: "postconf -c /etc/postfix -n",
        script: "postconf -c /etc/postfix -n >/dev/null",
    },
    Checker {
        service: "dovecot",
        program: "doveconf",
        dirs: &["/etc/dovecot"],
        main: "/etc/dovecot/dovecot.conf",
        command: "doveconf -n -c /etc/dovecot/dovecot.conf",
        script: "doveconf -n -c /etc/dovecot/dovecot.conf >/dev/null",
    },
    Checker {
        service: "apache",
        program: "apache2",
        dirs: &["/etc/apache2"],
        main: "/etc/apache2/apache2.conf",
        command: "apache2 -t (with /etc/apache2/envvars)",
        script: "export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data \
                 APACHE_PID_FILE=/run/apache2/apache2.pid APACHE_RUN_DIR=/run/apache2 \
                 APACHE_LOCK_DIR=/run/lock/apache2 APACHE_LOG_DIR=$W/log\n\
                 if [ -f /etc/apache2/envvars ]; then . /etc/apache2/envvars; fi\n\
                 mkdir -p \"$APACHE_RUN_DIR\" \"$APACHE_LOCK_DIR\" \"$W/log\"\n\
                 apache2 -d /etc/apache2 -f apache2.conf -t",
    },
    Checker {
        service: "nginx",
        program: "nginx",
        dirs: &["/etc/nginx"],
        main: "/etc/nginx/nginx.conf",
        command: "nginx -t -q -c /etc/nginx/nginx.conf",
        script: "for d in /var/log/nginx /var/lib/nginx; do \
                 if [ -d $d ]; then mount -t tmpfs none $d; fi; done\n\
                 nginx -t -q -c /etc/nginx/nginx.conf",
    },
    Checker {
        service: "varnish",
        program: "varnishd",
        dirs: &["/etc/varnish"],
        main: "/etc/varnish/default.vcl",
        command: "varnishd -C -f /etc/varnish/default.vcl",
        script: "mkdir -p $W/varnish && chmod 755 $W $W/varnish\n\
                 varnishd -C -n $W/varnish -f /etc/varnish/default.vcl 2>&1 >/dev/null",
    },
    Checker {
        service: "sshd",
        program: "sshd",
        dirs: &["/etc/ssh"],
        main: "/etc/ssh/sshd_config",
        command: "sshd -t -f /etc/ssh/sshd_config",
        script: "mkdir -p /run/sshd\n\
                 ssh-keygen -q -t ed25519 -N '' -f $W/hostkey >/dev/null\n\
                 sshd -t -f /etc/ssh/sshd_config -h $W/hostkey",
    },
    Checker {
        service: "bind9",
        program: "named-checkconf",
        dirs: &["/etc/bind"],
        main: "/etc/bind/named.conf",
        command: "named-checkconf /etc/bind/named.conf",
        script: "named-checkconf /etc/bind/named.conf",
    },
    Checker {
        service: "exim4",
        program: "exim4",
        dirs: &["/etc/exim4"],
        main: "/etc/exim4/update-exim4.conf.conf",
        command: "update-exim4.conf -o CONFIG && exim4 -C CONFIG -bV (exim4 -bV with a hand-maintained exim4.conf)",
        script: "if [ -e /etc/exim4/exim4.conf ]; then exim4 -C /etc/exim4/exim4.conf -bV >/dev/null\n\
                 else update-exim4.conf -o $W/exim4.conf >/dev/null && exim4 -C $W/exim4.conf -bV >/dev/null; fi",
    },
    Checker {
        service: "haproxy",
        program: "haproxy",
        dirs: &["/etc/haproxy"],
        main: "/etc/haproxy/haproxy.cfg",
        command: "haproxy -c -f /etc/haproxy/haproxy.cfg",
        script: "haproxy -c -f /etc/haproxy/haproxy.cfg >/dev/null",
    },
    Checker {
        service: "proftpd",
        program: "proftpd",
        dirs: &["/etc/proftpd"],
        main: "/etc/proftpd/proftpd.conf",
        command: "proftpd -t -c /etc/proftpd/proftpd.conf",
        script: "mkdir -p /run/proftpd\n\
                 proftpd -t -c /etc/proftpd/proftpd.conf </dev/null",
    },
    Checker {
        service: "interfaces",
        program: "ifup",
        dirs: &["/etc/network"],
        main: "/etc/network/interfaces",
        command: "ifup --no-act -a -i /etc/network/interfaces",
        script: "ifup --no-act --no-mappings --no-scripts -a -i /etc/network/interfaces \
                 --state-dir=$W/ifstate >/dev/null",
    },
    Checker {
        service: "postgresql",
        program: "pg_ctlcluster",
        dirs: &["/etc/postgresql"],
        main: "/etc/postgresql",
        command: "postgres -C listen_addresses -c config_file=… (each cluster, as postgres)",
        script: "for c in /etc/postgresql/*/*/postgresql.conf; do\n\
                 v=${c#/etc/postgresql/}; v=${v%%/*}\n\
                 setpriv --reuid postgres --regid postgres --init-groups \
                 /usr/lib/postgresql/$v/bin/postgres -C listen_addresses -c config_file=$c \
                 >/dev/null || exit 1\n\
                 done",
    },
    Checker {
        service: "mariadb",
        program: "mariadbd",
        dirs: &["/etc/mysql"],
        main: "/etc/mysql/my.cnf",
        command: "mariadbd --defaults-file=/etc/mysql/my.cnf --help --verbose",
        script: "mariadbd --defaults-file=/etc/mysql/my.cnf --help --verbose >/dev/null",
    },
    // The firewall: one checker per tool, each reading the files it loads. Each runs in a
    // fresh network namespace, so loading in test mode touches no live ruleset.
    Checker {
        service: "firewall",
        program: "nft",
        dirs: &["/etc/nftables.conf"],
        main: "/etc/nftables.conf",
        command: "nft -c -f /etc/nftables.conf",
        script: "nft -c -f /etc/nftables.conf",
    },
    Checker {
        service: "firewall",
        program: "ip6tables-restore",
        dirs: &["/etc/iptables"],
        main: "/etc/iptables/rules.v4",
        command: "iptables-restore --test rules.v4, ip6tables-restore --test rules.v6",
        script: "iptables-restore --test /etc/iptables/rules.v4 && \
                 { [ ! -f /etc/iptables/rules.v6 ] || ip6tables-restore --test /etc/iptables/rules.v6; }",
    },
    Checker {
        service: "firewall",
        program: "ufw",
        dirs: &["/etc/ufw", "/etc/default/ufw"],
        main: "/etc/ufw/user.rules",
        command: "ufw show added, ip(6)tables-restore --test on user.rules and user6.rules",
        script: "iptables-restore --test /etc/ufw/user.rules || exit 1\n\
                 if [ -f /etc/ufw/user6.rules ]; then ip6tables-restore --test /etc/ufw/user6.rules || exit 1; fi\n\
                 out=$(ufw show added 2>&1); echo \"$out\"\n\
                 case $out in *'Skipping malformed'*|*ERROR*) exit 1;; esac",
    },
];

/// One checker's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validated {
    pub(crate) service: &'static str,
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
}

/// What validation did: the checkers that ran, and notes on those skipped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Validation {
    pub(crate) ran: Vec<Validated>,
    pub(crate) notes: Vec<String>,
}

fn installed(program: &str) -> bool {
    [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ]
    .iter()
    .any(|d| Path::new(d).join(program).exists())
}

/// Runs `c` over the stage in a private mount namespace; `(ok, output)`.
fn check(c: &Checker, stage: &Path, work: &Path) -> Result<(bool, String)> {
    // A private network namespace too, where binding any address works: a checker that
    // test-binds its listeners (`nginx -t`) checks the config, not whether an address
    // planned in the same run is up yet.
    let mut script = String::from(
        "set -e\nmount -t tmpfs none /run\nmkdir -p /run/lock\n\
         ip link set lo up 2>/dev/null || true\n\
         echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind 2>/dev/null || true\n\
         echo 1 > /proc/sys/net/ipv6/ip_nonlocal_bind 2>/dev/null || true\n",
    );
    for dir in c.dirs {
        let staged = stage.join(dir.trim_start_matches('/'));
        script.push_str(&format!("mount --bind '{}' '{dir}'\n", staged.display()));
    }
    script.push_str("set +e\n");
    script.push_str(c.script);
    script.push('\n');
    let o = Command::new("unshare")
        .args(["--mount", "--net", "--propagation", "private", "sh", "-c"])
        .arg(&script)
        .env("W", work)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .map_err(|e| Error::io("unshare", &e))?;
    let mut out = String::from_utf8_lossy(&o.stdout).into_owned();
    out.push_str(&String::from_utf8_lossy(&o.stderr));
    Ok((o.status.success(), out.trim_end().to_string()))
}

/// True when this process can make a private mount namespace (it must be root).
fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["--mount", "--net", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs the checker of every service whose configuration `plan` changes. An error when
/// one rejects it: nothing may be written then.
pub(crate) fn validate(host: &Host, plan: &Plan) -> Result<Validation> {
    let mut v = Validation::default();
    let mut namespaces = None;
    for c in CHECKERS {
        let touched = plan
            .files
            .iter()
            .any(|f| c.dirs.iter().any(|d| f.target.starts_with(d)));
        if !touched {
            continue;
        }
        if !host.exists(Path::new(c.main)) {
            v.notes.push(format!(
                "{}: not validated, {} does not exist",
                c.service,
                host.display(Path::new(c.main))
            ));
            continue;
        }
        if !installed(c.program) {
            v.notes.push(format!(
                "{}: not validated, {} is not installed",
                c.service, c.program
            ));
            continue;
        }
        if c.dirs.iter().any(|d| !Path::new(d).exists()) {
            v.notes.push(format!(
                "{}: not validated, {} does not exist on this machine to stage over",
                c.service,
                c.dirs.join(" ")
            ));
            continue;
        }
        if !*namespaces.get_or_insert_with(can_unshare) {
            v.notes.push(format!(
                "{}: not validated, a private mount namespace cannot be made (run as root)",
                c.service
            ));
            continue;
        }
        let st = Stage::new()?;
        st.lay(host, c.dirs, plan, true)?;
        let (ok, output) = check(c, &st.root(), &st.work())?;
        v.ran.push(Validated {
            service: c.service,
            command: c.command,
            ok,
        });
        if ok {
            continue;
        }
        st.lay(host, c.dirs, plan, false)?;
        let (before_ok, _) = check(c, &st.root(), &st.work())?;
        let before = if before_ok {
            "it passed before the change, so the change broke it"
        } else {
            "it already failed before the change: fix that first, or pass --no-validate"
        };
        return Err(Error::Rejected {
            message: format!(
                "{}: `{}` rejects the changed configuration; nothing was written ({before}):\n{}",
                c.service,
                c.command,
                indent(&output)
            ),
        });
    }
    Ok(v)
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_checker_belongs_to_a_registered_plugin_and_dirs_do_not_overlap() {
        let names: Vec<&str> = v6fix_core::registry().iter().map(|p| p.name()).collect();
        for c in CHECKERS {
            assert!(names.contains(&c.service), "{}", c.service);
            for other in CHECKERS.iter().filter(|o| o.service != c.service) {
                for d in c.dirs {
                    assert!(!other.dirs.iter().any(|o| Path::new(o).starts_with(d)));
                }
            }
        }
    }
}
