//! The `elastic` backend (being written).
