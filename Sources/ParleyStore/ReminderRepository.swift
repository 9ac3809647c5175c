import Foundation
import ParleyCore
import SQLKit

/// Closing-soon reminders: an agent asks to be told some hours before the free-text window of
/// a contact's conversation closes. The due time follows the window: when the contact writes
/// again the window moves and so does the reminder. A fired reminder becomes a notification
/// (and its event) exactly once, whichever instance fires it.
public struct ReminderRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    public enum Refusal: Error, Equatable, Sendable {
        case noConversation
        case noWindow(ChannelKind)
        case windowClosed
    }

    private static let select = """
        SELECT r.id, r.workspace_id, r.user_id, r.conversation_id, r.hours_before, r.created_at, r.fired_at, cv.contact_id,
               ch.kind, i.last_inbound_at
        FROM window_reminders r JOIN conversations cv ON cv.id = r.conversation_id
        JOIN contact_identities i ON i.id = cv.identity_id JOIN channels ch ON ch.id = i.channel_id
        """

    /// Sets (or re-arms) the caller's reminder on the contact's latest conversation.
    public func set(workspaceId: Int64, userId: Int64, contactId: Int64, hoursBefore: Int, at now: Date) async throws -> WindowReminder {
        try await database.transaction { db in
            guard let conversation = try await db.raw("""
                SELECT cv.id, ch.kind, i.last_inbound_at FROM conversations cv
                JOIN contact_identities i ON i.id = cv.identity_id JOIN channels ch ON ch.id = i.channel_id
                WHERE cv.contact_id = \(bind: contactId) AND cv.workspace_id = \(bind: workspaceId) AND cv.is_latest = \(bind: true)
                """).first() else { throw Refusal.noConversation }
            let kind = try conversation.decodeEnum(column: "kind", as: ChannelKind.self)
            guard MessagingWindow.standardLength(of: kind) != nil else { throw Refusal.noWindow(kind) }
            guard let closes = WindowReminder.freeTextUntil(kind: kind, lastInboundAt: try conversation.decodeOptionalDate(column: "last_inbound_at")),
                  closes > now else { throw Refusal.windowClosed }
            let conversationId = try conversation.decode(column: "id", as: Int64.self)
            try await db.raw("""
                INSERT INTO window_reminders (workspace_id, user_id, conversation_id, hours_before, created_at)
                VALUES (\(bind: workspaceId), \(bind: userId), \(bind: conversationId), \(bind: hoursBefore), \(bind: now.epochMilliseconds))
                ON CONFLICT (user_id, conversation_id) DO UPDATE SET hours_before = excluded.hours_before, created_at = excluded.created_at, fired_at = NULL
                """).run()
            let row = try await db.raw("\(unsafeRaw: Self.select) WHERE r.user_id = \(bind: userId) AND r.conversation_id = \(bind: conversationId)").first()
            return try Self.decode(try row.required("reminder"))
        }
    }

    /// The caller's reminders that have not fired, for one contact or all.
    public func waiting(workspaceId: Int64, userId: Int64, contactId: Int64?) async throws -> [WindowReminder] {
        try await database.read { db in
            var query: SQLQueryString = "\(unsafeRaw: Self.select) WHERE r.workspace_id = \(bind: workspaceId) AND r.user_id = \(bind: userId) AND r.fired_at IS NULL"
            if let contactId { query = "\(query) AND cv.contact_id = \(bind: contactId)" }
            return try await db.raw("\(query) ORDER BY r.id").all().map(Self.decode)
        }
    }

    /// Removes the caller's reminder; false when there was none.
    public func delete(id: Int64, workspaceId: Int64, userId: Int64) async throws -> Bool {
        try await database.transaction { db in
            try await db.raw("""
                DELETE FROM window_reminders WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) AND user_id = \(bind: userId) RETURNING id
                """).first() != nil
        }
    }

    /// Fires the reminders that are due: each becomes a notification for its agent, with a
    /// `notification.created` event. A reminder whose window closed unseen (the server was
    /// down past it) is retired without one. Returns how many notifications were made.
    public func fireDue(at now: Date, limit: Int = 500) async throws -> Int {
        // A read first: most rounds find nothing due and stay off the writer.
        let waiting = try await database.read { db in
            try await db.raw("\(unsafeRaw: Self.select) WHERE r.fired_at IS NULL ORDER BY r.id LIMIT \(bind: limit)").all().map { row in
                (reminder: try Self.decode(row), workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
                 userId: try row.decode(column: "user_id", as: Int64.self), kind: try row.decodeEnum(column: "kind", as: ChannelKind.self))
            }
        }
        let due = waiting.filter { item in
            item.reminder.dueAt.map { $0 <= now } ?? false || item.reminder.windowClosesAt.map { $0 <= now } ?? false
        }
        guard !due.isEmpty else { return 0 }
        return try await database.transaction { db in
            var fired = 0
            for item in due {
                let reminder = item.reminder
                // Claimed by this update alone: another instance's concurrent round finds it fired.
                guard try await db.raw("""
                    UPDATE window_reminders SET fired_at = \(bind: now.epochMilliseconds) WHERE id = \(bind: reminder.id) AND fired_at IS NULL RETURNING id
                    """).first() != nil else { continue }
                guard let closes = reminder.windowClosesAt, closes > now else { continue }  // closed unseen: retired
                let name = try await db.raw("SELECT first_name, last_name FROM contacts WHERE id = \(bind: reminder.contactId)").first().map { row in
                    [try row.decode(column: "first_name", as: String.self), try row.decode(column: "last_name", as: String.self)]
                        .filter { !$0.isEmpty }.joined(separator: " ")
                } ?? ""
                let minutes = Int(closes.timeIntervalSince(now) / 60)
                let left = minutes >= 120 ? "\(minutes / 60) hours" : minutes >= 60 ? "1 hour \(minutes - 60) minutes" : "\(max(minutes, 1)) minutes"
                let text = "The \(item.kind.displayName) window with \(name.isEmpty ? "the contact" : name) closes in \(left)."
                try await NotificationRepository.insert(on: db, workspaceId: item.workspaceId, userId: item.userId, kind: "window_closing",
                                                        contactId: reminder.contactId, conversationId: reminder.conversationId, text: text, at: now)
                fired += 1
            }
            return fired
        }
    }

    static func decode(_ row: any SQLRow) throws -> WindowReminder {
        let hours = try row.decode(column: "hours_before", as: Int.self)
        let closes = WindowReminder.freeTextUntil(kind: try row.decodeEnum(column: "kind", as: ChannelKind.self),
                                                  lastInboundAt: try row.decodeOptionalDate(column: "last_inbound_at"))
        return WindowReminder(
            id: try row.decode(column: "id", as: Int64.self),
            conversationId: try row.decode(column: "conversation_id", as: Int64.self),
            contactId: try row.decode(column: "contact_id", as: Int64.self),
            hoursBefore: hours,
            dueAt: closes?.addingTimeInterval(-Double(hours) * 3600),
            windowClosesAt: closes,
            createdAt: try row.decodeDate(column: "created_at"),
            firedAt: try row.decodeOptionalDate(column: "fired_at")
        )
    }
}

/// Notifications kept per user until read.
public struct NotificationRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, kind, contact_id, conversation_id, text, created_at, read_at"

    static func insert(on db: any SQLDatabase, workspaceId: Int64, userId: Int64, kind: String, contactId: Int64?, conversationId: Int64?,
                       text: String, at now: Date) async throws {
        let row = try await db.raw("""
            INSERT INTO notifications (workspace_id, user_id, kind, contact_id, conversation_id, text, created_at)
            VALUES (\(bind: workspaceId), \(bind: userId), \(bind: kind), \(bind: contactId), \(bind: conversationId), \(bind: text), \(bind: now.epochMilliseconds))
            RETURNING id
            """).first()
        let id = try row.required("notification").decode(column: "id", as: Int64.self)
        try await EventLog.append(on: db, workspaceId: workspaceId, type: .notificationCreated, subjectId: id,
                                  payload: ["notificationId": id, "userId": userId], at: now)
    }

    /// The user's notifications, newest first, before `beforeId`.
    public func list(workspaceId: Int64, userId: Int64, unreadOnly: Bool, beforeId: Int64?, limit: Int) async throws -> [UserNotification] {
        try await database.read { db in
            var query: SQLQueryString = """
                SELECT \(unsafeRaw: Self.columns) FROM notifications
                WHERE workspace_id = \(bind: workspaceId) AND user_id = \(bind: userId) AND id < \(bind: beforeId ?? Int64.max)
                """
            if unreadOnly { query = "\(query) AND read_at IS NULL" }
            return try await db.raw("\(query) ORDER BY id DESC LIMIT \(bind: limit)").all().map(Self.decode)
        }
    }

    /// One notification, if it is the user's.
    public func find(id: Int64, workspaceId: Int64, userId: Int64) async throws -> UserNotification? {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM notifications WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) AND user_id = \(bind: userId)
                """).first().map(Self.decode)
        }
    }

    /// Marks the user's notification read; nil when it is not theirs.
    public func markRead(id: Int64, workspaceId: Int64, userId: Int64, at now: Date) async throws -> UserNotification? {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE notifications SET read_at = COALESCE(read_at, \(bind: now.epochMilliseconds))
                WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) AND user_id = \(bind: userId)
                RETURNING \(unsafeRaw: Self.columns)
                """).first().map(Self.decode)
        }
    }

    static func decode(_ row: any SQLRow) throws -> UserNotification {
        UserNotification(
            id: try row.decode(column: "id", as: Int64.self),
            kind: try row.decode(column: "kind", as: String.self),
            contactId: try row.decode(column: "contact_id", as: Int64?.self),
            conversationId: try row.decode(column: "conversation_id", as: Int64?.self),
            text: try row.decode(column: "text", as: String.self),
            createdAt: try row.decodeDate(column: "created_at"),
            readAt: try row.decodeOptionalDate(column: "read_at")
        )
    }
}
