//! PostgreSQL's two configuration languages: `postgresql.conf` ([`conf`], the server
//! settings and their includes) and `pg_hba.conf` ([`hba`], who may connect from where).
//! Both as PostgreSQL 15 reads them; both lossless.

pub mod conf;
pub mod hba;
