import Foundation

/// A conversation episode.
public struct Conversation: Codable, Sendable, Equatable {
    public var id: Int64
    public var contactId: Int64
    public var status: ConversationStatus
    public var assigneeId: Int64?
    public var channelId: Int64?
    public var openedAt: Date
    public var openedByUserId: Int64?
    public var closedAt: Date?
    public var closedByUserId: Int64?
    public var closingCategory: String?
    public var closingSummary: String?
    public var lastActivityAt: Date
    public var waitingSince: Date?
    public var unreadCount: Int64

    public init(
        id: Int64, contactId: Int64, status: ConversationStatus, assigneeId: Int64?, channelId: Int64?, openedAt: Date,
        openedByUserId: Int64?, closedAt: Date?, closedByUserId: Int64?, closingCategory: String?, closingSummary: String?,
        lastActivityAt: Date, waitingSince: Date?, unreadCount: Int64
    ) {
        self.id = id
        self.contactId = contactId
        self.status = status
        self.assigneeId = assigneeId
        self.channelId = channelId
        self.openedAt = openedAt
        self.openedByUserId = openedByUserId
        self.closedAt = closedAt
        self.closedByUserId = closedByUserId
        self.closingCategory = closingCategory
        self.closingSummary = closingSummary
        self.lastActivityAt = lastActivityAt
        self.waitingSince = waitingSince
        self.unreadCount = unreadCount
    }
}

/// Who may change a conversation's assignee (SPEC §4, issue rules): owners and managers may
/// assign anyone; an agent may take an unassigned conversation and may hand on or drop their own.
public enum AssignmentRules {
    public static func mayAssign(actorRole: Role, actorId: Int64, currentAssignee: Int64?, newAssignee: Int64?) -> Bool {
        if actorRole.canAdminister { return true }
        if currentAssignee == actorId { return true }
        return currentAssignee == nil && newAssignee == actorId
    }
}

/// Checks a closing note against the workspace's mode and category list.
public enum ClosingNoteRules {
    public static let maxSummaryLength = 2000

    public struct Failure: Error, Equatable, Sendable {
        /// `closing_note_required`, `unknown_category`, `closing_note_disabled` or `summary_too_long`.
        public let code: String
        public let field: String
        public let message: String
    }

    /// The trimmed category and summary to store, or why they are refused.
    public static func validate(category: String?, summary: String?, settings: WorkspaceSettings) -> Result<(category: String?, summary: String?), Failure> {
        let category = category?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        let summary = summary?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        switch settings.closingNoteMode {
        case .disabled:
            if category != nil || summary != nil {
                return .failure(Failure(code: "closing_note_disabled", field: category != nil ? "category" : "summary",
                                        message: "closing notes are turned off in this workspace"))
            }
            return .success((nil, nil))
        case .optional:
            break
        case .categoryRequired:
            if category == nil {
                return .failure(Failure(code: "closing_note_required", field: "category", message: "a closing category is required"))
            }
        case .bothRequired:
            if category == nil {
                return .failure(Failure(code: "closing_note_required", field: "category", message: "a closing category and a summary are required; the category is missing"))
            }
            if summary == nil {
                return .failure(Failure(code: "closing_note_required", field: "summary", message: "a closing category and a summary are required; the summary is missing"))
            }
        }
        if let category, !settings.closingCategories.contains(category) {
            let allowed = settings.closingCategories.isEmpty ? "none are defined" : "use one of \(settings.closingCategories.joined(separator: ", "))"
            return .failure(Failure(code: "unknown_category", field: "category", message: "'\(category)' is not a closing category; \(allowed)"))
        }
        if let summary, summary.count > maxSummaryLength {
            return .failure(Failure(code: "summary_too_long", field: "summary", message: "the summary may be at most \(maxSummaryLength) characters"))
        }
        return .success((category, summary))
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
