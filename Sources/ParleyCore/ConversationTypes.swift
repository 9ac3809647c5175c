/// A conversation episode's status.
public enum ConversationStatus: String, Codable, Sendable, CaseIterable {
    case open
    case closed
}

/// Inbox views of SPEC §2.
public enum InboxView: String, Codable, Sendable, CaseIterable {
    case all
    case mine
    case unassigned
}

/// The status filter of the inbox.
public enum StatusFilter: String, Codable, Sendable, CaseIterable {
    case open
    case closed
    case all
}

/// Inbox orderings.
public enum InboxSort: String, Codable, Sendable, CaseIterable {
    /// Most recent activity first.
    case newest
    /// Least recent activity first.
    case oldest
    /// Oldest unanswered inbound message first; conversations not waiting come last.
    case waiting
}

/// Who wrote a message.
public enum SenderKind: String, Codable, Sendable {
    case contact
    case user
    case workflow
    case system
}

/// A message's direction.
public enum MessageDirection: String, Codable, Sendable {
    case inbound
    case outbound
}

/// Delivery status of a message: `pending → sent → delivered → read`, or `failed` / `undelivered`.
public enum DeliveryStatus: String, Codable, Sendable, CaseIterable {
    case received
    case pending
    case sent
    case delivered
    case read
    case failed
    case undelivered
    /// Queued by an agent while the window was closed: sent when the contact writes again.
    case scheduled
    /// A queued message its author withdrew before it was sent.
    case cancelled
    /// A queued message the contact did not write in time for; it was never sent.
    case expired
}
