//! Spectral distance between computation graphs.
