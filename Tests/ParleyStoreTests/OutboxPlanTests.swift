import Foundation
@testable import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// The outbox worker claims sends on SQLite's only writer, every round: the claim must read the
/// outbox through its due index, never every message stored, whatever statistics SQLite holds.
@Suite("Outbox claim plan")
struct OutboxPlanTests {
    @Test func theClaimReadsTheOutboxFirstAfterStatisticsOfAnEmptyOutbox() async throws {
        try await TestBackend.sqlite.withDatabase { database in
            let channel = try await Fixtures.channel(in: database)
            let recorder = InboundRecorder(database: database)
            for index in 0..<40 {
                let message = InboundMessage(channelId: channel.id, externalId: "sender-\(index)", displayName: "Sender \(index)",
                                             providerMessageId: "m-\(index)", providerTimestamp: Date(), text: "hello \(index)")
                _ = try await recorder.record(message, workspaceId: channel.workspaceId, receivedAt: Date())
            }
            // What `ANALYZE` (or `PRAGMA optimize`) leaves after it ran while nothing was waiting to be sent.
            try await database.transaction { db in try await db.raw("ANALYZE").run() }
            let plan = try await database.transaction { db in
                try await db.raw("EXPLAIN QUERY PLAN " + OutboxRepository.candidates(nowMs: 0, limit: 40, lock: "")).all()
                    .map { try $0.decode(column: "detail", as: String.self) }
            }
            #expect(plan.first?.hasPrefix("SEARCH o USING INDEX outbox_due") == true, "\(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN m") }, "\(plan)")
        }
    }
}
