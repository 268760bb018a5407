//! The `command` backend (being written).
