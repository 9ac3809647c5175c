import Foundation
import ParleyCore
import SQLKit

/// Workspace-defined contact fields.
public struct CustomFieldRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    public func list(workspaceId: Int64) async throws -> [CustomFieldDefinition] {
        try await database.read { db in try await Self.list(on: db, workspaceId: workspaceId) }
    }

    static func list(on db: any SQLDatabase, workspaceId: Int64) async throws -> [CustomFieldDefinition] {
        try await db.raw("SELECT key, label, type, options FROM custom_field_definitions WHERE workspace_id = \(bind: workspaceId) ORDER BY id")
            .all().map { row in
                let options = try row.decode(column: "options", as: String.self)
                return CustomFieldDefinition(
                    key: try row.decode(column: "key", as: String.self),
                    label: try row.decode(column: "label", as: String.self),
                    type: try row.decodeEnum(column: "type", as: CustomFieldType.self),
                    options: try StoredJSON.decode([String].self, from: options, column: "custom_field_definitions.options")
                )
            }
    }

    /// Defines a field; a key already defined is a conflict.
    public func create(workspaceId: Int64, definition: CustomFieldDefinition, at now: Date) async throws -> CustomFieldDefinition {
        let options = String(decoding: try JSONEncoder.store.encode(definition.options), as: UTF8.self)
        return try await database.transaction { db in
            if try await db.raw("SELECT id FROM custom_field_definitions WHERE workspace_id = \(bind: workspaceId) AND key = \(bind: definition.key)").first() != nil {
                throw StoreError.conflict("a custom field '\(definition.key)' already exists")
            }
            try await db.raw("""
                INSERT INTO custom_field_definitions (workspace_id, key, label, type, options, created_at)
                VALUES (\(bind: workspaceId), \(bind: definition.key), \(bind: definition.label), \(bind: definition.type.rawValue), \(bind: options), \(bind: now.epochMilliseconds))
                """).run()
            return definition
        }
    }

    /// Removes a definition and the exact-search entries of its values.
    public func delete(workspaceId: Int64, key: String) async throws -> Bool {
        try await database.transaction { db in
            guard try await db.raw("DELETE FROM custom_field_definitions WHERE workspace_id = \(bind: workspaceId) AND key = \(bind: key) RETURNING id").first() != nil else {
                return false
            }
            try await db.raw("DELETE FROM contact_text_values WHERE workspace_id = \(bind: workspaceId) AND field_key = \(bind: key)").run()
            return true
        }
    }
}
