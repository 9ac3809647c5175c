/// Whether a closing note is asked for, and which of its parts are required.
public enum ClosingNoteMode: String, Codable, Sendable, CaseIterable {
    case disabled
    case optional
    case categoryRequired = "category_required"
    case bothRequired = "both_required"
}

/// What happens to the assignee when a conversation is closed.
public enum ClosingLogic: String, Codable, Sendable, CaseIterable {
    case keep
    case unassign
}

/// Settings that shape how a workspace's inbox behaves.
public struct WorkspaceSettings: Codable, Sendable, Equatable {
    public var closingNoteMode: ClosingNoteMode
    public var closingCategories: [String]
    public var closingLogic: ClosingLogic
    public var agentsSeeAll: Bool
    /// The channels to reach a contact on, most preferred first, when the composer offers
    /// another of their identities (channels not listed follow, in the default order).
    public var channelPreference: [ChannelKind]

    public init(
        closingNoteMode: ClosingNoteMode = .optional,
        closingCategories: [String] = [],
        closingLogic: ClosingLogic = .keep,
        agentsSeeAll: Bool = true,
        channelPreference: [ChannelKind] = []
    ) {
        self.channelPreference = channelPreference
        self.closingNoteMode = closingNoteMode
        self.closingCategories = closingCategories
        self.closingLogic = closingLogic
        self.agentsSeeAll = agentsSeeAll
    }

    /// The largest number of closing categories a workspace may define.
    public static let maxCategories = 100
    /// The longest closing category name.
    public static let maxCategoryLength = 80
}
