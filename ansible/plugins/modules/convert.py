#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: 2026 The v6fix developers
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Ansible module v6fix.dualstack.convert: runs the v6fix binary on the managed host."""

from __future__ import annotations

DOCUMENTATION = r"""
module: convert
short_description: Convert a Debian host's service configs to dual-stack IPv4/IPv6 with v6fix
version_added: 0.1.0
description:
  - Runs C(v6fix --json COMMAND ...) on the managed host and reports what it changed.
  - v6fix rewrites service configs in place (ifupdown, resolv.conf, Postfix, Dovecot,
    Pure-FTPd, Apache, nginx, Varnish, sshd) so the host serves IPv4 and IPv6. All files
    of one run change, or none do; a second run changes nothing.
  - The unified diffs v6fix prints are returned as Ansible's diff, so C(--diff) shows them.
    v6fix's warnings become task warnings. The commands that make the services pick the
    change up are returned in RV(restart), in the order to run them; this module never
    restarts anything itself (the P(v6fix.dualstack.host#role) role does, from a handler).
  - In check mode v6fix runs with C(--check) and writes nothing.
requirements:
  - The C(v6fix) binary on the managed host (the C(v6fix) Debian package installs it).
options:
  command:
    description:
      - The v6fix command to run. A service command (V(postfix), V(dovecot), V(pure-ftpd),
        V(apache), V(nginx), V(varnish), V(sshd), V(interfaces), V(resolv), V(firewall)),
        V(all) for every installed service in one transaction, or V(audit) or V(preflight)
        (read-only; findings are not a failure).
      - V(list) and V(plan) also work; their JSON is returned in RV(output).
    type: str
    required: true
  args:
    description:
      - The command's options. Each key becomes C(--key) (an underscore in a key becomes
        a dash).
      - A list value repeats the option, V(true) gives a bare flag, and V(false), V(null),
        an empty string or an empty list leave the option out.
      - "For example C({network: [\"2001:db8::/64\"], role: client, host: 1})."
    type: dict
    default: {}
  paths:
    description:
      - For V(audit) only, application code and schemas to scan for IPv4-sized address
        columns.
    type: list
    elements: path
    default: []
  root:
    description:
      - Treat this directory as the host's C(/); nothing outside it is read or written.
    type: path
    default: /
  backup:
    description:
      - Keep the replaced files under C(/var/backups/v6fix/<UTC time>/) inside O(root).
        RV(backup) names the directory.
    type: bool
    default: false
  binary:
    description:
      - The v6fix binary, as a path or as a name looked up on the managed host's C(PATH).
    type: str
    default: v6fix
  validate:
    description:
      - Run each changed service's own checker (C(postconf), C(nginx -t), C(apache2 -t), ...)
        on the staged configuration before anything is written. V(false) passes
        C(--no-validate).
    type: bool
    default: true
  lock_timeout:
    description:
      - Seconds to wait for another v6fix run on the same O(root) before failing
        (v6fix's own default, 60, when unset).
    type: int
  allow_wide_network:
    description:
      - Accept a site network shorter than /32 (never one in a special-purpose range).
    type: bool
    default: false
  allow_hardlinks:
    description:
      - Rewrite config files that have several hard links; their other names keep the old
        text. Refused otherwise.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: debian
notes:
  - v6fix's exit status is returned as RV(exit_code), never as C(rc). An error (exit 2,
    nothing written) fails the task with v6fix's message.
  - With O(root) other than C(/), the restart commands still name the real services.
  - The options of each command are in its manual page on the managed host, e.g.
    C(man v6fix-postfix), and in C(v6fix COMMAND --help).
author:
  - v6fix developers (@v6fix)
"""

EXAMPLES = r"""
- name: Show what converting Postfix would change (with --check --diff)
  v6fix.dualstack.convert:
    command: postfix
    args:
      network: 2001:db8::/64

- name: Convert every installed service of the host in one transaction
  v6fix.dualstack.convert:
    command: all
    backup: true
    args:
      network: 2001:db8::/64
      role: client
      host: 1
      nameserver: [2001:db8::53]
      skip: [varnish]
  register: v6fix

- name: Run the restart commands v6fix reports, in its order
  ansible.builtin.shell: "{{ item.command }}"
  loop: "{{ v6fix.restart }}"
  loop_control:
    label: "{{ item.service }}"
  when: v6fix is changed

- name: Audit what still assumes IPv4, including an application's schema
  v6fix.dualstack.convert:
    command: audit
    paths: [/srv/app/schema.sql]
  register: audit

- name: Fail when the audit found something
  ansible.builtin.assert:
    that: audit.clean
"""

RETURN = r"""
files:
  description: The files changed (or, in check mode, that would change), relative to O(root).
  returned: always, for commands that change files
  type: list
  elements: dict
  contains:
    path:
      description: The file, relative to O(root).
      type: str
      sample: etc/postfix/main.cf
    action:
      description: V(modify) or V(create).
      type: str
      sample: modify
  sample: [{path: etc/postfix/main.cf, action: modify}]
notes:
  description: What v6fix decided, and why.
  returned: always, for commands that change files
  type: list
  elements: str
  sample: ["/etc/postfix/main.cf:47: inet_protocols = ipv4 -> all (IPv4 and IPv6)"]
restart:
  description:
    - The commands that make the services pick the change up, in the order to run them
      (the network first). Empty when nothing changed.
  returned: always, for commands that change files
  type: list
  elements: dict
  contains:
    service:
      description: The service.
      type: str
      sample: postfix
    action:
      description: V(restart) or V(reload).
      type: str
      sample: restart
    command:
      description: A shell command.
      type: str
      sample: postfix stop && postfix start
    why:
      description: Why this command and not a lighter one.
      type: str
      sample: a reload ignores inet_protocols and inet_interfaces
run:
  description: The id of the run that wrote the files, for C(v6fix history) and C(v6fix restore).
  returned: when files were written
  type: str
  sample: 20260101T000000Z-1
validated:
  description: The services' checkers that ran on the staged configuration before writing.
  returned: when a checker ran
  type: list
  elements: dict
  sample: [{service: postfix, command: "postconf -c /etc/postfix -n", ok: true}]
backup:
  description: The directory holding the replaced files, relative to O(root).
  returned: when O(backup) is true and files changed
  type: str
  sample: var/backups/v6fix/20260101T000000Z
findings:
  description: For V(audit), what keeps the host IPv4-only.
  returned: when O(command) is V(audit)
  type: list
  elements: dict
  sample: [{severity: warning, path: /etc/postfix/main.cf, line: 47, message: "inet_protocols = ipv4 disables IPv6", fix: "v6fix postfix"}]
clean:
  description: For V(audit), true when nothing of severity warning or error was found.
  returned: when O(command) is V(audit)
  type: bool
  sample: false
output:
  description: For V(list) and V(plan), the JSON object v6fix printed.
  returned: when O(command) is V(list) or V(plan)
  type: dict
  sample: {plugins: []}
exit_code:
  description:
    - v6fix's exit status. 0 nothing to change or applied, 1 changes pending (check mode)
      or audit findings. A task with 2 (an error) fails.
  returned: always
  type: int
  sample: 0
cmd:
  description: The command line that was run.
  returned: always
  type: list
  elements: str
  sample: [v6fix, --json, --root, /, all, --network, 2001:db8::/64]
"""

import json
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
CHANGE_COMMANDS_EXCLUDED = ("audit", "preflight", "list", "plan")


def option_args(args):
    """The command-line options for the O(args) dict, in its order."""
    argv = []
    for key, value in args.items():
        if not NAME.match(str(key)):
            raise ValueError("args: %r is not an option name" % (key,))
        flag = "--" + str(key).replace("_", "-")
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None or v is False or v == "":
                continue
            if v is True:
                argv.append(flag)
            elif isinstance(v, (dict, list)):
                raise ValueError("args: %s: a value must be a string, number or bool" % key)
            else:
                argv.extend([flag, to_text(v)])
    return argv


def main():
    """Runs v6fix and turns its JSON report into the task's result."""
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type="str", required=True),
            args=dict(type="dict", default={}),
            paths=dict(type="list", elements="path", default=[]),
            root=dict(type="path", default="/"),
            backup=dict(type="bool", default=False),
            binary=dict(type="str", default="v6fix"),
            validate=dict(type="bool", default=True),
            lock_timeout=dict(type="int"),
            allow_wide_network=dict(type="bool", default=False),
            allow_hardlinks=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    command = p["command"]
    if not NAME.match(command):
        module.fail_json(msg="command: %r is not a v6fix command" % (command,))
    if p["paths"] and command != "audit":
        module.fail_json(msg="paths: only the audit command takes paths")

    binary = p["binary"]
    if "/" not in binary:
        binary = module.get_bin_path(binary, required=True)

    argv = [binary, "--json", "--root", p["root"]]
    if module.check_mode:
        argv.append("--check")
    if p["backup"]:
        argv.append("--backup")
    if not p["validate"]:
        argv.append("--no-validate")
    if p["lock_timeout"] is not None:
        argv.extend(["--lock-timeout", str(p["lock_timeout"])])
    if p["allow_wide_network"]:
        argv.append("--allow-wide-network")
    if p["allow_hardlinks"]:
        argv.append("--allow-hardlinks")
    argv.append(command)
    try:
        argv.extend(option_args(p["args"]))
    except ValueError as e:
        module.fail_json(msg=to_text(e))
    if p["paths"]:
        argv.append("--")
        argv.extend(p["paths"])

    rc, out, err = module.run_command(
        argv, check_rc=False, environ_update={"NO_COLOR": "1", "LC_ALL": "C.UTF-8"}
    )
    result = dict(changed=False, exit_code=rc, cmd=argv)
    try:
        report = json.loads(out)
    except ValueError:
        # Not JSON at all (the binary crashed, or is not v6fix).
        report = None
    if not isinstance(report, dict) or rc == 2 or "error" in report:
        error = report.get("error") if isinstance(report, dict) else None
        msg = error or err.strip() or "v6fix exited %d without a report" % rc
        module.fail_json(msg=msg, stderr=err, **result)
    if rc not in (0, 1):
        module.fail_json(msg="v6fix exited %d: %s" % (rc, err.strip()), stderr=err, **result)

    for warning in report.get("warnings", []):
        module.warn(warning)

    if command in ("audit", "preflight"):
        result.update(findings=report.get("findings", []), clean=report.get("clean", rc == 0))
        module.exit_json(**result)
    if command in CHANGE_COMMANDS_EXCLUDED:
        result.update(output=report)
        module.exit_json(**result)

    files = report.get("files", [])
    result.update(
        changed=bool(report.get("changed")),
        files=[dict(path=f.get("path"), action=f.get("action")) for f in files],
        notes=report.get("notes", []),
        restart=report.get("restart", []),
    )
    for key in ("backup", "run", "validated"):
        if key in report:
            result[key] = report[key]
    if files:
        result["diff"] = dict(prepared="".join(f.get("diff", "") for f in files))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
