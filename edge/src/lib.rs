//! The Tollgate edge worker.
