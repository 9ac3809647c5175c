import Foundation
import ParleyCore
import SQLKit

/// What email needs beyond other channels: threads found by Message-ID, the facts a reply
/// needs (subject, ids to refer to), and the IMAP polling position of each mailbox.
public struct EmailRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// Every email channel's id, for the poller and the SMTP listener.
    public func channelIds() async throws -> [Int64] {
        try await database.read { db in
            try await db.raw("SELECT id FROM channels WHERE kind = 'email' ORDER BY id").all().map { try $0.decode(column: "id", as: Int64.self) }
        }
    }

    /// The contact who has this address on the channel, if any (the same lookup as a widget visitor's).
    public func contact(channelId: Int64, address: String) async throws -> Int64? {
        try await WebchatRepository(database: database).visitor(channelId: channelId, externalId: address)?.contactId
    }

    /// The contact of the thread these Message-IDs belong to (a message on the channel with one
    /// of them), newest first.
    public func threadContact(channelId: Int64, messageIds: [String]) async throws -> Int64? {
        let ids = Array(Set(messageIds.prefix(50)))
        guard !ids.isEmpty else { return nil }
        return try await database.read { db in
            try await db.raw("""
                SELECT contact_id FROM messages WHERE channel_id = \(bind: channelId) AND provider_message_id IN (\(SQLList(ids.map { SQLBind($0) })))
                ORDER BY id DESC LIMIT 1
                """).first()?.decode(column: "contact_id", as: Int64.self)
        }
    }

    /// What a reply on this outbound message's identity refers to: the newest email the contact
    /// sent there (its stored facts: subject, messageId, references), if any.
    public func replyContext(outboundMessageId: Int64) async throws -> [String: String] {
        try await database.read { db in
            guard let row = try await db.raw("""
                SELECT m.content FROM messages m JOIN messages o ON o.identity_id = m.identity_id
                WHERE o.id = \(bind: outboundMessageId) AND m.direction = 'inbound' AND m.content IS NOT NULL
                ORDER BY m.id DESC LIMIT 1
                """).first(), let json = try row.decode(column: "content", as: String?.self) else { return [:] }
            return (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
        }
    }

    // MARK: IMAP polling

    public struct MailboxPosition: Sendable, Equatable {
        public var uidValidity: Int64?
        public var lastUID: Int64

        public init(uidValidity: Int64?, lastUID: Int64) {
            self.uidValidity = uidValidity
            self.lastUID = lastUID
        }
    }

    /// Takes the mailbox for `lease` (no other instance polls it meanwhile); nil when another
    /// instance holds it.
    public func claimMailbox(channelId: Int64, lease: TimeInterval, at now: Date) async throws -> MailboxPosition? {
        let until = now.addingTimeInterval(lease).epochMilliseconds
        return try await database.transaction { db in
            try await db.raw("""
                INSERT INTO email_mailboxes (channel_id, last_uid, updated_at) VALUES (\(bind: channelId), 0, \(bind: now.epochMilliseconds))
                ON CONFLICT (channel_id) DO NOTHING
                """).run()
            guard let row = try await db.raw("""
                UPDATE email_mailboxes SET locked_until = \(bind: until)
                WHERE channel_id = \(bind: channelId) AND (locked_until IS NULL OR locked_until < \(bind: now.epochMilliseconds))
                RETURNING uid_validity, last_uid
                """).first() else { return nil }
            return MailboxPosition(uidValidity: try row.decode(column: "uid_validity", as: Int64?.self),
                                   lastUID: try row.decode(column: "last_uid", as: Int64.self))
        }
    }

    /// Records how far the mailbox was read (after the messages up to `lastUID` are stored).
    public func advanceMailbox(channelId: Int64, to position: MailboxPosition, at now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE email_mailboxes SET uid_validity = \(bind: position.uidValidity), last_uid = \(bind: position.lastUID),
                    last_error = NULL, updated_at = \(bind: now.epochMilliseconds)
                WHERE channel_id = \(bind: channelId)
                """).run()
        }
    }

    /// Ends the lease, noting why the poll failed if it did.
    public func releaseMailbox(channelId: Int64, error: String?, at now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE email_mailboxes SET locked_until = NULL, last_error = \(bind: error.map { String($0.prefix(500)) }), updated_at = \(bind: now.epochMilliseconds)
                WHERE channel_id = \(bind: channelId)
                """).run()
        }
    }
}
