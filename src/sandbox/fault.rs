//! Gandi-style faults: `faultCode = Q·OOO·CC` and
//! `Error on object : OBJECT_<OBJ> (CAUSE_<CAUSE>) [<detail>]` (reference §7).

use std::fmt::Display;

use crate::xmlrpc::Fault;

/// The fault codes the sandbox answers (reference §7; most are the reference's recommendations).
pub mod code {
    /// Unknown method (not in the Q·OOO·CC layout).
    pub const UNKNOWN_METHOD: i64 = 1;
    /// Internal error (OBJECT_APPLICATION / CAUSE_UNKNOWN).
    pub const INTERNAL: i64 = 150_000;
    /// State could not be saved (OBJECT_SYSTEM / CAUSE_UNKNOWN).
    pub const SYSTEM: i64 = 140_000;
    /// Rate limit exceeded (OBJECT_SERVICE / CAUSE_TOOMANY).
    pub const TOO_MANY: i64 = 160_004;
    /// Invalid API key (OBJECT_ACCOUNT / CAUSE_NORIGHT).
    pub const BAD_KEY: i64 = 510_150;
    /// Wrong type where an integer was expected.
    pub const NOT_INT: i64 = 501_010;
    /// Integer out of range (OBJECT_INTEGER / CAUSE_VALUE).
    pub const INT_VALUE: i64 = 501_030;
    /// Wrong type where a boolean was expected.
    pub const NOT_BOOL: i64 = 501_110;
    /// Wrong type where a string was expected.
    pub const NOT_STRING: i64 = 501_210;
    /// A string with a bad value (OBJECT_STRING / CAUSE_VALUE), e.g. a bad `sort_by`.
    pub const STRING_VALUE: i64 = 501_230;
    /// Wrong type where a dateTime was expected.
    pub const NOT_DATE: i64 = 501_310;
    /// Wrong type where an array was expected.
    pub const NOT_LIST: i64 = 501_410;
    /// Wrong type where a struct was expected.
    pub const NOT_STRUCT: i64 = 501_510;
    /// A mandatory struct key is missing (OBJECT_STRUCT / CAUSE_EXPECTED).
    pub const MISSING_KEY: i64 = 501_532;
    /// An unknown struct key (OBJECT_STRUCT / CAUSE_UNEXPECTED).
    pub const UNKNOWN_KEY: i64 = 501_533;
    /// Too few arguments (OBJECT_METHOD / CAUSE_EXPECTED).
    pub const MISSING_ARG: i64 = 501_632;
    /// Too many arguments (OBJECT_METHOD / CAUSE_UNEXPECTED).
    pub const EXTRA_ARG: i64 = 501_633;
    /// A malformed FQDN (OBJECT_FQDN / CAUSE_BADPARAMETER).
    pub const BAD_FQDN: i64 = 505_237;
    /// Operation not found.
    pub const OP_NOT_FOUND: i64 = 510_242;
    /// Operation not cancelable in its step (OPERATION_STATE / INVALID_STEP).
    pub const OP_NOT_CANCELABLE: i64 = 525_090;
    /// Snapshot not found.
    pub const SNAPSHOT_NOT_FOUND: i64 = 532_442;
    /// Datacenter not found.
    pub const DC_NOT_FOUND: i64 = 532_742;
    /// Datacenter closed for PaaS (OBJECT_DATACENTER / CAUSE_DATACENTER).
    pub const DC_CLOSED: i64 = 532_751;
    /// Bad `size` or `type` (OBJECT_PAAS / CAUSE_VALUE).
    pub const PAAS_VALUE: i64 = 537_530;
    /// Nothing to update (OBJECT_PAAS / CAUSE_NOTHING_TO_UPDATE).
    pub const PAAS_NOTHING: i64 = 537_544;
    /// Instance not found.
    pub const PAAS_NOT_FOUND: i64 = 537_542;
    /// Instance in the wrong state.
    pub const PAAS_STATE: i64 = 537_560;
    /// A change while another is pending (strict mode).
    pub const PAAS_PENDING: i64 = 537_567;
    /// Vhost already exists.
    pub const VHOST_EXISTS: i64 = 537_641;
    /// Vhost not found.
    pub const VHOST_NOT_FOUND: i64 = 537_642;
    /// Snapshot profile not found.
    pub const PROFILE_NOT_FOUND: i64 = 537_842;
    /// Bad `duration` (OBJECT_PRICER_DURATION / CAUSE_VALUE).
    pub const DURATION_VALUE: i64 = 570_530;
    /// Bad `quantity` (OBJECT_QUANTITY / CAUSE_VALUE).
    pub const QUANTITY_VALUE: i64 = 571_530;
    /// Ownership TXT record missing (OBJECT_DNS_TXT / CAUSE_NOTFOUND).
    pub const TXT_MISSING: i64 = 580_142;
}

fn data_object(o: i64) -> Option<&'static str> {
    Some(match o {
        1 => "PASSWORD",
        10 => "INTEGER",
        11 => "BOOLEAN",
        12 => "STRING",
        13 => "DATE",
        14 => "LIST",
        15 => "STRUCT",
        16 => "METHOD",
        19 => "DURATION",
        52 => "FQDN",
        101 => "ACCOUNT",
        102 => "OPERATION",
        250 => "OPERATION_STATE",
        251 => "OPERATION_TYPE",
        300 => "HOSTING_ACCOUNT",
        324 => "SNAPSHOT",
        327 => "DATACENTER",
        351 => "HOSTING_PRODUCT",
        375 => "PAAS",
        376 => "VIRTUALHOST",
        378 => "SNAPSHOT_PROFILE",
        379 => "RPROXY",
        705 => "PRICER_DURATION",
        706 => "PRICER_QUANTITY",
        715 => "QUANTITY",
        801 => "DNS_TXT",
        810 => "ZONE",
        811 => "DNS_RECORD",
        _ => return None,
    })
}

fn data_cause(c: i64) -> Option<&'static str> {
    Some(match c {
        10 => "TYPE",
        20 => "SYNTAX",
        30 => "VALUE",
        31 => "SIZE",
        32 => "EXPECTED",
        33 => "UNEXPECTED",
        34 => "IDENTICAL",
        35 => "QUOTA_REACHED",
        37 => "BADPARAMETER",
        40 => "DONTEXIST",
        41 => "EXIST",
        42 => "NOTFOUND",
        43 => "NO_RESULT",
        44 => "NOTHING_TO_UPDATE",
        49 => "EXPIRED",
        50 => "NORIGHT",
        51 => "DATACENTER",
        54 => "DISABLED",
        60 => "STATE",
        63 => "NOT_ENOUGH_MONEY",
        66 => "FAILURE",
        67 => "PENDING",
        68 => "RUNNING",
        90 => "INVALID_STEP",
        91 => "INVALID",
        99 => "TOOMANY",
        _ => return None,
    })
}

fn server_object(o: i64) -> Option<&'static str> {
    Some(match o {
        0 => "UNKNOWN",
        100 => "DATABASE",
        200 => "REGISTRIES",
        300 => "NETWORK",
        400 => "SYSTEM",
        500 => "APPLICATION",
        600 => "SERVICE",
        _ => return None,
    })
}

fn server_cause(c: i64) -> Option<&'static str> {
    Some(match c {
        0 => "UNKNOWN",
        4 => "TOOMANY",
        5 => "UNAVAILABLE",
        10 => "CONNECTION",
        20 => "QUERY",
        30 => "CONF",
        _ => return None,
    })
}

/// The `OBJECT_X (CAUSE_Y)` names of a `Q·OOO·CC` code, if the tables know them.
pub fn names(code: i64) -> Option<(&'static str, &'static str)> {
    let (q, o, c) = (code / 100_000, code % 100_000 / 100, code % 100);
    match q {
        1 => Some((server_object(o)?, server_cause(c)?)),
        5 => Some((data_object(o)?, data_cause(c)?)),
        _ => None,
    }
}

/// A fault with Gandi's string layout; `code` must be one whose names the tables know (all of
/// [`code`]'s except `UNKNOWN_METHOD`), otherwise `OBJECT_UNKNOWN (CAUSE_UNKNOWN)` is written.
pub fn fault(code: i64, detail: impl Display) -> Fault {
    let (o, c) = names(code).unwrap_or(("UNKNOWN", "UNKNOWN"));
    Fault::new(code, format!("Error on object : OBJECT_{o} (CAUSE_{c}) [{detail}]"))
}

/// Fault 537542 for a missing instance: `[Paas 'N' doesn't exist.]`.
pub fn paas_not_found(id: i64) -> Fault {
    fault(code::PAAS_NOT_FOUND, format_args!("Paas '{id}' doesn't exist."))
}

/// Fault 510150 for a wrong or missing API key (the key itself is never echoed).
pub fn bad_key() -> Fault {
    fault(code::BAD_KEY, "Invalid API key")
}

/// Fault 1 for an unknown method.
pub fn unknown_method(name: &str) -> Fault {
    let shown: String = name.chars().take(100).collect();
    Fault::new(code::UNKNOWN_METHOD, format!("Method \"{shown}\" is not supported"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decode_to_the_reference_names() {
        assert_eq!(
            paas_not_found(7).message,
            "Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '7' doesn't exist.]"
        );
        assert_eq!(names(code::TOO_MANY), Some(("SERVICE", "TOOMANY")));
        assert_eq!(names(code::BAD_KEY), Some(("ACCOUNT", "NORIGHT")));
        assert_eq!(names(code::TXT_MISSING), Some(("DNS_TXT", "NOTFOUND")));
        assert_eq!(names(code::OP_NOT_CANCELABLE), Some(("OPERATION_STATE", "INVALID_STEP")));
        assert_eq!(names(code::INTERNAL), Some(("APPLICATION", "UNKNOWN")));
        // Every named constant (except the unknown-method one) decodes.
        for c in [
            code::SYSTEM,
            code::NOT_INT,
            code::INT_VALUE,
            code::NOT_BOOL,
            code::NOT_STRING,
            code::STRING_VALUE,
            code::NOT_DATE,
            code::NOT_LIST,
            code::NOT_STRUCT,
            code::MISSING_KEY,
            code::UNKNOWN_KEY,
            code::MISSING_ARG,
            code::EXTRA_ARG,
            code::BAD_FQDN,
            code::OP_NOT_FOUND,
            code::SNAPSHOT_NOT_FOUND,
            code::DC_NOT_FOUND,
            code::DC_CLOSED,
            code::PAAS_VALUE,
            code::PAAS_NOTHING,
            code::PAAS_STATE,
            code::PAAS_PENDING,
            code::VHOST_EXISTS,
            code::VHOST_NOT_FOUND,
            code::PROFILE_NOT_FOUND,
            code::DURATION_VALUE,
            code::QUANTITY_VALUE,
        ] {
            assert!(names(c).is_some(), "{c} has no names");
        }
        assert_eq!(unknown_method("x.y").message, "Method \"x.y\" is not supported");
    }
}
