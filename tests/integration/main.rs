//! tally end to end: the real SQLite file, the real `tally` binary, real threads and
//! processes. One binary for the whole workspace (see `crates/tally-cli/Cargo.toml`).

mod support;

mod alerts_delivery;
mod backend_health;
mod backup;
mod bad_input;
mod cli;
mod concurrency;
mod dashboard_browser;
mod duckdb_oracle;
mod durability;
mod experiment_oracle;
mod experiments;
mod export;
mod first_hour;
mod http;
mod http_auth;
mod http_bounds;
mod http_errors;
mod http_serve;
mod idempotency;
mod kinds;
mod learning;
mod memory;
mod migrate;
mod otlp;
mod parser_never_panics;
mod postgres_servers;
mod predict;
mod predict_oracle;
mod read_only;
mod report;
mod rollups;
mod route_matrix;
mod series;
mod series_oracle;
mod stats_oracle;
mod store_compat;
mod store_compat_views;
mod sum_bounds;
mod tidy;
