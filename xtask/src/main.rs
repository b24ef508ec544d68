//! Project automation: `cargo xtask <task>`. Run without a task to list them.

fn main() {}
