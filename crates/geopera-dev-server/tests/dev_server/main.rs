//! The dev server over raw HTTP: every rule of the embedded Geopera dev server (auth,
//! validation, quota, the upload lifecycle, signed-URL storage, downloads and egress,
//! faults, serving and shutdown, and a load run), in one test binary.

mod common;

mod auth;
mod binary;
mod connections;
mod downloads;
mod faults;
mod integrity;
mod load;
mod models;
mod quota;
mod realm;
mod server;
mod storage;
mod uploads;
mod validation;
