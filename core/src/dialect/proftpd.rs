//! ProFTPD's `proftpd.conf` and the files it includes, losslessly.
//!
//! ProFTPD reads Apache's syntax (checked with `proftpd -t` of ProFTPD 1.3.8 on Debian 12):
//! one directive per line, `#` lines are comments, a trailing `\` joins the next line,
//! `<Section args>` … `</Section>` nest and close in the file that opens them, names are
//! case-insensitive and arguments may be double-quoted. So it is read with the one
//! parser for that syntax, [`crate::dialect::apache`]; this module names it for ProFTPD
//! and holds ProFTPD's own rules on top.

pub use super::apache::{parse, Arg, Doc, Item, Kind};

/// True when ProFTPD reads a file of this name from an included directory: it skips
/// dot files and editor backups (`~`).
pub fn read_from_dir(name: &str) -> bool {
    !name.starts_with('.') && !name.ends_with('~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_nest_inside_virtual_hosts() {
        let t = "UseIPv6 off\n<VirtualHost 192.0.2.10>\n  <Limit LOGIN>\n    Allow from 192.0.2.0/24\n  </Limit>\n</VirtualHost>\n";
        let d = parse(t).unwrap();
        let (i, _) = d.directives("allow").next().unwrap();
        let names: Vec<&str> = d.ancestors(i).iter().map(|a| d.name(a)).collect();
        assert_eq!(names, ["Limit", "VirtualHost"]);
        assert!(read_from_dir("ftp.conf") && !read_from_dir("ftp.conf~") && !read_from_dir(".x"));
    }
}
