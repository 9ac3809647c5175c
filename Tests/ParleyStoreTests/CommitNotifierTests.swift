import Foundation
import Logging
@testable import ParleyStore
import ParleyTestSupport
import SQLKit
import Synchronization
import Testing

/// Instances on one PostgreSQL tell each other about their commits after committing, one
/// notification at a time.
@Suite("Notifications after commit")
struct CommitNotifierTests {
    /// Commits made while a notification is on its way are covered by one more, sent after it;
    /// a commit made later starts a new one.
    @Test func commitsDuringASendAreCoveredByOneMore() async throws {
        let sent = Mutex(0)
        let (gate, open) = AsyncStream<Void>.makeStream()
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let notifier = CommitNotifier {
            let number = sent.withLock { $0 += 1; return $0 }
            if number == 1 {
                // The first notification is held until the test lets it go.
                startedContinuation.yield()
                var waiting = gate.makeAsyncIterator()
                _ = await waiting.next()
            }
        }
        notifier.committed()
        var starts = started.makeAsyncIterator()
        _ = await starts.next()
        for _ in 0..<10 { notifier.committed() }
        open.yield()
        await notifier.finish()
        #expect(sent.withLock { $0 } == 2)

        notifier.committed()
        await notifier.finish()
        #expect(sent.withLock { $0 } == 3)
    }

    /// Without the trigger, a commit on one backend still wakes a listener on another.
    @Test(.enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
    func aCommitWakesTheListenersOfOtherInstances() async throws {
        try await TestBackend.postgres.withDatabaseURL { url in
            // Migrated by a backend of its own, whose notifications are all sent once it shuts down.
            let setup = try await PostgresDatabaseBackend.open(url: url, logger: .quiet)
            try await Migrator(database: setup, logger: .quiet).migrate()
            let triggers = try await setup.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM pg_trigger WHERE tgname = 'events_notify'").first()?.decode(column: "n", as: Int.self)
            }
            #expect(triggers == 0)
            await setup.shutdown()
            let writer = try await PostgresDatabaseBackend.open(url: url, logger: .quiet)
            let listener = try await PostgresDatabaseBackend.open(url: url, logger: .quiet)

            let (listening, listeningContinuation) = AsyncStream<Void>.makeStream()
            let (payloads, payloadContinuation) = AsyncStream<String>.makeStream()
            let listen = Task {
                try await listener.listen(channel: PostgresDatabaseBackend.eventsChannel, onListening: { listeningContinuation.yield() },
                                          onNotification: { payloadContinuation.yield($0) })
            }
            var ready = listening.makeAsyncIterator()
            _ = await ready.next()
            try await writer.transaction { db in try await db.raw("CREATE TABLE notified (id INTEGER)").run() }
            let woken = Task {
                var received = payloads.makeAsyncIterator()
                return await received.next()
            }
            let timeout = Task {
                try await Task.sleep(for: .seconds(10))
                woken.cancel()
            }
            #expect(await woken.value == "")
            timeout.cancel()
            listen.cancel()
            _ = await listen.result
            await writer.shutdown()
            await listener.shutdown()
        }
    }
}
