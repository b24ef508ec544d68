//! The manual text (`v6fix::manual`) against the command line it describes: every page
//! belongs to a command, and every example parses with the options that command has, so
//! the EXAMPLES of the man pages cannot drift from the binary.

fn every_page_names_a_command() {
    let cmd = v6fix::command();
    for page in v6fix::manual::PAGES {
        assert!(
            page.command == "v6fix" || cmd.find_subcommand(page.command).is_some(),
            "manual page for `{}`, which is not a command",
            page.command
        );
        assert!(!page.examples.is_empty(), "{} has no example", page.command);
    }
}

fn every_example_parses() {
    let mut n = 0;
    for page in v6fix::manual::PAGES {
        for (line, what) in page.examples {
            assert!(!what.is_empty(), "{line}: no description");
            assert!(
                !line.contains(['\'', '"', '\\']),
                "{line}: keep examples unquoted"
            );
            let argv: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(argv[0], "v6fix", "{line}");
            if let Err(e) = v6fix::command().try_get_matches_from(&argv) {
                panic!("example `{line}` of {} does not parse:\n{e}", page.command);
            }
            n += 1;
        }
    }
    assert!(n > 10, "only {n} examples");
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![every_page_names_a_command, every_example_parses,]
}
