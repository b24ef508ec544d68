//! The integration tests of v6fix-core, in one binary: `cargo test -p v6fix-core --test it`.
//!
//! - [`dialects`]: every dialect against every fixture under `testdata/<dialect>/`, however
//!   deep: printing gives the bytes back, the items tile the file, and mangled variants never
//!   panic.

mod dialects;
