//! KQL string escaping shared by the defender and sentinel backends (being written).
