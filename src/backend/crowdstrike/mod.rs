//! The `crowdstrike` backend (being written).
