//! A small ZIP writer for the exports that carry photos.
//!
//! It writes only what those need, as PKWARE's APPNOTE describes it:
//!
//! - every entry *stored* (method 0): photos are JPEG, PNG or WebP, already
//!   compressed, and a CSV of a few hundred kilobytes is not worth a
//!   compressor;
//! - each entry's CRC-32 and size in its local header, so no data
//!   descriptors: the caller has an entry's bytes in hand before sending
//!   them;
//! - names in UTF-8, said so by bit 11 of the flags;
//! - one modification time for every entry (the export's), as MS-DOS wrote
//!   it: local time with no zone, two-second steps, years 1980 to 2107;
//! - no ZIP64: at most [`MAX_ENTRIES`] entries and [`MAX_ARCHIVE_BYTES`] in
//!   all, so every size, offset and count fits the classic 16- and 32-bit
//!   fields. [`archive_len`] says before a byte is written whether an
//!   archive fits, and how long it will be.
//!
//! An archive is, in order: for each entry, its local header and its bytes;
//! then the central directory (one header per entry, naming where its local
//! header starts); then the end-of-central-directory record, which says
//! where the directory starts. Readers begin from that last record.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// The most entries an archive holds: the end record counts them in 16
/// bits, and 0xFFFF there tells a reader to look for ZIP64 records.
pub const MAX_ENTRIES: usize = 0xFFFF - 1;
/// The largest archive written: every offset and size must fit in 32 bits
/// and stay below 0xFFFF_FFFF, which tells a reader to look for ZIP64.
pub const MAX_ARCHIVE_BYTES: u64 = 0xFFFF_FFFF;

/// The fixed part of a local header, before the entry's name.
const LOCAL_HEADER: u64 = 30;
/// The fixed part of a central directory header, before the name.
const CENTRAL_HEADER: u64 = 46;
/// The end-of-central-directory record, with no comment.
const END_RECORD: u64 = 22;

const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
/// Version 1.0 of the format is all a stored entry needs to be extracted.
const VERSION_NEEDED: u16 = 10;
/// Made by: MS-DOS attributes (high byte 0; none are set, so the unzipping
/// system's defaults apply), to version 2.0 of the format.
const VERSION_MADE_BY: u16 = 20;
/// General purpose flag bit 11: the name is UTF-8.
const UTF8_NAMES: u16 = 1 << 11;
/// Compression method 0: stored as it is.
const STORED: u16 = 0;

/// Why an archive cannot be written without ZIP64, in words for the person
/// who asked for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZipLimit {
    #[error("the archive would hold {entries} files; a ZIP holds at most {MAX_ENTRIES}")]
    TooManyEntries { entries: usize },
    #[error(
        "the archive would be {bytes} bytes; a ZIP is at most {MAX_ARCHIVE_BYTES} bytes (4 GiB)"
    )]
    TooLarge { bytes: u64 },
    #[error("a file name in the archive is {bytes} bytes long; at most 65,535 fit")]
    NameTooLong { bytes: usize },
}

/// The length of the archive holding entries of these name lengths and
/// sizes, in bytes, or why it would not fit without ZIP64.
pub fn archive_len(entries: impl IntoIterator<Item = (usize, u64)>) -> Result<u64, ZipLimit> {
    let mut count = 0usize;
    let mut total = END_RECORD;
    for (name, size) in entries {
        count += 1;
        if name > usize::from(u16::MAX) {
            return Err(ZipLimit::NameTooLong { bytes: name });
        }
        let name = name as u64;
        // Its local header and bytes, and its header in the directory.
        total = total.saturating_add(LOCAL_HEADER + name + CENTRAL_HEADER + name);
        total = total.saturating_add(size);
    }
    if count > MAX_ENTRIES {
        return Err(ZipLimit::TooManyEntries { entries: count });
    }
    if total > MAX_ARCHIVE_BYTES {
        return Err(ZipLimit::TooLarge { bytes: total });
    }
    Ok(total)
}

/// A time as MS-DOS kept it: `(time, date)`, each 16 bits. The time is
/// hours (5 bits), minutes (6) and seconds halved (5); the date is years
/// since 1980 (7 bits), month (4) and day (5). A time outside 1980 to 2107
/// is written as the nearest end of that range.
pub fn dos_time(at: DateTime<Utc>) -> (u16, u16) {
    match at.year() {
        ..1980 => (0, (1 << 5) | 1),
        2108.. => ((23 << 11) | (59 << 5) | 29, (127 << 9) | (12 << 5) | 31),
        year => {
            let time = (at.hour() << 11) | (at.minute() << 5) | (at.second() / 2);
            let date = (((year - 1980) as u32) << 9) | (at.month() << 5) | at.day();
            // Each part is within its bits by the ranges above.
            (time as u16, date as u16)
        }
    }
}

/// One entry as the central directory names it.
struct Written {
    name: String,
    crc: u32,
    size: u32,
    /// Where its local header starts.
    offset: u32,
}

/// Writes an archive entry by entry, handing back the bytes to send, so a
/// caller can send each entry as soon as it is made and hold only one at a
/// time. It refuses, rather than write, anything that would need ZIP64.
pub struct ZipWriter {
    /// `(time, date)` of every entry.
    modified: (u16, u16),
    /// Bytes handed out so far: where the next local header starts.
    offset: u64,
    entries: Vec<Written>,
}

impl ZipWriter {
    /// An empty archive whose entries are all dated `modified`.
    pub fn new(modified: DateTime<Utc>) -> Self {
        ZipWriter {
            modified: dos_time(modified),
            offset: 0,
            entries: Vec::new(),
        }
    }

    /// The local header of an entry named `name` holding `data`: send it,
    /// then `data` itself, before the next entry's header.
    pub fn entry(&mut self, name: &str, data: &[u8]) -> Result<Vec<u8>, ZipLimit> {
        let name_len =
            u16::try_from(name.len()).map_err(|_| ZipLimit::NameTooLong { bytes: name.len() })?;
        if self.entries.len() >= MAX_ENTRIES {
            return Err(ZipLimit::TooManyEntries {
                entries: self.entries.len() + 1,
            });
        }
        // This entry's end, and the directory after it, must still fit.
        let end = self.offset + LOCAL_HEADER + u64::from(name_len) + data.len() as u64;
        let (Ok(offset), Ok(size), true) = (
            u32::try_from(self.offset),
            u32::try_from(data.len()),
            end <= MAX_ARCHIVE_BYTES,
        ) else {
            return Err(ZipLimit::TooLarge { bytes: end });
        };
        let crc = crc32fast::hash(data);
        let mut header = Vec::with_capacity(LOCAL_HEADER as usize + name.len());
        put32(&mut header, LOCAL_SIGNATURE);
        put_entry_fields(&mut header, self.modified, crc, size, name_len);
        // No extra field.
        put16(&mut header, 0);
        header.extend_from_slice(name.as_bytes());
        self.offset = end;
        self.entries.push(Written {
            name: name.to_owned(),
            crc,
            size,
            offset,
        });
        Ok(header)
    }

    /// The central directory and the end record: the archive's last bytes.
    pub fn finish(self) -> Result<Vec<u8>, ZipLimit> {
        let mut directory = Vec::new();
        for entry in &self.entries {
            put32(&mut directory, CENTRAL_SIGNATURE);
            put16(&mut directory, VERSION_MADE_BY);
            // Each name's length was checked when its entry was written.
            let name_len = entry.name.len() as u16;
            put_entry_fields(
                &mut directory,
                self.modified,
                entry.crc,
                entry.size,
                name_len,
            );
            // No extra field, no comment; the archive is on disk 0.
            put16(&mut directory, 0);
            put16(&mut directory, 0);
            put16(&mut directory, 0);
            // Internal attributes (none), external attributes (none).
            put16(&mut directory, 0);
            put32(&mut directory, 0);
            put32(&mut directory, entry.offset);
            directory.extend_from_slice(entry.name.as_bytes());
        }
        let total = self.offset + directory.len() as u64 + END_RECORD;
        let (Ok(start), Ok(length), true) = (
            u32::try_from(self.offset),
            u32::try_from(directory.len()),
            total <= MAX_ARCHIVE_BYTES,
        ) else {
            return Err(ZipLimit::TooLarge { bytes: total });
        };
        // At most MAX_ENTRIES, checked as each was written.
        let count = self.entries.len() as u16;
        let mut end = directory;
        put32(&mut end, END_SIGNATURE);
        // This disk, and the disk where the directory starts: both 0.
        put16(&mut end, 0);
        put16(&mut end, 0);
        // Entries on this disk, and in all.
        put16(&mut end, count);
        put16(&mut end, count);
        put32(&mut end, length);
        put32(&mut end, start);
        // No comment.
        put16(&mut end, 0);
        Ok(end)
    }
}

/// The fields a local header and its entry's directory header share, in
/// the same order: version needed, flags, method, time, date, CRC-32, both
/// sizes (the same, as the entry is stored) and the name's length.
fn put_entry_fields(out: &mut Vec<u8>, modified: (u16, u16), crc: u32, size: u32, name_len: u16) {
    put16(out, VERSION_NEEDED);
    put16(out, UTF8_NAMES);
    put16(out, STORED);
    put16(out, modified.0);
    put16(out, modified.1);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, name_len);
}

/// Every number in a ZIP is little-endian.
fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use chrono::TimeZone;

    use super::*;

    /// The archive whole, as the export sends it.
    fn archive(at: DateTime<Utc>, entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = ZipWriter::new(at);
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend(zip.entry(name, data).unwrap());
            out.extend_from_slice(data);
        }
        out.extend(zip.finish().unwrap());
        out
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 13, 45, 31).unwrap()
    }

    #[test]
    fn an_empty_archive_is_the_end_record_alone_and_reads_as_empty() {
        let bytes = archive(at(), &[]);
        assert_eq!(
            bytes,
            [0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(archive_len([]), Ok(bytes.len() as u64));
        let read = ::zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(read.len(), 0);
    }

    #[test]
    fn names_beyond_ascii_are_utf8_and_read_back_with_their_bytes() {
        let csv: &[u8] = b"id,photos\r\n1,photos/caf\xc3\xa9.jpg\r\n";
        let photo: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let entries: [(&str, &[u8]); 3] = [
            ("notes.csv", csv),
            ("photos/café-Straße-東京.jpg", &photo),
            ("photos/empty", b""),
        ];
        let bytes = archive(at(), &entries);
        assert_eq!(
            archive_len(entries.map(|(n, d)| (n.len(), d.len() as u64))),
            Ok(bytes.len() as u64)
        );
        // The first local header: stored, UTF-8 names, the CSV's CRC-32.
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 1 << 11);
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 0);
        assert_eq!(
            u32::from_le_bytes(bytes[14..18].try_into().unwrap()),
            crc32fast::hash(csv)
        );

        let mut read = ::zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(read.len(), 3);
        for (i, (name, data)) in entries.iter().enumerate() {
            let mut file = read.by_index(i).unwrap();
            assert_eq!(file.name().unwrap(), *name);
            assert_eq!(file.compression(), ::zip::CompressionMethod::Stored);
            let time = file.last_modified().unwrap();
            assert_eq!(
                (time.year(), time.month(), time.day()),
                (2026, 11, 26),
                "{name}"
            );
            // Two-second steps: 31 s is written as 30.
            assert_eq!((time.hour(), time.minute(), time.second()), (13, 45, 30));
            let mut back = Vec::new();
            // The reader checks each entry's CRC-32 as it reads to the end.
            file.read_to_end(&mut back).unwrap();
            assert_eq!(back, *data, "{name}");
        }
    }

    #[test]
    fn a_known_crc_and_dos_times_at_the_ends_of_their_range() {
        let mut zip = ZipWriter::new(at());
        let header = zip.entry("a", b"123456789").unwrap();
        // The CRC-32 every implementation agrees on for these nine digits.
        assert_eq!(&header[14..18], &0xCBF4_3926u32.to_le_bytes());
        assert_eq!(
            dos_time(Utc.with_ymd_and_hms(1980, 1, 1, 0, 0, 0).unwrap()),
            (0, 0x21)
        );
        assert_eq!(
            dos_time(Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap()),
            (0, 0x21)
        );
        assert_eq!(
            dos_time(Utc.with_ymd_and_hms(2107, 12, 31, 23, 59, 59).unwrap()),
            dos_time(Utc.with_ymd_and_hms(2200, 6, 1, 12, 0, 0).unwrap())
        );
    }

    #[test]
    fn archives_that_would_need_zip64_are_refused_before_writing() {
        let one = |size: u64| [(9usize, size)];
        // The largest that fits: its every byte counted, to the last.
        let overhead = LOCAL_HEADER + 9 + CENTRAL_HEADER + 9 + END_RECORD;
        let largest = MAX_ARCHIVE_BYTES - overhead;
        assert_eq!(archive_len(one(largest)), Ok(MAX_ARCHIVE_BYTES));
        assert_eq!(
            archive_len(one(largest + 1)),
            Err(ZipLimit::TooLarge {
                bytes: MAX_ARCHIVE_BYTES + 1
            })
        );
        // Many files, each well under the limit, that pass it together.
        let photos = std::iter::repeat_n((46usize, 2 * 1024 * 1024u64), 2048);
        assert!(matches!(
            archive_len(photos),
            Err(ZipLimit::TooLarge { .. })
        ));
        let small = |n| std::iter::repeat_n((46usize, 100u64), n);
        assert!(archive_len(small(MAX_ENTRIES)).is_ok());
        assert_eq!(
            archive_len(small(MAX_ENTRIES + 1)),
            Err(ZipLimit::TooManyEntries {
                entries: MAX_ENTRIES + 1
            })
        );
        assert_eq!(
            archive_len([(70_000, 1)]),
            Err(ZipLimit::NameTooLong { bytes: 70_000 })
        );
        let mut zip = ZipWriter::new(at());
        assert!(matches!(
            zip.entry(&"x".repeat(70_000), b""),
            Err(ZipLimit::NameTooLong { bytes: 70_000 })
        ));
        // The writer refuses an entry past the count itself, too.
        for n in 0..MAX_ENTRIES {
            zip.entry(&n.to_string(), b"").unwrap();
        }
        assert!(matches!(
            zip.entry("one more", b""),
            Err(ZipLimit::TooManyEntries { .. })
        ));
        let end = zip.finish().unwrap();
        let count = &end[end.len() - 12..end.len() - 10];
        assert_eq!(
            u16::from_le_bytes([count[0], count[1]]) as usize,
            MAX_ENTRIES
        );
    }
}
