//! The views against the in-memory store: for each, tables of events in and figures
//! out, the figures worked out by hand from the events.

mod agents;
mod costs;
mod models;
mod pipeline;
mod projects;
mod realtime;
mod requests;
mod summary;
mod support;
mod timeseries;
mod tools;
