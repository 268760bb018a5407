//! Process capture (placeholder, being written).
