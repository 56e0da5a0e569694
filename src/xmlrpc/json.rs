//! JSON mapping (placeholder).
