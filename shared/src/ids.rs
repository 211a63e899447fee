//! Record ids: ULIDs from one monotonic generator per process, so that ids made one after another
//! sort in the order they were made, even within the same millisecond.

use std::sync::Mutex;
use ulid::{Generator, Ulid};

static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);

/// A new id, greater than every id this process made before.
pub fn next_id() -> Ulid {
    let mut guard = GENERATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let generator = guard.get_or_insert_with(Generator::new);
    // The generator fails only when 2^80 ids fall in one millisecond; a fresh random id is then fine.
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_increase() {
        let ids: Vec<_> = (0..1_000).map(|_| super::next_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
