import Foundation
import ParleyCore
import SQLKit

/// A contact's edits and unsends of messages they sent: the timeline keeps the message in its
/// place, shows the latest text and says that it was edited or deleted.
public struct MessageRevisions: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// What an inbox row shows for a message its sender withdrew.
    public static let deletedPreview = "Message deleted"

    /// Applies an edit (`text`) or an unsend (`deleted`) made at the provider's time `at`.
    /// Returns false when no stored inbound message has that id, or a later edit was applied.
    @discardableResult
    public func revise(channelId: Int64, providerMessageId: String, text: String?, deleted: Bool, at: Date, now: Date) async throws -> Bool {
        let at = at.epochMilliseconds
        return try await database.transaction { db in
            let change: SQLQueryString = deleted
                ? "text = NULL, content = NULL, deleted_at = \(bind: at)"
                : "text = \(bind: text ?? ""), edited_at = \(bind: at)"
            // Edits may arrive out of order: an older edit never replaces a newer one.
            guard let row = try await db.raw("""
                UPDATE messages SET \(change), updated_at = \(bind: now.epochMilliseconds)
                WHERE channel_id = \(bind: channelId) AND provider_message_id = \(bind: providerMessageId) AND direction = 'inbound'
                  AND deleted_at IS NULL AND (edited_at IS NULL OR edited_at <= \(bind: at))
                RETURNING id, workspace_id, conversation_id
                """).first() else { return false }
            let id = try row.decode(column: "id", as: Int64.self)
            let workspaceId = try row.decode(column: "workspace_id", as: Int64.self)
            if let conversationId = try row.decode(column: "conversation_id", as: Int64?.self) {
                let preview = deleted ? Self.deletedPreview : String((text ?? "").prefix(InboundRecorder.previewLength))
                try await db.raw("""
                    UPDATE conversations SET last_message_preview = \(bind: preview) WHERE id = \(bind: conversationId) AND last_message_id = \(bind: id)
                    """).run()
            }
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .messageUpdated, subjectId: id,
                                      payload: ["messageId": id], at: now)
            return true
        }
    }
}

extension MessageStatusUpdater {
    /// A watermark (Messenger, Instagram): every message sent to `externalId` on the channel
    /// before `upTo` reached `status`, whether or not the provider listed it. Returns how many
    /// messages moved forward.
    @discardableResult
    public func applyWatermark(channelId: Int64, externalId: String, status: DeliveryStatus, upTo: Date, at now: Date) async throws -> Int {
        // Only messages the provider has: a pending one is not behind the watermark yet.
        let from: [DeliveryStatus] = status == .read ? [.sent, .delivered] : status == .delivered ? [.sent] : []
        guard !from.isEmpty else { return 0 }
        return try await database.transaction { db in
            let rows = try await db.raw("""
                UPDATE messages SET status = \(bind: status.rawValue), updated_at = \(bind: now.epochMilliseconds)
                WHERE channel_id = \(bind: channelId) AND direction = 'outbound' AND created_at <= \(bind: upTo.epochMilliseconds)
                  AND status IN (\(SQLList(from.map { SQLBind($0.rawValue) })))
                  AND identity_id IN (SELECT id FROM contact_identities WHERE channel_id = \(bind: channelId) AND external_id = \(bind: externalId))
                RETURNING id, workspace_id
                """).all()
            for row in rows {
                let id = try row.decode(column: "id", as: Int64.self)
                try await EventLog.append(on: db, workspaceId: try row.decode(column: "workspace_id", as: Int64.self), type: .messageUpdated,
                                          subjectId: id, payload: ["messageId": id], at: now)
            }
            return rows.count
        }
    }
}
