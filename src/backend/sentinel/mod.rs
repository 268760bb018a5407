//! The `sentinel` backend (being written).
