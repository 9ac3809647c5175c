import Foundation
import ParleyCore
import SQLKit

extension ChannelRepository {
    /// Sets the month's Viber chatbot-initiated count, so that it matches Viber's own dashboard
    /// (SPEC §1). The change is an event naming who made it and the count before and after.
    /// Returns nil when the channel is not in the workspace.
    public func setViberMonthCount(id: Int64, workspaceId: Int64, count: Int64, month: String, actorUserId: Int64, at now: Date) async throws -> Channel? {
        let forUpdate = database.facts.forUpdate
        return try await database.transaction { db in
            guard let current = try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM channels WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) \(unsafeRaw: forUpdate)
                """).first().map(Self.decode) else { return nil }
            guard current.kind == .viber else { throw StoreError.conflict("only Viber channels count chatbot-initiated messages") }
            let previous = current.viberMonth == month ? current.viberMonthCount : 0
            let row = try await db.raw("""
                UPDATE channels SET viber_month = \(bind: month), viber_month_count = \(bind: count), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: id)
                RETURNING \(unsafeRaw: Self.columns)
                """).first()
            let channel = try Self.decode(try row.required("channel"))
            try await EventLog.append(on: db, workspaceId: workspaceId, type: .channelUpdated, subjectId: id, actorUserId: actorUserId,
                                      payload: ViberCountChange(month: month, previousCount: previous, viberMonthCount: count), at: now)
            return channel
        }
    }
}

/// The event payload of a corrected Viber count.
struct ViberCountChange: Encodable, Sendable {
    let change = "viber_month_count"
    let month: String
    let previousCount: Int64
    let viberMonthCount: Int64
}
