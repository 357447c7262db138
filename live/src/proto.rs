//! Remote-write 1.0 on the wire: a Snappy *block* (not framed) holding a protobuf
//! `prometheus.WriteRequest`.
//!
//! The messages are written by hand with prost's derive, so no `protoc` runs at build time.
//! They are the subset of `prompb/types.proto` and `prompb/remote.proto` that a receiver
//! needs; fields it does not read (exemplars, histograms, metadata) are skipped by prost as
//! unknown fields, which protobuf allows.
//!
//! The server does not build a [`WriteRequest`] at all: an empty `TimeSeries` is 2 bytes on
//! the wire and 48 in memory, so a 64 MB body of them would take 1.5 GB. [`Decoder`] reads
//! the Snappy header's decoded length (to be budgeted before anything is decompressed), then
//! walks the protobuf in place ([`Decoded::count`], refusing too many series or samples before
//! allocating per element) and produces only the [`SampleKey`]s, 16 bytes a sample, already
//! counted. [`decode`] (prost) stays for tools and tests, and a property test holds the two
//! to the same answer.

use prost::Message;
use std::fmt;

/// `prometheus.WriteRequest` (field 3, metadata, is skipped).
#[derive(Clone, PartialEq, Message)]
pub struct WriteRequest {
    /// One entry per series.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries` (exemplars, field 3, and histograms, field 4, are skipped).
#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    /// Sorted by name, `__name__` included.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples in timestamp order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Message)]
pub struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Why a body could not be decoded; the text is what the client gets with the 400 or 413.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not a valid Snappy block.
    Snappy(String),
    /// The Snappy header announces more decoded bytes than the limit.
    TooLarge {
        /// Announced decoded size.
        decoded: u64,
        /// The limit.
        limit: u64,
    },
    /// Not a valid `WriteRequest`.
    Protobuf(String),
    /// More series (or samples) in one request than the limit.
    TooMany {
        /// `"series"` or `"samples"`.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
}

impl DecodeError {
    /// The HTTP status: 413 for a request over a limit, 400 for one that is not valid.
    pub fn status(&self) -> u16 {
        match self {
            DecodeError::Snappy(_) | DecodeError::Protobuf(_) => 400,
            DecodeError::TooLarge { .. } | DecodeError::TooMany { .. } => 413,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The snap crate's own messages already start with "snappy: ".
            DecodeError::Snappy(e) => write!(f, "snappy: {}", e.strip_prefix("snappy: ").unwrap_or(e)),
            DecodeError::TooLarge { decoded, limit } => {
                write!(f, "snappy: decoded body of {decoded} bytes exceeds the limit of {limit} bytes")
            }
            DecodeError::Protobuf(e) => write!(f, "protobuf: {e}"),
            DecodeError::TooMany { what, limit } => {
                write!(f, "more than {limit} {what} in one request (the server's limit; send smaller batches)")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes a remote-write body, refusing one that decodes to more than `max_decoded` bytes.
///
/// Builds the whole [`WriteRequest`]; for tools and tests. The server uses [`Decoder`].
pub fn decode(body: &[u8], max_decoded: u64) -> Result<WriteRequest, DecodeError> {
    let len = decoded_len(body, max_decoded)?;
    let raw = decompress(body, len)?;
    WriteRequest::decode(raw.as_slice()).map_err(|e| DecodeError::Protobuf(e.to_string()))
}

/// The decoded length the Snappy header announces, refused above `max_decoded` before
/// anything is decompressed.
pub fn decoded_len(body: &[u8], max_decoded: u64) -> Result<u64, DecodeError> {
    let len = snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))? as u64;
    if len > max_decoded {
        return Err(DecodeError::TooLarge { decoded: len, limit: max_decoded });
    }
    Ok(len)
}

/// Decompresses a body whose header announced `len` bytes (see [`decoded_len`]).
pub fn decompress(body: &[u8], len: u64) -> Result<Vec<u8>, DecodeError> {
    let mut raw = vec![0; len as usize];
    let n = snap::raw::Decoder::new().decompress(body, &mut raw).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    raw.truncate(n);
    Ok(raw)
}

/// Limits on what one decoded request may hold.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    /// Most series (`TimeSeries` entries) in one request.
    pub max_series: u64,
    /// Most samples in one request.
    pub max_samples: u64,
}

/// A decompressed `WriteRequest`, checked by [`Decoder::check`]: valid protobuf, within the
/// limits.
#[derive(Debug)]
pub struct Decoded {
    raw: Vec<u8>,
    /// Series in the request.
    pub series: u64,
    /// Samples in the request.
    pub count: u64,
}

impl Decoder {
    /// Walks the decompressed bytes once without allocating: the protobuf must be a valid
    /// `WriteRequest` (as prost would decode it) with at most the limits' series and samples.
    pub fn check(&self, raw: Vec<u8>) -> Result<Decoded, DecodeError> {
        let (mut series, mut count) = (0u64, 0u64);
        for_each_series(&raw, |ts| {
            series += 1;
            if series > self.max_series {
                return Err(Stop::TooMany("series", self.max_series));
            }
            for_each_field(ts, &mut |_, _| {}, &mut |_| {
                count += 1;
                if count > self.max_samples { Err(Stop::TooMany("samples", self.max_samples)) } else { Ok(()) }
            })
        })
        .map_err(|e| match e {
            Stop::Bad(m) => DecodeError::Protobuf(m),
            Stop::TooMany(what, limit) => DecodeError::TooMany { what, limit },
        })?;
        Ok(Decoded { raw, series, count })
    }
}

impl Decoded {
    /// The keys of every sample, in request order (what [`sample_keys`] gives for the same
    /// request), in a vector of exactly [`Decoded::count`] entries.
    pub fn keys(&self) -> Vec<SampleKey> {
        let mut keys = Vec::with_capacity(self.count as usize);
        // Checked already: the walk cannot fail here.
        let _ = for_each_series(&self.raw, |ts| {
            let mut h = SeriesHasher::new();
            for_each_field(ts, &mut |name, value| h.label(name, value), &mut |_| Ok(()))?;
            let series = h.finish();
            for_each_field(ts, &mut |_, _| {}, &mut |timestamp_ms| {
                keys.push(SampleKey { series, timestamp_ms });
                Ok(())
            })
        });
        keys
    }
}

/// Why a walk stopped.
enum Stop {
    Bad(String),
    TooMany(&'static str, u64),
}

impl From<String> for Stop {
    fn from(m: String) -> Self {
        Stop::Bad(m)
    }
}

/// Protobuf wire types (`prost::encoding::WireType`).
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// A cursor over protobuf bytes that fails where prost's decoder fails.
struct Wire<'a> {
    buf: &'a [u8],
}

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let Some((&b, rest)) = self.buf.split_first() else {
                return Err("buffer underflow".into());
            };
            self.buf = rest;
            // The tenth byte may only carry the top bit of 64.
            if i == 9 && b > 1 {
                return Err("invalid varint".into());
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("invalid varint".into())
    }

    /// A field key: `(field number, wire type)`.
    fn key(&mut self) -> Result<(u32, u8), String> {
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(format!("invalid key value: {key}"));
        }
        let wire = (key & 7) as u8;
        if wire > FIXED32 {
            return Err(format!("invalid wire type value: {wire}"));
        }
        let field = (key >> 3) as u32;
        if field == 0 {
            return Err("invalid tag value: 0".into());
        }
        Ok((field, wire))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        if n > self.buf.len() as u64 {
            return Err("buffer underflow".into());
        }
        let (head, rest) = self.buf.split_at(n as usize);
        self.buf = rest;
        Ok(head)
    }

    fn len_delimited(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint()?;
        self.take(n)
    }

    /// Skips an unknown field, groups included (up to prost's nesting limit of 100).
    fn skip(&mut self, field: u32, wire: u8, depth: u32) -> Result<(), String> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            FIXED32 => self.take(4).map(drop),
            LEN => self.len_delimited().map(drop),
            START_GROUP => {
                if depth >= 100 {
                    return Err("recursion limit reached".into());
                }
                loop {
                    let (f, w) = self.key()?;
                    if w == END_GROUP {
                        return if f == field { Ok(()) } else { Err("unexpected end group tag".into()) };
                    }
                    self.skip(f, w, depth + 1)?;
                }
            }
            _ => Err("unexpected end group tag".into()),
        }
    }

    fn expect(wire: u8, expected: u8) -> Result<(), String> {
        if wire == expected { Ok(()) } else { Err(format!("invalid wire type: {wire} (expected {expected})")) }
    }
}

/// Calls `f` with the bytes of each `TimeSeries` of a `WriteRequest`.
fn for_each_series<'a>(raw: &'a [u8], mut f: impl FnMut(&'a [u8]) -> Result<(), Stop>) -> Result<(), Stop> {
    let mut w = Wire { buf: raw };
    while !w.buf.is_empty() {
        let (field, wire) = w.key()?;
        if field == 1 {
            Wire::expect(wire, LEN)?;
            f(w.len_delimited()?)?;
        } else {
            w.skip(field, wire, 0)?;
        }
    }
    Ok(())
}

/// Walks one `TimeSeries`: `label(name, value)` for each label (the last name and value of
/// each, as protobuf merges them) and `sample(timestamp_ms)` for each sample, which may stop
/// the walk.
fn for_each_field(
    ts: &[u8],
    label: &mut impl FnMut(&[u8], &[u8]),
    sample: &mut impl FnMut(i64) -> Result<(), Stop>,
) -> Result<(), Stop> {
    let mut w = Wire { buf: ts };
    while !w.buf.is_empty() {
        let (field, wire) = w.key()?;
        match field {
            1 => {
                Wire::expect(wire, LEN)?;
                let mut l = Wire { buf: w.len_delimited()? };
                let (mut name, mut value): (&[u8], &[u8]) = (b"", b"");
                while !l.buf.is_empty() {
                    let (f, wt) = l.key()?;
                    if f == 1 || f == 2 {
                        Wire::expect(wt, LEN)?;
                        let s = l.len_delimited()?;
                        if std::str::from_utf8(s).is_err() {
                            return Err(Stop::Bad("invalid string value: data is not UTF-8 encoded".into()));
                        }
                        if f == 1 { name = s } else { value = s }
                    } else {
                        l.skip(f, wt, 0)?;
                    }
                }
                label(name, value);
            }
            2 => {
                Wire::expect(wire, LEN)?;
                let mut s = Wire { buf: w.len_delimited()? };
                let mut timestamp = 0i64;
                while !s.buf.is_empty() {
                    let (f, wt) = s.key()?;
                    match f {
                        1 => {
                            Wire::expect(wt, FIXED64)?;
                            s.take(8)?;
                        }
                        2 => {
                            Wire::expect(wt, VARINT)?;
                            timestamp = s.varint()? as i64;
                        }
                        _ => s.skip(f, wt, 0)?,
                    }
                }
                sample(timestamp)?;
            }
            _ => w.skip(field, wire, 0)?,
        }
    }
    Ok(())
}

/// Encodes a request as Prometheus sends it (for tests and tools).
pub fn encode(req: &WriteRequest) -> Vec<u8> {
    let raw = req.encode_to_vec();
    snap::raw::Encoder::new().compress_vec(&raw).expect("snappy compresses any input below 4 GiB")
}

/// Identity of a series: FNV-1a 64 over its labels in order, each name and value followed
/// by a 0xff separator (which never occurs in UTF-8). Prometheus sends labels sorted, so the
/// same series always hashes the same.
pub fn series_hash(labels: &[Label]) -> u64 {
    let mut h = SeriesHasher::new();
    for l in labels {
        h.label(l.name.as_bytes(), l.value.as_bytes());
    }
    h.finish()
}

/// [`series_hash`] one label at a time, for the decoder that never builds [`Label`]s.
struct SeriesHasher(u64);

impl SeriesHasher {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        SeriesHasher(0xcbf2_9ce4_8422_2325)
    }

    fn label(&mut self, name: &[u8], value: &[u8]) {
        for part in [name, value] {
            for &b in part {
                self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
            }
            self.0 = (self.0 ^ 0xff).wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// One stored sample as the books see it: which series, which timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SampleKey {
    /// [`series_hash`] of its labels.
    pub series: u64,
    /// Timestamp, ms since the Unix epoch.
    pub timestamp_ms: i64,
}

/// The keys of every sample of a request, in request order.
pub fn sample_keys(req: &WriteRequest) -> Vec<SampleKey> {
    let n = req.timeseries.iter().map(|t| t.samples.len()).sum();
    let mut keys = Vec::with_capacity(n);
    for ts in &req.timeseries {
        let series = series_hash(&ts.labels);
        keys.extend(ts.samples.iter().map(|s| SampleKey { series, timestamp_ms: s.timestamp }));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn request(series: u32, samples: u32, t0: i64) -> WriteRequest {
        WriteRequest {
            timeseries: (0..series)
                .map(|i| TimeSeries {
                    labels: vec![
                        Label { name: "__name__".into(), value: "m".into() },
                        Label { name: "id".into(), value: i.to_string() },
                    ],
                    samples: (0..samples).map(|k| Sample { value: 1.5, timestamp: t0 + i64::from(k) * 1000 }).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn round_trip() {
        let req = request(3, 2, 1_700_000_000_000);
        let body = encode(&req);
        assert_eq!(decode(&body, 1 << 20).unwrap(), req);
        let keys = sample_keys(&req);
        assert_eq!(keys.len(), 6);
        assert_eq!(keys[0].series, keys[1].series);
        assert_ne!(keys[0].series, keys[2].series);
    }

    #[test]
    fn errors_are_short_and_say_which_layer() {
        let e = decode(b"not snappy at all", 1 << 20).unwrap_err();
        assert!(e.to_string().starts_with("snappy: "), "{e}");
        // Valid snappy around bytes that are not a WriteRequest (field 1 wire type 7).
        let body = snap::raw::Encoder::new().compress_vec(&[0x0f, 0x01]).unwrap();
        let e = decode(&body, 1 << 20).unwrap_err();
        assert!(e.to_string().starts_with("protobuf: "), "{e}");
        let big = encode(&request(100, 10, 0));
        assert!(matches!(decode(&big, 100), Err(DecodeError::TooLarge { limit: 100, .. })));
        let e = decode(b"\xff\xff\xff\xff\xff\xff", 1 << 20).unwrap_err().to_string();
        assert!(e.starts_with("snappy: ") && !e.contains("snappy: snappy:"), "{e}");
    }

    const LIMITS: Decoder = Decoder { max_series: u64::MAX, max_samples: u64::MAX };

    #[test]
    fn the_decoder_counts_and_keys_without_building_the_request() {
        let req = request(7, 3, 1_700_000_000_000);
        let raw = req.encode_to_vec();
        let d = LIMITS.check(raw.clone()).unwrap();
        assert_eq!((d.series, d.count), (7, 21));
        assert_eq!(d.keys(), sample_keys(&req));
        let few = Decoder { max_series: 6, max_samples: 100 };
        assert_eq!(few.check(raw.clone()).unwrap_err(), DecodeError::TooMany { what: "series", limit: 6 });
        let few = Decoder { max_series: 100, max_samples: 20 };
        let e = few.check(raw.clone()).unwrap_err();
        assert_eq!(e, DecodeError::TooMany { what: "samples", limit: 20 });
        assert_eq!(e.status(), 413);
        assert!(e.to_string().contains("more than 20 samples"), "{e}");
    }

    /// 32,000 empty series in 64,000 bytes (the amplification attack, small): refused by
    /// the series limit without allocating a structure per series.
    #[test]
    fn empty_series_count_against_the_limit() {
        let raw = [0x0a, 0x00].repeat(32_000);
        let d = Decoder { max_series: 1000, max_samples: 1000 };
        assert_eq!(d.check(raw.clone()).unwrap_err(), DecodeError::TooMany { what: "series", limit: 1000 });
        assert_eq!(LIMITS.check(raw).unwrap().count, 0);
    }

    #[test]
    fn series_hash_separates_name_and_value() {
        let a = [Label { name: "ab".into(), value: "c".into() }];
        let b = [Label { name: "a".into(), value: "bc".into() }];
        assert_ne!(series_hash(&a), series_hash(&b));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Arbitrary bytes: an error or a request, never a panic, never a huge allocation.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = decode(&body, 1 << 20);
        }

        /// Arbitrary bytes behind a valid Snappy layer reach the protobuf decoder; the
        /// server's in-place walk accepts exactly what prost accepts, with the same keys.
        #[test]
        fn arbitrary_protobuf_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
            let walked = LIMITS.check(raw.clone());
            match decode(&body, 1 << 20) {
                Ok(req) => {
                    let keys = sample_keys(&req);
                    prop_assert!(keys.len() <= raw.len());
                    let d = walked.expect("prost accepted it");
                    prop_assert_eq!(d.series, req.timeseries.len() as u64);
                    prop_assert_eq!(d.keys(), keys);
                }
                Err(e) => prop_assert!(walked.is_err(), "prost refused it: {}", e),
            }
        }

        /// Valid requests with flipped bytes: the walk and prost still agree.
        #[test]
        fn the_walk_agrees_with_prost(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4)) {
            let mut raw = request(5, 3, 1_700_000_000_000).encode_to_vec();
            for (i, b) in flips {
                let n = raw.len();
                raw[i % n] ^= b;
            }
            match (WriteRequest::decode(raw.as_slice()), LIMITS.check(raw.clone())) {
                (Ok(req), Ok(d)) => prop_assert_eq!(d.keys(), sample_keys(&req)),
                (Err(_), Err(_)) => {}
                (p, w) => prop_assert!(false, "prost {:?}, walk {:?}", p.map(|_| ()), w.map(|d| d.count)),
            }
        }

        /// A valid body with bytes flipped: an error or a request, never a panic.
        #[test]
        fn corrupted_bodies_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut body = encode(&request(20, 3, 1_700_000_000_000));
            for (i, b) in flips {
                let n = body.len();
                body[i % n] ^= b;
            }
            let _ = decode(&body, 1 << 20);
        }
    }
}
