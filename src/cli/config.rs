//! The configuration file: TOML in the platform config directory
//! (`~/.config/gandish/config.toml` on Linux), or the file named by `--config` /
//! `GANDISH_CONFIG`.
//!
//! ```toml
//! # The key, one of three ways (the first one present wins):
//! api_key = "…"                        # the key itself (keep the file private: chmod 600)
//! key_file = "~/.config/gandish/key"   # a file holding the key (whitespace trimmed)
//! key_command = "pass show gandi/api"  # a command (run with sh -c) printing the key
//!
//! env = "ote"                          # or url = "https://…"
//! timeout = 30                         # seconds per call
//! color = "auto"                       # auto | always | never
//! dry_run = false
//! yes = false
//! json = false
//! ca_file = "/etc/ssl/my-ca.pem"
//! ```
//!
//! Unknown keys are refused (a typo would otherwise be silently ignored). A file that holds the
//! key itself (or the `key_file`) draws a warning when group or others can read it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::args::{ApiEnv, ColorChoice};
use crate::gandi::ApiKey;

/// The contents of the configuration file. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConfigFile {
    /// The API key itself.
    pub api_key: Option<ApiKey>,
    /// A file holding the key.
    pub key_file: Option<PathBuf>,
    /// A shell command printing the key on stdout.
    pub key_command: Option<String>,
    /// The endpoint URL.
    pub url: Option<String>,
    /// The endpoint by name.
    pub env: Option<ApiEnv>,
    /// Seconds per call.
    pub timeout: Option<f64>,
    /// When to colour.
    pub color: Option<ColorChoice>,
    /// Dry-run by default.
    pub dry_run: Option<bool>,
    /// No confirmation prompts by default.
    pub yes: Option<bool>,
    /// JSON output by default.
    pub json: Option<bool>,
    /// Extra CA certificates (PEM).
    pub ca_file: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ApiKey, D::Error> {
        String::deserialize(d).map(ApiKey::new)
    }
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("configuration file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong, with line and column.
        message: String,
    },
    /// `key_file` or `key_command` did not give a key.
    #[error("configuration file {path}: {message}")]
    Key {
        /// The configuration file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The default configuration file: `config.toml` in the platform config directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "gandish").map(|d| d.config_dir().join("config.toml"))
}

/// Reads `path`. A missing file is `Ok(None)` when `must_exist` is false (the default location),
/// an error otherwise (a file named on purpose).
pub fn load(path: &Path, must_exist: bool) -> Result<Option<ConfigFile>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => return Ok(None),
        Err(source) => return Err(ConfigError::Read { path: path.to_path_buf(), source }),
    };
    parse(&text, path).map(Some)
}

/// Parses the text of a configuration file (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e: toml::de::Error| ConfigError::Parse {
        path: path.to_path_buf(),
        message: parse_error_message(text, &e),
    })
}

/// toml's own `Display` quotes the offending line and its message quotes the offending value:
/// either may be the API key (`api_key = KEY` unquoted, or the key pasted under another name).
/// So the message names the line, the column and the setting, and masks every quoted value.
fn parse_error_message(text: &str, e: &toml::de::Error) -> String {
    let masked = mask_quoted(e.message().trim());
    let Some(span) = e.span() else { return masked };
    let before = &text[..span.start.min(text.len())];
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("");
    match line.split_once('=').map(|(name, _)| name.trim()).filter(|n| !n.is_empty()) {
        Some(name) if !name.contains(['"', '\'']) => {
            format!("line {line_no}, column {column} (setting `{name}`): {masked}")
        }
        _ => format!("line {line_no}, column {column}: {masked}"),
    }
}

/// `text` with the inside of every "double-quoted" run replaced by `…`.
fn mask_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for c in text.chars() {
        if c == '"' {
            if inside {
                out.push('…');
            }
            inside = !inside;
            out.push(c);
        } else if !inside {
            out.push(c);
        }
    }
    if inside {
        out.push('…');
    }
    out
}

/// `~/…` expanded against the home directory.
fn expand_home(p: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~")
        && let Some(home) = directories::BaseDirs::new()
    {
        return home.home_dir().join(rest);
    }
    p.to_path_buf()
}

/// The key the file gives, if any, and the file that holds it (for the permission check).
pub fn key(config: &ConfigFile, path: &Path) -> Result<Option<(ApiKey, Option<PathBuf>)>, ConfigError> {
    if let Some(k) = &config.api_key {
        return Ok(Some((k.clone(), Some(path.to_path_buf()))));
    }
    let err = |message: String| ConfigError::Key { path: path.to_path_buf(), message };
    if let Some(file) = &config.key_file {
        let file = expand_home(file);
        let file =
            if file.is_relative() { path.parent().map(|d| d.join(&file)).unwrap_or(file) } else { file };
        let text =
            std::fs::read_to_string(&file).map_err(|e| err(format!("key_file {}: {e}", file.display())))?;
        let key = text.trim();
        if key.is_empty() {
            return Err(err(format!("key_file {} is empty", file.display())));
        }
        return Ok(Some((ApiKey::new(key), Some(file))));
    }
    if let Some(cmd) = &config.key_command {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| err(format!("cannot run key_command: {e}")))?;
        if !out.status.success() {
            return Err(err(format!("key_command failed ({})", out.status)));
        }
        let text =
            String::from_utf8(out.stdout).map_err(|_| err("key_command printed non-UTF-8 text".into()))?;
        let key = text.trim();
        if key.is_empty() {
            return Err(err("key_command printed nothing".into()));
        }
        return Ok(Some((ApiKey::new(key), None)));
    }
    Ok(None)
}

/// A warning if `file` (holding a key) can be read by its group or by others.
pub fn permission_warning(file: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).ok()?.permissions().mode();
        if mode & 0o044 != 0 {
            return Some(format!(
                "warning: {} holds the API key and is readable by {} (mode {:o}); run: chmod 600 {}",
                file.display(),
                if mode & 0o004 != 0 { "everyone" } else { "its group" },
                mode & 0o777,
                file.display()
            ));
        }
        None
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field_and_refuses_unknown_ones() {
        let c = parse(
            "api_key = \"k\"\nenv = \"ote\"\ntimeout = 2.5\ncolor = \"never\"\ndry_run = true\njson = true\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(c.api_key.unwrap().expose(), "k");
        assert_eq!(c.env, Some(ApiEnv::Ote));
        assert_eq!(c.timeout, Some(2.5));
        assert_eq!(c.color, Some(ColorChoice::Never));
        assert_eq!((c.dry_run, c.json, c.yes), (Some(true), Some(true), None));

        let e = parse("api_kye = \"k\"\n", Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.starts_with("configuration file c.toml:") && e.contains("api_kye"), "{e}");
        let e = parse("timeout = \"soon\"\n", Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.contains("line 1, column 11 (setting `timeout`)") && e.contains("f64"), "{e}");
        assert!(!e.contains("soon"), "{e}");
    }

    #[test]
    fn parse_errors_never_quote_the_values_which_may_be_the_key() {
        let key = "KEY-zq7Xw9-config-4242";
        for text in [
            format!("api_key = {key}\n"),
            format!("api_key = [\"{key}\"]\n"),
            format!("json = true\ntimeout = \"{key}\"\n"),
            format!("url = \"{key}\n"),
            format!("\"api_key\" = {key}\n"),
        ] {
            let e = parse(&text, Path::new("c.toml")).unwrap_err().to_string();
            assert!(!e.contains(key) && !e.contains("zq7Xw9"), "{text:?} gave {e}");
            assert!(e.starts_with("configuration file c.toml: line "), "{e}");
        }
    }

    #[test]
    fn key_from_command_and_file() {
        let dir = std::env::temp_dir().join(format!("gandish-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("config.toml");
        std::fs::write(dir.join("key"), "  from-file\n").unwrap();
        let c = parse("key_file = \"key\"", &cfg).unwrap();
        let (k, holder) = key(&c, &cfg).unwrap().unwrap();
        assert_eq!((k.expose(), holder), ("from-file", Some(dir.join("key"))));
        let c = parse("key_command = \"echo from-command\"", &cfg).unwrap();
        assert_eq!(key(&c, &cfg).unwrap().unwrap().0.expose(), "from-command");
        let c = parse("key_command = \"exit 3\"", &cfg).unwrap();
        assert!(key(&c, &cfg).unwrap_err().to_string().contains("key_command failed"));
        let c = parse("key_file = \"missing\"", &cfg).unwrap();
        assert!(key(&c, &cfg).unwrap_err().to_string().contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
