import Foundation
import SQLKit

/// Nonces of webhooks whose signature does not cover the body, kept for as long as their
/// timestamps are accepted, so that each is taken once by whichever instance gets it first.
public struct WebhookNonceStore: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// True when the nonce is new for this channel (it is now taken); false for a replay.
    public func claim(channelId: Int64, nonce: String, keepFor: TimeInterval, at now: Date) async throws -> Bool {
        try await database.transaction { db in
            try await db.raw("DELETE FROM webhook_nonces WHERE seen_at < \(bind: now.addingTimeInterval(-keepFor).epochMilliseconds)").run()
            let inserted = try await db.raw("""
                INSERT INTO webhook_nonces (channel_id, nonce, seen_at) VALUES (\(bind: channelId), \(bind: nonce), \(bind: now.epochMilliseconds))
                ON CONFLICT (channel_id, nonce) DO NOTHING
                RETURNING nonce
                """).first()
            return inserted != nil
        }
    }

    /// Gives a nonce back when its request could not be processed, so the provider's retry is taken.
    public func release(channelId: Int64, nonce: String) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM webhook_nonces WHERE channel_id = \(bind: channelId) AND nonce = \(bind: nonce)").run()
        }
    }
}
