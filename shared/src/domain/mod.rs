//! Business rules over plain data: no I/O, no AWS, testable on their own.

pub mod billing;
pub mod dates;
pub mod invoice;
pub mod lifecycle;
pub mod money;
pub mod partner;
pub mod pcr;
pub mod records;
pub mod spreadsheet;
pub mod subscription;
pub mod tier;
pub mod tier_change;
