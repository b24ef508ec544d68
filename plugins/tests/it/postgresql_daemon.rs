//! A real PostgreSQL 15 runs what `v6fix postgresql` writes: a throwaway cluster (initdb
//! in a temporary directory, as the unprivileged `postgres` user), started inside a network
//! namespace the test makes, with 192.0.2.10 and 2001:db8::10 on its loopback, reading a
//! Debian `postgresql.conf` whose `listen_addresses` is `'192.0.2.10'` and a `pg_hba.conf`
//! that admits the site's IPv4 network. Before the conversion a client of the site network
//! gets in over IPv4 only; after it over IPv6 too (the new `listen_addresses` entry and the
//! mirrored row), and `pg_hba_file_rules` reports no error.

use crate::support;
use std::path::Path;
use std::process::Command;

const BIN: &str = "/usr/lib/postgresql/15/bin";
const PORT: u16 = 15432;

/// The sample cluster's configuration under `root`: Debian's files with the site's rules.
fn sample(root: &Path) {
    let debian = support::testdata().join("cases/postgresql/debian-default/in");
    support::copy_tree(&debian, root);
    let dir = root.join("etc/postgresql/15/main");
    let conf = std::fs::read_to_string(dir.join("postgresql.conf")).unwrap();
    let conf = conf.replace(
        "#listen_addresses = 'localhost'",
        "listen_addresses = '192.0.2.10'",
    );
    assert!(conf.contains("listen_addresses = '192.0.2.10'"));
    std::fs::write(dir.join("postgresql.conf"), conf).unwrap();
    let mut hba = std::fs::read_to_string(dir.join("pg_hba.conf")).unwrap();
    hba.push_str("host    all             all             192.0.2.0/24            trust\n");
    std::fs::write(dir.join("pg_hba.conf"), hba).unwrap();
}

/// Starts the cluster of `data` with the configuration under `root` in a new network
/// namespace; runs psql over 192.0.2.10 and 2001:db8::10; returns what each printed
/// (`v4=…`, `v6=…`, `errors=…`).
fn connect(work: &Path, root: &Path) -> String {
    let conf = root.join("etc/postgresql/15/main/postgresql.conf");
    let hba = root.join("etc/postgresql/15/main/pg_hba.conf");
    let script = format!(
        r#"ip addr add 192.0.2.10/32 dev lo
ip addr add 2001:db8::10/128 dev lo nodad
W={work}
setpriv --reuid postgres --regid postgres --init-groups {BIN}/postgres -D $W/data -c config_file={conf} -c data_directory=$W/data \
  -c hba_file={hba} -c port={PORT} -c unix_socket_directories=$W -c external_pid_file=$W/ext.pid -c ssl=off \
  >$W/log 2>&1 &
pid=$!
for i in $(seq 1 100); do
  runuser -u postgres -- {BIN}/pg_isready -q -h $W -p {PORT} && break
  sleep 0.1
done
q() {{ runuser -u postgres -- psql -X -A -t -h "$1" -p {PORT} -U postgres -d postgres -c "$2" 2>&1 | tr '\n' ' '; }}
echo "v4=$(q 192.0.2.10 'select inet_client_addr()')"
echo "v6=$(q 2001:db8::10 'select inet_client_addr()')"
echo "errors=$(q $W 'select count(*) from pg_hba_file_rules where error is not null')"
kill -INT $pid
wait $pid || true
cat $W/log >&2
"#,
        work = work.display(),
        conf = conf.display(),
        hba = hba.display(),
    );
    let o = support::in_namespace(&[], &script);
    assert!(o.status.success(), "{}", support::show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn a_converted_cluster_admits_the_site_network_over_ipv4_and_ipv6() -> support::Skippable {
    if !Path::new(BIN).join("postgres").exists() {
        support::daemon("postgres")?;
    }
    support::daemon("psql")?;
    support::can_unshare()?;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let chown = |p: &Path| {
        let s = Command::new("chown")
            .arg("-R")
            .arg("postgres:")
            .arg(p)
            .status();
        assert!(s.is_ok_and(|s| s.success()));
    };
    std::fs::set_permissions(w, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    chown(w);
    let o = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(format!("{BIN}/initdb"))
        .args(["-A", "reject", "-U", "postgres", "--no-sync", "-D"])
        .arg(w.join("data"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", support::show(&o));

    let root = w.join("root");
    sample(&root);
    std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    chown(&root);
    let before = connect(w, &root);
    assert!(before.contains("v4=192.0.2.10 "), "before: {before}");
    assert!(!before.contains("v6=2001:db8::10 "), "before: {before}");

    let o = support::v6fix(
        &root,
        &[
            "postgresql",
            "--network",
            "2001:db8::/64",
            "--address",
            "2001:db8::10",
        ],
    );
    assert!(o.status.success(), "{}", support::show(&o));
    chown(&root);
    let after = connect(w, &root);
    assert!(after.contains("v4=192.0.2.10 "), "after: {after}");
    assert!(after.contains("v6=2001:db8::10 "), "after: {after}");
    assert!(after.contains("errors=0 "), "after: {after}");
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![a_converted_cluster_admits_the_site_network_over_ipv4_and_ipv6]
}
