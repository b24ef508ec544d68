//! Include sets end to end: every file a daemon reads is converted however many there
//! are, a file included twice is read twice where the daemon does so, and an include loop
//! stops the run with the chain that makes it.

use crate::support::{read_tree, show, v6fix};
use std::path::Path;

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn apache_converts_all_of_4200_vhost_files() {
    const N: usize = 4200;
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "etc/apache2/apache2.conf",
        "Include ports.conf\nIncludeOptional sites-enabled/*.conf\n",
    );
    write(r, "etc/apache2/ports.conf", "Listen 80\n");
    for i in 0..N {
        write(
            r,
            &format!("etc/apache2/sites-enabled/site-{i:04}.conf"),
            &format!(
                "<VirtualHost 192.0.2.10:80>\n    ServerName s{i}.example.net\n</VirtualHost>\n"
            ),
        );
    }
    // The plan, not the writes: 4200 fsyncs would only time the disk.
    let o = v6fix(
        r,
        &["--check", "--json", "apache", "--address", "2001:db8::10"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), N);
    for (i, f) in files.iter().enumerate() {
        assert_eq!(
            f["path"],
            format!("etc/apache2/sites-enabled/site-{i:04}.conf"),
            "{f}"
        );
        let diff = f["diff"].as_str().unwrap();
        assert!(
            diff.contains("\n+<VirtualHost 192.0.2.10:80 [2001:db8::10]:80>\n"),
            "{diff}"
        );
    }
}

fn an_sshd_include_loop_exits_2_naming_the_chain() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nListenAddress 0.0.0.0\n",
    );
    write(
        r,
        "etc/ssh/sshd_config.d/back.conf",
        "# loops\nInclude sshd_config\n",
    );
    let before = read_tree(r);
    let o = v6fix(r, &["sshd"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr).replace(&r.display().to_string(), "[ROOT]");
    assert_eq!(
        err,
        "v6fix: error: [ROOT]/etc/ssh/sshd_config.d/back.conf:2:1: include chain \
         [ROOT]/etc/ssh/sshd_config:1 → [ROOT]/etc/ssh/sshd_config.d/back.conf:2 → \
         [ROOT]/etc/ssh/sshd_config again: an include loop, which sshd refuses\n"
    );
    assert_eq!(read_tree(r), before);
}

fn nginx_reads_a_file_included_twice_twice_and_refuses_a_loop() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "etc/nginx/nginx.conf",
        "events {}\nhttp {\n    server {\n        listen 80;\n        include snippets/allow.conf;\n    }\n    server {\n        listen 8080;\n        include snippets/allow.conf;\n    }\n}\n",
    );
    write(r, "etc/nginx/snippets/allow.conf", "allow 192.0.2.0/24;\n");
    let o = v6fix(r, &["nginx", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let conf = std::fs::read_to_string(r.join("etc/nginx/nginx.conf")).unwrap();
    assert!(
        conf.contains("listen [::]:80;") && conf.contains("listen [::]:8080;"),
        "{conf}"
    );
    let allow = std::fs::read_to_string(r.join("etc/nginx/snippets/allow.conf")).unwrap();
    assert_eq!(allow, "allow 192.0.2.0/24;\nallow 2001:db8::/64;\n");

    write(
        r,
        "etc/nginx/snippets/allow.conf",
        "include /etc/nginx/snippets/*.conf;\n",
    );
    let o = v6fix(r, &["nginx", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("snippets/allow.conf:1:1: include chain ")
            && err.contains("nginx.conf:6 → ")
            && err.ends_with("snippets/allow.conf again: an include loop, which nginx refuses\n"),
        "{err}"
    );
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        apache_converts_all_of_4200_vhost_files,
        an_sshd_include_loop_exits_2_naming_the_chain,
        nginx_reads_a_file_included_twice_twice_and_refuses_a_loop,
    ]
}
