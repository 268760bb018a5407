//! Tests of the mail module.
