//! Generated posts for `dialoog bench listening`: each one different, as a
//! firehose's are, and any one of them made again from its number alone
//! (so the search part can take query words from a stored text without
//! keeping ten million texts in memory).
//!
//! A post is one or two sentences of the development sets (through
//! [`dialoog_text::eval::sample_texts`]) with about one word in four
//! swapped for another word of the same texts, now and then a brand name
//! (`merk<N>`, as the sample queries name brands) and a number; one post
//! in twenty repeats an earlier post word for word (a repost).

use dialoog_text::eval::sample_texts;

/// Makes post texts from their numbers.
pub struct Posts {
    bases: Vec<String>,
    words: Vec<String>,
    brands: usize,
    seed: u64,
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

impl Posts {
    /// Posts from `seed`, naming brands `merk0` to `merk<brands - 1>`.
    pub fn new(seed: u64, brands: usize) -> Self {
        let bases = sample_texts(20_000, seed);
        let mut words: Vec<String> = bases
            .iter()
            .flat_map(|t| t.split_whitespace())
            .filter(|w| w.chars().all(char::is_alphabetic) && w.chars().count() > 2)
            .map(str::to_lowercase)
            .collect();
        words.sort_unstable();
        words.dedup();
        Posts {
            bases,
            words,
            brands: brands.max(1),
            seed,
        }
    }

    fn rng(&self, i: u64) -> Rng {
        Rng((self.seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    /// The text of post `i`.
    pub fn text(&self, i: u64) -> String {
        let mut rng = self.rng(i);
        // A repost: the text of one of the 1,000 posts before.
        if i > 1000 && rng.below(20) == 0 {
            return self.text(i - 1 - rng.below(1000) as u64);
        }
        let base = &self.bases[rng.below(self.bases.len())];
        let mut out = String::with_capacity(base.len() + 24);
        for w in base.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            if rng.below(4) == 0 && !self.words.is_empty() {
                out.push_str(&self.words[rng.below(self.words.len())]);
            } else {
                out.push_str(w);
            }
        }
        if rng.below(25) == 0 {
            out.push_str(&format!(" merk{}", rng.below(self.brands)));
        }
        if rng.below(3) == 0 {
            out.push_str(&format!(" {}", rng.below(100_000)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Posts;

    #[test]
    fn texts_are_made_again_from_their_number_and_mostly_differ() {
        let p = Posts::new(7, 100);
        assert_eq!(p.text(12_345), p.text(12_345));
        let texts: std::collections::HashSet<String> = (0..10_000).map(|i| p.text(i)).collect();
        // About one in twenty after the first thousand is a repost.
        assert!(texts.len() > 9_000, "{} distinct of 10,000", texts.len());
    }
}
