//! Physical models of a radio world, free of transceivers and of the event
//! loop: plain structs and pure functions, each formula with its source and
//! tests against closed forms and hand values. `sim::physical_world` resolves
//! a scenario's radio, mobility and churn with them, and
//! `sim::physical_events` drives them from the event loop.
//!
//! - `radio`: path loss, noise, SNR, bit error of BPSK / QPSK / 16-QAM over
//!   AWGN and Rayleigh fading, the channel ε a bit error gives, link rates.
//! - `fading`: block Rayleigh fading and distance-correlated shadowing.
//! - `mobility`: placements and motions (static, random waypoint, paths).
//! - `cells`: attachment and A3 handover; a station's bounded LRU cache.
//! - `churn`: on/off presence; presence and compute traces (CSV).
//! - `bins`: ε kept at the nearest of a few values.

pub mod bins;
pub mod cells;
pub mod churn;
pub mod fading;
pub mod mobility;
pub mod radio;
