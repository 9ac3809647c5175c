import Foundation
import ParleyCore
import SQLKit

/// A website chat channel as the widget and its settings need it.
public struct WebchatChannel: Sendable, Equatable {
    public let channelId: Int64
    public let workspaceId: Int64
    public let name: String
    /// The `data-channel` of the snippet: public, and not the numeric id.
    public let publicKey: String
    public let settings: WebchatSettings
    /// Signs verified users' identifiers (shared with the site's own server).
    public let identitySecret: String
    /// Signs visitor tokens; never leaves the server.
    public let tokenSecret: String
}

/// A visitor known to the channel: their identity and contact.
public struct WebchatVisitor: Sendable, Equatable {
    public let identityId: Int64
    public let contactId: Int64
}

/// Website chat channels' settings and what visitors read and acknowledge.
public struct WebchatRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "w.channel_id, w.workspace_id, c.name, w.public_key, w.settings, w.identity_secret, c.webhook_secret"

    /// Adds a webchat channel's row, in the transaction creating the channel.
    static func insert(on db: any SQLDatabase, channelId: Int64, workspaceId: Int64, settings: WebchatSettings, at now: Date) async throws {
        try await db.raw("""
            INSERT INTO webchat_channels (channel_id, workspace_id, public_key, settings, identity_secret, updated_at)
            VALUES (\(bind: channelId), \(bind: workspaceId), \(bind: "wc_" + TokenRepository.generate().dropFirst(3).prefix(24)),
                    \(bind: try encode(settings)), \(bind: "whs_" + TokenRepository.generate().dropFirst(3)), \(bind: now.epochMilliseconds))
            """).run()
    }

    public func find(publicKey: String) async throws -> WebchatChannel? {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM webchat_channels w JOIN channels c ON c.id = w.channel_id
                WHERE w.public_key = \(bind: publicKey)
                """).first().map(Self.decode)
        }
    }

    public func find(channelId: Int64, workspaceId: Int64? = nil) async throws -> WebchatChannel? {
        try await database.read { db in
            var sql: SQLQueryString = """
                SELECT \(unsafeRaw: Self.columns) FROM webchat_channels w JOIN channels c ON c.id = w.channel_id
                WHERE w.channel_id = \(bind: channelId)
                """
            if let workspaceId { sql = sql + " AND w.workspace_id = \(bind: workspaceId)" }
            return try await db.raw(sql).first().map(Self.decode)
        }
    }

    /// The channels' public settings by channel id, for listing channels.
    public func find(channelIds: [Int64], workspaceId: Int64) async throws -> [Int64: WebchatChannel] {
        guard !channelIds.isEmpty else { return [:] }
        return try await database.read { db in
            let rows = try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM webchat_channels w JOIN channels c ON c.id = w.channel_id
                WHERE w.workspace_id = \(bind: workspaceId) AND w.channel_id IN (\(SQLList(channelIds.map { SQLBind($0) })))
                """).all()
            return Dictionary(try rows.map(Self.decode).map { ($0.channelId, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func update(channelId: Int64, workspaceId: Int64, settings: WebchatSettings, actorUserId: Int64?, at now: Date) async throws -> Bool {
        try await database.transaction { db in
            guard try await db.raw("""
                UPDATE webchat_channels SET settings = \(bind: try Self.encode(settings)), updated_at = \(bind: now.epochMilliseconds)
                WHERE channel_id = \(bind: channelId) AND workspace_id = \(bind: workspaceId) RETURNING channel_id
                """).first() != nil else { return false }
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .channelUpdated, subjectId: channelId,
                                      actorUserId: actorUserId, payload: NoPayload(), at: now)
            return true
        }
    }

    /// Replaces the identity secret; identities signed with the old one no longer verify.
    public func rotateIdentitySecret(channelId: Int64, workspaceId: Int64, actorUserId: Int64?, at now: Date) async throws -> String? {
        let secret = "whs_" + TokenRepository.generate().dropFirst(3)
        return try await database.transaction { db in
            guard try await db.raw("""
                UPDATE webchat_channels SET identity_secret = \(bind: secret), updated_at = \(bind: now.epochMilliseconds)
                WHERE channel_id = \(bind: channelId) AND workspace_id = \(bind: workspaceId) RETURNING channel_id
                """).first() != nil else { return nil }
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .channelUpdated, subjectId: channelId,
                                      actorUserId: actorUserId, payload: ["identitySecretRotated": true], at: now)
            return secret
        }
    }

    // MARK: Visitors

    /// The visitor behind an address on the channel, once they have written.
    public func visitor(channelId: Int64, externalId: String) async throws -> WebchatVisitor? {
        try await database.read { db in
            guard let row = try await db.raw("""
                SELECT id, contact_id FROM contact_identities WHERE channel_id = \(bind: channelId) AND external_id = \(bind: externalId)
                """).first() else { return nil }
            return WebchatVisitor(identityId: try row.decode(column: "id", as: Int64.self), contactId: try row.decode(column: "contact_id", as: Int64.self))
        }
    }

    /// Moves an anonymous visitor's identity (and so their conversation) to the verified
    /// address they just signed in as, unless that address already has a history of its own.
    public func adopt(channelId: Int64, from anonymous: String, to verified: String) async throws -> Bool {
        try await database.transaction { db in
            guard try await db.raw("""
                SELECT id FROM contact_identities WHERE channel_id = \(bind: channelId) AND external_id = \(bind: verified)
                """).first() == nil else { return false }
            return try await db.raw("""
                UPDATE contact_identities SET external_id = \(bind: verified)
                WHERE channel_id = \(bind: channelId) AND external_id = \(bind: anonymous) RETURNING id
                """).first() != nil
        }
    }

    /// The visitor's messages on this channel, newest first, before `beforeId`.
    public func history(identityId: Int64, beforeId: Int64?, limit: Int) async throws -> [Message] {
        try await database.read { db in
            try await MessageRows.withAttachments(on: db, try await db.raw("""
                SELECT \(unsafeRaw: TimelineRepository.messageColumns) FROM messages
                WHERE identity_id = \(bind: identityId) AND id < \(bind: beforeId ?? Int64.max)
                  AND status NOT IN ('scheduled', 'cancelled', 'expired')
                ORDER BY id DESC LIMIT \(bind: limit)
                """).all().map(MessageRows.decode))
        }
    }

    /// Moves the agents' messages to the visitor, up to `throughId`, forward to `status`
    /// (`delivered` or `read`); returns how many changed. Each change is an event, so agents see
    /// the ticks move.
    public func acknowledge(identityId: Int64, workspaceId: Int64, throughId: Int64, status: DeliveryStatus, at now: Date) async throws -> Int {
        let from = MessageStatusUpdater.predecessors(of: status)
        guard status == .delivered || status == .read, !from.isEmpty else { return 0 }
        return try await database.transaction { db in
            let rows = try await db.raw("""
                UPDATE messages SET status = \(bind: status.rawValue), updated_at = \(bind: now.epochMilliseconds)
                WHERE identity_id = \(bind: identityId) AND workspace_id = \(bind: workspaceId) AND direction = 'outbound'
                  AND id <= \(bind: throughId) AND status IN (\(SQLList(from.map { SQLBind($0.rawValue) })))
                RETURNING id
                """).all()
            for row in rows {
                let id = try row.decode(column: "id", as: Int64.self)
                try await EventLog.append(on: db, workspaceId: workspaceId, type: .messageUpdated, subjectId: id, payload: ["messageId": id], at: now)
            }
            return rows.count
        }
    }

    /// How many of the agents' messages the visitor has not read.
    public func unreadCount(identityId: Int64) async throws -> Int {
        try await database.read { db in
            try await db.raw("""
                SELECT COUNT(*) AS n FROM messages
                WHERE identity_id = \(bind: identityId) AND direction = 'outbound' AND status IN ('pending', 'sent', 'delivered')
                """).first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// For the event stream: which of these identities are webchat visitors, with their address.
    public func visitorAddresses(identityIds: [Int64]) async throws -> [Int64: (channelId: Int64, externalId: String)] {
        guard !identityIds.isEmpty else { return [:] }
        return try await database.read { db in
            let rows = try await db.raw("""
                SELECT i.id, i.channel_id, i.external_id FROM contact_identities i JOIN webchat_channels w ON w.channel_id = i.channel_id
                WHERE i.id IN (\(SQLList(Set(identityIds).map { SQLBind($0) })))
                """).all()
            var result: [Int64: (channelId: Int64, externalId: String)] = [:]
            for row in rows {
                result[try row.decode(column: "id", as: Int64.self)] = (try row.decode(column: "channel_id", as: Int64.self),
                                                                       try row.decode(column: "external_id", as: String.self))
            }
            return result
        }
    }

    static func encode(_ settings: WebchatSettings) throws -> String {
        String(decoding: try JSONEncoder.store.encode(settings), as: UTF8.self)
    }

    static func decode(_ row: any SQLRow) throws -> WebchatChannel {
        let json = try row.decode(column: "settings", as: String.self)
        return WebchatChannel(
            channelId: try row.decode(column: "channel_id", as: Int64.self),
            workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
            name: try row.decode(column: "name", as: String.self),
            publicKey: try row.decode(column: "public_key", as: String.self),
            // Stored by this repository from a validated value: a row that does not decode is corrupt.
            settings: try JSONDecoder.store.decode(WebchatSettings.self, from: Data(json.utf8)),
            identitySecret: try row.decode(column: "identity_secret", as: String.self),
            tokenSecret: try row.decode(column: "webhook_secret", as: String.self)
        )
    }
}
