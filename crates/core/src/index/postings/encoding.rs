//! The bytes of a postings chunk (module doc of `postings`): entries of a rowid difference and a
//! value in LEB128 varints, and SQLite's own varints, in which FTS5 writes its records.

/// Entries of a chunk: `(rowid, value)`. Stops at the first malformed entry.
pub(super) struct Entries<'a> {
    data: &'a [u8],
    at: usize,
    last: i64,
}

impl<'a> Entries<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            at: 0,
            last: 0,
        }
    }
}

impl Iterator for Entries<'_> {
    type Item = (i64, u32);

    fn next(&mut self) -> Option<(i64, u32)> {
        let (head, used) = get_varint(&self.data[self.at..])?;
        self.at += used;
        let mut value = head & VALUE_MASK;
        if value == VALUE_MASK {
            let (more, used) = get_varint(&self.data[self.at..])?;
            self.at += used;
            value = value.checked_add(more)?;
        }
        self.last = self.last.wrapping_add(unzigzag(head >> VALUE_BITS));
        Some((self.last, u32::try_from(value).unwrap_or(u32::MAX)))
    }
}

/// Appends `entries` (encoded from rowid 0) to a chunk whose last rowid is `last`: the first
/// entry's delta is re-based on `last`, the rest are copied as they are.
pub(super) fn append_entries(data: &mut Vec<u8>, last: i64, entries: &[u8]) {
    let mut reader = Entries::new(entries);
    if let Some((rowid, value)) = reader.next() {
        put_entry(data, rowid - last, value);
        data.extend_from_slice(&entries[reader.at..]);
    }
}

/// Bits of an entry's first varint that hold its value.
const VALUE_BITS: u32 = 4;
/// The largest value held in the first varint; a larger one continues in a second.
const VALUE_MASK: u64 = (1 << VALUE_BITS) - 1;

/// Appends one entry: a rowid difference and a value (module doc). Rowids are below
/// [`MAX_ROWID`], so the shifted difference keeps every bit.
pub(super) fn put_entry(out: &mut Vec<u8>, delta: i64, value: u32) {
    let low = u64::from(value).min(VALUE_MASK);
    put_varint(out, (zigzag(delta) << VALUE_BITS) | low);
    if low == VALUE_MASK {
        put_varint(out, u64::from(value) - VALUE_MASK);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// LEB128.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// LEB128: the value and the bytes it took.
fn get_varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0_u64;
    for (i, &byte) in data.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// SQLite's own varint (big-endian groups of 7 bits, the ninth byte whole), as FTS5 writes its
/// records: the value and the bytes it took.
pub(super) fn sqlite_varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0_u64;
    for (i, &byte) in data.iter().enumerate().take(9) {
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of `entries`, and its last rowid.
    fn chunk(entries: &[(i64, u32)]) -> (Vec<u8>, i64) {
        let (mut data, mut last) = (Vec::new(), 0);
        for &(rowid, value) in entries {
            put_entry(&mut data, rowid - last, value);
            last = rowid;
        }
        (data, last)
    }

    #[test]
    fn varints_round_trip() {
        for v in [0_u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(get_varint(&out), Some((v, out.len())));
        }
        for v in [0_i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        // SQLite varints: 0x81 0x00 is 128; nine bytes take the last one whole.
        assert_eq!(sqlite_varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(sqlite_varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(sqlite_varint(&[0x80]), None);
    }

    #[test]
    fn appended_entries_continue_the_chunk() {
        let (mut data, last) = chunk(&[(5, 1), (9, 2)]);
        let (more, _) = chunk(&[(3, 7), (12, 4)]);
        append_entries(&mut data, last, &more);
        let entries: Vec<_> = Entries::new(&data).collect();
        assert_eq!(entries, [(5, 1), (9, 2), (3, 7), (12, 4)]);
        // Small differences and values take one byte; 15 and more a second varint.
        assert_eq!(chunk(&[(3, 14)]).0.len(), 1);
        let wide = [
            (3, 14),
            (1, 15),
            (-1, 16),
            (-3, 400),
            (-5, u32::MAX),
            (1 << 40, 0),
        ];
        let entries: Vec<_> = Entries::new(&chunk(&wide).0).collect();
        assert_eq!(entries, wide);
    }
}
