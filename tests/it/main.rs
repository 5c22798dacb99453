//! The one integration test binary: drives `clawmigrate` end to end on temporary installs.
mod credentials;
mod e2e;
mod fixtures;
mod fleet;
mod json5_diff;
mod oracle;
mod props;
mod readme;
mod semantics;
mod snapshots;
mod support;
mod targets;
mod unattended;
