import Foundation
import ParleyCore
import SQLKit

/// One entry of a contact's timeline: a message or an activity (opened, assigned, closed).
public enum TimelineEntry: Sendable, Equatable {
    case message(Message)
    case activity(Activity)

    public var createdAt: Date {
        switch self {
        case .message(let message): return message.createdAt
        case .activity(let activity): return activity.createdAt
        }
    }

    /// Orders entries of the same millisecond: messages (1) above activities (0).
    public var source: Int64 {
        if case .message = self { return 1 }
        return 0
    }

    public var id: Int64 {
        switch self {
        case .message(let message): return message.id
        case .activity(let activity): return activity.id
        }
    }
}

/// A lifecycle change shown in the timeline.
public struct Activity: Sendable, Equatable {
    public var id: Int64
    public var conversationId: Int64
    public var kind: ActivityKind
    public var actorUserId: Int64?
    public var actorName: String?
    /// The change's details as stored (JSON object).
    public var details: String
    public var createdAt: Date
}

/// A contact's history across episodes and channels, newest first, keyset-paginated on
/// (time, source, id). Two queries per page.
public struct TimelineRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let messageColumns = """
        id, contact_id, conversation_id, channel_id, identity_id, direction, sender_kind, sender_user_id, content_kind, text, status,
        failure_reason, provider_error_code, provider_error_text, provider_message_id, provider_timestamp, created_at, updated_at,
        content, edited_at, deleted_at, queued_at, queue_expires_at
        """

    public func page(contactId: Int64, workspaceId: Int64, before cursor: (at: Int64, source: Int64, id: Int64)?, limit: Int) async throws -> [TimelineEntry] {
        try await database.read { db in
            var messageSQL: SQLQueryString = "SELECT \(unsafeRaw: Self.messageColumns) FROM messages WHERE contact_id = \(bind: contactId) AND workspace_id = \(bind: workspaceId)"
            var activitySQL: SQLQueryString = """
                SELECT a.id, a.conversation_id, a.kind, a.actor_user_id, u.name AS actor_name, a.details, a.created_at
                FROM conversation_activities a LEFT JOIN users u ON u.id = a.actor_user_id
                WHERE a.contact_id = \(bind: contactId) AND a.workspace_id = \(bind: workspaceId)
                """
            if let cursor {
                // (created_at, source, id) < cursor, with messages at source 1 and activities at 0.
                if cursor.source == 1 {
                    messageSQL = "\(messageSQL) AND (created_at < \(bind: cursor.at) OR (created_at = \(bind: cursor.at) AND id < \(bind: cursor.id)))"
                    activitySQL = "\(activitySQL) AND a.created_at <= \(bind: cursor.at)"
                } else {
                    messageSQL = "\(messageSQL) AND created_at < \(bind: cursor.at)"
                    activitySQL = "\(activitySQL) AND (a.created_at < \(bind: cursor.at) OR (a.created_at = \(bind: cursor.at) AND a.id < \(bind: cursor.id)))"
                }
            }
            messageSQL = "\(messageSQL) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)"
            activitySQL = "\(activitySQL) ORDER BY a.created_at DESC, a.id DESC LIMIT \(bind: limit)"
            let messages = try await MessageRows.withAttachments(on: db, try await db.raw(messageSQL).all().map(MessageRows.decode)).map(TimelineEntry.message)
            let activities = try await db.raw(activitySQL).all().map { row in
                TimelineEntry.activity(Activity(
                    id: try row.decode(column: "id", as: Int64.self),
                    conversationId: try row.decode(column: "conversation_id", as: Int64.self),
                    kind: try row.decodeEnum(column: "kind", as: ActivityKind.self),
                    actorUserId: try row.decode(column: "actor_user_id", as: Int64?.self),
                    actorName: try row.decode(column: "actor_name", as: String?.self),
                    details: try row.decode(column: "details", as: String.self),
                    createdAt: try row.decodeDate(column: "created_at")
                ))
            }
            let merged = (messages + activities).sorted { a, b in
                (a.createdAt.epochMilliseconds, a.source, a.id) > (b.createdAt.epochMilliseconds, b.source, b.id)
            }
            return Array(merged.prefix(limit))
        }
    }
}

enum MessageRows {
    static func decode(_ row: any SQLRow) throws -> Message {
        Message(
            id: try row.decode(column: "id", as: Int64.self),
            contactId: try row.decode(column: "contact_id", as: Int64.self),
            conversationId: try row.decode(column: "conversation_id", as: Int64?.self),
            channelId: try row.decode(column: "channel_id", as: Int64.self),
            identityId: try row.decode(column: "identity_id", as: Int64.self),
            direction: try row.decodeEnum(column: "direction", as: MessageDirection.self),
            senderKind: try row.decodeEnum(column: "sender_kind", as: SenderKind.self),
            senderUserId: try row.decode(column: "sender_user_id", as: Int64?.self),
            contentKind: try row.decode(column: "content_kind", as: String.self),
            text: try row.decode(column: "text", as: String?.self),
            status: try row.decodeEnum(column: "status", as: DeliveryStatus.self),
            failureReason: try row.decode(column: "failure_reason", as: String?.self),
            providerErrorCode: try row.decode(column: "provider_error_code", as: String?.self),
            providerErrorText: try row.decode(column: "provider_error_text", as: String?.self),
            providerMessageId: try row.decode(column: "provider_message_id", as: String?.self),
            providerTimestamp: try row.decodeOptionalDate(column: "provider_timestamp"),
            createdAt: try row.decodeDate(column: "created_at"),
            updatedAt: try row.decodeDate(column: "updated_at"),
            // Outbound rows keep their delivery instructions in `content`, which are not details.
            details: try row.decode(column: "direction", as: String.self) == "inbound" ? try details(row) : nil,
            editedAt: try row.decodeOptionalDate(column: "edited_at"),
            deletedAt: try row.decodeOptionalDate(column: "deleted_at"),
            queuedAt: try row.decodeOptionalDate(column: "queued_at"),
            queueExpiresAt: try row.decodeOptionalDate(column: "queue_expires_at")
        )
    }

    /// The messages with their attachments (one query for all of them).
    static func withAttachments(on db: any SQLDatabase, _ messages: [Message]) async throws -> [Message] {
        let byMessage = try await AttachmentRepository.forMessages(on: db, ids: messages.map(\.id))
        guard !byMessage.isEmpty else { return messages }
        return messages.map { message in
            var copy = message
            copy.attachments = byMessage[message.id]?.map(\.attachment)
            return copy
        }
    }

        /// The `content` column's facts, when it holds a flat JSON object of strings (inbound content).
    static func details(_ row: any SQLRow) throws -> [String: String]? {
        guard let json = try row.decode(column: "content", as: String?.self) else { return nil }
        return try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }
}

extension TimelineRepository {
    /// Messages of a workspace by id, in one query (the realtime stream's rows).
    public func messages(ids: [Int64], workspaceId: Int64) async throws -> [Int64: Message] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            let rows = try await db.raw("""
                SELECT \(unsafeRaw: Self.messageColumns) FROM messages
                WHERE workspace_id = \(bind: workspaceId) AND id IN (\(SQLList(ids.map { SQLBind($0) })))
                """).all()
            let messages = try await MessageRows.withAttachments(on: db, try rows.map(MessageRows.decode))
            return Dictionary(messages.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }
}
