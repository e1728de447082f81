//! The parts of the `vocab` command line that need no arguments, files or terminal: recipe
//! parsing. A library target so other crates (the fuzz targets) can use them as the binary
//! does.

pub mod recipe;
