import Crypto
import Foundation
import ParleyCore
import SQLKit

/// Bearer tokens. Only a SHA-256 hash of each token is stored; the token itself is returned once,
/// when it is issued.
public struct TokenRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, user_id, kind, name, prefix, created_at, last_used_at, expires_at"

    /// The stored form of a token.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexEncoded
    }

    /// A new random token: "pk_" and 43 URL-safe characters (256 bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "pk_" + base64
    }

    /// Issues a token and returns it with its description.
    public func issue(workspaceId: Int64, userId: Int64, kind: TokenKind, name: String, expiresAt: Date?, at now: Date) async throws -> (token: String, info: APIToken) {
        let token = Self.generate()
        let info = try await database.transaction { db in
            let row = try await db.raw("""
                INSERT INTO api_tokens (workspace_id, user_id, kind, name, token_hash, prefix, created_at, expires_at)
                VALUES (\(bind: workspaceId), \(bind: userId), \(bind: kind.rawValue), \(bind: name), \(bind: Self.hash(token)),
                        \(bind: String(token.prefix(10))), \(bind: now.epochMilliseconds), \(bind: expiresAt?.epochMilliseconds))
                RETURNING \(unsafeRaw: Self.columns)
                """).first()
            return try Self.decode(try row.required("token"))
        }
        return (token, info)
    }

    /// The user's columns as `u.…`: built once, since every authenticated request reads them
    /// (built on each request, through Foundation's trimming, it was 4% of the task threads' time serving the composer).
    static let userColumns = UserRepository.columns.split(separator: ",")
        .map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")

    /// The user a presented token belongs to, if the token exists, has not expired and the user is
    /// not disabled.
    public func authenticate(token: String, at now: Date) async throws -> (user: User, token: APIToken)? {
        let hash = Self.hash(token)
        return try await database.read { db in
            guard let row = try await db.raw("""
                SELECT \(unsafeRaw: Self.userColumns), t.id AS token_id, t.kind AS token_kind, t.name AS token_name, t.prefix AS token_prefix,
                       t.created_at AS token_created_at, t.last_used_at AS token_last_used_at, t.expires_at AS token_expires_at
                FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.token_hash = \(bind: hash)
                """).first() else { return nil }
            let user = try UserRepository.decode(row)
            let info = APIToken(
                id: try row.decode(column: "token_id", as: Int64.self),
                userId: user.id,
                kind: try row.decodeEnum(column: "token_kind", as: TokenKind.self),
                name: try row.decode(column: "token_name", as: String.self),
                prefix: try row.decode(column: "token_prefix", as: String.self),
                createdAt: try row.decodeDate(column: "token_created_at"),
                lastUsedAt: try row.decodeOptionalDate(column: "token_last_used_at"),
                expiresAt: try row.decodeOptionalDate(column: "token_expires_at")
            )
            if let expiry = info.expiresAt, expiry <= now { return nil }
            if user.disabled { return nil }
            return (user, info)
        }
    }

    /// Records use at most once a minute per token, so that reads stay reads.
    public func touch(tokenId: Int64, lastUsedAt: Date?, at now: Date) async throws {
        if let last = lastUsedAt, now.timeIntervalSince(last) < 60 { return }
        try await database.transaction { db in
            try await db.raw("UPDATE api_tokens SET last_used_at = \(bind: now.epochMilliseconds) WHERE id = \(bind: tokenId)").run()
        }
    }

    public func list(userId: Int64) async throws -> [APIToken] {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM api_tokens WHERE user_id = \(bind: userId) ORDER BY id")
                .all().map(Self.decode)
        }
    }

    /// Revokes one of the user's tokens. Returns false when the user has no such token.
    public func revoke(tokenId: Int64, userId: Int64) async throws -> Bool {
        try await database.transaction { db in
            try await db.raw("DELETE FROM api_tokens WHERE id = \(bind: tokenId) AND user_id = \(bind: userId) RETURNING id").first() != nil
        }
    }

    static func decode(_ row: any SQLRow) throws -> APIToken {
        APIToken(
            id: try row.decode(column: "id", as: Int64.self),
            userId: try row.decode(column: "user_id", as: Int64.self),
            kind: try row.decodeEnum(column: "kind", as: TokenKind.self),
            name: try row.decode(column: "name", as: String.self),
            prefix: try row.decode(column: "prefix", as: String.self),
            createdAt: try row.decodeDate(column: "created_at"),
            lastUsedAt: try row.decodeOptionalDate(column: "last_used_at"),
            expiresAt: try row.decodeOptionalDate(column: "expires_at")
        )
    }
}
