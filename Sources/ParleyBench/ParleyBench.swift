import ArgumentParser
import Foundation
import Logging
import ParleyCore
import ParleyServer
import ParleyStore

@main
struct ParleyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-bench",
        abstract: "Seeds data at scale and measures inbox lists and contact search as the data grows."
    )

    @Option(name: .customLong("database-url"), help: "sqlite://PATH or postgres://… (default: a new SQLite file in a temporary directory, removed at the end)")
    var databaseURL: String?

    @Flag(name: .customLong("keep-database"), help: "Keep the temporary SQLite database (and its files) instead of removing it at the end")
    var keepDatabase = false

    @Option(help: "Runs of each measurement; each figure is their median")
    var runs: Int = 3

    @Option(help: "Contact counts to measure at, comma-separated; data grows from one to the next")
    var scales: String = "10000,100000,1000000"

    @Option(name: .customLong("messages-per-contact"), help: "Messages seeded per contact")
    var messagesPerContact: Int = 10

    @Option(help: "Iterations per measured operation")
    var iterations: Int = 200

    @Flag(help: "A small run (10k and 20k contacts, 2 messages each, 50 iterations, 2,000 requests per load) that takes a few minutes")
    var quick = false

    @Option(help: "Write the results as JSON to this file")
    var json: String?

    @Flag(name: .customLong("measure-only"), help: "Measure an already seeded database (the first workspace) without seeding")
    var measureOnly = false

    @Flag(name: .customLong("skip-http"), help: "Leave out the live-server part (webhook ingest, composer, sending), measured at every scale otherwise")
    var skipHTTP = false

    @Flag(name: .customLong("realtime-only"), help: "Only the event stream part: fan-out latency and idle connections")
    var realtimeOnly = false

    @Option(name: .customLong("realtime-clients"), help: "WebSocket clients receiving each event (--quick: 200)")
    var realtimeClients: Int = 1000

    @Option(name: .customLong("idle-connections"), help: "Idle WebSocket connections to measure memory with (--quick: 1000)")
    var idleConnections: Int = 10000

    @Option(name: .customLong("realtime-events"), help: "Events written during the fan-out measurement (--quick: 30)")
    var realtimeEvents: Int = 100

    @Option(name: .customLong("realtime-interval-ms"), help: "Milliseconds between those events")
    var realtimeIntervalMs: Int = 100

    func run() async throws {
        // The handler `parley serve` writes plain lines with: setting a field on a request's
        // logger costs what it costs in production.
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: .text) }
        // As `parley serve` does; the realtime part holds both ends of thousands of connections.
        DescriptorLimit.raise()
        var logger = Logger(label: "parley-bench")
        logger.logLevel = .warning
        // A database of its own in a directory of its own (attachments go beside it), removed
        // at the end unless asked to keep it: at a million contacts it is 2 GB.
        let temporary = databaseURL == nil
            ? FileManager.default.temporaryDirectory.appendingPathComponent("parley-bench-\(UUID().uuidString.prefix(8))") : nil
        if let temporary { try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true) }
        let url = databaseURL ?? "sqlite://" + (temporary?.appendingPathComponent("bench.sqlite").path ?? "")
        let database = try await DatabaseFactory.open(url: url, logger: logger)
        do {
            try await run(database: database, url: url, logger: logger)
        } catch {
            await database.shutdown()
            removeTemporary(temporary)
            throw error
        }
        await database.shutdown()
        removeTemporary(temporary)
    }

    func removeTemporary(_ directory: URL?) {
        guard let directory else { return }
        if keepDatabase {
            print("Kept the database: sqlite://\(directory.appendingPathComponent("bench.sqlite").path)")
        } else {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    func run(database: any Database, url: String, logger: Logger) async throws {
        try await Migrator(database: database, logger: logger).migrate()
        let steps = quick ? [10_000, 20_000] : scales.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let perContact = quick ? 2 : messagesPerContact
        let iterations = quick ? 50 : self.iterations
        print("Parley benchmark on \(database.kind.rawValue); idle RSS \(String(format: "%.1f", residentMemoryMB())) MB")

        let now = Date()
        var results: [Measurement] = []
        let realtime = RealtimeBench(databaseURL: url, database: database, clients: quick ? 200 : realtimeClients,
                                     idleConnections: quick ? 1000 : idleConnections, events: quick ? 30 : realtimeEvents,
                                     interval: .milliseconds(realtimeIntervalMs), logger: logger)
        if realtimeOnly {
            if try await database.read({ db in try await db.raw("SELECT COUNT(*) AS n FROM users").first()?.decode(column: "n", as: Int.self) ?? 0 }) == 0 {
                _ = try await Seeder.prepare(database: database, now: now)
            }
            results = try await realtime.run()
            printTable(results)
            try write(results)
            return
        }
        if measureOnly {
            let seeder = try await Seeder.existing(database: database)
            let scale = try await database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM contacts").first()?.decode(column: "n", as: Int.self) ?? 0
            }
            results = try await measure(database: database, seeder: seeder, scale: scale, iterations: iterations)
            if !skipHTTP {
                results += try await HTTPBench(database: database, workspaceId: seeder.workspaceId, scale: scale, quick: quick, runs: runs, logger: logger).run()
                results += try await realtime.run()
            }
            printTable(results)
            try write(results)
            return
        }
        var seeder = try await Seeder.prepare(database: database, now: now)
        var seeded = 0
        for scale in steps.sorted() where scale > seeded {
            let started = ContinuousClock.now
            try await seeder.seed(from: seeded, to: scale, messagesPerContact: perContact, now: now)
            let took = (ContinuousClock.now - started).milliseconds / 1000
            print(String(format: "seeded %d → %d contacts (+%d messages) in %.1f s (%.0f contacts/s); RSS %.1f MB",
                         seeded, scale, (scale - seeded) * perContact, took, Double(scale - seeded) / max(took, 0.001), residentMemoryMB()))
            seeded = scale
            if database.kind == .postgres {
                try await database.read { db in try await db.raw("ANALYZE").run() }
            } else {
                try await database.transaction { db in try await db.raw("ANALYZE").run() }
            }
            results += try await measure(database: database, seeder: seeder, scale: scale, iterations: iterations)
            if !skipHTTP {
                results += try await HTTPBench(database: database, workspaceId: seeder.workspaceId, scale: scale, quick: quick, runs: runs, logger: logger).run()
            }
        }
        if !skipHTTP {
            results += try await realtime.run()
        }
        print(String(format: "\nEach figure is the median of %d runs; \"ceiling\" is its throughput over the hello route's best in the same run; "
                     + "\"gen CPU\" is the share of this process's CPU the load generator's own I/O thread used; "
                     + "\"CPU µs/op\" is this process's CPU time per request, load generator included.", runs))
        printTable(results)
        printGrowth(results)
        print(String(format: "\nRSS after seeding and measuring: %.1f MB", residentMemoryMB()))
        try write(results)
    }

    func write(_ results: [Measurement]) throws {
        guard let json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(results).write(to: URL(fileURLWithPath: json))
        print("Wrote \(json)")
    }

    /// One store measurement, run `runs` times; each figure is the median.
    func measured(_ name: String, scale: Int, iterations: Int, _ body: (Int) async throws -> Void) async throws -> Measurement {
        try await Measurement.median(runs: runs) { _ in try await Measurement.run(name, scale: scale, iterations: iterations, body) }
    }

    func measure(database: any Database, seeder: Seeder, scale: Int, iterations: Int) async throws -> [Measurement] {
        let contacts = ContactRepository(database: database)
        let inbox = InboxRepository(database: database)
        let workspaceId = seeder.workspaceId
        let viewer = seeder.userIds[1]
        var results: [Measurement] = []
        // The floor every store operation pays: one statement, and one write transaction.
        results.append(try await measured("store: one statement (SELECT 1)", scale: scale, iterations: iterations * 5) { _ in
            try await database.read { db in try await db.raw("SELECT 1 AS one").run() }
        })
        results.append(try await measured("store: write transaction, one statement", scale: scale, iterations: iterations * 5) { _ in
            try await database.transaction { db in try await db.raw("SELECT 1 AS one").run() }
        })
        let searches: [(String, (Int) -> String)] = [
            ("search: partial name", { ["núñez-sa", "garcia-ko", "zoë dubois-", "ostergaard-lö", "lópez-ñu", "müller-ta"][$0 % 6] }),
            ("search: partial phone", { i in
                // The last seven digits of an existing contact's number, typed with a space.
                let digits = String(String(2_000_000_000 + (i * 7919) % scale).suffix(7))
                return digits.prefix(3) + " " + digits.dropFirst(3)
            }),
            ("search: exact email", { i in "c\((i * 7919) % scale)@example.com" }),
            ("search: no match", { _ in "qqxqq" }),
        ]
        for (name, query) in searches {
            results.append(try await measured(name, scale: scale, iterations: iterations) { i in
                _ = try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery(query(i)), beforeId: nil, limit: 50)
            })
        }
        for view in InboxView.allCases {
            for status in StatusFilter.allCases {
                results.append(try await measured("inbox \(view.rawValue)/\(status.rawValue) first page", scale: scale, iterations: iterations) { _ in
                    _ = try await inbox.list(InboxQuery(workspaceId: workspaceId, viewerId: viewer, view: view, status: status, limit: 51))
                })
            }
        }
        results.append(try await measured("inbox all/open, page 20 (keyset)", scale: scale, iterations: max(10, iterations / 10)) { _ in
            var after: (key: Int64, id: Int64)?
            for _ in 0..<20 {
                let rows = try await inbox.list(InboxQuery(workspaceId: workspaceId, viewerId: viewer, after: after, limit: 51))
                guard let last = rows.prefix(50).last else { break }
                after = (last.sortKey, last.conversation.id)
            }
        })
        results.append(try await measured("inbox all/closed + search name", scale: scale, iterations: iterations) { i in
            _ = try await inbox.list(InboxQuery(workspaceId: workspaceId, viewerId: viewer, status: .closed,
                                                search: ContactSearchQuery(["núñez-sa", "garcía-ko", "müller-ta"][i % 3]), limit: 51))
        })
        results.append(try await measured("inbox mine/open + channel filter", scale: scale, iterations: iterations) { _ in
            _ = try await inbox.list(InboxQuery(workspaceId: workspaceId, viewerId: viewer, view: .mine, channelId: seeder.channels[0].id, limit: 51))
        })
        results.append(try await measured("inbox all/open sort=waiting", scale: scale, iterations: iterations) { _ in
            _ = try await inbox.list(InboxQuery(workspaceId: workspaceId, viewerId: viewer, sort: .waiting, limit: 51))
        })
        return results
    }
}
