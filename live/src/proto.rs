//! Remote-write 1.0 on the wire: a Snappy *block* (not framed) holding a protobuf
//! `prometheus.WriteRequest`.
//!
//! The messages are written by hand with prost's derive, so no `protoc` runs at build time.
//! They are the subset of `prompb/types.proto` and `prompb/remote.proto` that a receiver
//! needs; fields it does not read (exemplars, histograms, metadata) are skipped by prost as
//! unknown fields, which protobuf allows.
//!
//! [`decode`] never panics and never allocates much more than the limit it is given: the
//! Snappy header states the decoded length, which is checked before anything is
//! decompressed, and every protobuf element consumes input bytes.

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

/// Why a body could not be decoded; the text is what the client gets with the 400.
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
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Snappy(e) => write!(f, "snappy: {e}"),
            DecodeError::TooLarge { decoded, limit } => {
                write!(f, "snappy: decoded body of {decoded} bytes exceeds the limit of {limit} bytes")
            }
            DecodeError::Protobuf(e) => write!(f, "protobuf: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes a remote-write body, refusing one that decodes to more than `max_decoded` bytes.
pub fn decode(body: &[u8], max_decoded: u64) -> Result<WriteRequest, DecodeError> {
    let len = snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if len as u64 > max_decoded {
        return Err(DecodeError::TooLarge { decoded: len as u64, limit: max_decoded });
    }
    let raw = snap::raw::Decoder::new().decompress_vec(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    WriteRequest::decode(raw.as_slice()).map_err(|e| DecodeError::Protobuf(e.to_string()))
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
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for l in labels {
        for part in [l.name.as_bytes(), l.value.as_bytes()] {
            for &b in part {
                h = (h ^ u64::from(b)).wrapping_mul(PRIME);
            }
            h = (h ^ 0xff).wrapping_mul(PRIME);
        }
    }
    h
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

        /// Arbitrary bytes behind a valid Snappy layer reach the protobuf decoder.
        #[test]
        fn arbitrary_protobuf_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
            if let Ok(req) = decode(&body, 1 << 20) {
                let keys = sample_keys(&req);
                prop_assert!(keys.len() <= raw.len());
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
