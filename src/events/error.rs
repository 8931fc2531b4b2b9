//! What can go wrong between a stream record and a subscriber.

/// A failure of the change-event path; its text names what failed, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// A record this code cannot read (a poison record): an image that is not an item, or
    /// an item that is not a user.
    #[error("unreadable record: {0}")]
    Unreadable(String),
    /// The sink did not take an event (EventBridge's error code, the listener's status).
    #[error("not accepted: {0}")]
    Refused(String),
    /// The local engine's Streams API failed.
    #[error("stream: {0}")]
    Stream(String),
    /// A local HTTP exchange failed (no connection, no answer in time).
    #[error("http: {0}")]
    Http(String),
}
