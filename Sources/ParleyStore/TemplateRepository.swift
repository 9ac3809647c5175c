import Foundation
import ParleyCore
import SQLKit

/// WhatsApp message templates per channel.
public struct TemplateRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    static let columns = "id, channel_id, name, language, category, status, body, parameter_count, updated_at"

    public func list(channelId: Int64, workspaceId: Int64) async throws -> [MessageTemplate] {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM message_templates
                WHERE channel_id = \(bind: channelId) AND workspace_id = \(bind: workspaceId) ORDER BY name, language
                """).all().map(Self.decode)
        }
    }

    /// Creates or replaces the template with this name and language.
    public func upsert(workspaceId: Int64, channelId: Int64, name: String, language: String, category: TemplateCategory,
                       status: TemplateStatus, body: String, providerTemplateId: String?, at now: Date) async throws -> MessageTemplate {
        try await database.transaction { db in
            try await Self.upsert(on: db, workspaceId: workspaceId, channelId: channelId, name: name, language: language, category: category,
                                  status: status, body: body, providerTemplateId: providerTemplateId, at: now)
        }
    }

    static func upsert(on db: any SQLDatabase, workspaceId: Int64, channelId: Int64, name: String, language: String, category: TemplateCategory,
                       status: TemplateStatus, body: String, providerTemplateId: String?, at now: Date) async throws -> MessageTemplate {
        let row = try await db.raw("""
            INSERT INTO message_templates (workspace_id, channel_id, name, language, category, status, body, parameter_count, provider_template_id, updated_at)
            VALUES (\(bind: workspaceId), \(bind: channelId), \(bind: name), \(bind: language), \(bind: category.rawValue), \(bind: status.rawValue),
                    \(bind: body), \(bind: TemplateBody.parameterCount(body)), \(bind: providerTemplateId), \(bind: now.epochMilliseconds))
            ON CONFLICT (channel_id, name, language) DO UPDATE SET category = excluded.category, status = excluded.status, body = excluded.body,
                parameter_count = excluded.parameter_count, provider_template_id = excluded.provider_template_id, updated_at = excluded.updated_at
            RETURNING \(unsafeRaw: columns)
            """).first()
        return try decode(try row.required("template"))
    }

    static func find(on db: any SQLDatabase, channelId: Int64, name: String, language: String) async throws -> MessageTemplate? {
        try await db.raw("""
            SELECT \(unsafeRaw: columns) FROM message_templates WHERE channel_id = \(bind: channelId) AND name = \(bind: name) AND language = \(bind: language)
            """).first().map(decode)
    }

    static func decode(_ row: any SQLRow) throws -> MessageTemplate {
        MessageTemplate(
            id: try row.decode(column: "id", as: Int64.self),
            channelId: try row.decode(column: "channel_id", as: Int64.self),
            name: try row.decode(column: "name", as: String.self),
            language: try row.decode(column: "language", as: String.self),
            category: try row.decodeEnum(column: "category", as: TemplateCategory.self),
            status: try row.decodeEnum(column: "status", as: TemplateStatus.self),
            body: try row.decode(column: "body", as: String.self),
            parameterCount: try row.decode(column: "parameter_count", as: Int.self),
            updatedAt: try row.decodeDate(column: "updated_at")
        )
    }
}
