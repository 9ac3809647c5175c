import Foundation
@testable import ParleyStore
import SQLKit
import Testing

/// Work that meets a database already shut down (a background task finishing late, a request
/// still running at shutdown) must end with an error, never wait for ever.
@Suite("SQLite after shutdown")
struct SQLiteShutdownTests {
    private func openDatabase() async throws -> (SQLiteDatabaseBackend, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-shutdown-\(UUID().uuidString)")
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, readers: 1, logger: .quiet)
        return (database, directory)
    }

    @Test func aReadSuspendedAcrossShutdownResumesAndFails() async throws {
        let (database, directory) = try await openDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (entered, signalEntered) = AsyncStream<Void>.makeStream()
        let (gate, openGate) = AsyncStream<Void>.makeStream()
        let reading = Task {
            try await database.read { db in
                _ = try await db.raw("SELECT 1 AS n").first()
                signalEntered.yield()
                // Suspended inside the read while the database shuts down; resumes afterwards.
                for await _ in gate { break }
                return try await db.raw("SELECT 2 AS n").first()?.decode(column: "n", as: Int.self)
            }
        }
        var inside = entered.makeAsyncIterator()
        _ = await inside.next()
        await database.shutdown()
        openGate.yield()
        let outcome = await finishes(within: .seconds(20)) { await reading.result }
        #expect(outcome != nil, "the read never resumed")
        if case .success(let value)? = outcome { Issue.record("a closed database answered \(String(describing: value))") }
    }

    @Test func workStartedAfterShutdownFailsAtOnce() async throws {
        let (database, directory) = try await openDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        await database.shutdown()
        let read = await finishes(within: .seconds(20)) {
            await Task { try await database.read { db in try await db.raw("SELECT 1 AS n").first() } }.result
        }
        let write = await finishes(within: .seconds(20)) {
            await Task { try await database.transaction { db in try await db.raw("SELECT 1 AS n").first() } }.result
        }
        #expect(read != nil, "a read after shutdown never finished")
        #expect(write != nil, "a transaction after shutdown never finished")
        if case .success? = read { Issue.record("a read after shutdown succeeded") }
        if case .success? = write { Issue.record("a transaction after shutdown succeeded") }
    }

    /// A connection that cannot open must not leave its thread behind, waiting for ever.
    @Test func aWorkerThatCannotOpenEndsItsThread() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("parley-missing-\(UUID().uuidString)/db.sqlite").path
        // Other tests run alongside: only this test's threads, by name, are counted.
        let prefix = "open\(UInt16.random(in: 1000...9999))-"
        for attempt in 0..<8 {
            await #expect(throws: (any Error).self) {
                _ = try await SQLiteWorker(path: missing, name: "\(prefix)\(attempt)", pragmas: [])
            }
        }
        var left = threads(named: prefix)
        for _ in 0..<250 where left > 0 {
            try await Task.sleep(for: .milliseconds(20))
            left = threads(named: prefix)
        }
        #expect(left == 0, "\(left) threads were left behind by 8 failed opens")
    }

    /// Threads of this process whose name starts with `prefix`, as Linux lists them.
    private func threads(named prefix: String) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.hasPrefix(prefix) == true
        }.count
    }

    /// `operation`'s value, or nil when it has not finished within `limit` (it is left running).
    private func finishes<T: Sendable>(within limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
        let (results, deliver) = AsyncStream<T?>.makeStream()
        Task { deliver.yield(await operation()) }
        Task {
            try? await Task.sleep(for: limit)
            deliver.yield(nil)
        }
        var first = results.makeAsyncIterator()
        return await first.next() ?? nil
    }
}
