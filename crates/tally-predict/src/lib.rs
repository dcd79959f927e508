//! tally's predictive tier: experiments (A/B/n tests) in [`experiment`].

pub mod experiment;
