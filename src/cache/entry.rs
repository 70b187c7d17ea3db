//! A cached entry: its payload and the versions of the topics it was built from, in one
//! encoding for Redis (the in-process layer keeps it decoded).

use axum::body::Bytes;

/// The version of each topic an entry was built from, read before the data it holds.
pub type Reads = Vec<(String, u64)>;

#[derive(Debug)]
pub struct Entry {
    pub reads: Reads,
    pub payload: Bytes,
}

impl Entry {
    /// `[count u16] ([len u16][topic][version u64])* [payload]`.
    pub fn encode(reads: &[(String, u64)], payload: &[u8]) -> Vec<u8> {
        let names: usize = reads.iter().map(|(topic, _)| topic.len() + 10).sum();
        let mut out = Vec::with_capacity(2 + names + payload.len());
        out.extend_from_slice(&(reads.len() as u16).to_be_bytes());
        for (topic, version) in reads {
            out.extend_from_slice(&(topic.len() as u16).to_be_bytes());
            out.extend_from_slice(topic.as_bytes());
            out.extend_from_slice(&version.to_be_bytes());
        }
        out.extend_from_slice(payload);
        out
    }

    /// `None` for anything that is not an encoded entry (a foreign or truncated value).
    pub fn decode(bytes: Bytes) -> Option<Entry> {
        let mut at = 0;
        let mut take = |n: usize| {
            let slice = bytes.get(at..at + n)?;
            at += n;
            Some(slice)
        };
        let count = u16::from_be_bytes(take(2)?.try_into().ok()?);
        let mut reads = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let len = u16::from_be_bytes(take(2)?.try_into().ok()?);
            let topic = std::str::from_utf8(take(len as usize)?).ok()?.to_owned();
            let version = u64::from_be_bytes(take(8)?.try_into().ok()?);
            reads.push((topic, version));
        }
        Some(Entry {
            reads,
            payload: bytes.slice(at..),
        })
    }

    /// Bytes it holds in memory, for the in-process layer's capacity.
    pub fn weight(&self) -> usize {
        self.payload.len() + self.reads.iter().map(|(t, _)| t.len() + 32).sum::<usize>()
    }

    /// True when every topic it was built from is still at the version it read.
    pub fn is_current(&self, current: &[u64]) -> bool {
        self.reads.len() == current.len()
            && self
                .reads
                .iter()
                .zip(current)
                .all(|((_, built), now)| built == now)
    }

    pub fn topics(&self) -> Vec<String> {
        self.reads.iter().map(|(topic, _)| topic.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_survives_its_encoding() {
        let reads = vec![
            ("#epoch".to_owned(), 7),
            ("article:4:héllo".to_owned(), u64::MAX),
        ];
        let bytes = Entry::encode(&reads, b"{\"a\":1}");
        let entry = Entry::decode(Bytes::from(bytes)).unwrap();
        assert_eq!(entry.reads, reads);
        assert_eq!(&entry.payload[..], b"{\"a\":1}");
        assert!(entry.is_current(&[7, u64::MAX]));
        assert!(!entry.is_current(&[7, 1]));
    }

    #[test]
    fn foreign_bytes_are_not_an_entry() {
        assert!(Entry::decode(Bytes::from_static(b"\x00\x05ab")).is_none());
        assert!(Entry::decode(Bytes::new()).is_none());
    }
}
