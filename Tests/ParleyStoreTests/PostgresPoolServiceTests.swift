import Foundation
import Logging
import ParleyStore
import ParleyTestSupport
import ServiceLifecycle
import SQLKit
import Synchronization
import Testing

/// `parley serve` runs PostgreSQL's connection pool as the first service of its service group:
/// queries made before it runs wait for it, and it stops only after the services listed after
/// it have finished, so their last writes on the way down still reach the database.
@Suite("PostgreSQL pool as a service")
struct PostgresPoolServiceTests {
    @Test(.enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
    func queriesWaitForThePoolAndItOutlivesTheServicesAfterIt() async throws {
        try await TestBackend.postgres.withDatabaseURL { url in
            let (database, pool) = try await DatabaseFactory.openForServiceGroup(url: url, logger: .quiet)
            let service = try #require(pool)
            // Asked before the pool runs: it waits instead of failing.
            let early = Task { try await database.read { db in try await db.raw("SELECT 1 AS one").first()?.decode(column: "one", as: Int.self) } }
            try await Task.sleep(for: .milliseconds(50))
            let lastWrite = LastWrite(database: database)
            let group = ServiceGroup(configuration: .init(services: [.init(service: service), .init(service: lastWrite)], logger: .quiet))
            let running = Task { try await group.run() }
            #expect(try await early.value == 1)
            await group.triggerGracefulShutdown()
            try await running.value
            // The service after the pool wrote during its own shutdown, before the pool stopped.
            #expect(lastWrite.result.withLock { $0 } == "written")
            await database.shutdown()
        }
    }

    @Test func sqliteHasNoPoolToRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-pool-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (database, pool) = try await DatabaseFactory.openForServiceGroup(url: "sqlite://" + directory.appendingPathComponent("db.sqlite").path, logger: .quiet)
        #expect(pool == nil)
        try await database.transaction { db in try await db.raw("CREATE TABLE t (v INTEGER)").run() }
        await database.shutdown()
    }
}

/// Waits for the graceful shutdown, then writes: what a worker finishing its job does.
private final class LastWrite: Service {
    let database: any Database
    let result = Mutex<String>("not run")

    init(database: any Database) {
        self.database = database
    }

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try await database.transaction { db in
                try await db.raw("CREATE TABLE IF NOT EXISTS pool_probe (v INTEGER)").run()
                try await db.raw("INSERT INTO pool_probe (v) VALUES (1)").run()
            }
            result.withLock { $0 = "written" }
        } catch {
            result.withLock { $0 = "failed: \(error)" }
        }
    }
}
