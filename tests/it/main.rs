//! The one integration test binary: drives `clawmigrate` end to end on temporary installs.
mod e2e;
mod props;
mod snapshots;
mod support;
