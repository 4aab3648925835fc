//! The weights blob: built in, or read from `--weights`.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use genre_core::format::{Model, BLOB_LEN};

/// The shipped blob (`weights/tinygenre.tgm`), compiled into the binary.
const BUILT_IN: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../weights/tinygenre.tgm"
));

/// The bytes of `path`, or of the built-in blob. At most `BLOB_LEN + 1` bytes are read, so a
/// huge file is refused without being loaded.
///
/// # Errors
/// The file cannot be read.
pub fn load(path: Option<&Path>) -> Result<Cow<'static, [u8]>> {
    let Some(path) = path else {
        return Ok(Cow::Borrowed(BUILT_IN));
    };
    let mut bytes = Vec::with_capacity(BLOB_LEN);
    std::fs::File::open(path)
        .and_then(|f| f.take(BLOB_LEN as u64 + 1).read_to_end(&mut bytes))
        .with_context(|| format!("reading weights {}", path.display()))?;
    Ok(Cow::Owned(bytes))
}

/// Parses and checks a blob loaded by [`load`] from `path` (`None`: the built-in one).
///
/// # Errors
/// The blob is malformed, damaged or made for another configuration.
pub fn parse<'a>(bytes: &'a [u8], path: Option<&Path>) -> Result<Model<'a>> {
    Model::parse(bytes).map_err(|e| match path {
        Some(p) => anyhow!("{}: not usable weights: {e}", p.display()),
        None => anyhow!(
            "the built-in weights do not fit this build ({e}); rebuild after `host-train train`, \
             or pass --weights"
        ),
    })
}
