//! Help texts shared by several commands.

/// The exit-status table, for `--help` of the script commands.
pub const EXIT_HELP: &str = "Exit status: 0 success, 1 script or runtime error, 2 usage error \
(bad flags or arguments, unreadable script file, bad configuration), 3 unhandled API fault, 4 transport \
or protocol error (connection, TLS, HTTP status, timeout, malformed reply), 75 the --lock file is held \
by another run, 130 interrupted (Ctrl-C). A closed output pipe (`| head`) is not an error.";

/// Shown at the end of `gandish --help`.
pub const SOURCES_HELP: &str = "Where settings come from (first found wins):
  1. the command-line flag (before or after the subcommand);
  2. the environment: GANDI_API_KEY, GANDI_URL, GANDISH_ENV, GANDISH_TIMEOUT, NO_COLOR
     (any non-empty value turns colour off under --color auto), GANDISH_CONFIG (which file);
  3. the configuration file, TOML: ~/.config/gandish/config.toml on Linux (the platform's
     config directory elsewhere), with the keys api_key, key_file, key_command (a shell
     command printing the key), url, env, timeout, color, dry_run, yes, json, ca_file;
  4. the defaults: production endpoint, 30 s timeout, colour auto, no key.
--sandbox replaces the endpoint and key with the embedded sandbox's. gandish warns when the
file holding the key is readable by group or others. The key is never printed; -v shows where
each setting came from.";
