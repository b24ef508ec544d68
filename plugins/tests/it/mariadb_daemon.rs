//! A real mariadbd (10.11) reads what `v6fix mariadb` writes: the golden case with
//! `bind-address = 0.0.0.0` is bind-mounted over `/etc/mysql` inside a network namespace the
//! test makes, and mariadbd starts from `/etc/mysql/my.cnf` on a throwaway data directory
//! (a high port, no grant tables). Before the conversion it greets over 127.0.0.1 only;
//! after it (`0.0.0.0,::`) over ::1 too. A lone `::`, which v6fix never writes, is
//! IPv6-only in this MariaDB: the test shows that as well.

use crate::support;
use std::path::Path;
use std::process::Command;

const PORT: u16 = 13306;

/// Starts mariadbd with the option files under `etc_mysql` (and `extra` options) and
/// returns what answered: `127.0.0.1=yes|no ::1=yes|no`.
fn greets(work: &Path, etc_mysql: &Path, extra: &str) -> String {
    let script = format!(
        r#"W={work}
runuser -u mysql -- mariadbd --defaults-file=/etc/mysql/my.cnf --datadir=$W/d --socket=$W/s \
  --pid-file=$W/p --port={PORT} --skip-grant-tables --innodb-buffer-pool-size=8M --skip-log-bin \
  --log-error=$W/log {extra} </dev/null >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do
  [ -n "$(ss -ltnH "sport = :{PORT}")" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
for a in 127.0.0.1 ::1; do
  if timeout 5 bash -c "exec 3<>/dev/tcp/$a/{PORT}; head -c 40 <&3 | grep -aq MariaDB" 2>/dev/null; then
    printf '%s=yes ' $a; else printf '%s=no ' $a; fi
done
kill $pid
wait $pid || true
cat $W/log >&2 2>/dev/null || true
"#,
        work = work.display(),
    );
    let o = support::in_namespace(&[(etc_mysql, "/etc/mysql")], &script);
    assert!(o.status.success(), "{}", support::show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn converted_mariadb_listens_on_both_families() -> support::Skippable {
    support::daemon("mariadbd")?;
    support::can_unshare()?;
    if !Path::new("/etc/mysql").is_dir() {
        support::daemon("/etc/mysql")?;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::set_permissions(w, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir(w.join("d")).unwrap();
    let s = Command::new("chown").args(["-R", "mysql:"]).arg(w).status();
    assert!(s.is_ok_and(|s| s.success()));
    let case = support::testdata().join("cases/mariadb/all-addresses");
    let before = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), before.path());
    let after = support::expected_tree(&case);

    let got = greets(w, &before.path().join("etc/mysql"), "");
    assert_eq!(got, "127.0.0.1=yes ::1=no ", "before the conversion");
    let got = greets(w, &after.path().join("etc/mysql"), "");
    assert_eq!(got, "127.0.0.1=yes ::1=yes ", "after the conversion");
    let got = greets(w, &before.path().join("etc/mysql"), "--bind-address=::");
    assert_eq!(got, "127.0.0.1=no ::1=yes ", "a lone :: is IPv6-only");
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![converted_mariadb_listens_on_both_families]
}
