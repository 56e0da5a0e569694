//! The XML-RPC core: value model, codec, blocking client and HTTP server.
//!
//! This module depends on nothing else in gandish. It is strict in what it writes, lenient in
//! what it reads, and refuses hostile input (DOCTYPE, entity bombs, deep nesting, oversized
//! bodies) with a clear error.
//!
//! ```
//! use gandish::xmlrpc::{decode_response, encode_call, Value};
//!
//! let body = encode_call("version.info", &[Value::from("my key")]).unwrap();
//! assert!(String::from_utf8(body).unwrap().contains("<methodName>version.info</methodName>"));
//!
//! let reply = b"<methodResponse><params><param><value><struct><member><name>api_version</name>\
//!               <value>3.3.29</value></member></struct></value></param></params></methodResponse>";
//! let value = decode_response(reply).unwrap().unwrap();
//! assert_eq!(value.get("api_version").and_then(Value::as_str), Some("3.3.29"));
//! ```

pub mod client;
pub mod datetime;
pub mod decode;
pub mod encode;
#[cfg(feature = "server")]
mod http;
mod http_date;
pub mod json;
mod path;
mod serde;
#[cfg(feature = "server")]
pub mod server;
mod tls;
pub mod value;

pub use self::serde::{SerdeError, from_value, from_value_ref, to_value};
pub use client::{CallStats, Client, ClientConfig};
pub use datetime::{DateTime, DateTimeError};
pub use decode::{
    DecodeError, Limits, MethodCall, Response, decode_call, decode_call_with, decode_response,
    decode_response_with,
};
pub use encode::{
    EncodeError, EncodedValue, ValueWriter, encode_call, encode_fault, encode_response, encode_value,
    is_valid_method_name,
};
#[cfg(feature = "server")]
pub use server::{
    CallContext, Handler, Methods, Server, ServerConfig, ServerStats, ShutdownHandle, Threading,
};
pub use value::{Fault, Struct, Value, fault_code};
