import Foundation
import ParleyCore
import SQLKit

/// A conversation list request (SPEC §2).
public struct InboxQuery: Sendable {
    public var workspaceId: Int64
    public var viewerId: Int64
    public var view: InboxView
    public var status: StatusFilter
    public var search: ContactSearchQuery?
    public var channelId: Int64?
    public var tag: String?
    public var assigneeId: Int64?
    public var sort: InboxSort
    /// The sort key and id of the last row of the previous page.
    public var after: (key: Int64, id: Int64)?
    public var limit: Int
    /// "Windows closing soon": only open conversations whose messaging window closes after
    /// `now` and at most `within` later, soonest first (`sort` is then ignored).
    public var closing: (now: Date, within: TimeInterval)?
    /// Only these conversations (the realtime stream's rows), whatever their status.
    public var conversationIds: [Int64]?

    public init(workspaceId: Int64, viewerId: Int64, view: InboxView = .all, status: StatusFilter = .open, search: ContactSearchQuery? = nil,
                channelId: Int64? = nil, tag: String? = nil, assigneeId: Int64? = nil, sort: InboxSort = .newest,
                after: (key: Int64, id: Int64)? = nil, limit: Int = 50) {
        self.workspaceId = workspaceId
        self.viewerId = viewerId
        self.view = view
        self.status = status
        self.search = search
        self.channelId = channelId
        self.tag = tag
        self.assigneeId = assigneeId
        self.sort = sort
        self.after = after
        self.limit = limit
    }
}

/// One inbox row: everything the list shows, read in one query.
public struct InboxRow: Sendable, Equatable {
    public var conversation: Conversation
    public var contactName: String
    public var channelType: ChannelKind?
    public var channelName: String?
    public var assigneeName: String?
    public var lastMessagePreview: String?
    public var lastMessageAt: Date?
    public var lastInboundAt: Date?
    /// Messages sent since the contact last wrote (WeChat's window ends at 20).
    public var outboundSinceInbound: Int64 = 0
    /// The row's position for the next page's cursor.
    public var sortKey: Int64
}

/// The inbox list: each contact's latest episode, filtered and sorted with keyset pagination.
public struct InboxRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// When the conversation's standard messaging window closes, in ms (NULL on channels
    /// without one, or before the contact ever wrote), from ``MessagingWindow``'s lengths.
    static let windowClosesAt: String = {
        let arms = ChannelKind.allCases.compactMap { kind in
            MessagingWindow.standardLength(of: kind).map { "WHEN '\(kind.rawValue)' THEN \(Int64($0 * 1000))" }
        }
        return "(i.last_inbound_at + CASE ch.kind \(arms.joined(separator: " ")) END)"
    }()

    public func list(_ query: InboxQuery) async throws -> [InboxRow] {
        let kind = database.kind
        return try await database.read { db in
            var sortKey: String
            var direction: String
            switch query.sort {
            case .newest: (sortKey, direction) = ("c.last_activity_at", "DESC")
            case .oldest: (sortKey, direction) = ("c.last_activity_at", "ASC")
            case .waiting: (sortKey, direction) = ("c.waiting_sort", "ASC")
            }
            if query.closing != nil { (sortKey, direction) = (Self.windowClosesAt, "ASC") }
            // PostgreSQL joins in the written order (see PostgresDatabaseBackend): with a search,
            // the few matching contacts drive; without, the inbox index does. SQLite's planner
            // picks the better of the two by itself (measured), so it keeps the IN form below.
            var source: SQLQueryString = "conversations c"
            let status = query.closing == nil ? query.status : .open
            if query.search != nil, status == .closed, kind == .sqlite {
                // The matches are the closed ones (see ContactSearchSQL); SQLite's planner would
                // otherwise read the index of all conversations, which names more of its terms.
                source = "conversations c INDEXED BY conversations_closed_latest"
            }
            if let search = query.search, kind == .postgres {
                source = "(\(ContactSearchSQL.matchingIds(search, workspaceId: query.workspaceId, kind: kind, forMembership: false))) matched JOIN conversations c ON c.contact_id = matched.id"
            }
            // The window's end needs the channel and the identity; other sorts and filters read
            // the conversation alone.
            if query.closing != nil {
                source = "\(source) LEFT JOIN channels ch ON ch.id = c.channel_id LEFT JOIN contact_identities i ON i.id = c.identity_id"
            }
            // A literal on SQLite, so that its planner sees the partial indexes' terms implied.
            let latest: SQLQueryString = kind == .sqlite ? "1" : "\(bind: true)"
            var sql: SQLQueryString = """
                SELECT c.id, \(unsafeRaw: sortKey) AS sort_key FROM \(source)
                WHERE c.workspace_id = \(bind: query.workspaceId) AND c.is_latest = \(latest)
                """
            switch status {
            case .open: sql = "\(sql) AND c.status = 'open'"
            case .closed: sql = "\(sql) AND c.status = 'closed'"
            case .all: break
            }
            if let closing = query.closing {
                let now = closing.now.epochMilliseconds
                let until = now + Int64(closing.within * 1000)
                sql = "\(sql) AND \(unsafeRaw: Self.windowClosesAt) > \(bind: now) AND \(unsafeRaw: Self.windowClosesAt) <= \(bind: until)"
                // A WeChat window whose 20 messages are used is already closed, whatever its time.
                sql = "\(sql) AND NOT (ch.kind = 'wechat' AND i.outbound_since_inbound >= \(bind: WindowPolicy.weChatMessageLimit))"
            }
            if let ids = query.conversationIds {
                sql = "\(sql) AND c.id IN (\(SQLList(ids.map { SQLBind($0) })))"
            }
            switch query.view {
            case .all: break
            case .mine: sql = "\(sql) AND c.assignee_id = \(bind: query.viewerId)"
            case .unassigned: sql = "\(sql) AND c.assignee_id IS NULL"
            }
            if let assignee = query.assigneeId { sql = "\(sql) AND c.assignee_id = \(bind: assignee)" }
            if let channel = query.channelId { sql = "\(sql) AND c.channel_id = \(bind: channel)" }
            if let tag = query.tag {
                sql = "\(sql) AND EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.contact_id AND t.tag = \(bind: tag))"
            }
            if let search = query.search, kind == .sqlite {
                sql = """
                    \(sql) AND c.contact_id IN (\(ContactSearchSQL.matchingIds(search, workspaceId: query.workspaceId, kind: kind, forMembership: true,
                                                                              closedOnly: status == .closed)))
                    """
            }
            if let after = query.after {
                let comparison = direction == "DESC" ? "<" : ">"
                sql = """
                    \(sql) AND (\(unsafeRaw: sortKey) \(unsafeRaw: comparison) \(bind: after.key)
                        OR (\(unsafeRaw: sortKey) = \(bind: after.key) AND c.id \(unsafeRaw: comparison) \(bind: after.id)))
                    """
            }
            // PostgreSQL gets the limit written in: it plans a prepared statement with an unknown
            // limit as if it kept a tenth of the rows, finds that plan dearer than its plans for
            // the values, and so planned every page anew (1.2-1.4 ms of a 3 ms page). SQLite's
            // statements are kept per text, so there it stays bound.
            let limit: SQLQueryString = kind == .postgres ? "\(unsafeRaw: String(query.limit))" : "\(bind: query.limit)"
            sql = "\(sql) ORDER BY \(unsafeRaw: sortKey) \(unsafeRaw: direction), c.id \(unsafeRaw: direction) LIMIT \(limit)"
            // The page's rows are chosen first and joined after: joined before, every candidate
            // (each conversation of each matching contact, with a search) read its contact,
            // channel, assignee, identity and last message, to keep a page of them.
            sql = """
                SELECT c.id, c.contact_id, c.status, c.assignee_id, c.channel_id, c.opened_at, c.opened_by_user_id, c.closed_at,
                       c.closed_by_user_id, c.closing_category, c.closing_summary, c.last_activity_at, c.waiting_since, c.unread_count,
                       c.last_message_preview, page.sort_key,
                       ct.first_name, ct.last_name, ct.email, ct.phone, ch.kind AS channel_kind, ch.name AS channel_name,
                       u.name AS assignee_name, i.last_inbound_at, i.outbound_since_inbound, i.display_name, m.created_at AS last_message_at
                FROM (\(sql)) page
                JOIN conversations c ON c.id = page.id
                JOIN contacts ct ON ct.id = c.contact_id
                LEFT JOIN channels ch ON ch.id = c.channel_id
                LEFT JOIN users u ON u.id = c.assignee_id
                LEFT JOIN contact_identities i ON i.id = c.identity_id
                LEFT JOIN messages m ON m.id = c.last_message_id
                ORDER BY page.sort_key \(unsafeRaw: direction), c.id \(unsafeRaw: direction)
                """
            return try await db.raw(sql).all().map { row in
                let displayName = try row.decode(column: "display_name", as: String?.self)
                let email = try row.decode(column: "email", as: String?.self)
                let phone = try row.decode(column: "phone", as: String?.self)
                return InboxRow(
                    conversation: try ConversationRepository.decode(row),
                    contactName: Contact.displayName(
                        firstName: try row.decode(column: "first_name", as: String.self),
                        lastName: try row.decode(column: "last_name", as: String.self),
                        fallback: displayName ?? email ?? phone
                    ),
                    channelType: try row.decode(column: "channel_kind", as: String?.self).flatMap(ChannelKind.init(rawValue:)),
                    channelName: try row.decode(column: "channel_name", as: String?.self),
                    assigneeName: try row.decode(column: "assignee_name", as: String?.self),
                    lastMessagePreview: try row.decode(column: "last_message_preview", as: String?.self),
                    lastMessageAt: try row.decodeOptionalDate(column: "last_message_at"),
                    lastInboundAt: try row.decodeOptionalDate(column: "last_inbound_at"),
                    outboundSinceInbound: try row.decode(column: "outbound_since_inbound", as: Int64?.self) ?? 0,
                    sortKey: try row.decode(column: "sort_key", as: Int64.self)
                )
            }
        }
    }
}
