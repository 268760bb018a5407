//! Benign artifacts (placeholder, being written).
