//! [`ApiFault`]: a Gandi fault decoded from its code layout `Q·OOO·CC` and its string
//! `Error on object : OBJECT_X (CAUSE_Y) [detail]` (reference §7).

use std::fmt;

use crate::xmlrpc::Fault;

/// The first digit of a Gandi fault code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qualification {
    /// `1·OOO·CC`: a server (internal) error; retrying later may help.
    Server,
    /// `5·OOO·CC`: a data error; the request itself was wrong.
    Data,
}

impl Qualification {
    /// `"server"` or `"data"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Qualification::Server => "server",
            Qualification::Data => "data",
        }
    }
}

impl fmt::Display for Qualification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fault answered by the Gandi API, decoded.
///
/// Gandi's codes read `Q·OOO·CC`: qualification `Q = code / 100000` (1 server, 5 data), object
/// `OOO = code % 100000 / 100` and cause `CC = code % 100`; the string reads
/// `Error on object : OBJECT_<OBJ> (CAUSE_<CAUSE>) [<detail>]`. The names are taken from the
/// string when it has that shape, otherwise from the reference's tables. A fault in neither layout
/// (such as code 1, `Method "x" is not supported`) keeps its raw code and message, with the
/// decoded parts `None`.
///
/// ```
/// use gandish::gandi::{ApiFault, Qualification};
/// use gandish::xmlrpc::Fault;
///
/// let f = ApiFault::decode(
///     "paas.info",
///     &Fault::new(537542, "Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '9' doesn't exist.]"),
/// );
/// assert_eq!(f.qualification, Some(Qualification::Data));
/// assert_eq!((f.object_code, f.cause_code), (Some(375), Some(42)));
/// assert_eq!(f.object.as_deref(), Some("OBJECT_PAAS"));
/// assert_eq!(f.cause.as_deref(), Some("CAUSE_NOTFOUND"));
/// assert_eq!(f.detail.as_deref(), Some("Paas '9' doesn't exist."));
/// assert_eq!(f.method, "paas.info");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFault {
    /// The raw fault code.
    pub code: i64,
    /// Server or data error, when the code follows the `Q·OOO·CC` layout.
    pub qualification: Option<Qualification>,
    /// The object's name with its prefix, e.g. `OBJECT_PAAS`.
    pub object: Option<String>,
    /// The cause's name with its prefix, e.g. `CAUSE_NOTFOUND`.
    pub cause: Option<String>,
    /// The object number `OOO` of the code layout (e.g. 375 for PaaS).
    pub object_code: Option<u16>,
    /// The cause number `CC` of the code layout (e.g. 42 for not found).
    pub cause_code: Option<u8>,
    /// The text between the brackets of the fault string, e.g. `Paas '9' doesn't exist.`.
    pub detail: Option<String>,
    /// The whole fault string, as the server sent it (with the API key, should it appear,
    /// replaced by `[REDACTED]`).
    pub message: String,
    /// The method that failed, e.g. `paas.info`.
    pub method: String,
}

impl ApiFault {
    /// Decodes `fault`, answered to `method`.
    pub fn decode(method: &str, fault: &Fault) -> ApiFault {
        let code = fault.code;
        let layout = split_code(code);
        let parsed = parse_message(&fault.message);
        let (mut object, mut cause, mut detail) = (None, None, None);
        if let Some(p) = parsed {
            object = Some(p.object);
            cause = Some(p.cause);
            detail = p.detail;
        } else if let Some((q, o, c)) = layout {
            object = object_name(q, o).map(|n| format!("OBJECT_{n}"));
            cause = cause_name(q, c).map(|n| format!("CAUSE_{n}"));
        }
        ApiFault {
            code,
            qualification: layout.map(|(q, _, _)| q),
            object,
            cause,
            object_code: layout.map(|(_, o, _)| o),
            cause_code: layout.map(|(_, _, c)| c),
            detail,
            message: fault.message.clone(),
            method: method.to_owned(),
        }
    }

    /// Whether the code is a data error (`5·OOO·CC`).
    pub fn is_data(&self) -> bool {
        self.qualification == Some(Qualification::Data)
    }

    /// Whether the code is a server error (`1·OOO·CC`).
    pub fn is_server(&self) -> bool {
        self.qualification == Some(Qualification::Server)
    }

    /// Whether the fault says the thing asked for does not exist (cause 40 DONTEXIST or
    /// 42 NOTFOUND in a data error), e.g. an unknown instance, vhost or operation.
    pub fn is_not_found(&self) -> bool {
        self.is_data() && matches!(self.cause_code, Some(40 | 42))
    }
}

impl fmt::Display for ApiFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with fault {}: {}", self.method, self.code, self.message)
    }
}

/// Splits a code in the `Q·OOO·CC` layout (six digits, `Q` 1 or 5).
fn split_code(code: i64) -> Option<(Qualification, u16, u8)> {
    if !(100_000..=999_999).contains(&code) {
        return None;
    }
    let q = match code / 100_000 {
        1 => Qualification::Server,
        5 => Qualification::Data,
        _ => return None,
    };
    Some((q, (code % 100_000 / 100) as u16, (code % 100) as u8))
}

struct Parsed {
    object: String,
    cause: String,
    detail: Option<String>,
}

/// Parses `Error on object : OBJECT_X (CAUSE_Y) [detail]` (spaces around the colon optional;
/// the detail optional).
fn parse_message(msg: &str) -> Option<Parsed> {
    let rest = msg.trim_start().strip_prefix("Error on object")?.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let end = rest.find(|c: char| c.is_whitespace() || c == '(').unwrap_or(rest.len());
    let object = &rest[..end];
    if !object.starts_with("OBJECT_") || object.len() == "OBJECT_".len() {
        return None;
    }
    let rest = rest[end..].trim_start().strip_prefix('(')?;
    let close = rest.find(')')?;
    let cause = rest[..close].trim();
    if !cause.starts_with("CAUSE_") || cause.len() == "CAUSE_".len() {
        return None;
    }
    let rest = rest[close + 1..].trim();
    let detail = match (rest.strip_prefix('['), rest.rfind(']')) {
        (Some(_), Some(last)) if last >= 1 => Some(rest[1..last].to_owned()),
        _ if rest.is_empty() => None,
        _ => Some(rest.to_owned()),
    };
    Some(Parsed { object: object.to_owned(), cause: cause.to_owned(), detail })
}

fn object_name(q: Qualification, o: u16) -> Option<&'static str> {
    Some(match (q, o) {
        (Qualification::Data, 1) => "PASSWORD",
        (Qualification::Data, 10) => "INTEGER",
        (Qualification::Data, 11) => "BOOLEAN",
        (Qualification::Data, 12) => "STRING",
        (Qualification::Data, 13) => "DATE",
        (Qualification::Data, 14) => "LIST",
        (Qualification::Data, 15) => "STRUCT",
        (Qualification::Data, 16) => "METHOD",
        (Qualification::Data, 19) => "DURATION",
        (Qualification::Data, 52) => "FQDN",
        (Qualification::Data, 101) => "ACCOUNT",
        (Qualification::Data, 102) => "OPERATION",
        (Qualification::Data, 250) => "OPERATION_STATE",
        (Qualification::Data, 251) => "OPERATION_TYPE",
        (Qualification::Data, 300) => "HOSTING_ACCOUNT",
        (Qualification::Data, 324) => "SNAPSHOT",
        (Qualification::Data, 327) => "DATACENTER",
        (Qualification::Data, 351) => "HOSTING_PRODUCT",
        (Qualification::Data, 375) => "PAAS",
        (Qualification::Data, 376) => "VIRTUALHOST",
        (Qualification::Data, 378) => "SNAPSHOT_PROFILE",
        (Qualification::Data, 379) => "RPROXY",
        (Qualification::Data, 705) => "PRICER_DURATION",
        (Qualification::Data, 706) => "PRICER_QUANTITY",
        (Qualification::Data, 715) => "QUANTITY",
        (Qualification::Data, 801) => "DNS_TXT",
        (Qualification::Data, 810) => "ZONE",
        (Qualification::Data, 811) => "DNS_RECORD",
        (Qualification::Server, 0) => "UNKNOWN",
        (Qualification::Server, 100) => "DATABASE",
        (Qualification::Server, 200) => "REGISTRIES",
        (Qualification::Server, 300) => "NETWORK",
        (Qualification::Server, 400) => "SYSTEM",
        (Qualification::Server, 500) => "APPLICATION",
        (Qualification::Server, 600) => "SERVICE",
        _ => return None,
    })
}

fn cause_name(q: Qualification, c: u8) -> Option<&'static str> {
    Some(match (q, c) {
        (Qualification::Data, 10) => "TYPE",
        (Qualification::Data, 20) => "SYNTAX",
        (Qualification::Data, 30) => "VALUE",
        (Qualification::Data, 31) => "SIZE",
        (Qualification::Data, 32) => "EXPECTED",
        (Qualification::Data, 33) => "UNEXPECTED",
        (Qualification::Data, 34) => "IDENTICAL",
        (Qualification::Data, 35) => "QUOTA_REACHED",
        (Qualification::Data, 37) => "BADPARAMETER",
        (Qualification::Data, 40) => "DONTEXIST",
        (Qualification::Data, 41) => "EXIST",
        (Qualification::Data, 42) => "NOTFOUND",
        (Qualification::Data, 43) => "NO_RESULT",
        (Qualification::Data, 44) => "NOTHING_TO_UPDATE",
        (Qualification::Data, 49) => "EXPIRED",
        (Qualification::Data, 50) => "NORIGHT",
        (Qualification::Data, 51) => "DATACENTER",
        (Qualification::Data, 54) => "DISABLED",
        (Qualification::Data, 60) => "STATE",
        (Qualification::Data, 63) => "NOT_ENOUGH_MONEY",
        (Qualification::Data, 66) => "FAILURE",
        (Qualification::Data, 67) => "PENDING",
        (Qualification::Data, 68) => "RUNNING",
        (Qualification::Data, 90) => "INVALID_STEP",
        (Qualification::Data, 91) => "INVALID",
        (Qualification::Data, 99) => "TOOMANY",
        (Qualification::Server, 0) => "UNKNOWN",
        (Qualification::Server, 4) => "TOOMANY",
        (Qualification::Server, 5) => "UNAVAILABLE",
        (Qualification::Server, 10) => "CONNECTION",
        (Qualification::Server, 20) => "QUERY",
        (Qualification::Server, 30) => "CONF",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(code: i64, msg: &str) -> ApiFault {
        ApiFault::decode("m.x", &Fault::new(code, msg))
    }

    #[test]
    fn decodes_the_reference_string() {
        let f = dec(537542, "Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '126276' doesn't exist.]");
        assert_eq!(f.qualification, Some(Qualification::Data));
        assert_eq!(f.object.as_deref(), Some("OBJECT_PAAS"));
        assert_eq!(f.cause.as_deref(), Some("CAUSE_NOTFOUND"));
        assert_eq!(f.detail.as_deref(), Some("Paas '126276' doesn't exist."));
        assert!(f.is_not_found());
        assert_eq!(
            f.to_string(),
            "m.x failed with fault 537542: Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '126276' doesn't exist.]"
        );
    }

    #[test]
    fn detail_with_brackets_and_no_detail() {
        let f = dec(
            505237,
            "Error on object : OBJECT_FQDN (CAUSE_BADPARAMETER) [string 'a b' does not match '^[a-z]+$']",
        );
        assert_eq!(f.detail.as_deref(), Some("string 'a b' does not match '^[a-z]+$'"));
        let f = dec(510150, "Error on object: OBJECT_ACCOUNT (CAUSE_NORIGHT)");
        assert_eq!(f.object.as_deref(), Some("OBJECT_ACCOUNT"));
        assert_eq!(f.detail, None);
    }

    #[test]
    fn names_from_the_tables_when_the_string_has_another_shape() {
        let f = dec(580142, "TXT record missing");
        assert_eq!(f.object.as_deref(), Some("OBJECT_DNS_TXT"));
        assert_eq!(f.cause.as_deref(), Some("CAUSE_NOTFOUND"));
        assert_eq!((f.object_code, f.cause_code), (Some(801), Some(42)));
        assert_eq!(f.detail, None);
        let f = dec(160004, "slow down");
        assert_eq!(f.qualification, Some(Qualification::Server));
        assert_eq!(f.object.as_deref(), Some("OBJECT_SERVICE"));
        assert_eq!(f.cause.as_deref(), Some("CAUSE_TOOMANY"));
        // In the layout but not in the tables: numbers only.
        let f = dec(599998, "odd");
        assert_eq!((f.object_code, f.cause_code), (Some(999), Some(98)));
        assert_eq!((f.object, f.cause), (None, None));
    }

    #[test]
    fn unknown_layouts_keep_the_raw_fault() {
        for (code, msg) in
            [(1, "Method \"x\" is not supported"), (-32601, "no"), (250000, "q=2"), (1_000_000, "big")]
        {
            let f = dec(code, msg);
            assert_eq!(f.code, code);
            assert_eq!(f.message, msg);
            assert_eq!((f.qualification, f.object_code, f.cause_code), (None, None, None));
            assert_eq!((f.object.as_ref(), f.cause.as_ref(), f.detail.as_ref()), (None, None, None));
        }
    }

    #[test]
    fn malformed_strings_are_not_misread() {
        for msg in [
            "Error on object : PAAS (CAUSE_X) [d]",
            "Error on object : OBJECT_ (CAUSE_X)",
            "Error on object : OBJECT_A CAUSE_X",
            "Error on object : OBJECT_A (X)",
            "",
        ] {
            let f = dec(1, msg);
            assert_eq!(f.object, None, "{msg}");
        }
    }
}
