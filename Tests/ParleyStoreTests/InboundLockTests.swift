import Foundation
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// On PostgreSQL an inbound message locks its contact as it looks the sender up; what it read
/// about the contact's conversation before it had the lock must not decide where the message goes.
@Suite("Inbound messages and the contact lock")
struct InboundLockTests {
    @Test(.enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
    func aMessageWaitingWhileTheConversationClosesOpensANewOne() async throws {
        try await TestBackend.postgres.withDatabase { database in
            let world = try await ConversationLifecycleTests.world(database)
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            let first = try await world.inbound.record(world.message("wamid.1", at: t0), workspaceId: world.workspaceId, receivedAt: t0)
            #expect(first.openedConversation)

            // An agent closes the conversation; the customer's next message arrives while the
            // closing transaction still holds the contact.
            let (locked, lockedContinuation) = AsyncStream<Void>.makeStream()
            let closing = Task {
                try await database.transaction { db in
                    try await db.raw("SELECT id FROM contacts WHERE id = \(bind: first.contactId) FOR UPDATE").run()
                    try await db.raw("""
                        UPDATE conversations SET status = 'closed', closed_at = \(bind: t0.epochMilliseconds), waiting_since = NULL
                        WHERE id = \(bind: first.conversationId)
                        """).run()
                    lockedContinuation.yield()
                    try await Task.sleep(for: .milliseconds(400))
                }
            }
            var iterator = locked.makeAsyncIterator()
            _ = await iterator.next()
            let t1 = t0.addingTimeInterval(60)
            let second = try await world.inbound.record(world.message("wamid.2", at: t1), workspaceId: world.workspaceId, receivedAt: t1)
            try await closing.value

            #expect(second.openedConversation)
            #expect(second.conversationId != first.conversationId)
            let rows = try await database.read { db in
                try await db.raw("SELECT id, status, unread_count FROM conversations WHERE contact_id = \(bind: first.contactId) ORDER BY id").all()
            }
            #expect(try rows.map { try $0.decode(column: "status", as: String.self) } == ["closed", "open"])
            #expect(try rows.first?.decode(column: "unread_count", as: Int.self) == 1)
            let placed = try await database.read { db in
                try await db.raw("SELECT conversation_id FROM messages WHERE id = \(bind: second.messageId)").first()?
                    .decode(column: "conversation_id", as: Int64.self)
            }
            #expect(placed == second.conversationId)
        }
    }
}
