//! Exit codes by kind of failure, and [`Failure`]: what a command that did not succeed
//! prints and exits with.
//!
//! A script tells failures apart by the code alone; the table below is also in
//! `geopera --help` ([`EXIT_CODES_HELP`]) and in the crate documentation.

use std::process::ExitCode;

/// The process exit codes, by kind of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// A failure of no other kind.
    Failure = 1,
    /// A command line that cannot be run: unknown flag or operation, bad JSON argument,
    /// unreadable `@file`.
    Usage = 2,
    /// No credential, or one the API refused (401, 403), or a client that cannot be
    /// configured (a base URL that is not a URL).
    Auth = 3,
    /// Something named does not exist (404).
    NotFound = 4,
    /// The storage quota would be exceeded (402).
    Quota = 5,
    /// The request was rejected as invalid: by the API (422, 413) or before sending, by
    /// the operation's model.
    Validation = 6,
    /// The API or storage could not be reached, or the connection broke (after retries).
    Transport = 7,
    /// The server failed (5xx), or answered with a status or body the document does not
    /// declare.
    Server = 8,
    /// A local file could not be read or written (the credentials file too), or a
    /// download's destination exists and `--force` was not given.
    LocalFile = 9,
    /// Interrupted (Ctrl-C), after releasing what the command held.
    Interrupted = 130,
}

impl Exit {
    /// The code as the process exit status.
    pub fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

/// The exit codes as `--help` shows them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    a failure of no other kind
  2    usage: unknown flag or operation, bad JSON argument, unreadable @file
  3    auth: not logged in, a credential refused (401, 403), or a bad client setting
  4    not found (404)
  5    quota exceeded (402)
  6    validation: rejected by the API (422, 413) or, before sending, by the model
  7    transport: the API or storage could not be reached (after retries)
  8    server: 5xx, or a status or body the API does not declare
  9    local file: unreadable or unwritable (or the credentials file), or the destination
       exists (see --force)
  130  interrupted (Ctrl-C), after releasing the upload's reservation";

/// The kind of failure a [`geopera::Error`] is.
pub fn classify(error: &geopera::Error) -> Exit {
    use geopera::Error;
    match error {
        Error::Transport { .. } => Exit::Transport,
        Error::Io { .. } => Exit::LocalFile,
        Error::InvalidInput { .. } | Error::Validation { .. } => Exit::Validation,
        Error::Config { .. } => Exit::Auth,
        _ => match error.status_code() {
            Some(401 | 403) => Exit::Auth,
            Some(402) => Exit::Quota,
            Some(404) => Exit::NotFound,
            Some(413 | 422) => Exit::Validation,
            Some(_) => Exit::Server,
            None => Exit::Failure,
        },
    }
}

/// The kind of failure an [`AuthError`](crate::auth::AuthError) is, in this table (the
/// login commands' own `AuthError::exit_code` numbers the credentials file 4 and transport 5;
/// the binary uses these codes for every command).
pub fn classify_auth(error: &crate::auth::AuthError) -> Exit {
    use crate::auth::AuthError;
    use crate::oidc::OidcError;
    match error {
        AuthError::Usage(_) => Exit::Usage,
        AuthError::NotLoggedIn { .. }
        | AuthError::Refused(_)
        | AuthError::RefreshFailed(_)
        | AuthError::Oidc(OidcError::Unauthorized | OidcError::Denied | OidcError::Expired) => {
            Exit::Auth
        }
        AuthError::Profile(_) => Exit::LocalFile,
        AuthError::Oidc(OidcError::Transport(_)) => Exit::Transport,
        _ => Exit::Failure,
    }
}

impl From<crate::auth::AuthError> for Failure {
    fn from(error: crate::auth::AuthError) -> Failure {
        Failure::new(classify_auth(&error), error.to_string())
    }
}

/// A command that did not succeed: the exit code, a one-line message, and lines of
/// detail under it (each failing field of a 422).
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// One line, naming the operation when there is one.
    pub message: String,
    /// Further lines, printed indented under the message.
    pub details: Vec<String>,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A failure of kind `exit` with a message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
            details: Vec::new(),
        }
    }
}

impl From<geopera::Error> for Failure {
    /// The SDK error's own one-line `Display` (operation first, redacted), and for a 422
    /// every failing field on a line of its own.
    fn from(error: geopera::Error) -> Failure {
        let details = error
            .validation()
            .map(|v| {
                v.detail
                    .iter()
                    .map(|d| {
                        let loc: Vec<String> = d
                            .loc
                            .iter()
                            .map(|l| match l {
                                geopera::models::ValidationErrorLocItem::String(s) => s.clone(),
                                geopera::models::ValidationErrorLocItem::Integer(i) => {
                                    i.to_string()
                                }
                            })
                            .collect();
                        redacted(&format!("{}: {} ({})", loc.join("."), d.msg, d.type_))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Failure {
            exit: classify(&error),
            message: error.to_string(),
            details,
        }
    }
}

/// Server text redacted the way the SDK redacts it in errors and descriptors (URL
/// queries, secret-named parameters, bearer tokens).
fn redacted(text: &str) -> String {
    match geopera::models::Descriptor::new(serde_json::Value::String(text.to_owned())).redacted() {
        serde_json::Value::String(s) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lines_are_redacted() {
        let line = redacted("body.url: bad https://s.example/o?X-Goog-Signature=abc");
        assert!(!line.contains("abc"), "{line}");
        assert!(
            line.starts_with("body.url: bad https://s.example/o"),
            "{line}"
        );
    }

    #[test]
    fn errors_map_to_their_kind() {
        let config = geopera::Error::Config {
            message: "GEOPERA_API_TOKEN is not set".into(),
        };
        assert_eq!(classify(&config), Exit::Auth);
        let invalid = geopera::Error::InvalidInput {
            operation: "uploads.initiate".into(),
            field: Some("project_id".into()),
            message: "missing".into(),
        };
        assert_eq!(classify(&invalid), Exit::Validation);
        let io = geopera::Error::Io {
            operation: "storage.get".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(classify(&io), Exit::LocalFile);
    }
}
