import Foundation
import ParleyCore
import SQLKit

/// Users (agents, managers, owners). Email addresses are unique across the server, so that a
/// login needs only email and password.
public struct UserRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, workspace_id, email, name, role, created_at, disabled_at"

    /// A user together with the stored password hash, for login only.
    public struct Credentials: Sendable {
        public let user: User
        public let passwordHash: String
    }

    /// Inserts a user inside the caller's transaction. Throws ``StoreError/conflict(_:)`` when the
    /// email is taken.
    public static func insert(
        on db: any SQLDatabase, workspaceId: Int64, email: String, name: String,
        passwordHash: String, role: Role, actorUserId: Int64?, at now: Date
    ) async throws -> User {
        let lower = SearchNormalization.email(email)
        if try await db.raw("SELECT id FROM users WHERE email_lower = \(bind: lower)").first() != nil {
            throw StoreError.conflict("a user with email \(lower) already exists")
        }
        let row = try await db.raw("""
            INSERT INTO users (workspace_id, email, email_lower, name, password_hash, role, created_at)
            VALUES (\(bind: workspaceId), \(bind: email.trimmingCharacters(in: .whitespaces)), \(bind: lower), \(bind: name),
                    \(bind: passwordHash), \(bind: role.rawValue), \(bind: now.epochMilliseconds))
            RETURNING \(unsafeRaw: columns)
            """).first()
        let user = try decode(try row.required("user"))
        try await EventLog.append(on: db, workspaceId: workspaceId, type: .userCreated, subjectId: user.id,
                                  actorUserId: actorUserId, payload: ["role": role.rawValue], at: now)
        return user
    }

    public func create(workspaceId: Int64, email: String, name: String, passwordHash: String, role: Role, actorUserId: Int64?, at now: Date) async throws -> User {
        try await database.transaction { db in
            try await Self.insert(on: db, workspaceId: workspaceId, email: email, name: name,
                                  passwordHash: passwordHash, role: role, actorUserId: actorUserId, at: now)
        }
    }

    public func credentials(email: String) async throws -> Credentials? {
        let lower = SearchNormalization.email(email)
        return try await database.read { db in
            guard let row = try await db.raw("SELECT \(unsafeRaw: Self.columns), password_hash FROM users WHERE email_lower = \(bind: lower)").first() else {
                return nil
            }
            return Credentials(user: try Self.decode(row), passwordHash: try row.decode(column: "password_hash", as: String.self))
        }
    }

    /// The user with `id` in `workspaceId`; a user of another workspace is not found.
    public func find(id: Int64, workspaceId: Int64) async throws -> User? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId)")
                .first().map(Self.decode)
        }
    }

    /// The user with `id` in whatever workspace: only for a secret that already names the user
    /// (a setup link, a WebSocket ticket).
    public func find(id: Int64) async throws -> User? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id)").first().map(Self.decode)
        }
    }

    /// Users of a workspace ordered by id, after the `afterId` cursor.
    public func list(workspaceId: Int64, afterId: Int64?, limit: Int) async throws -> [User] {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM users
                WHERE workspace_id = \(bind: workspaceId) AND id > \(bind: afterId ?? 0)
                ORDER BY id LIMIT \(bind: limit)
                """).all().map(Self.decode)
        }
    }

    public func setPassword(userId: Int64, passwordHash: String) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE users SET password_hash = \(bind: passwordHash) WHERE id = \(bind: userId)").run()
        }
    }

    static func decode(_ row: any SQLRow) throws -> User {
        User(
            id: try row.decode(column: "id", as: Int64.self),
            workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
            email: try row.decode(column: "email", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            role: try row.decodeEnum(column: "role", as: Role.self),
            createdAt: try row.decodeDate(column: "created_at"),
            disabled: try row.decode(column: "disabled_at", as: Int64?.self) != nil
        )
    }
}

extension UserRepository {
    /// Names of a workspace's users by id, in one query.
    public func names(ids: [Int64], workspaceId: Int64) async throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            let rows = try await db.raw("""
                SELECT id, name FROM users WHERE workspace_id = \(bind: workspaceId) AND id IN (\(SQLList(ids.map { SQLBind($0) })))
                """).all()
            return Dictionary(try rows.map { (try $0.decode(column: "id", as: Int64.self), try $0.decode(column: "name", as: String.self)) },
                              uniquingKeysWith: { first, _ in first })
        }
    }
}
