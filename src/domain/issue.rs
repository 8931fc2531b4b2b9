//! A problem with one field of a request: what validation reports, and what a 400 lists.

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    /// The offending field (or parameter, or header).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldIssue {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
