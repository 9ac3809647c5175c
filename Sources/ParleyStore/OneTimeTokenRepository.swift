import Foundation
import SQLKit

/// Single-use secrets with an expiry, stored as SHA-256 hashes and shared by every instance:
/// the first owner's setup link and WebSocket tickets.
public struct OneTimeTokenRepository: Sendable {
    public enum Purpose: String, Sendable {
        case ownerSetup = "owner_setup"
        case eventTicket = "event_ticket"
    }

    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// Issues a token for `userId`; with `replacing`, earlier tokens of the same purpose for that
    /// user stop working (a new setup link voids the old one).
    public func issue(purpose: Purpose, userId: Int64, expiresAt: Date, replacing: Bool = false, at now: Date) async throws -> String {
        let token = TokenRepository.generate()
        try await database.transaction { db in
            if replacing {
                try await db.raw("DELETE FROM one_time_tokens WHERE user_id = \(bind: userId) AND purpose = \(bind: purpose.rawValue)").run()
            }
            try await db.raw("""
                INSERT INTO one_time_tokens (token_hash, purpose, user_id, expires_at, created_at)
                VALUES (\(bind: TokenRepository.hash(token)), \(bind: purpose.rawValue), \(bind: userId), \(bind: expiresAt.epochMilliseconds), \(bind: now.epochMilliseconds))
                """).run()
        }
        return token
    }

    /// The user a token was issued to, deleting it: a second use, or a use after it expired,
    /// finds nothing.
    public func consume(_ token: String, purpose: Purpose, at now: Date) async throws -> Int64? {
        try await database.transaction { db in
            guard let row = try await db.raw("""
                DELETE FROM one_time_tokens WHERE token_hash = \(bind: TokenRepository.hash(token)) AND purpose = \(bind: purpose.rawValue)
                RETURNING user_id, expires_at
                """).first() else { return nil }
            guard try row.decode(column: "expires_at", as: Int64.self) > now.epochMilliseconds else { return nil }
            return try row.decode(column: "user_id", as: Int64.self)
        }
    }

    /// Users that still hold a token of this purpose (an owner who has not finished setup).
    public func holders(purpose: Purpose) async throws -> [Int64] {
        try await database.read { db in
            try await db.raw("SELECT DISTINCT user_id FROM one_time_tokens WHERE purpose = \(bind: purpose.rawValue) ORDER BY user_id")
                .all().map { try $0.decode(column: "user_id", as: Int64.self) }
        }
    }

    /// Deletes expired tokens; returns how many. Setup tokens stay: they mark an owner who has
    /// not chosen a password yet, and the next start issues a fresh link in their place.
    @discardableResult
    public func prune(at now: Date) async throws -> Int {
        try await database.transaction { db in
            try await db.raw("""
                DELETE FROM one_time_tokens WHERE expires_at <= \(bind: now.epochMilliseconds) AND purpose <> \(bind: Purpose.ownerSetup.rawValue)
                RETURNING token_hash
                """).all().count
        }
    }
}
