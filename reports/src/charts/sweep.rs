//! Sweep charts (to be written).
