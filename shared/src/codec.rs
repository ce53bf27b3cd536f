//! Byte-level helpers shared by the token and revocation-list encodings:
//! a strict reader (canonical varints, no trailing bytes) and a writer.

/// Error from [`Reader`]: the input ended early or broke a canonical-encoding rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

/// A cursor over untrusted bytes; every read is bounds-checked and never panics.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Invalid> {
        let end = self.pos.checked_add(n).ok_or(Invalid)?;
        let out = self.buf.get(self.pos..end).ok_or(Invalid)?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Invalid> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "bytes(1) returned exactly one byte"
    )]
    pub(crate) fn u8(&mut self) -> Result<u8, Invalid> {
        Ok(self.bytes(1)?[0])
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Invalid> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// LEB128 varint; overlong encodings and values past `u64` are rejected.
    pub(crate) fn varint(&mut self) -> Result<u64, Invalid> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(Invalid);
            }
            value |= part << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(Invalid); // overlong: trailing zero group
                }
                return Ok(value);
            }
        }
        Err(Invalid)
    }

    /// A varint used as a length or count, bounded by `max`.
    pub(crate) fn count(&mut self, max: usize) -> Result<usize, Invalid> {
        let n = self.varint()?;
        if n > max as u64 {
            return Err(Invalid);
        }
        Ok(n as usize)
    }

    /// A string of 1..=`max` bytes prefixed by a one-byte length, checked by `valid`.
    pub(crate) fn short_str(
        &mut self,
        max: usize,
        valid: fn(&str) -> bool,
    ) -> Result<&'a str, Invalid> {
        let len = usize::from(self.u8()?);
        if len == 0 || len > max {
            return Err(Invalid);
        }
        let s = core::str::from_utf8(self.bytes(len)?).map_err(|_| Invalid)?;
        if !valid(s) {
            return Err(Invalid);
        }
        Ok(s)
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Succeeds only if every byte was consumed.
    pub(crate) fn finish(&self) -> Result<(), Invalid> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(Invalid)
        }
    }
}

/// Appends the encodings [`Reader`] reads.
pub(crate) trait Writer {
    fn varint(&mut self, v: u64);
    fn short_str(&mut self, s: &str);
}

impl Writer for Vec<u8> {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }

    fn short_str(&mut self, s: &str) {
        debug_assert!(!s.is_empty() && s.len() <= 255);
        self.push(s.len() as u8);
        self.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn varint_round_trip_and_canonical() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut buf = Vec::new();
            buf.varint(v);
            let mut r = Reader::new(&buf);
            assert_eq!(r.varint(), Ok(v));
            assert!(r.finish().is_ok());
        }
        // 0 encoded in two bytes is overlong.
        assert_eq!(Reader::new(&[0x80, 0x00]).varint(), Err(Invalid));
        // eleven bytes, or a tenth byte above 1, overflow u64.
        assert_eq!(Reader::new(&[0xff; 10]).varint(), Err(Invalid));
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).varint(),
            Err(Invalid)
        );
        assert_eq!(Reader::new(&[0x80]).varint(), Err(Invalid));
    }

    #[test]
    fn reads_past_end_fail() {
        let mut r = Reader::new(&[1, 2]);
        assert!(r.bytes(3).is_err());
        assert!(r.u64().is_err());
        assert_eq!(r.u8(), Ok(1));
        assert!(r.finish().is_err());
    }
}
