//! A small multi-threaded HTTP/1.1 XML-RPC server.
//!
//! CONTRACT SKELETON: the public API below is fixed (the sandbox is written against it);
//! the bodies are being filled in.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::decode::Limits;
use super::value::{Fault, Value};

/// What the server knows about the call being handled, and what the handler may ask of it.
#[derive(Debug)]
pub struct CallContext {
    peer: SocketAddr,
    drop_reply: bool,
}

impl CallContext {
    /// A context for a call from `peer` (servers create these; handlers and tests may too).
    pub fn new(peer: SocketAddr) -> Self {
        CallContext { peer, drop_reply: false }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Asks the server to close the connection without sending any reply once this call returns
    /// (used by the sandbox to simulate a reply lost in the network).
    pub fn drop_reply(&mut self) {
        self.drop_reply = true;
    }

    /// Whether [`CallContext::drop_reply`] was asked for.
    pub fn reply_dropped(&self) -> bool {
        self.drop_reply
    }
}

/// Serves XML-RPC calls. Implemented by [`Methods`] and by the sandbox.
pub trait Handler: Send + Sync + 'static {
    /// Handles one call. `system.listMethods` and `system.multicall` are answered by the server
    /// itself, which calls this once per entry of a multicall.
    fn call(&self, ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault>;

    /// The names of the methods this handler serves (for `system.listMethods`).
    fn method_names(&self) -> Vec<String>;

    /// Called for every POST before its body is decoded. `Some(status)` answers with that HTTP
    /// status (and an empty body) and does nothing else; the default is `None`.
    fn before_request(&self, _peer: SocketAddr) -> Option<u16> {
        None
    }
}

/// A boxed method: parameters in, value or fault out.
pub type Method = Box<dyn Fn(Vec<Value>) -> Result<Value, Fault> + Send + Sync>;

/// A [`Handler`] made of methods registered by name.
#[derive(Default)]
pub struct Methods {
    map: HashMap<String, Method>,
}

impl Methods {
    /// No methods yet.
    pub fn new() -> Self {
        Methods::default()
    }

    /// Registers `f` under `name`, replacing any earlier registration.
    pub fn add<F>(&mut self, name: impl Into<String>, f: F) -> &mut Self
    where
        F: Fn(Vec<Value>) -> Result<Value, Fault> + Send + Sync + 'static,
    {
        self.map.insert(name.into(), Box::new(f));
        self
    }
}

impl Handler for Methods {
    fn call(&self, _ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        match self.map.get(method) {
            Some(f) => f(params),
            None => Err(Fault::new(
                super::value::fault_code::METHOD_NOT_FOUND,
                format!("unknown method {method:?}"),
            )),
        }
    }

    fn method_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map.keys().cloned().collect();
        v.sort();
        v
    }
}

/// Server settings. The defaults suit a loopback test server and the sandbox.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Decoder limits; `limits.max_body` is also the largest request body accepted (413 above it).
    pub limits: Limits,
    /// Longest wait for a request's headers, counted from its first byte or from the end of the
    /// previous request on a kept-alive connection (slowloris guard). Default 10 s.
    pub header_timeout: Duration,
    /// Longest wait for the whole body once headers are in. Default 30 s.
    pub body_timeout: Duration,
    /// Idle keep-alive connections are closed after this long. Default 15 s.
    pub keep_alive_timeout: Duration,
    /// At most this many connections are served at once; more wait in the accept queue
    /// (bounded threads). Default 256.
    pub max_connections: usize,
    /// At most this many calls in one `system.multicall`. Default 1,000.
    pub max_multicall: usize,
    /// Request paths served; any other path gets 404. Empty means every path. Default
    /// `["/", "/RPC2", "/xmlrpc/", "/xmlrpc"]`.
    pub paths: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits { max_depth: 128, max_body: 16 << 20 },
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(15),
            max_connections: 256,
            max_multicall: 1000,
            paths: ["/", "/RPC2", "/xmlrpc/", "/xmlrpc"].map(String::from).to_vec(),
        }
    }
}

/// A running server. Dropping it (or calling [`Server::shutdown`]) stops it and joins its threads.
pub struct Server {
    addr: SocketAddr,
}

impl Server {
    /// Binds `addr` (use port 0 for a free port) and starts serving `handler` on background threads.
    pub fn bind(
        addr: impl ToSocketAddrs,
        handler: Arc<dyn Handler>,
        config: ServerConfig,
    ) -> std::io::Result<Server> {
        let _ = (addr, handler, config);
        todo!("server implementation")
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/RPC2`-style URL for `path` (e.g. `"/xmlrpc/"`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops accepting, closes connections and joins the threads.
    pub fn shutdown(self) {}

    /// Blocks the calling thread until the server stops (after [`Server::shutdown`] from another
    /// thread via a [`ShutdownHandle`]).
    pub fn wait(self) {}

    /// A cloneable handle that can stop the server from another thread (e.g. a signal handler).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {}
    }
}

/// Stops a [`Server`] from another thread.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {}

impl ShutdownHandle {
    /// Asks the server to stop; returns at once.
    pub fn shutdown(&self) {}
}
