//! The typed Gandi PaaS (Simple Hosting) client, on top of [`crate::xmlrpc`].
//!
//! - [`Gandi`]: the client. It holds an [`xmlrpc::Client`](crate::xmlrpc::Client) and an
//!   [`ApiKey`], prepends the key to every call, and offers a raw layer ([`Gandi::call`],
//!   [`Gandi::list_all`]) and one typed method per PaaS call of the reference catalogue.
//! - [`types`]: the records the API returns ([`Instance`], [`InstanceInfo`], [`Vhost`],
//!   [`Operation`], [`DryRunError`], …). Every field except `id` is optional; missing, `<nil/>`
//!   and `""` read as `None`.
//! - [`params`]: builders for the calls that change things ([`CreateParams`], …).
//! - [`GandiError`] and [`ApiFault`]: faults decoded from Gandi's `Q·OOO·CC` codes and
//!   `Error on object : OBJECT_X (CAUSE_Y) [detail]` strings, transport errors (with
//!   [`GandiError::maybe_applied`]), and the ways waiting for operations can fail.
//!
//! Lists page transparently (pages of 500 until a short one), [`Gandi::wait`] polls operations
//! until DONE, and an optional call log hook sees every call with the key redacted.
//!
//! Datetimes are naive: Gandi sends Europe/Paris local time without a zone, and the client
//! passes it through as is.
//!
//! # Example
//!
//! Against the bundled sandbox (the same code works against `https://rpc.gandi.net/xmlrpc/`):
//!
//! ```
//! use gandish::gandi::{CreateParams, Gandi, RenewParams, WaitOptions};
//! use gandish::sandbox::{Dataset, SandboxConfig, start};
//! use gandish::xmlrpc::{ClientConfig, Struct};
//!
//! let sandbox = start(SandboxConfig {
//!     listen: "127.0.0.1:0".into(),
//!     dataset: Dataset::Seed,
//!     op_seconds: 0,
//!     ..SandboxConfig::default()
//! })
//! .unwrap();
//! let gandi = Gandi::new(&sandbox.url(), sandbox.api_key(), ClientConfig::default())?;
//!
//! // Create an instance and wait for its operations.
//! let ops = gandi.paas_create(&CreateParams::new("web", "s", "phpmysql", 1, "1m").password("s3cret!"))?;
//! let id = ops[0].paas_id().expect("the ops name the new instance");
//! gandi.wait_ops(&ops, &WaitOptions::default())?;
//!
//! // Renew every running instance of that name for a year.
//! for p in gandi.paas_list(&Struct::new().with("name", "web"))? {
//!     gandi.wait_ops(&gandi.paas_renew(p.id, &RenewParams::new("12m"))?, &WaitOptions::default())?;
//! }
//! let info = gandi.paas_info(id)?;
//! assert_eq!(info.state.as_deref(), Some("running"));
//!
//! // Faults are typed.
//! let err = gandi.paas_info(999_999).unwrap_err();
//! assert_eq!(err.fault().unwrap().cause.as_deref(), Some("CAUSE_NOTFOUND"));
//! sandbox.shutdown();
//! # Ok::<(), gandish::gandi::GandiError>(())
//! ```

pub mod bulk;
mod client;
mod error;
mod fault;
mod key;
pub mod methods;
pub mod params;
pub mod throttle;
pub mod tracker;
pub mod types;
mod wait;

pub use client::{CallHook, CallOutcome, CallRecord, Gandi, MAX_PAGES, OTE_URL, PAGE_SIZE, PRODUCTION_URL};
pub use error::GandiError;
pub use fault::{ApiFault, Qualification};
pub use key::{ApiKey, MIN_REMOTE_KEY_LEN, REDACTED, WHOLE_WORD_BELOW, redact_secret};
pub use methods::is_known_read;
pub use params::{CreateParams, Password, RenewParams, UpdateParams, VhostCreateParams};
pub use throttle::{RateLimiter, RetryPolicy, Throttle};
pub use tracker::Tracker;
pub use types::{
    ApiRecord, Datacenter, DatacenterRef, DnsEntries, DryRunError, GraphUrls, Instance, InstanceInfo, OpStep,
    Operation, Owner, PaasType, Server, Snapshot, SnapshotProfile, SnapshotSchedule, Version, Vhost,
};
pub use wait::WaitOptions;
