//! Codecs chunkref adds to zarrs, one per file, registered at compile time: HDF5-exact
//! `fletcher32`, a faster, HDF5-exact `shuffle`, and kerchunk's `grib`.
//!
//! zarrs finds Zarr V2 codecs only through `inventory` plugins collected at link time, so each
//! codec here submits a `CodecPluginV2` (and the V3 twin that zarrs' V2-to-V3 conversion needs).
//! Where a codec replaces a built-in one of the same numcodecs id, the id is rewritten to a
//! private name ([`V2_RENAMES`]) in the `.zarray` that [`super::store`] hands to zarrs: two
//! plugins claiming one id would be chosen between in link order, which nobody controls. The
//! store itself keeps the numcodecs id, so Python reads it unchanged.
//!
//! This module must not know about reference stores or fetching; it only turns bytes into bytes.

pub mod fletcher32;
pub mod grib;
pub mod shuffle;

/// numcodecs ids whose zarrs implementation is replaced, and the private id ours is registered
/// under: `(numcodecs id, chunkref id)`.
pub const V2_RENAMES: &[(&str, &str)] = &[("fletcher32", fletcher32::ID), ("shuffle", shuffle::ID)];

/// The id zarrs should see for the numcodecs codec `id`.
#[must_use]
pub fn zarrs_id(id: &str) -> &str {
    V2_RENAMES
        .iter()
        .find(|(from, _)| *from == id)
        .map_or(id, |(_, to)| to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_ids_are_renamed_others_kept() {
        assert_eq!(zarrs_id("fletcher32"), "chunkref.fletcher32");
        assert_eq!(zarrs_id("zlib"), "zlib");
    }
}
