//! The one integration test binary: drives `clawmigrate` end to end on temporary installs.
mod credentials;
mod e2e;
mod era_fixtures;
mod fixtures;
mod fleet;
mod hostile;
mod oracle;
mod oracle_d;
mod props;
mod readme;
mod semantics;
mod snapshots;
mod support;
mod targets;
mod unattended;
