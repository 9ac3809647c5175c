import Foundation
import ParleyCore
import SQLKit

/// Identities whose sender came without a name and whose provider can tell it. The identity's
/// `display_name` is the cache: once found (or known to be unavailable) it is not asked again.
public struct ProfileRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// One identity to look up.
    public struct Due: Sendable, Equatable {
        public let identityId: Int64
        public let workspaceId: Int64
        public let channelId: Int64
        public let externalId: String
        public let attempts: Int64
    }

    /// How long a claimed lookup is held before another worker may take it.
    public static let lease: TimeInterval = 60
    /// Lookups that keep failing are given up after this many tries.
    public static let maxAttempts: Int64 = 5

    /// Claims up to `limit` due lookups, holding each for ``lease``.
    public func claim(limit: Int, now: Date) async throws -> [Due] {
        let skipLocked = database.facts.forUpdateSkipLocked
        return try await database.transaction { db in
            let rows = try await db.raw("""
                SELECT id, workspace_id, channel_id, external_id, profile_attempts FROM contact_identities
                WHERE profile_due_at IS NOT NULL AND profile_due_at <= \(bind: now.epochMilliseconds)
                ORDER BY profile_due_at, id LIMIT \(bind: limit) \(unsafeRaw: skipLocked)
                """).all()
            let due = try rows.map { row in
                Due(identityId: try row.decode(column: "id", as: Int64.self), workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
                    channelId: try row.decode(column: "channel_id", as: Int64.self), externalId: try row.decode(column: "external_id", as: String.self),
                    attempts: try row.decode(column: "profile_attempts", as: Int64.self))
            }
            guard !due.isEmpty else { return [] }
            try await db.raw("""
                UPDATE contact_identities SET profile_due_at = \(bind: now.addingTimeInterval(Self.lease).epochMilliseconds)
                WHERE id IN (\(SQLList(due.map { SQLBind($0.identityId) })))
                """).run()
            return due
        }
    }

    /// The provider named the sender: the identity keeps the name, and a nameless contact takes it.
    public func found(_ due: Due, firstName: String?, lastName: String?, displayName: String, at now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE contact_identities SET display_name = COALESCE(display_name, \(bind: displayName)), profile_due_at = NULL
                WHERE id = \(bind: due.identityId)
                """).run()
            let (first, last) = firstName == nil && lastName == nil ? InboundIdentities.split(displayName) : (firstName, lastName)
            let named = try await db.raw("""
                UPDATE contacts SET first_name = \(bind: first ?? ""), last_name = \(bind: last ?? ""),
                    search_name = \(bind: SearchNormalization.fold((first ?? "") + " " + (last ?? ""))), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = (SELECT contact_id FROM contact_identities WHERE id = \(bind: due.identityId)) AND first_name = '' AND last_name = ''
                RETURNING id
                """).first()
            if let contactId = try named?.decode(column: "id", as: Int64.self) {
                try await EventLog.append(on: db, workspaceId: due.workspaceId, type: .contactUpdated, subjectId: contactId,
                                          payload: ["contactId": contactId], at: now)
            }
        }
    }

    /// The provider has no name to give: not asked again.
    public func finished(_ due: Due) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE contact_identities SET profile_due_at = NULL WHERE id = \(bind: due.identityId)").run()
        }
    }

    /// The provider could not answer: asked again later, with a growing pause, a few times at most.
    public func retryLater(_ due: Due, at now: Date) async throws {
        let attempts = due.attempts + 1
        let next: Int64? = attempts >= Self.maxAttempts ? nil : now.addingTimeInterval(30 * pow(2, Double(attempts))).epochMilliseconds
        try await database.transaction { db in
            try await db.raw("""
                UPDATE contact_identities SET profile_attempts = \(bind: attempts), profile_due_at = \(bind: next) WHERE id = \(bind: due.identityId)
                """).run()
        }
    }
}
