//! Rules that can never fire on a backend's data.
