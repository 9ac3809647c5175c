import Foundation
import ParleyCore
import SQLKit

/// A stored workflow.
public struct StoredWorkflow: Sendable, Equatable {
    public let id: Int64
    public let workspaceId: Int64
    public var definition: WorkflowDefinition
    public var enabled: Bool
    public let template: String?
    /// Whether an incoming-webhook secret is set (the secret itself is only shown at creation).
    public let hasWebhookSecret: Bool
    public let createdAt: Date
    public let updatedAt: Date
}

/// Workflows and the event cursors their engine reads with.
public struct WorkflowRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, workspace_id, definition, enabled, template, webhook_secret_hash, created_at, updated_at"

    /// Creates a workflow whose event cursor starts at `start` (the stream's head: a workflow
    /// reacts to what happens after it was made, not to history).
    public func create(workspaceId: Int64, definition: WorkflowDefinition, enabled: Bool, template: String?,
                       webhookSecretHash: String?, start: EventPosition, at now: Date) async throws -> StoredWorkflow {
        let json = try Self.encode(definition)
        return try await database.transaction { db in
            let row = try await db.raw("""
                INSERT INTO workflows (workspace_id, name, trigger_kind, once_per_contact, definition, enabled, template, webhook_secret_hash, created_at, updated_at)
                VALUES (\(bind: workspaceId), \(bind: definition.name), \(bind: definition.trigger.rawValue), \(bind: definition.oncePerContact),
                        \(bind: json), \(bind: enabled), \(bind: template), \(bind: webhookSecretHash), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                RETURNING \(unsafeRaw: Self.columns)
                """).first()
            let workflow = try Self.decode(try row.required("workflow"))
            try await db.raw("""
                INSERT INTO event_cursors (consumer, tx, event_id, updated_at)
                VALUES (\(bind: Self.consumer(workflow.id)), \(bind: String(start.tx)), \(bind: start.id), \(bind: now.epochMilliseconds))
                """).run()
            return workflow
        }
    }

    /// Replaces the definition and/or the enabled flag; nil when the workflow is not in the workspace.
    public func update(id: Int64, workspaceId: Int64, definition: WorkflowDefinition?, enabled: Bool?, at now: Date) async throws -> StoredWorkflow? {
        guard var current = try await find(id: id, workspaceId: workspaceId) else { return nil }
        if let definition { current.definition = definition }
        if let enabled { current.enabled = enabled }
        let json = try Self.encode(current.definition)
        let stored = current
        return try await database.transaction { db in
            try await db.raw("""
                UPDATE workflows SET name = \(bind: stored.definition.name), trigger_kind = \(bind: stored.definition.trigger.rawValue),
                    once_per_contact = \(bind: stored.definition.oncePerContact), definition = \(bind: json), enabled = \(bind: stored.enabled),
                    updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId)
                RETURNING \(unsafeRaw: Self.columns)
                """).first().map(Self.decode)
        }
    }

    public func delete(id: Int64, workspaceId: Int64) async throws -> Bool {
        try await database.transaction { db in
            guard try await db.raw("DELETE FROM workflows WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) RETURNING id").first() != nil else {
                return false
            }
            try await db.raw("DELETE FROM event_cursors WHERE consumer = \(bind: Self.consumer(id))").run()
            return true
        }
    }

    public func find(id: Int64, workspaceId: Int64) async throws -> StoredWorkflow? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM workflows WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId)")
                .first().map(Self.decode)
        }
    }

    /// A workflow by id alone (the incoming-webhook route, which has no signed-in user), with its secret's hash.
    public func findForWebhook(id: Int64) async throws -> (StoredWorkflow, secretHash: String?)? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM workflows WHERE id = \(bind: id)").first() else { return nil }
            return (try Self.decode(row), try row.decode(column: "webhook_secret_hash", as: String?.self))
        }
    }

    public func list(workspaceId: Int64, afterId: Int64?, limit: Int) async throws -> [StoredWorkflow] {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM workflows WHERE workspace_id = \(bind: workspaceId) AND id > \(bind: afterId ?? 0)
                ORDER BY id LIMIT \(bind: limit)
                """).all().map(Self.decode)
        }
    }

    /// Every enabled workflow of every workspace, for the engine.
    public func enabled() async throws -> [StoredWorkflow] {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM workflows WHERE enabled = \(bind: true) ORDER BY id").all().map(Self.decode)
        }
    }

    // MARK: Event cursors

    public static func consumer(_ workflowId: Int64) -> String { "workflow:\(workflowId)" }

    /// Where a consumer has got to (nil when it has no cursor).
    public func cursor(_ consumer: String) async throws -> EventPosition? {
        try await database.read { db in
            try await db.raw("SELECT tx, event_id FROM event_cursors WHERE consumer = \(bind: consumer)").first().map(Self.position)
        }
    }

    /// Creates a consumer's cursor at `start` unless it exists.
    public func ensureCursor(_ consumer: String, at start: EventPosition, now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                INSERT INTO event_cursors (consumer, tx, event_id, updated_at)
                VALUES (\(bind: consumer), \(bind: String(start.tx)), \(bind: start.id), \(bind: now.epochMilliseconds))
                ON CONFLICT (consumer) DO NOTHING
                """).run()
        }
    }

    /// Puts a consumer's cursor at `position` (a workflow switched on starts from now).
    public func moveCursor(_ consumer: String, to position: EventPosition, now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE event_cursors SET tx = \(bind: String(position.tx)), event_id = \(bind: position.id), updated_at = \(bind: now.epochMilliseconds)
                WHERE consumer = \(bind: consumer)
                """).run()
        }
    }

    /// Inside a transaction: locks the cursor and moves it from `expected` to `position`, then
    /// runs `work` (which records what the events caused). Returns false, doing nothing, when
    /// another engine holds the cursor (PostgreSQL `SKIP LOCKED`) or moved it since it was read:
    /// that engine handles those events, so none is handled twice.
    public func advance<T: Sendable>(_ consumer: String, from expected: EventPosition, to position: EventPosition, now: Date,
                                     work: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T? {
        let skipLocked = database.facts.forUpdateSkipLocked
        return try await database.transaction { db in
            guard let row = try await db.raw("""
                SELECT tx, event_id FROM event_cursors WHERE consumer = \(bind: consumer) \(unsafeRaw: skipLocked)
                """).first(), try Self.position(row) == expected else { return nil }
            let result = try await work(db)
            try await db.raw("""
                UPDATE event_cursors SET tx = \(bind: String(position.tx)), event_id = \(bind: position.id), updated_at = \(bind: now.epochMilliseconds)
                WHERE consumer = \(bind: consumer)
                """).run()
            return result
        }
    }

    static func position(_ row: any SQLRow) throws -> EventPosition {
        let raw = try row.decode(column: "tx", as: String.self)
        guard let tx = UInt64(raw) else { throw StoreError.conflict("unexpected cursor position '\(raw)'") }
        return EventPosition(tx: tx, id: try row.decode(column: "event_id", as: Int64.self))
    }

    static func encode(_ definition: WorkflowDefinition) throws -> String {
        String(decoding: try JSONEncoder.store.encode(definition), as: UTF8.self)
    }

    static func decode(_ row: any SQLRow) throws -> StoredWorkflow {
        let json = try row.decode(column: "definition", as: String.self)
        return StoredWorkflow(
            id: try row.decode(column: "id", as: Int64.self),
            workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
            definition: try JSONDecoder.store.decode(WorkflowDefinition.self, from: Data(json.utf8)),
            enabled: try row.decodeBool(column: "enabled"),
            template: try row.decode(column: "template", as: String?.self),
            hasWebhookSecret: try row.decode(column: "webhook_secret_hash", as: String?.self) != nil,
            createdAt: try row.decodeDate(column: "created_at"),
            updatedAt: try row.decodeDate(column: "updated_at")
        )
    }
}
