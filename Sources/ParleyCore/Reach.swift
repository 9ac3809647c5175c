import Foundation

/// Another of the contact's identities, and what could be sent there now: the composer offers
/// it when the current channel's window forbids writing.
public struct ReachOption: Codable, Sendable, Equatable {
    public var channelId: Int64
    public var channelType: ChannelKind
    public var channelName: String
    /// The composer's modes on that channel now, the preferred first.
    public var allowed: [ComposerMode]
    /// A few words for the agent: "free text", "template only", "nothing now", …
    public var summary: String
    /// The option the web inbox offers to switch to in one action.
    public var best: Bool

    public init(channelId: Int64, channelType: ChannelKind, channelName: String, allowed: [ComposerMode], summary: String, best: Bool = false) {
        self.channelId = channelId
        self.channelType = channelType
        self.channelName = channelName
        self.allowed = allowed
        self.summary = summary
        self.best = best
    }
}

/// How other identities are described and ranked.
public enum ReachRanking {
    /// What can be sent on a channel whose composer state is `state`, in a few words.
    public static func summary(_ state: ComposerState) -> String {
        if state.allowed.contains(.freeText) { return "free text" }
        if state.allowed.contains(.chatbotInitiated) { return "free text (chatbot-initiated, within the monthly quota)" }
        if state.sendsUndelivered { return "recorded but not delivered" }
        if state.allowed.contains(.template) { return "template only" }
        if state.allowed.contains(.taggedMessage) { return "message tag only" }
        return "nothing now"
    }

    /// Lower is better: free text, then a paid or quota-counted free text, then templates and
    /// tags; channels that cannot take anything now come last.
    public static func rank(_ state: ComposerState) -> Int {
        if state.allowed.contains(.freeText) { return 0 }
        if state.allowed.contains(.chatbotInitiated) { return 1 }
        if state.allowed.contains(.template) || state.allowed.contains(.taggedMessage) { return 2 }
        return 3
    }

    /// Orders the options by what they allow, then by the workspace's channel preference, then
    /// by channel id; marks the first one that can take free text as the best.
    public static func ordered(_ options: [(option: ReachOption, state: ComposerState)], preference: [ChannelKind]) -> [ReachOption] {
        func preferred(_ kind: ChannelKind) -> Int { preference.firstIndex(of: kind) ?? preference.count }
        var sorted = options.sorted { a, b in
            (rank(a.state), preferred(a.option.channelType), a.option.channelId) < (rank(b.state), preferred(b.option.channelType), b.option.channelId)
        }.map(\.option)
        if let first = sorted.indices.first, sorted[first].allowed.contains(.freeText) || sorted[first].allowed.contains(.chatbotInitiated) {
            sorted[first].best = true
        }
        return sorted
    }
}

/// Queued messages: how long they wait by default and at most.
public enum MessageQueue {
    public static let defaultLifetime: TimeInterval = 30 * 86_400
    public static let maximumLifetime: TimeInterval = 365 * 86_400

    /// Whether a message refused now (or recorded undelivered) may be queued for when the contact
    /// writes: only channels whose window the contact's message reopens.
    public static func queueable(_ channel: ChannelKind) -> Bool {
        MessagingWindow.standardLength(of: channel) != nil
    }
}

/// A request to be told some hours before a conversation's messaging window closes.
public struct WindowReminder: Codable, Sendable, Equatable {
    public var id: Int64
    public var conversationId: Int64
    public var contactId: Int64
    public var hoursBefore: Int
    /// When the reminder is due for the window as it stands now (nil: the window is closed or
    /// the channel has none).
    public var dueAt: Date?
    public var windowClosesAt: Date?
    public var createdAt: Date
    public var firedAt: Date?

    public init(id: Int64, conversationId: Int64, contactId: Int64, hoursBefore: Int, dueAt: Date?, windowClosesAt: Date?, createdAt: Date, firedAt: Date?) {
        self.id = id
        self.conversationId = conversationId
        self.contactId = contactId
        self.hoursBefore = hoursBefore
        self.dueAt = dueAt
        self.windowClosesAt = windowClosesAt
        self.createdAt = createdAt
        self.firedAt = firedAt
    }

    public static let hoursRange = 1...167

    /// When an agent can no longer write free text to an identity that last wrote at
    /// `lastInboundAt`: the standard window's end, or on Messenger and Instagram the end of the
    /// 7 days a human agent may still reply. Nil for channels without a window.
    public static func freeTextUntil(kind: ChannelKind, lastInboundAt: Date?) -> Date? {
        guard let lastInboundAt, let length = MessagingWindow.standardLength(of: kind) else { return nil }
        if kind == .messenger || kind == .instagram { return lastInboundAt.addingTimeInterval(WindowPolicy.humanAgentWindow) }
        return lastInboundAt.addingTimeInterval(length)
    }
}

/// Something the web inbox shows one user (a window about to close).
public struct UserNotification: Codable, Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var contactId: Int64?
    public var conversationId: Int64?
    public var text: String
    public var createdAt: Date
    public var readAt: Date?

    public init(id: Int64, kind: String, contactId: Int64?, conversationId: Int64?, text: String, createdAt: Date, readAt: Date?) {
        self.id = id
        self.kind = kind
        self.contactId = contactId
        self.conversationId = conversationId
        self.text = text
        self.createdAt = createdAt
        self.readAt = readAt
    }
}
