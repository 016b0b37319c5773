//! ChaCha8's word stream exactly as `rand_chacha::ChaCha8Rng` gives it, from
//! a state a third of the size.
//!
//! Why: every pair of a run owns a message stream (gaps and test messages),
//! and `ChaCha8Rng` buffers four 64-byte blocks (about 320 bytes per pair),
//! which made the pair state too large to stay in cache at 10,000+ pairs.
//! `SmallChaCha8` buffers one block (120 bytes). The words, their order and
//! how `next_u64` and `fill_bytes` consume them are those of `ChaCha8Rng`
//! (`BlockRng`: consecutive words, low word first), so every value drawn is
//! the same; the tests below compare the two over many blocks.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// Words per ChaCha block.
const BLOCK: usize = 16;
/// "expand 32-byte k".
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

#[derive(Debug, Clone)]
pub struct SmallChaCha8 {
    key: [u32; 8],
    /// The 64-bit block counter of the next block to generate, and the stream (nonce).
    counter: u64,
    stream: u64,
    buf: [u32; BLOCK],
    /// Next unread word of `buf` (BLOCK: all read).
    index: u8,
}

impl SmallChaCha8 {
    /// Continues `rng`'s stream from where it stands.
    pub fn new(rng: &ChaCha8Rng) -> SmallChaCha8 {
        let seed = rng.get_seed();
        let key = std::array::from_fn(|i| {
            u32::from_le_bytes([seed[4 * i], seed[4 * i + 1], seed[4 * i + 2], seed[4 * i + 3]])
        });
        let pos = rng.get_word_pos();
        // The word position is 68 bits: a 64-bit block counter and 4 bits of word.
        let mut r = SmallChaCha8 {
            key,
            counter: (pos / BLOCK as u128) as u64,
            stream: rng.get_stream(),
            buf: [0; BLOCK],
            index: BLOCK as u8,
        };
        let word = (pos % BLOCK as u128) as u8;
        if word > 0 {
            r.refill();
            r.index = word;
        }
        r
    }

    /// Generates the next block (8 rounds) into `buf`.
    fn refill(&mut self) {
        let k = &self.key;
        let (c, n) = (self.counter, self.stream);
        let init = [
            CONSTANTS[0],
            CONSTANTS[1],
            CONSTANTS[2],
            CONSTANTS[3],
            k[0],
            k[1],
            k[2],
            k[3],
            k[4],
            k[5],
            k[6],
            k[7],
            c as u32,
            (c >> 32) as u32,
            n as u32,
            (n >> 32) as u32,
        ];
        let mut s = init;
        for _ in 0..4 {
            quarter(&mut s, 0, 4, 8, 12);
            quarter(&mut s, 1, 5, 9, 13);
            quarter(&mut s, 2, 6, 10, 14);
            quarter(&mut s, 3, 7, 11, 15);
            quarter(&mut s, 0, 5, 10, 15);
            quarter(&mut s, 1, 6, 11, 12);
            quarter(&mut s, 2, 7, 8, 13);
            quarter(&mut s, 3, 4, 9, 14);
        }
        for (b, (x, i)) in self.buf.iter_mut().zip(s.iter().zip(init.iter())) {
            *b = x.wrapping_add(*i);
        }
        self.counter = self.counter.wrapping_add(1);
        self.index = 0;
    }
}

#[inline(always)]
fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

impl RngCore for SmallChaCha8 {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        if self.index as usize >= BLOCK {
            self.refill();
        }
        let w = self.buf[self.index as usize];
        self.index += 1;
        w
    }

    /// Two consecutive words, the first as the low half (as `BlockRng`).
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let lo = u64::from(self.next_u32());
        let hi = u64::from(self.next_u32());
        (hi << 32) | lo
    }

    /// Whole words in order, little-endian; a partial last word is consumed
    /// whole (as `BlockRng`).
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(4) {
            let w = self.next_u32().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::stream;
    use rand::Rng;
    use rand_distr::{Distribution, Exp};

    #[test]
    fn same_words_as_chacha8rng() {
        let mut a = stream(7, "messages", &["a", "b"]);
        let mut b = SmallChaCha8::new(&a);
        for i in 0..5_000 {
            match i % 5 {
                0 | 3 => assert_eq!(a.next_u32(), b.next_u32(), "word draw {i}"),
                4 => {
                    let (mut x, mut y) = ([0u8; 7], [0u8; 7]);
                    a.fill_bytes(&mut x);
                    b.fill_bytes(&mut y);
                    assert_eq!(x, y, "bytes draw {i}");
                }
                _ => assert_eq!(a.next_u64(), b.next_u64(), "u64 draw {i}"),
            }
        }
    }

    #[test]
    fn same_draws_as_chacha8rng_mid_stream_and_on_other_streams() {
        for (seed, skip) in [(1u64, 0usize), (2, 1), (3, 15), (4, 17), (5, 63), (6, 64), (7, 100)] {
            let mut a = stream(seed, "messages", &["tx", &seed.to_string()]);
            a.set_stream(seed % 3);
            for _ in 0..skip {
                a.next_u32();
            }
            let mut b = SmallChaCha8::new(&a);
            let exp = Exp::new(0.5f64).unwrap();
            for i in 0..2_000 {
                assert_eq!(exp.sample(&mut a).to_bits(), exp.sample(&mut b).to_bits(), "seed {seed} gap {i}");
                assert_eq!(a.random_range(0..1000usize), b.random_range(0..1000usize), "seed {seed} message {i}");
            }
        }
    }
}
