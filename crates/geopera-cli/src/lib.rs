//! The `geopera` command line's library: the credentials file shared with the platform's
//! Python command line ([`profile`]), its OpenID Connect realm ([`oidc`]) and the login
//! commands with the connection settings every command resolves ([`auth`]).

#![warn(missing_docs)]

pub mod auth;
pub mod oidc;
pub mod profile;
