import Foundation
import ParleyCore
import ParleyStore

/// The JSON shapes of the inbox list, shared by the list route and the realtime stream.
extension ConversationsController {
    struct Reference: Encodable, Sendable {
        let id: Int64
        let name: String
    }

    struct ChannelReference: Encodable, Sendable {
        let id: Int64
        let type: ChannelKind
        let name: String
    }

    struct LastMessage: Encodable, Sendable {
        let preview: String
        let at: Date?
    }

    /// One inbox row.
    struct Row: Encodable, Sendable {
        let conversationId: Int64
        let contact: Reference
        let channel: ChannelReference?
        let lastMessage: LastMessage?
        let unreadCount: Int64
        let assignee: Reference?
        let status: ConversationStatus
        let window: WindowState
        let lastActivityAt: Date
        let waitingSince: Date?
        let openedAt: Date
        let closedAt: Date?
    }
}

extension ConversationsController.Row {
    init(row: InboxRow, now: Date) {
        self.init(
            conversationId: row.conversation.id,
            contact: .init(id: row.conversation.contactId, name: row.contactName),
            channel: zip(row.conversation.channelId, row.channelType).map { .init(id: $0, type: $1, name: row.channelName ?? "") },
            lastMessage: row.lastMessagePreview.map { .init(preview: $0, at: row.lastMessageAt) },
            unreadCount: row.conversation.unreadCount,
            assignee: zip(row.conversation.assigneeId, row.assigneeName).map { .init(id: $0, name: $1) },
            status: row.conversation.status,
            window: row.channelType.map { MessagingWindow.state(kind: $0, lastInboundAt: row.lastInboundAt, now: now, outboundSinceInbound: row.outboundSinceInbound) }
                ?? WindowState(status: .none, closesAt: nil),
            lastActivityAt: row.conversation.lastActivityAt,
            waitingSince: row.conversation.waitingSince,
            openedAt: row.conversation.openedAt,
            closedAt: row.conversation.closedAt
        )
    }
}

/// `GET /api/v1/conversations/counts` and the stream's `counts` frame: one user's view of the
/// workspace's open conversations. `all` is null for an agent whose workspace hides All.
struct CountsView: Encodable, Sendable, Equatable {
    struct Tally: Encodable, Sendable, Equatable {
        let open: Int64
        let unread: Int64

        init(_ tally: InboxCounts.Tally) {
            open = tally.open
            unread = tally.unread
        }
    }

    let all: Tally?
    let mine: Tally
    let unassigned: Tally

    init(_ counts: InboxCounts, userId: Int64, seesAll: Bool) {
        all = seesAll ? Tally(counts.all) : nil
        mine = Tally(counts.mine(userId))
        unassigned = Tally(counts.unassigned)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(all, forKey: .all)  // null rather than absent
        try container.encode(mine, forKey: .mine)
        try container.encode(unassigned, forKey: .unassigned)
    }

    enum CodingKeys: String, CodingKey { case all, mine, unassigned }
}

extension User {
    /// Whether this user may see the All inbox (and every conversation's events).
    func seesAll(_ settings: WorkspaceSettings) -> Bool {
        role != .agent || settings.agentsSeeAll
    }
}
