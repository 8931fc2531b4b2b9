//! Segments: disjoint parts of a list that workers walk in parallel, as DynamoDB's parallel
//! `Scan` splits a table with `Segment`/`TotalSegments`.
//!
//! A user's segment of `n` is its local id modulo `n`. The id never changes (not on update,
//! delete, restore or a move to another bubbleId), so a user stays in its segment for good
//! and every segment's walk keeps the guarantee of one cursor over the whole list. Because
//! every `n` is a power of two up to [`Segment::MOST`], segment `i` of `n` is exactly the union of
//! the storage partitions `p` of any partitioning by `id mod P` (with `P` a multiple of `n`)
//! for which `p mod n == i`.

use uuid::Uuid;

/// One of `count` disjoint parts of a list; [`Segment::WHOLE`] is the list itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    index: u32,
    count: u32,
}

impl Segment {
    /// The whole list: one segment of one.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };
    /// The most segments a list splits into, and so the partitions of the segment indexes.
    pub const MOST: u32 = 64;

    /// Segment `index` of `count`: `count` a power of two from 1 to [`Segment::MOST`], and
    /// `index` below it. The error says which of the two is wrong and why.
    pub fn new(index: u32, count: u32) -> Result<Self, SegmentError> {
        if !(1..=Self::MOST).contains(&count) || !count.is_power_of_two() {
            return Err(SegmentError::Count);
        }
        if index >= count {
            return Err(SegmentError::Index);
        }
        Ok(Self { index, count })
    }

    /// Which segment this is, from 0.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many segments the list is split into.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether this is the whole list.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// Whether the user with this id is in this segment.
    pub fn holds(&self, id: &Uuid) -> bool {
        id.as_u128() % u128::from(self.count) == u128::from(self.index)
    }

    /// The partitions `p` of `0..partitions` (where a user is in partition `id mod
    /// partitions`) that together hold exactly this segment, when `partitions` is a
    /// multiple of the segment count; `None` when no set of them does.
    pub fn partitions_of(&self, partitions: u32) -> Option<Vec<u32>> {
        partitions.is_multiple_of(self.count).then(|| {
            (self.index..partitions)
                .step_by(self.count as usize)
                .collect()
        })
    }
}

/// Why a segment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// `segments` is not a power of two from 1 to 64.
    #[error("the segment count must be a power of two from 1 to 64")]
    Count,
    /// `segment` is not below `segments`.
    #[error("the segment must be below the segment count")]
    Index,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_powers_of_two_up_to_64_and_indexes_below_them() {
        for count in [1, 2, 4, 8, 16, 32, 64] {
            assert!(Segment::new(count - 1, count).is_ok());
            assert_eq!(Segment::new(count, count), Err(SegmentError::Index));
        }
        for count in [0, 3, 6, 12, 48, 65, 128] {
            assert_eq!(Segment::new(0, count), Err(SegmentError::Count));
        }
    }

    #[test]
    fn every_id_is_in_exactly_one_segment_of_every_count() {
        for _ in 0..200 {
            let id = Uuid::new_v4();
            for count in [1, 2, 4, 8, 16, 32, 64] {
                let holders = (0..count)
                    .filter(|i| Segment::new(*i, count).unwrap().holds(&id))
                    .count();
                assert_eq!(holders, 1);
            }
        }
    }

    #[test]
    fn a_segment_is_the_union_of_the_partitions_it_names() {
        for partitions in [4, 8, 64] {
            for count in [1, 2, 4, 8, 16, 32, 64] {
                let segment = Segment::new(count - 1, count).unwrap();
                let Some(parts) = segment.partitions_of(partitions) else {
                    assert!(count > partitions);
                    continue;
                };
                assert_eq!(parts.len() as u32, partitions / count);
                for _ in 0..100 {
                    let id = Uuid::new_v4();
                    let part = (id.as_u128() % u128::from(partitions)) as u32;
                    assert_eq!(segment.holds(&id), parts.contains(&part));
                }
            }
        }
        assert_eq!(Segment::WHOLE.partitions_of(4), Some(vec![0, 1, 2, 3]));
        assert_eq!(Segment::new(1, 2).unwrap().partitions_of(3), None);
    }
}
