//! The Rhai scripting runtime: script modules over the Gandi client, a date type, limits,
//! dry-run plans and the embedding API ([`Runtime`]).

pub mod convert;
pub mod date;
pub mod zone;

pub use date::{Date, DateError, Span};
pub use zone::{Zone, ZoneError};
