//! Where the Weir filter WIT packages live, and which versions exist.
