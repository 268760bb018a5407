//! The `defender` backend (being written).
