import Foundation
import ParleyCore
import SQLKit

/// Why a lifecycle change could not be made.
public enum ConversationError: Error, Equatable, Sendable {
    case contactNotFound
    case noOpenConversation
    case assigneeNotFound
    case notAllowed
}

/// The conversation lifecycle: open, close, assign, read. Every change locks the contact
/// (PostgreSQL `FOR UPDATE`; SQLite has a single writer), appends an activity for the
/// timeline and an event, in one transaction.
public struct ConversationRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = """
        id, contact_id, status, assignee_id, channel_id, opened_at, opened_by_user_id, closed_at, closed_by_user_id,
        closing_category, closing_summary, last_activity_at, waiting_since, unread_count
        """

    /// The contact's latest episode, open or closed.
    public func latest(contactId: Int64, workspaceId: Int64) async throws -> Conversation? {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM conversations
                WHERE contact_id = \(bind: contactId) AND workspace_id = \(bind: workspaceId) AND is_latest = \(bind: true)
                """).first().map(Self.decode)
        }
    }

    /// Opens a conversation unless one is open. Returns the open one and whether it was created.
    public func open(contactId: Int64, workspaceId: Int64, actorUserId: Int64?, at now: Date) async throws -> (conversation: Conversation, created: Bool) {
        let facts = database.facts
        return try await database.transaction { db in
            try await Self.lockContact(on: db, facts: facts, contactId: contactId, workspaceId: workspaceId)
            let result = try await Self.openIfNeeded(on: db, workspaceId: workspaceId, contactId: contactId, channelId: nil,
                                                     identityId: nil, openedBy: actorUserId, at: now)
            return (try await Self.find(on: db, id: result.id).required("conversation"), result.created)
        }
    }

    /// Closes the open conversation with an already validated note, unassigning it when the
    /// workspace's closing logic says so.
    public func close(
        contactId: Int64, workspaceId: Int64, actorUserId: Int64?, category: String?, summary: String?,
        logic: ClosingLogic, at now: Date
    ) async throws -> Conversation {
        let facts = database.facts
        return try await database.transaction { db in
            try await Self.lockContact(on: db, facts: facts, contactId: contactId, workspaceId: workspaceId)
            guard let open = try await Self.openConversation(on: db, contactId: contactId) else { throw ConversationError.noOpenConversation }
            let assignee = logic == .unassign ? nil : open.assigneeId
            try await db.raw("""
                UPDATE conversations SET status = 'closed', closed_at = \(bind: now.epochMilliseconds), closed_by_user_id = \(bind: actorUserId),
                    closing_category = \(bind: category), closing_summary = \(bind: summary), assignee_id = \(bind: assignee),
                    waiting_since = NULL, last_activity_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: open.id)
                """).run()
            let details = ClosedDetails(category: category, summary: summary, unassigned: open.assigneeId != nil && assignee == nil)
            try await Self.record(on: db, workspaceId: workspaceId, contactId: contactId, conversationId: open.id, kind: .closed,
                                  actorUserId: actorUserId, details: details, event: .conversationClosed, at: now)
            return try await Self.find(on: db, id: open.id).required("conversation")
        }
    }

    /// Sets or clears the assignee of the open conversation, if the actor may.
    public func assign(
        contactId: Int64, workspaceId: Int64, actor: User?, assigneeId: Int64?, at now: Date
    ) async throws -> Conversation {
        let facts = database.facts
        return try await database.transaction { db in
            try await Self.lockContact(on: db, facts: facts, contactId: contactId, workspaceId: workspaceId)
            guard let open = try await Self.openConversation(on: db, contactId: contactId) else { throw ConversationError.noOpenConversation }
            if let actor, !AssignmentRules.mayAssign(actorRole: actor.role, actorId: actor.id, currentAssignee: open.assigneeId, newAssignee: assigneeId) {
                throw ConversationError.notAllowed
            }
            if let assigneeId {
                let exists = try await db.raw("""
                    SELECT id FROM users WHERE id = \(bind: assigneeId) AND workspace_id = \(bind: workspaceId) AND disabled_at IS NULL
                    """).first()
                guard exists != nil else { throw ConversationError.assigneeNotFound }
            }
            if open.assigneeId != assigneeId {
                try await Self.setAssignee(on: db, workspaceId: workspaceId, conversation: open, assigneeId: assigneeId, actorUserId: actor?.id, at: now)
            }
            return try await Self.find(on: db, id: open.id).required("conversation")
        }
    }

    /// Marks the contact's latest conversation as read (`unread`: false) or as unread again (at
    /// least one unread message), with an event so every open inbox follows.
    public func markRead(contactId: Int64, workspaceId: Int64, unread: Bool = false, actorUserId: Int64?, at now: Date) async throws -> Bool {
        try await database.transaction { db in
            let count = unread ? "CASE WHEN unread_count > 0 THEN unread_count ELSE 1 END" : "0"
            guard let row = try await db.raw("""
                UPDATE conversations SET unread_count = \(unsafeRaw: count)
                WHERE contact_id = \(bind: contactId) AND workspace_id = \(bind: workspaceId) AND is_latest = \(bind: true)
                RETURNING id
                """).first() else { return false }
            let conversationId = try row.decode(column: "id", as: Int64.self)
            try await EventLog.append(on: db, workspaceId: workspaceId, type: unread ? .conversationUnread : .conversationRead,
                                      subjectId: conversationId, actorUserId: actorUserId,
                                      payload: ["conversationId": conversationId, "contactId": contactId], at: now)
            return true
        }
    }

    // MARK: Shared steps, used inside other transactions (inbound and outbound messages)

    /// Locks the contact row for the rest of the transaction; throws when it is not in the workspace.
    static func lockContact(on db: any SQLDatabase, facts: SQLDialectFacts, contactId: Int64, workspaceId: Int64) async throws {
        let row = try await db.raw("""
            SELECT id FROM contacts WHERE id = \(bind: contactId) AND workspace_id = \(bind: workspaceId) \(unsafeRaw: facts.forUpdate)
            """).first()
        guard row != nil else { throw ConversationError.contactNotFound }
    }

    static func openConversation(on db: any SQLDatabase, contactId: Int64) async throws -> Conversation? {
        try await db.raw("SELECT \(unsafeRaw: columns) FROM conversations WHERE contact_id = \(bind: contactId) AND status = 'open'")
            .first().map(decode)
    }

    static func find(on db: any SQLDatabase, id: Int64) async throws -> Conversation? {
        try await db.raw("SELECT \(unsafeRaw: columns) FROM conversations WHERE id = \(bind: id)").first().map(decode)
    }

    /// The open conversation's id, opening a new episode (and making it the contact's latest)
    /// when there is none. The caller holds the contact lock. `firstForContact`: the contact was
    /// created in the caller's transaction, so it has no conversation to find, carry over or
    /// demote, and those statements are left out.
    static func openIfNeeded(
        on db: any SQLDatabase, workspaceId: Int64, contactId: Int64, channelId: Int64?, identityId: Int64?,
        openedBy: Int64?, firstForContact: Bool = false, at now: Date
    ) async throws -> (id: Int64, created: Bool) {
        if !firstForContact, let open = try await openConversation(on: db, contactId: contactId) { return (open.id, false) }
        let inserted = try await db.raw("""
            INSERT INTO conversations (workspace_id, contact_id, status, is_latest, channel_id, identity_id, opened_at, opened_by_user_id, last_activity_at)
            VALUES (\(bind: workspaceId), \(bind: contactId), 'open', \(bind: true), \(bind: channelId), \(bind: identityId),
                    \(bind: now.epochMilliseconds), \(bind: openedBy), \(bind: now.epochMilliseconds))
            ON CONFLICT (contact_id) WHERE status = 'open' DO NOTHING
            RETURNING id
            """).first()
        guard let id = try inserted?.decode(column: "id", as: Int64.self) else {
            // Another transaction opened one first; the unique index kept it to one.
            return (try await openConversation(on: db, contactId: contactId).required("open conversation").id, false)
        }
        if !firstForContact {
            try await carryOver(on: db, contactId: contactId, into: id)
        }
        try await record(on: db, workspaceId: workspaceId, contactId: contactId, conversationId: id, kind: .opened,
                         actorUserId: openedBy, details: NoPayload(), event: .conversationOpened, at: now)
        return (id, true)
    }

    /// The new episode `id` keeps showing the previous episode's channel and identity when it has
    /// none of its own, and becomes the contact's latest.
    private static func carryOver(on db: any SQLDatabase, contactId: Int64, into id: Int64) async throws {
        try await db.raw("""
            UPDATE conversations SET channel_id = COALESCE(conversations.channel_id,
                    (SELECT p.channel_id FROM conversations p WHERE p.contact_id = \(bind: contactId) AND p.is_latest = \(bind: true) AND p.id <> \(bind: id))),
                identity_id = COALESCE(conversations.identity_id,
                    (SELECT p.identity_id FROM conversations p WHERE p.contact_id = \(bind: contactId) AND p.is_latest = \(bind: true) AND p.id <> \(bind: id)))
            WHERE id = \(bind: id)
            """).run()
        try await db.raw("""
            UPDATE conversations SET is_latest = \(bind: false)
            WHERE contact_id = \(bind: contactId) AND id <> \(bind: id) AND is_latest = \(bind: true)
            """).run()
    }

    static func setAssignee(on db: any SQLDatabase, workspaceId: Int64, conversation: Conversation, assigneeId: Int64?, actorUserId: Int64?, at now: Date) async throws {
        try await db.raw("UPDATE conversations SET assignee_id = \(bind: assigneeId) WHERE id = \(bind: conversation.id)").run()
        try await record(on: db, workspaceId: workspaceId, contactId: conversation.contactId, conversationId: conversation.id, kind: .assigned,
                         actorUserId: actorUserId, details: AssignedDetails(assigneeId: assigneeId, previousAssigneeId: conversation.assigneeId),
                         event: .conversationAssigned, at: now)
    }

    /// Appends a timeline activity and the matching event.
    static func record(
        on db: any SQLDatabase, workspaceId: Int64, contactId: Int64, conversationId: Int64, kind: ActivityKind,
        actorUserId: Int64?, details: some Encodable & Sendable, event: EventType, at now: Date
    ) async throws {
        let json = String(decoding: try JSONEncoder.store.encode(details), as: UTF8.self)
        try await db.raw("""
            INSERT INTO conversation_activities (workspace_id, contact_id, conversation_id, kind, actor_user_id, details, created_at)
            VALUES (\(bind: workspaceId), \(bind: contactId), \(bind: conversationId), \(bind: kind.rawValue), \(bind: actorUserId), \(bind: json), \(bind: now.epochMilliseconds))
            """).run()
        try await EventLog.append(on: db, workspaceId: workspaceId, type: event, subjectId: conversationId, actorUserId: actorUserId,
                                  payload: ConversationEventPayload(conversationId: conversationId, contactId: contactId, kind: kind, details: details), at: now)
    }

    static func decode(_ row: any SQLRow) throws -> Conversation {
        Conversation(
            id: try row.decode(column: "id", as: Int64.self),
            contactId: try row.decode(column: "contact_id", as: Int64.self),
            status: try row.decodeEnum(column: "status", as: ConversationStatus.self),
            assigneeId: try row.decode(column: "assignee_id", as: Int64?.self),
            channelId: try row.decode(column: "channel_id", as: Int64?.self),
            openedAt: try row.decodeDate(column: "opened_at"),
            openedByUserId: try row.decode(column: "opened_by_user_id", as: Int64?.self),
            closedAt: try row.decodeOptionalDate(column: "closed_at"),
            closedByUserId: try row.decode(column: "closed_by_user_id", as: Int64?.self),
            closingCategory: try row.decode(column: "closing_category", as: String?.self),
            closingSummary: try row.decode(column: "closing_summary", as: String?.self),
            lastActivityAt: try row.decodeDate(column: "last_activity_at"),
            waitingSince: try row.decodeOptionalDate(column: "waiting_since"),
            unreadCount: try row.decode(column: "unread_count", as: Int64.self)
        )
    }
}

/// Kinds of timeline activity.
public enum ActivityKind: String, Codable, Sendable {
    case opened
    case closed
    case assigned
}

struct ClosedDetails: Codable, Sendable {
    let category: String?
    let summary: String?
    let unassigned: Bool
}

struct AssignedDetails: Codable, Sendable {
    let assigneeId: Int64?
    let previousAssigneeId: Int64?
}

struct ConversationEventPayload<Details: Encodable & Sendable>: Encodable, Sendable {
    let conversationId: Int64
    let contactId: Int64
    let kind: ActivityKind
    let details: Details
}
