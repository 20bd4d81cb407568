//! A fast, unkeyed hasher (FNV-1a) for maps built from fixed data sets and only read with what
//! mentions say (the models' word tables, the gazetteer): no input chooses what collides, so
//! SipHash's protection buys nothing there and costs a third of a short-key lookup.

/// FNV-1a over the bytes written.
#[derive(Default, Clone, Copy)]
pub struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Builds [`FnvHasher`]s.
pub type FnvBuild = std::hash::BuildHasherDefault<FnvHasher>;
