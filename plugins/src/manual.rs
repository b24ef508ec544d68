//! The parts of the manual that the command-line definition does not hold: exit status,
//! files, examples and JSON output, written once here, next to it. The man pages
//! (`v6fix(1)` and one `v6fix-<command>(1)` per command) and the shell completions are
//! generated from [`crate::command`] and this text, so they cannot drift from the options.
//!
//! Text is plain: paragraphs are strings, lists are `(term, meaning)` pairs. A command
//! without a page of its own here still gets a man page, with generic files and examples.

/// The manual text of one command.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// The command's name; `"v6fix"` for the program itself.
    pub command: &'static str,
    /// Paragraphs that follow the one-line summary in DESCRIPTION.
    pub description: &'static [&'static str],
    /// Files the command reads or writes, below `--root`, with what each is.
    pub files: &'static [(&'static str, &'static str)],
    /// Example command lines, each with what it does.
    pub examples: &'static [(&'static str, &'static str)],
    /// What `--json` prints: `(member, meaning)`, or `("", paragraph)`.
    pub json: &'static [(&'static str, &'static str)],
}

/// EXIT STATUS: the same three codes for every command.
pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Success: the changes were applied, or there was nothing to change. With --check: \
         nothing to change. For audit: nothing found.",
    ),
    (
        "1",
        "With --check: changes are pending (the diff shows them; nothing was written). \
         For audit: something of severity warning or error was found.",
    ),
    (
        "2",
        "An error: a bad argument, a file that cannot be parsed (named with path:line:col), \
         an I/O error, a path outside --root, or a failed check. Nothing was written.",
    ),
];

/// FILES entries every command that writes shares.
pub const COMMON_FILES: &[(&str, &str)] = &[(
    "/var/backups/v6fix/<UTC time>/",
    "With --backup: the files a run replaced, one new directory per run, never overwritten.",
)];

/// JSON OUTPUT of every command that changes files (each service command and all).
pub const CHANGE_JSON: &[(&str, &str)] = &[
    (
        "",
        "With --json, v6fix prints exactly one JSON object on stdout and nothing else there, \
         with these members:",
    ),
    (
        "changed",
        "true when files were changed, or with --check would be.",
    ),
    ("check", "true when --check was given."),
    (
        "files",
        "One object per file: path (relative to --root), action (modify or create) and \
         diff (a unified diff with a/ and b/ paths).",
    ),
    (
        "warnings",
        "What needs a human, as strings; also printed on stderr.",
    ),
    ("notes", "What v6fix decided, and why, as strings."),
    (
        "restart",
        "The commands that make the services pick the change up, in the order to run \
         them: objects with service, action, command (a shell command) and why.",
    ),
    (
        "backup",
        "With --backup: this run's backup directory, relative to --root.",
    ),
    (
        "error",
        "Only on an error: the message. Then changed is false, files is empty and the \
         exit status is 2.",
    ),
];

/// The pages, by command. The program's own page comes first.
pub const PAGES: &[Page] = &[
    Page {
        command: "v6fix",
        description: &[
            "v6fix converts a Debian server to dual-stack IPv4/IPv6 by rewriting its service \
             configs in place: /etc/network/interfaces, /etc/resolv.conf, Postfix, Dovecot, \
             Pure-FTPd, Apache, nginx, Varnish and sshd. Each command knows how its daemon \
             spells IPv6 and edits only the lines it must, in the file's own style.",
            "All files of a run change or none do; owner, group and mode are kept; nothing \
             outside --root is read or written; a second run changes nothing. By default a \
             command applies its changes and prints a unified diff of them, notes on what it \
             decided, and the commands that make the services pick the change up. Warnings \
             go to stderr. Global options work before or after the command.",
        ],
        files: &[
            (
                "/etc/network/interfaces",
                "The interfaces command (and its source includes).",
            ),
            ("/etc/resolv.conf", "The resolv command."),
            (
                "/etc/postfix/main.cf, /etc/postfix/master.cf",
                "The postfix command.",
            ),
            (
                "/etc/dovecot/dovecot.conf",
                "The dovecot command (and its includes).",
            ),
            ("/etc/exim4/update-exim4.conf.conf", "The exim4 command."),
            ("/etc/pure-ftpd/conf/", "The pure-ftpd command."),
            ("/etc/vsftpd.conf", "The vsftpd command."),
            ("/etc/proftpd/proftpd.conf", "The proftpd command."),
            ("/etc/haproxy/haproxy.cfg", "The haproxy command."),
            ("/etc/apache2/", "The apache command."),
            ("/etc/nginx/", "The nginx command."),
            (
                "/etc/systemd/system/varnish.service.d/, /etc/default/varnish, \
                 /etc/varnish/*.vcl",
                "The varnish command.",
            ),
            (
                "/etc/ssh/sshd_config, /etc/ssh/sshd_config.d/",
                "The sshd command.",
            ),
            (
                "/etc/iptables/, /etc/nftables.conf, /etc/ufw/, /etc/sysctl.d/",
                "The firewall and preflight commands.",
            ),
        ],
        examples: &[
            (
                "v6fix --root /tmp/copy --check all --network 2001:db8::/64 \
                 --role client --host 1",
                "Show what converting a copy of a host would change; write nothing.",
            ),
            (
                "v6fix all --network 2001:db8::/64 --role client --host 1",
                "Convert every installed service of this host in one transaction.",
            ),
            ("v6fix audit", "Report what still assumes IPv4."),
            (
                "v6fix --check -q postfix --network 2001:db8::/64",
                "Exit 1 if Postfix still needs converting, 0 if not: the test a \
                 configuration-management tool runs before applying.",
            ),
        ],
        json: CHANGE_JSON,
    },
    Page {
        command: "all",
        description: &[
            "Derives the host's address and gateway from the address plan, then runs every \
             command whose service is installed as one transaction: one diff, one report, \
             all files or none. The network goes first (interfaces, resolv), then the \
             services by name, each planned on top of the ones before; the restart commands \
             come out in that order. Services that are not installed are skipped and named; \
             resolv is skipped without --nameserver.",
        ],
        files: &[(
            "/etc/",
            "The files of every service command; v6fix list shows them for this host.",
        )],
        examples: &[
            (
                "v6fix --check all --network 2001:db8::/64 --role client --host 1",
                "Show the whole conversion of this host as a diff; exit 1 if anything is \
                 pending.",
            ),
            (
                "v6fix --backup all --network 2001:db8::/64 --role client --host 1 \
                 --nameserver 2001:db8::53 --skip varnish",
                "Convert everything but Varnish, add an IPv6 nameserver, keep a backup.",
            ),
        ],
        json: CHANGE_JSON,
    },
    Page {
        command: "audit",
        description: &[
            "Read-only. Reports, with file:line, a severity, what breaks and the v6fix \
             command that fixes it, what keeps the host IPv4-only: IPv4-only protocol \
             settings and listeners, network lists Postfix misreads, resolv.conf problems, \
             interfaces without inet6. Under each PATH (application code and schemas) it \
             reports IP columns too narrow for IPv6 text and IPv4-only integer storage.",
        ],
        files: &[(
            "/etc/",
            "The config files of every installed service (read only).",
        )],
        examples: &[
            ("v6fix audit", "Audit every installed service."),
            (
                "v6fix audit --plugin postfix --plugin dovecot /srv/app",
                "Audit two services and the code under /srv/app.",
            ),
        ],
        json: &[(
            "",
            "With --json: {\"clean\": bool, \"findings\": [...]}, each finding an object with \
             severity (info, warning or error), path, line, message and fix (the command \
             that fixes it, or null).",
        )],
    },
    Page {
        command: "preflight",
        description: &[
            "Read-only. Checks the host is ready for IPv6 and stays closed when its services \
             go dual-stack: disable_ipv6 = 1 in the sysctl files, ipv6.disable=1 on the \
             kernel command line (/etc/default/grub; needs update-grub and a reboot), a \
             firewall that filters IPv4 but not IPv6 (iptables-persistent, nftables, ufw, \
             ferm, Shorewall), and the ::1 and IPv6 multicast names of /etc/hosts. all runs \
             the same checks first and stops while the kernel lacks IPv6 or IPv6 is open \
             (unless --no-firewall-check). Exit 1 when something is found.",
        ],
        files: &[
            (
                "/etc/sysctl.conf, /etc/sysctl.d/*.conf, /etc/ufw/sysctl.conf",
                "disable_ipv6 settings.",
            ),
            ("/etc/default/grub", "The kernel command line."),
            (
                "/etc/iptables/, /etc/nftables.conf, /etc/ufw/, /etc/default/ufw, \
                 /etc/ferm/ferm.conf, /etc/shorewall/",
                "The firewalls.",
            ),
            ("/etc/hosts", "The IPv6 host names."),
        ],
        examples: &[("v6fix preflight", "Check the host before converting it.")],
        json: &[(
            "",
            "With --json: the object audit prints, {\"clean\": bool, \"findings\": [...]}.",
        )],
    },
    Page {
        command: "firewall",
        description: &[
            "Brings IPv6 filtering to parity with IPv4 in the firewall the host uses: ufw \
             (IPV6=yes and the IPv6 twins of user.rules in user6.rules, as ufw writes them), \
             nftables (a table ip filter becomes table inet, or gets an ip6 twin table), \
             iptables-persistent (rules.v6 from rules.v4), and disable_ipv6 = 1 set to 0. \
             Every IPv6 input chain accepts neighbour and router discovery. A rule without an \
             exact IPv6 form refuses the change (exit 2), listing each. all does not run it: \
             run it on its own, first.",
        ],
        files: &[
            ("/etc/default/ufw, /etc/ufw/user6.rules", "ufw."),
            ("/etc/nftables.conf", "nftables, and the files it includes."),
            (
                "/etc/iptables/rules.v6",
                "iptables-persistent, made from rules.v4.",
            ),
            (
                "/etc/sysctl.conf, /etc/sysctl.d/*.conf, /etc/ufw/sysctl.conf",
                "disable_ipv6 settings.",
            ),
        ],
        examples: &[(
            "v6fix firewall --network 2001:db8::/64 --ipv4-network 192.0.2.0/24",
            "Filter IPv6 as IPv4 is filtered, admitting 2001:db8::/64 where 192.0.2.0/24 is.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "list",
        description: &[
            "Shows the registered service commands, the files each would touch under \
             --root, and whether each service is absent, already dual-stack, or needs \
             conversion.",
        ],
        files: &[("/etc/", "The config files of every service (read only).")],
        examples: &[
            ("v6fix list", "What v6fix would touch on this host."),
            (
                "v6fix --root /tmp/copy --json list",
                "The same for a copy, as JSON.",
            ),
        ],
        json: &[(
            "",
            "With --json: {\"plugins\": [...]}, each an object with name, about, files \
             (relative to --root) and status.",
        )],
    },
    Page {
        command: "plan",
        description: &[
            "Prints the address plan of one host: the site /64, the gateway (::1 in it \
             unless --gateway), and the host's address, with the role tag in the \
             second-to-last group and the host id in the last (--role client --host 1 is \
             2001:db8::c:1). With --client-pool it adds the machine's routed client /64; \
             with --name, the AAAA and PTR records to publish. Reads and writes no file.",
        ],
        files: &[],
        examples: &[
            (
                "v6fix plan --network 2001:db8::/64 --role client --host 1",
                "The address and gateway of client host 1.",
            ),
            (
                "v6fix plan --network 2001:db8::/64 --role admin --host bac1 \
                 --name web1.example.com",
                "An admin host's address and its DNS records.",
            ),
        ],
        json: &[(
            "",
            "With --json: one object with network, gateway, role, address and, when asked \
             for, the client network and dns records.",
        )],
    },
    Page {
        command: "history",
        description: &[
            "Lists the runs that changed files under --root, newest last, with the files \
             each created, modified or deleted. The last 10 runs are kept, and every run \
             made with --backup; restore undoes any of them.",
        ],
        files: &[(
            "/var/lib/v6fix/runs/",
            "One directory per run: its record and the old and new copies of its files \
             (readable by root only).",
        )],
        examples: &[
            ("v6fix history", "The runs v6fix can undo on this host."),
            (
                "v6fix --root /tmp/copy --json history",
                "The same for a copy, as JSON.",
            ),
        ],
        json: &[(
            "",
            "With --json: {\"runs\": [...]}, each an object with id, time, command, files \
             (path and action), restores, restored_by and kept.",
        )],
    },
    Page {
        command: "restore",
        description: &[
            "Undoes the last run, or run RUN, as one transaction: files it modified or \
             deleted get their old text, owner, mode and extended attributes back, and files \
             it created are removed. A file changed since that run is refused, naming it, \
             unless --force.",
        ],
        files: &[(
            "/var/lib/v6fix/runs/",
            "The record and copies of the run to undo.",
        )],
        examples: &[
            ("v6fix restore", "Undo the last run."),
            (
                "v6fix restore --force",
                "Undo the last run even over files changed since (those changes are lost).",
            ),
        ],
        json: &[(
            "",
            "With --json: changed, restored (the run undone), run (this run's id), files \
             (path and action), warnings and notes.",
        )],
    },
    Page {
        command: "recover",
        description: &[
            "Finishes a run that was interrupted (killed, or a failure that could not be \
             undone): a run that had begun renaming files is completed, one that had not is \
             undone. Every command that writes does this first; recover does only this.",
        ],
        files: &[(
            "/var/lib/v6fix/journal",
            "The intent record of a run in progress; absent when none is.",
        )],
        examples: &[
            (
                "v6fix recover",
                "Finish an interrupted run, if there is one.",
            ),
            (
                "v6fix --root /tmp/copy --json recover",
                "The same for a copy, as JSON.",
            ),
        ],
        json: &[(
            "",
            "With --json: changed, recovered (the run, its command, whether it was \
             completed, its files) and notes.",
        )],
    },
    Page {
        command: "interfaces",
        description: &[
            "Adds an inet6 static stanza right after the interface's inet stanza, in the \
             file of the include set that holds it and in that file's style; an existing \
             one is updated in place. It never restarts networking: the restart hint gives \
             the ip commands that bring the address up without touching IPv4.",
        ],
        files: &[(
            "/etc/network/interfaces",
            "Read with its source and source-directory includes, as ifupdown reads them.",
        )],
        examples: &[(
            "v6fix interfaces --iface eth0 --network 2001:db8::/64 --role client --host 1",
            "Give eth0 its planned IPv6 address and gateway.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "resolv",
        description: &[
            "Adds IPv6 nameservers right after the current primary (or first). glibc uses \
             only the first three nameserver lines; a server pushed past the third is named \
             in a warning, or removed with --drop-extra. A generated resolv.conf \
             (resolvconf, systemd-resolved, NetworkManager) is refused.",
        ],
        files: &[("/etc/resolv.conf", "The resolver configuration.")],
        examples: &[(
            "v6fix resolv --nameserver 2001:db8::53",
            "Add an IPv6 nameserver after the primary.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "postfix",
        description: &[
            "Turns inet_protocols on for IPv6 and adds each network to mynetworks in a form \
             Postfix matches ([2001:db8::]/64 in main.cf, in a /file/name list, or in a \
             cidr: table). Bare IPv6 tokens and host bits, which break Postfix silently, \
             are fixed and reported. Run postfix stop && postfix start when told: a reload \
             ignores inet_protocols.",
        ],
        files: &[
            (
                "/etc/postfix/main.cf",
                "inet_protocols, mynetworks, inet_interfaces.",
            ),
            (
                "/etc/postfix/master.cf",
                "Services bound to an IPv4 address.",
            ),
        ],
        examples: &[
            (
                "v6fix postfix --network 2001:db8::/64",
                "Trust the site network and listen on IPv6.",
            ),
            (
                "v6fix --check -q postfix --network 2001:db8::/64",
                "Exit 1 while the conversion is pending.",
            ),
        ],
        json: CHANGE_JSON,
    },
    Page {
        command: "dovecot",
        description: &[
            "Fixes the effective listen setting and every inet_listener address: * becomes \
             *, :: and 127.0.0.1 gets ::1. IPv4-specific addresses get the --listen \
             addresses beside them. Apply with doveadm reload.",
        ],
        files: &[(
            "/etc/dovecot/dovecot.conf",
            "Read with its !include and !include_try files.",
        )],
        examples: &[("v6fix dovecot", "Make Dovecot listen on both families.")],
        json: CHANGE_JSON,
    },
    Page {
        command: "exim4",
        description: &[
            "Adds the site networks to dc_relay_nets where it trusts IPv4 networks, and \
             ::1, :: or --address beside the IPv4 items of dc_local_interfaces, in each \
             Exim list's own style: appended after a ; separator, or with colons doubled \
             (2001::db8::::/64) in a : list. An IPv6 address with single colons in a : \
             list, which Exim reads as several items, is rewritten. Apply with \
             update-exim4.conf && systemctl restart exim4.",
        ],
        files: &[
            (
                "/etc/exim4/update-exim4.conf.conf",
                "Debian's settings, from which update-exim4.conf generates Exim's configuration.",
            ),
            (
                "/etc/exim4/exim4.conf",
                "A hand-maintained configuration, read by Exim instead of the generated one.",
            ),
            (
                "/etc/exim4/exim4.conf.template, /etc/exim4/exim4.conf.localmacros, /etc/exim4/conf.d/main/",
                "Lists written out by hand where the generator copies them.",
            ),
        ],
        examples: &[(
            "v6fix exim4 --network 2001:db8::/64",
            "Let the site relay over IPv6 as it does over IPv4.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "pure-ftpd",
        description: &[
            "Edits Debian's one-option-per-file configuration: DontResolve on, IPV4Only \
             off, a wildcard Bind serving both families. Apply with service pure-ftpd \
             restart.",
        ],
        files: &[(
            "/etc/pure-ftpd/conf/",
            "One option per file; pure-ftpd.conf is never read.",
        )],
        examples: &[("v6fix pure-ftpd", "Make Pure-FTPd serve both families.")],
        json: CHANGE_JSON,
    },
    Page {
        command: "haproxy",
        description: &[
            "Makes IPv4-only binds dual-stack: bind :80 becomes bind :::80 v4v6 with its \
             options kept; a bind on a specific IPv4 address gets its IPv6 twin beside it. \
             Adds the --network prefixes to src ACLs that admit IPv4 networks, never to a \
             block list. Apply with systemctl reload haproxy.",
        ],
        files: &[(
            "/etc/haproxy/haproxy.cfg",
            "The one file HAProxy reads on Debian.",
        )],
        examples: &[(
            "v6fix haproxy --address 2001:db8::10 --network 2001:db8::/64",
            "Make HAProxy listen and admit on both families.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "proftpd",
        description: &[
            "Turns UseIPv6 off into on, adds this host's IPv6 address to DefaultAddress and \
             <VirtualHost> lists of IPv4 addresses, and the --network prefixes to Allow from \
             lines that admit IPv4 networks. Apply with proftpd -t && systemctl restart \
             proftpd.",
        ],
        files: &[(
            "/etc/proftpd/proftpd.conf",
            "Read with the files and directories it includes.",
        )],
        examples: &[(
            "v6fix proftpd --address 2001:db8::21 --network 2001:db8::/64",
            "Make ProFTPD serve and admit both families.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "vsftpd",
        description: &[
            "Turns listen=YES (IPv4 only) into listen=NO with listen_ipv6=YES, one socket \
             serving both families. A listen_address on one address is left alone with the \
             second instance both families would need. Apply with systemctl restart vsftpd.",
        ],
        files: &[("/etc/vsftpd.conf", "The only file vsftpd reads.")],
        examples: &[(
            "v6fix vsftpd --address 2001:db8::21",
            "Make vsftpd serve both families.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "apache",
        description: &[
            "Adds IPv6 twins to IPv4-specific Listen lines and virtual hosts, and the \
             --network prefixes to IPv4 access rules, never a Listen that collides with \
             one Apache already has. Restart Apache after Listen changes.",
        ],
        files: &[("/etc/apache2/", "apache2.conf and everything it includes.")],
        examples: &[(
            "v6fix apache --address 2001:db8::10 --network 2001:db8::/64",
            "Give IPv4-bound listeners and access rules their IPv6 twins.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "nginx",
        description: &[
            "Gives each IPv4-only listen an IPv6 twin right after it, keeping its \
             parameters, and adds the --network prefix and ::1 to allow lists. Then run \
             nginx -t && systemctl reload nginx.",
        ],
        files: &[("/etc/nginx/", "nginx.conf and everything it includes.")],
        examples: &[(
            "v6fix nginx --network 2001:db8::/64",
            "Listen on IPv6 wherever nginx listens on IPv4.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "varnish",
        description: &[
            "Edits varnishd's -a listeners in the systemd drop-in (created from the \
             packaged unit, which is never written) or in /etc/default/varnish, and adds \
             ::1 and the --network prefix to VCL acls. Then run systemctl daemon-reload \
             && systemctl restart varnish.",
        ],
        files: &[
            (
                "/etc/systemd/system/varnish.service.d/",
                "The drop-in holding ExecStart.",
            ),
            ("/etc/default/varnish", "varnishd's options on SysV."),
            ("/etc/varnish/*.vcl", "VCL acls."),
        ],
        examples: &[(
            "v6fix varnish --network 2001:db8::/64",
            "Listen on IPv6 and trust the site network in acls.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "postgresql",
        description: &[
            "Reads every cluster under /etc/postgresql/VERSION/NAME/ as its server does. \
             listen_addresses gains :: beside 0.0.0.0, ::1 beside 127.0.0.1 and --address \
             beside a specific IPv4 address (* and localhost serve both families already). \
             pg_hba.conf rows for the site's IPv4 network get a row for each --network right \
             after them, with the same type, database, user, method and options; when rows \
             name several IPv4 networks, --mirror PREFIX says which one. Then systemctl \
             restart postgresql@VERSION-NAME (reload when only pg_hba.conf changed).",
        ],
        files: &[
            (
                "/etc/postgresql/*/*/postgresql.conf",
                "With its include, include_if_exists and include_dir files.",
            ),
            ("pg_hba.conf", "The file hba_file names."),
            (
                "postgresql.auto.conf",
                "In the data directory: read, never written (ALTER SYSTEM owns it).",
            ),
        ],
        examples: &[(
            "v6fix postgresql --network 2001:db8::/64 --address 2001:db8::10",
            "Listen on IPv6 and admit the site's IPv6 network like its IPv4 one.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "mariadb",
        description: &[
            "Makes the bind-address mariadbd reads dual-stack the way MariaDB 10.11 binds \
             it: 0.0.0.0 becomes 0.0.0.0,:: (a lone :: is IPv6-only), a specific IPv4 \
             address gains --address, 127.0.0.1 gains ::1 only with --loopback. Accounts \
             are per host, so IPv6 clients need their own; v6fix never edits the database. \
             Then systemctl restart mariadb.",
        ],
        files: &[(
            "/etc/my.cnf, /etc/mysql/my.cnf",
            "With their !include and !includedir files.",
        )],
        examples: &[(
            "v6fix mariadb",
            "Listen on IPv6 wherever mariadbd listens on IPv4.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "bind9",
        description: &[
            "Makes named answer on IPv6: listen-on-v6 { none; } becomes { any; } (or this \
             host's addresses where listen-on names specific IPv4 addresses, which also get a \
             listen-on-v6 beside them), and adds the --network prefixes to allow-query, \
             allow-recursion, allow-query-cache, allow-transfer, allow-notify and acl blocks \
             that admit IPv4 networks. Then run named-checkconf && rndc reconfig (rndc reload \
             when only access lists change).",
        ],
        files: &[(
            "/etc/bind/named.conf",
            "The configuration and everything it includes.",
        )],
        examples: &[(
            "v6fix bind9 --network 2001:db8::/64 --address 2001:db8::53",
            "Answer on IPv6 and admit the site network wherever its IPv4 networks are.",
        )],
        json: CHANGE_JSON,
    },
    Page {
        command: "sshd",
        description: &[
            "Sets AddressFamily any in every file of the include set and gives each IPv4 \
             ListenAddress its IPv6 twin. Then run sshd -t && systemctl restart ssh.",
        ],
        files: &[(
            "/etc/ssh/sshd_config, /etc/ssh/sshd_config.d/",
            "The server configuration and its drop-ins.",
        )],
        examples: &[(
            "v6fix sshd --address 2001:db8::10",
            "Listen on IPv6 beside the IPv4 ListenAddress.",
        )],
        json: CHANGE_JSON,
    },
];

/// The manual text of `command`; a command without its own page gets generic text.
pub fn page(command: &str) -> Page {
    PAGES
        .iter()
        .find(|p| p.command == command)
        .copied()
        .unwrap_or(Page {
            command: "",
            description: &[],
            files: &[(
                "/etc/",
                "The service's config files; v6fix list shows them for this host.",
            )],
            examples: &[],
            json: CHANGE_JSON,
        })
}
