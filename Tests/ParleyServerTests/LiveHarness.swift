import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// A Parley listening on a loopback port (with its realtime service running), for WebSocket
/// tests; the REST calls still go through `api`.
struct LiveHarness {
    let api: APIHarness
    let port: Int

    var services: Services { api.services }

    /// Runs a live server on `database` (a fresh one of `backend` when nil).
    static func run(_ backend: TestBackend, database: (any Database)? = nil, configure: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in },
                    _ body: @escaping @Sendable (LiveHarness) async throws -> Void) async throws {
        if let database {
            try await run(on: database, configure: configure, body)
        } else {
            try await backend.withDatabase { database in try await run(on: database, configure: configure, body) }
        }
    }

    private static func run(on database: any Database, configure: (inout ServerConfiguration) -> Void,
                            _ body: @escaping @Sendable (LiveHarness) async throws -> Void) async throws {
        let clock = TestClock(Date())
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4)
        // The test client keeps one connection and does not open another once the server closes
        // it. In a full parallel run a test can wait its turn for longer than the default idle
        // timeout between two requests ("I/O on closed channel"); the timeout has tests of its own.
        configuration.idleTimeout = .seconds(3600)
        configure(&configuration)
        let services = Services(configuration: configuration, database: database, clock: clock, logger: .quiet)
        // Nil for a second instance on a shared database: the owner exists already.
        _ = try await Bootstrap.ensureWorkspace(services: services, email: APIHarness.ownerEmail, password: APIHarness.ownerPassword)
        let app = try buildApplication(services: services, runWorkers: false)
        try await app.test(.live) { client in
            let login = try await APIHarness.send(client, .post, "/api/v1/auth/login", json: ["email": APIHarness.ownerEmail, "password": APIHarness.ownerPassword])
            let token = try #require(login.json["token"] as? String)
            let port = try #require(client.port)
            let harness = LiveHarness(api: APIHarness(client: client, services: services, clock: clock, ownerToken: token), port: port)
            // The realtime service reads the stream's start as it boots: wait until it listens.
            try await harness.waitForStream()
            try await body(harness)
        }
    }

    /// Opens the event stream as the owner (or with `token`), optionally resuming after `after`.
    func stream(token: String? = nil, after: Int64? = nil, query: String = "") async throws -> StreamClient {
        var path = "/api/v1/events"
        var parameters: [String] = []
        if let after { parameters.append("after=\(after)") }
        if !query.isEmpty { parameters.append(query) }
        if !parameters.isEmpty { path += "?" + parameters.joined(separator: "&") }
        var headers: HTTPFields = [:]
        if let token = token ?? Optional(api.ownerToken), !token.isEmpty { headers[.authorization] = "Bearer \(token)" }
        return try await StreamClient.connect(port: port, path: path, headers: headers)
    }

    /// Connects until a client gets its hello (the hub has started).
    private func waitForStream() async throws {
        let client = try await stream()
        // A loaded run (the whole suite on one PostgreSQL) can take seconds to boot a server.
        _ = try await client.next("ready", timeout: .seconds(30))
        await client.close()
    }
}
