import Foundation
import ParleyCore
import SQLKit

/// Workspaces and their settings.
public struct WorkspaceRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, name, closing_note_mode, closing_categories, closing_logic, agents_see_all, channel_preference, created_at"

    /// Inserts a workspace inside the caller's transaction.
    public static func insert(on db: any SQLDatabase, name: String, settings: WorkspaceSettings = .init(), at now: Date) async throws -> Workspace {
        let categories = String(decoding: try JSONEncoder.store.encode(settings.closingCategories), as: UTF8.self)
        let row = try await db.raw("""
            INSERT INTO workspaces (name, closing_note_mode, closing_categories, closing_logic, agents_see_all, created_at)
            VALUES (\(bind: name), \(bind: settings.closingNoteMode.rawValue), \(bind: categories),
                    \(bind: settings.closingLogic.rawValue), \(bind: settings.agentsSeeAll), \(bind: now.epochMilliseconds))
            RETURNING \(unsafeRaw: columns)
            """).first()
        let workspace = try decode(try row.required("workspace"))
        try await EventLog.append(on: db, workspaceId: workspace.id, type: .workspaceCreated, subjectId: workspace.id, payload: NoPayload(), at: now)
        return workspace
    }

    public func find(id: Int64) async throws -> Workspace? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM workspaces WHERE id = \(bind: id)").first().map(Self.decode)
        }
    }

    /// Whether the workspace's agents see every conversation, read alone: access checks ask it
    /// on every agent's request, and the whole row's JSON settings need not be decoded for it.
    /// Nil when there is no such workspace.
    public static func agentsSeeAll(on db: any SQLDatabase, workspaceId: Int64) async throws -> Bool? {
        try await db.raw("SELECT agents_see_all FROM workspaces WHERE id = \(bind: workspaceId)").first()?.decodeBool(column: "agents_see_all")
    }

    public func count() async throws -> Int {
        try await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM workspaces").first().required("count").decode(column: "n", as: Int.self)
        }
    }

    /// Replaces the settings and records who changed them.
    public func updateSettings(workspaceId: Int64, settings: WorkspaceSettings, actorUserId: Int64?, at now: Date) async throws -> Workspace {
        let categories = String(decoding: try JSONEncoder.store.encode(settings.closingCategories), as: UTF8.self)
        let preference = String(decoding: try JSONEncoder.store.encode(settings.channelPreference), as: UTF8.self)
        return try await database.transaction { db in
            let row = try await db.raw("""
                UPDATE workspaces SET closing_note_mode = \(bind: settings.closingNoteMode.rawValue),
                    closing_categories = \(bind: categories), closing_logic = \(bind: settings.closingLogic.rawValue),
                    agents_see_all = \(bind: settings.agentsSeeAll), channel_preference = \(bind: preference)
                WHERE id = \(bind: workspaceId)
                RETURNING \(unsafeRaw: Self.columns)
                """).first()
            let workspace = try Self.decode(try row.required("workspace"))
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .workspaceSettingsUpdated, subjectId: workspaceId,
                                      actorUserId: actorUserId, payload: settings, at: now)
            return workspace
        }
    }

    static func decode(_ row: any SQLRow) throws -> Workspace {
        let categoriesJSON = try row.decode(column: "closing_categories", as: String.self)
        let categories = try StoredJSON.decode([String].self, from: categoriesJSON, column: "workspaces.closing_categories", id: try? row.decode(column: "id", as: Int64.self))
        return Workspace(
            id: try row.decode(column: "id", as: Int64.self),
            name: try row.decode(column: "name", as: String.self),
            settings: WorkspaceSettings(
                closingNoteMode: try row.decodeEnum(column: "closing_note_mode", as: ClosingNoteMode.self),
                closingCategories: categories,
                closingLogic: try row.decodeEnum(column: "closing_logic", as: ClosingLogic.self),
                agentsSeeAll: try row.decodeBool(column: "agents_see_all"),
                channelPreference: try StoredJSON.decode([ChannelKind].self, from: try row.decode(column: "channel_preference", as: String.self),
                                                         column: "workspaces.channel_preference", id: try? row.decode(column: "id", as: Int64.self))
            ),
            createdAt: try row.decodeDate(column: "created_at")
        )
    }
}

extension WorkspaceRepository {
    /// Creates a workspace and its first owner in one transaction.
    public func createWithOwner(
        name: String, ownerEmail: String, ownerName: String, ownerPasswordHash: String, at now: Date
    ) async throws -> (workspace: Workspace, owner: User) {
        try await database.transaction { db in
            let workspace = try await Self.insert(on: db, name: name, at: now)
            let owner = try await UserRepository.insert(
                on: db, workspaceId: workspace.id, email: ownerEmail, name: ownerName,
                passwordHash: ownerPasswordHash, role: .owner, actorUserId: nil, at: now
            )
            return (workspace, owner)
        }
    }
}

extension WorkspaceRepository {
    /// The oldest workspace, the default for single-tenant commands.
    public func first() async throws -> Workspace? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM workspaces ORDER BY id LIMIT 1").first().map(Self.decode)
        }
    }
}
