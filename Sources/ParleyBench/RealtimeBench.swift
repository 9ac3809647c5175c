import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import ParleyCore
import ParleyServer
import ParleyStore
import Synchronization

/// The event stream under load: commit-to-receipt latency with many connected clients (on one
/// instance, and across two on PostgreSQL), and memory with many idle connections. Clients run
/// in this same process, so the 2 cores and the memory figure are shared by both ends.
struct RealtimeBench {
    let databaseURL: String
    let database: any Database
    let clients: Int
    let idleConnections: Int
    let events: Int
    /// Pause between writes: at 1,000 clients every event is 1,000 frames, so this sets the load.
    let interval: Duration
    let logger: Logger

    func run() async throws -> [Measurement] {
        var results: [Measurement] = []
        let (server, port) = try await start(database)
        let services = server.services
        let workspaceId = try await services.workspaces.first()?.id ?? 1
        let owner = try await services.users.list(workspaceId: workspaceId, afterId: nil, limit: 1).first
        guard let owner else { throw StoreError.notFound("a user to connect as") }
        let token = try await services.tokens.issue(workspaceId: workspaceId, userId: owner.id, kind: .session, name: "bench", expiresAt: nil, at: Date()).token
        results.append(try await fanOut(name: "realtime: commit → \(clients) clients, one instance", writer: services, port: port, token: token, workspaceId: workspaceId))
        if database.kind == .postgres {
            let second = try await DatabaseFactory.open(url: databaseURL, logger: logger)
            let (other, otherPort) = try await start(second)
            results.append(try await fanOut(name: "realtime: commit on A → \(clients) clients of B", writer: services, port: otherPort, token: token,
                                            workspaceId: workspaceId))
            other.task.cancel()
            _ = await other.task.result
            await second.shutdown()
        }
        // Both ends of every connection are in this process: two descriptors each.
        let descriptors = DescriptorLimit.current()
        let idleCount = min(idleConnections, DescriptorLimit.connectionBudget(limit: descriptors) / 2)
        if idleCount < idleConnections {
            print("realtime: \(idleConnections) idle connections need \(2 * idleConnections) descriptors here; the open-file limit is \(descriptors), so \(idleCount) are opened")
        }
        let before = residentMemoryMB()
        let idle = try await connect(count: idleCount, port: port, token: token) { _ in }
        try await Task.sleep(for: .seconds(2))
        let after = residentMemoryMB()
        print(String(format: "realtime: %d idle connections: RSS %.1f MB → %.1f MB (+%.1f MB, %.1f KB per connection, both ends in this process)",
                     idle.count, before, after, after - before, (after - before) * 1024 / Double(max(idle.count, 1))))
        await idle.close()
        server.task.cancel()
        _ = await server.task.result
        return results
    }

    private struct Running {
        let services: Services
        let task: Task<Void, any Error>
    }

    private func start(_ database: any Database) async throws -> (Running, Int) {
        var quiet = logger
        quiet.logLevel = .critical
        let services = Services(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4), database: database, logger: quiet)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = try buildApplication(services: services, runWorkers: false, onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        })
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw StoreError.conflict("server did not start") }
        return (Running(services: services, task: task), port)
    }

    /// Connects `clients`, writes `events` contacts one by one (`interval` apart), and measures from
    /// each write's start to each client's receipt of its frame.
    private func fanOut(name: String, writer: Services, port: Int, token: String, workspaceId: Int64) async throws -> Measurement {
        let started = Mutex<[Int: ContinuousClock.Instant]>([:])
        let samples = Mutex<[Double]>([])
        let run = UUID().uuidString.prefix(6)
        let connections = try await connect(count: clients, port: port, token: token) { text in
            guard text.contains("\"contact.created\""), let range = text.range(of: "rt\(run)-") else { return }
            let digits = text[range.upperBound...].prefix { $0.isNumber }
            guard let sequence = Int(digits), let start = started.withLock({ $0[sequence] }) else { return }
            let latency = (ContinuousClock.now - start).milliseconds
            samples.withLock { $0.append(latency) }
        }
        try await Task.sleep(for: .milliseconds(500))
        let clock = ContinuousClock()
        let began = clock.now
        for sequence in 0..<events {
            started.withLock { $0[sequence] = clock.now }
            _ = try await writer.contacts.create(workspaceId: workspaceId, fields: ContactFields(firstName: .some("rt\(run)-\(sequence)")),
                                                 actorUserId: nil, at: Date())
            try await Task.sleep(for: interval)
        }
        let expected = events * connections.count
        let deadline = clock.now + .seconds(30)
        while samples.withLock({ $0.count }) < expected, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let took = (clock.now - began).milliseconds
        await connections.close()
        let all = samples.withLock { $0 }
        if all.count < expected { print("\(name): \(expected - all.count) of \(expected) frames did not arrive within 30 s") }
        return Measurement(name: name, scale: connections.count, count: all.count, throughputPerSecond: Double(all.count) / max(took, 1) * 1000,
                           p50ms: Measurement.percentile(all, 0.5), p95ms: Measurement.percentile(all, 0.95), p99ms: Measurement.percentile(all, 0.99))
    }

    /// Open WebSocket clients, each handing every text frame to `onText`.
    final class Connections: Sendable {
        private let writers = Mutex<[WebSocketOutboundWriter]>([])
        private let tasks = Mutex<[Task<Void, Never>]>([])

        var count: Int { writers.withLock { $0.count } }

        func add(_ writer: WebSocketOutboundWriter) { writers.withLock { $0.append(writer) } }
        func add(_ task: Task<Void, Never>) { tasks.withLock { $0.append(task) } }

        func close() async {
            for writer in writers.withLock({ $0 }) { try? await writer.close(.normalClosure, reason: nil) }
            for task in tasks.withLock({ $0 }) { _ = await task.value }
        }
    }

    private func connect(count: Int, port: Int, token: String, onText: @escaping @Sendable (String) -> Void) async throws -> Connections {
        let connections = Connections()
        let (opened, openedSignal) = AsyncStream.makeStream(of: Bool.self)
        var quiet = logger
        quiet.logLevel = .critical
        for index in 0..<count {
            let task = Task { [quiet] in
                _ = try? await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/events",
                                                       configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: [.authorization: "Bearer \(token)"]),
                                                       logger: quiet) { inbound, outbound, _ in
                    connections.add(outbound)
                    openedSignal.yield(true)
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { onText(text) }
                    }
                }
                openedSignal.yield(false)
            }
            connections.add(task)
            // Opening in waves of 100 keeps the accept queue from overflowing.
            if index % 100 == 99 { try await Task.sleep(for: .milliseconds(20)) }
        }
        var settled = 0
        for await _ in opened {
            settled += 1
            if settled >= count { break }
        }
        return connections
    }
}
