//! Unified diffs of planned changes, git-style, with paths relative to the root.

use similar::TextDiff;

/// A unified diff from `old` (or nothing, for a created file) to `new`, headed
/// `a/<path>` and `b/<path>` (`/dev/null` for a created file).
pub fn unified(path: &str, old: Option<&str>, new: &str) -> String {
    let from = match old {
        Some(_) => format!("a/{path}"),
        None => "/dev/null".to_string(),
    };
    let to = format!("b/{path}");
    let old = old.unwrap_or("");
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(std::time::Duration::from_secs(2))
        .diff_lines(old, new);
    diff.unified_diff()
        .context_radius(3)
        .header(&from, &to)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_git_style_headers_and_only_the_changed_hunk() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\ne\nf\ng\nH\n";
        let d = unified("etc/x.conf", Some(old), new);
        assert!(
            d.starts_with("--- a/etc/x.conf\n+++ b/etc/x.conf\n@@ -5,4 +5,4 @@\n"),
            "{d}"
        );
        assert!(d.contains("-h\n+H\n"), "{d}");
        assert!(!d.contains(" a\n"), "{d}");
    }

    #[test]
    fn created_files_diff_from_dev_null() {
        let d = unified("etc/new.conf", None, "x\n");
        assert!(d.starts_with("--- /dev/null\n+++ b/etc/new.conf\n"), "{d}");
        assert!(d.ends_with("+x\n"), "{d}");
    }
}
