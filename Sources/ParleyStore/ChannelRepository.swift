import Foundation
import ParleyCore
import SQLKit

/// Connected channels. Credentials go in and stay in: they are read back only by the channel
/// adapters through ``credentials(channelId:workspaceId:)``.
public struct ChannelRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, workspace_id, kind, name, api_base_url, credentials, viber_month, viber_month_count, commercial_terms_accepted, created_at, updated_at"

    /// What may change on a channel. `nil` leaves a field as it is.
    public struct Update: Sendable {
        public var name: String?
        public var credentials: [String: String]?
        public var apiBaseUrl: String??
        public var commercialTermsAccepted: Bool?

        public init(name: String? = nil, credentials: [String: String]? = nil, apiBaseUrl: String?? = nil, commercialTermsAccepted: Bool? = nil) {
            self.name = name
            self.credentials = credentials
            self.apiBaseUrl = apiBaseUrl
            self.commercialTermsAccepted = commercialTermsAccepted
        }
    }

    public func create(
        workspaceId: Int64, kind: ChannelKind, name: String, credentials: [String: String],
        apiBaseUrl: String?, webchat: WebchatSettings? = nil, actorUserId: Int64?, at now: Date
    ) async throws -> Channel {
        let secret = TokenRepository.generate()
        let json = try CredentialEncryption.store(String(decoding: try JSONEncoder.store.encode(credentials), as: UTF8.self))
        return try await database.transaction { db in
            let row = try await db.raw("""
                INSERT INTO channels (workspace_id, kind, name, credentials, api_base_url, webhook_secret, created_at, updated_at)
                VALUES (\(bind: workspaceId), \(bind: kind.rawValue), \(bind: name), \(bind: json), \(bind: apiBaseUrl),
                        \(bind: secret), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                RETURNING \(unsafeRaw: Self.columns)
                """).first()
            let channel = try Self.decode(try row.required("channel"))
            if kind == .webchat {
                try await WebchatRepository.insert(on: db, channelId: channel.id, workspaceId: workspaceId,
                                                   settings: webchat ?? WebchatSettings(allowedOrigins: []), at: now)
            }
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .channelCreated, subjectId: channel.id,
                                      actorUserId: actorUserId, payload: ["kind": kind.rawValue], at: now)
            return channel
        }
    }

    public func find(id: Int64, workspaceId: Int64) async throws -> Channel? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM channels WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId)")
                .first().map(Self.decode)
        }
    }

    public func list(workspaceId: Int64, afterId: Int64?, limit: Int) async throws -> [Channel] {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM channels
                WHERE workspace_id = \(bind: workspaceId) AND id > \(bind: afterId ?? 0)
                ORDER BY id LIMIT \(bind: limit)
                """).all().map(Self.decode)
        }
    }

    /// The stored credentials, for the channel adapters only.
    public func credentials(channelId: Int64, workspaceId: Int64) async throws -> [String: String]? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT credentials FROM channels WHERE id = \(bind: channelId) AND workspace_id = \(bind: workspaceId)").first() else {
                return nil
            }
            return try Self.decodeCredentials(row)
        }
    }

    public func update(id: Int64, workspaceId: Int64, _ update: Update, actorUserId: Int64?, at now: Date) async throws -> Channel? {
        let forUpdate = database.facts.forUpdate
        return try await database.transaction { db in
            guard let current = try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM channels WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) \(unsafeRaw: forUpdate)").first() else {
                return nil
            }
            var credentials = try Self.decodeCredentials(current)
            if let changes = update.credentials {
                // Merge, so that a client can rotate one secret without resending the others;
                // an empty value removes a field.
                for (key, value) in changes {
                    credentials[key] = value.isEmpty ? nil : value
                }
            }
            let json = try CredentialEncryption.store(String(decoding: try JSONEncoder.store.encode(credentials), as: UTF8.self))
            let existing = try Self.decode(current)
            let apiBaseUrl: String? = update.apiBaseUrl ?? existing.apiBaseUrl
            let row = try await db.raw("""
                UPDATE channels SET name = \(bind: update.name ?? existing.name), credentials = \(bind: json),
                    api_base_url = \(bind: apiBaseUrl),
                    commercial_terms_accepted = \(bind: update.commercialTermsAccepted ?? existing.commercialTermsAccepted),
                    updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: id)
                RETURNING \(unsafeRaw: Self.columns)
                """).first()
            let channel = try Self.decode(try row.required("channel"))
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .channelUpdated, subjectId: id,
                                      actorUserId: actorUserId, payload: NoPayload(), at: now)
            return channel
        }
    }

    /// Disconnects a channel, removing what was received and sent through it.
    public func delete(id: Int64, workspaceId: Int64, actorUserId: Int64?, at now: Date) async throws -> Bool {
        try await database.transaction { db in
            guard try await db.raw("DELETE FROM channels WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) RETURNING id").first() != nil else {
                return false
            }
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .channelDeleted, subjectId: id,
                                      actorUserId: actorUserId, payload: NoPayload(), at: now)
            return true
        }
    }

    /// The secret used to verify this channel's webhooks where the provider lets us choose one.
    public func webhookSecret(channelId: Int64) async throws -> String? {
        try await database.read { db in
            try await db.raw("SELECT webhook_secret FROM channels WHERE id = \(bind: channelId)").first()?
                .decode(column: "webhook_secret", as: String.self)
        }
    }

    static func decodeCredentials(_ row: any SQLRow) throws -> [String: String] {
        let id = try? row.decode(column: "id", as: Int64.self)
        return try CredentialEncryption.credentials(try row.decode(column: "credentials", as: String.self), id: id)
    }

    static func decode(_ row: any SQLRow) throws -> Channel {
        Channel(
            id: try row.decode(column: "id", as: Int64.self),
            workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
            kind: try row.decodeEnum(column: "kind", as: ChannelKind.self),
            name: try row.decode(column: "name", as: String.self),
            apiBaseUrl: try row.decode(column: "api_base_url", as: String?.self),
            credentialKeys: try decodeCredentials(row).keys.sorted(),
            viberMonth: try row.decode(column: "viber_month", as: String?.self),
            viberMonthCount: try row.decode(column: "viber_month_count", as: Int64.self),
            commercialTermsAccepted: try row.decodeBool(column: "commercial_terms_accepted"),
            createdAt: try row.decodeDate(column: "created_at"),
            updatedAt: try row.decodeDate(column: "updated_at")
        )
    }
}

extension ChannelRepository {
    /// What the webhook endpoint and the outbox need to talk to the provider: kind, credentials,
    /// base URL and webhook secret. Not workspace-scoped: the caller is the provider.
    public struct ProviderConfig: Sendable {
        public let id: Int64
        public let workspaceId: Int64
        public let kind: ChannelKind
        public let credentials: [String: String]
        public let apiBaseUrl: String?
        public let webhookSecret: String
    }

    public func providerConfig(channelId: Int64) async throws -> ProviderConfig? {
        try await database.read { db in
            guard let row = try await db.raw("""
                SELECT id, workspace_id, kind, credentials, api_base_url, webhook_secret FROM channels WHERE id = \(bind: channelId)
                """).first() else { return nil }
            return ProviderConfig(
                id: try row.decode(column: "id", as: Int64.self),
                workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
                kind: try row.decodeEnum(column: "kind", as: ChannelKind.self),
                credentials: try Self.decodeCredentials(row),
                apiBaseUrl: try row.decode(column: "api_base_url", as: String?.self),
                webhookSecret: try row.decode(column: "webhook_secret", as: String.self)
            )
        }
    }
}
