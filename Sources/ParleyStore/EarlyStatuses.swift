import Foundation
import ParleyCore
import SQLKit

/// Delivery receipts for a provider message id no message has yet: a provider may report
/// `delivered` or `read` before its answer to the send (which carries the id) is recorded.
/// They wait in `early_statuses` and are applied, forward only, when the id is recorded.
///
/// Either side may be first: the receipt is kept and then retried, and the send applies what
/// is kept after it commits, so whichever transaction commits last sees the other's work.
extension MessageStatusUpdater {
    /// How long an unmatched receipt is kept (a receipt for a message sent elsewhere never matches).
    static let earlyLifetime: TimeInterval = 24 * 3600

    func keepEarly(channelId: Int64, providerMessageId: String, status: DeliveryStatus, reason: String?, code: String?, text: String?,
                   at now: Date) async throws -> Bool {
        let kept = try await database.transaction { db -> Bool in
            let known = try await db.raw("""
                SELECT 1 AS known FROM messages WHERE channel_id = \(bind: channelId) AND provider_message_id = \(bind: providerMessageId)
                """).first() != nil
            // A known message that did not move was already past this status.
            if known { return false }
            try await db.raw("DELETE FROM early_statuses WHERE received_at < \(bind: now.addingTimeInterval(-Self.earlyLifetime).epochMilliseconds)").run()
            try await db.raw("""
                INSERT INTO early_statuses (channel_id, provider_message_id, status, failure_reason, error_code, error_text, received_at)
                VALUES (\(bind: channelId), \(bind: providerMessageId), \(bind: status.rawValue), \(bind: reason), \(bind: code),
                        \(bind: text.map { String($0.prefix(500)) }), \(bind: now.epochMilliseconds))
                ON CONFLICT (channel_id, provider_message_id, status) DO NOTHING
                """).run()
            return true
        }
        guard kept else { return false }
        return try await applyEarly(channelId: channelId, providerMessageId: providerMessageId, at: now)
    }

    /// Applies the kept receipts for this id in the order a message goes through them, once a
    /// message has the id; returns whether the message changed.
    public func applyEarly(channelId: Int64, providerMessageId: String, at now: Date) async throws -> Bool {
        try await database.transaction { db in
            let known = try await db.raw("""
                SELECT 1 AS known FROM messages WHERE channel_id = \(bind: channelId) AND provider_message_id = \(bind: providerMessageId)
                """).first() != nil
            guard known else { return false }
            let rows = try await db.raw("""
                SELECT status, failure_reason, error_code, error_text FROM early_statuses
                WHERE channel_id = \(bind: channelId) AND provider_message_id = \(bind: providerMessageId)
                """).all()
            let order: [DeliveryStatus] = [.sent, .delivered, .read, .failed]
            var receipts: [(status: DeliveryStatus, reason: String?, code: String?, text: String?)] = []
            for row in rows {
                guard let status = DeliveryStatus(rawValue: try row.decode(column: "status", as: String.self)) else { continue }
                receipts.append((status, try row.decode(column: "failure_reason", as: String?.self),
                                 try row.decode(column: "error_code", as: String?.self), try row.decode(column: "error_text", as: String?.self)))
            }
            receipts.sort { (order.firstIndex(of: $0.status) ?? 0) < (order.firstIndex(of: $1.status) ?? 0) }
            var changed = false
            for receipt in receipts {
                changed = try await Self.advance(on: db, channelId: channelId, providerMessageId: providerMessageId, status: receipt.status,
                                                 from: Self.predecessors(of: receipt.status), reason: receipt.reason, code: receipt.code,
                                                 text: receipt.text, at: now) || changed
            }
            try await db.raw("DELETE FROM early_statuses WHERE channel_id = \(bind: channelId) AND provider_message_id = \(bind: providerMessageId)").run()
            return changed
        }
    }
}
