//! The one integration test binary: drives `clawmigrate` end to end on temporary installs.
mod crash;
mod credentials;
mod e2e;
mod fixtures;
mod fleet;
mod hostile;
mod json5_diff;
mod keyfile;
mod masking;
mod oracle;
mod props;
mod readme;
mod semantics;
mod snapshots;
mod support;
mod targets;
mod unattended;
