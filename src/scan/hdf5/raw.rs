//! Thin safe wrappers over the few HDF5 C calls the high-level crate does not expose.
//!
//! Every function here must run while the caller holds HDF5's global lock (the scanner takes
//! it once per file); each id opened here is closed by [`Owned`] on drop. Bytes are read in
//! the file's own datatype, so they are exactly what HDF5 would hand a reader: no conversion.

use std::ffi::{c_char, c_void, CStr};

use hdf5_sys::h5::{haddr_t, hsize_t, HADDR_UNDEF};
use hdf5_sys::h5d::{
    H5D_fill_value_t, H5D_layout_t, H5Dget_create_plist, H5Dget_offset, H5Dget_space,
    H5Dget_storage_size, H5Dget_type, H5Dread,
};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{
    H5Pclose, H5Pfill_value_defined, H5Pget_fill_value, H5Pget_filter2, H5Pget_layout,
    H5Pget_nfilters, H5P_DEFAULT,
};
use hdf5_sys::h5s::{
    H5S_class_t, H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sget_simple_extent_type,
    H5Sselect_hyperslab, H5S_ALL,
};
use hdf5_sys::h5t::{
    H5T_class_t, H5T_order_t, H5T_sign_t, H5T_str_t, H5Tclose, H5Tget_class, H5Tget_order,
    H5Tget_sign, H5Tget_size, H5Tget_strpad, H5Tis_variable_str,
};

/// An HDF5 id closed on drop.
pub(super) struct Owned {
    id: hid_t,
    close: unsafe extern "C" fn(hid_t) -> i32,
}

impl Owned {
    fn new(id: hid_t, close: unsafe extern "C" fn(hid_t) -> i32) -> Option<Self> {
        (id >= 0).then_some(Self { id, close })
    }

    pub(super) fn id(&self) -> hid_t {
        self.id
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: `id` was returned open by HDF5 and is closed exactly once, here.
        unsafe { (self.close)(self.id) };
    }
}

/// The class of an HDF5 datatype, as far as the scanner distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeClass {
    Int {
        signed: bool,
    },
    Float,
    FixedString,
    VarString,
    /// Anything else (compound, enum, opaque, reference, vlen, array, bitfield, time).
    Other(&'static str),
}

/// What the scanner needs to know about a datatype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TypeInfo {
    pub(super) class: TypeClass,
    pub(super) size: usize,
    pub(super) big_endian: bool,
    /// For fixed strings: padded with spaces (Fortran) rather than NULs.
    pub(super) space_padded: bool,
}

pub(super) fn type_info(tid: hid_t) -> TypeInfo {
    // SAFETY: plain queries on a valid type id.
    unsafe {
        let size = H5Tget_size(tid);
        let big_endian = H5Tget_order(tid) == H5T_order_t::H5T_ORDER_BE;
        let class = match H5Tget_class(tid) {
            H5T_class_t::H5T_INTEGER => TypeClass::Int {
                signed: H5Tget_sign(tid) == H5T_sign_t::H5T_SGN_2,
            },
            H5T_class_t::H5T_FLOAT => TypeClass::Float,
            H5T_class_t::H5T_STRING if H5Tis_variable_str(tid) > 0 => TypeClass::VarString,
            H5T_class_t::H5T_STRING => TypeClass::FixedString,
            H5T_class_t::H5T_COMPOUND => TypeClass::Other("compound"),
            H5T_class_t::H5T_ENUM => TypeClass::Other("enum"),
            H5T_class_t::H5T_OPAQUE => TypeClass::Other("opaque"),
            H5T_class_t::H5T_REFERENCE => TypeClass::Other("reference"),
            H5T_class_t::H5T_VLEN => TypeClass::Other("variable-length sequence"),
            H5T_class_t::H5T_ARRAY => TypeClass::Other("array"),
            H5T_class_t::H5T_BITFIELD => TypeClass::Other("bitfield"),
            _ => TypeClass::Other("unsupported"),
        };
        let space_padded =
            class == TypeClass::FixedString && H5Tget_strpad(tid) == H5T_str_t::H5T_STR_SPACEPAD;
        TypeInfo {
            class,
            size,
            big_endian,
            space_padded,
        }
    }
}

/// The datatype of a dataset, as stored in the file.
pub(super) fn dataset_type(dset: hid_t) -> Option<Owned> {
    // SAFETY: `dset` is a valid dataset id.
    Owned::new(unsafe { H5Dget_type(dset) }, H5Tclose)
}

/// Whether a dataspace is the null dataspace (an empty attribute, no value at all).
pub(super) fn is_null_space(space: hid_t) -> bool {
    // SAFETY: plain query.
    unsafe { H5Sget_simple_extent_type(space) == H5S_class_t::H5S_NULL }
}

/// A dataset's storage layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    Compact,
    Contiguous,
    Chunked,
    Other,
}

/// One filter of a dataset's pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FilterSpec {
    pub(super) id: i32,
    pub(super) name: String,
    pub(super) cd_values: Vec<u32>,
}

/// The dataset creation properties the scanner uses.
pub(super) struct CreateProps(Owned);

impl CreateProps {
    pub(super) fn of(dset: hid_t) -> Option<Self> {
        // SAFETY: `dset` is a valid dataset id.
        Owned::new(unsafe { H5Dget_create_plist(dset) }, H5Pclose).map(Self)
    }

    pub(super) fn layout(&self) -> Layout {
        // SAFETY: plain query on a valid plist.
        match unsafe { H5Pget_layout(self.0.id()) } {
            H5D_layout_t::H5D_COMPACT => Layout::Compact,
            H5D_layout_t::H5D_CONTIGUOUS => Layout::Contiguous,
            H5D_layout_t::H5D_CHUNKED => Layout::Chunked,
            _ => Layout::Other,
        }
    }

    pub(super) fn filters(&self) -> Vec<FilterSpec> {
        let plist = self.0.id();
        // SAFETY: buffers are sized as passed; HDF5 writes at most that many elements.
        unsafe {
            let n = H5Pget_nfilters(plist).max(0);
            (0..n as u32)
                .map(|i| {
                    let mut flags = 0u32;
                    let mut cd = [0u32; 32];
                    let mut n_cd: usize = cd.len();
                    let mut name = [0 as c_char; 256];
                    let id = H5Pget_filter2(
                        plist,
                        i,
                        &raw mut flags,
                        &raw mut n_cd,
                        cd.as_mut_ptr(),
                        name.len(),
                        name.as_mut_ptr(),
                        std::ptr::null_mut(),
                    );
                    let name = CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
                    FilterSpec {
                        id,
                        name,
                        cd_values: cd[..n_cd.min(cd.len())].to_vec(),
                    }
                })
                .collect()
        }
    }

    /// Whether edge chunks that are only partly inside the dataset are stored unfiltered
    /// (`H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS`): HDF5 then reports a zero filter mask for them.
    pub(super) fn partial_chunks_unfiltered(&self) -> bool {
        let mut opts: std::ffi::c_uint = 0;
        // SAFETY: plain query on a valid plist.
        let ok = unsafe { hdf5_sys::h5p::H5Pget_chunk_opts(self.0.id(), &raw mut opts) } >= 0;
        ok && opts & hdf5_sys::h5d::H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS != 0
    }

    /// The fill value in the file's datatype `tid`, if the file sets one (not the library default).
    pub(super) fn user_fill_value(&self, tid: hid_t, size: usize) -> Option<Vec<u8>> {
        // SAFETY: `buf` has room for one element of `tid`.
        unsafe {
            let mut status = H5D_fill_value_t::H5D_FILL_VALUE_ERROR;
            if H5Pfill_value_defined(self.0.id(), &raw mut status) < 0
                || status != H5D_fill_value_t::H5D_FILL_VALUE_USER_DEFINED
            {
                return None;
            }
            let mut buf = vec![0u8; size];
            (H5Pget_fill_value(self.0.id(), tid, buf.as_mut_ptr().cast::<c_void>()) >= 0)
                .then_some(buf)
        }
    }
}

/// Where a contiguous dataset's data starts, or `None` if it was never written.
pub(super) fn contiguous_offset(dset: hid_t) -> Option<(u64, u64)> {
    // SAFETY: plain queries.
    let (addr, size): (haddr_t, hsize_t) =
        unsafe { (H5Dget_offset(dset), H5Dget_storage_size(dset)) };
    (addr != HADDR_UNDEF && size > 0).then_some((addr, size))
}

/// Reads a dataset's elements (all, or the box `start`..`start+count`) as raw bytes in the
/// file's datatype `tid` of element size `size`.
pub(super) fn read_bytes(
    dset: hid_t,
    tid: hid_t,
    size: usize,
    sel: Option<(&[u64], &[u64])>,
) -> Result<Vec<u8>, String> {
    // SAFETY: the buffer holds exactly the selected number of elements of `tid`.
    unsafe {
        let Some((start, count)) = sel else {
            let space =
                Owned::new(H5Dget_space(dset), H5Sclose).ok_or("cannot get the dataspace")?;
            let n = hdf5_sys::h5s::H5Sget_simple_extent_npoints(space.id()).max(0) as usize;
            let mut buf = vec![0u8; n * size];
            if n > 0
                && H5Dread(
                    dset,
                    tid,
                    H5S_ALL,
                    H5S_ALL,
                    H5P_DEFAULT,
                    buf.as_mut_ptr().cast(),
                ) < 0
            {
                return Err("HDF5 could not read the data".into());
            }
            return Ok(buf);
        };
        let n: u64 = count.iter().product();
        let mut buf = vec![0u8; n as usize * size];
        if n == 0 {
            return Ok(buf);
        }
        let fspace = Owned::new(H5Dget_space(dset), H5Sclose).ok_or("cannot get the dataspace")?;
        if H5Sselect_hyperslab(
            fspace.id(),
            H5S_seloper_t::H5S_SELECT_SET,
            start.as_ptr(),
            std::ptr::null(),
            count.as_ptr(),
            std::ptr::null(),
        ) < 0
        {
            return Err(format!("cannot select {start:?}+{count:?}"));
        }
        let mspace = Owned::new(
            H5Screate_simple(count.len() as i32, count.as_ptr(), std::ptr::null()),
            H5Sclose,
        )
        .ok_or("cannot create a memory dataspace")?;
        if H5Dread(
            dset,
            tid,
            mspace.id(),
            fspace.id(),
            H5P_DEFAULT,
            buf.as_mut_ptr().cast(),
        ) < 0
        {
            return Err(format!("HDF5 could not read {start:?}+{count:?}"));
        }
        Ok(buf)
    }
}

/// Reads an attribute's fixed-length string values (HDF5 strings of a size known only at run time).
pub(super) fn read_fixed_string_attr(attr: hid_t, n: usize) -> Result<Vec<String>, String> {
    // SAFETY: the buffer holds `n` elements of the attribute's own type.
    unsafe {
        let tid = Owned::new(hdf5_sys::h5a::H5Aget_type(attr), H5Tclose)
            .ok_or("cannot get the attribute type")?;
        let info = type_info(tid.id());
        let mut buf = vec![0u8; n * info.size];
        if n > 0 && hdf5_sys::h5a::H5Aread(attr, tid.id(), buf.as_mut_ptr().cast()) < 0 {
            return Err("HDF5 could not read the attribute".into());
        }
        Ok(split_fixed_strings(
            &buf,
            info.size.max(1),
            info.space_padded,
        ))
    }
}

/// Splits `buf` into strings of `width` bytes, trimming the padding.
pub(super) fn split_fixed_strings(buf: &[u8], width: usize, space_padded: bool) -> Vec<String> {
    buf.chunks(width)
        .map(|s| {
            let s = s.split(|&b| b == 0).next().unwrap_or_default();
            let s = String::from_utf8_lossy(s);
            if space_padded {
                s.trim_end_matches(' ').to_owned()
            } else {
                s.into_owned()
            }
        })
        .collect()
}
