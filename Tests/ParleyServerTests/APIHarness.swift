import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyChannels
import ParleySimulator
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

extension TestBackend: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}

/// One answer from the API under test.
struct Reply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// `error.code` of an error answer.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
}

/// The id of the message in a send's answer.
func sentMessageId(_ reply: Reply) throws -> Int64 {
    try #require(((reply.json["message"] as? [String: Any])?["id"] as? NSNumber)?.int64Value, "\(reply.text)")
}

/// An in-process Parley on a fresh database, with an owner who can log in.
struct APIHarness {
    static let ownerEmail = "owner@example.com"
    static let ownerPassword = "correct horse battery"

    let client: any TestClientProtocol
    let services: Services
    let clock: TestClock
    let ownerToken: String

    /// The harness's providers are simulated on loopback, so private targets are allowed unless
    /// a test asks for a production server's policy.
    static func run(_ backend: TestBackend, providerTimeout: TimeAmount = .seconds(5), targets: NetworkTargetPolicy = .allowingPrivate,
                    _ body: @escaping @Sendable (APIHarness) async throws -> Void) async throws {
        try await backend.withDatabase { database in
            let clock = TestClock(Date())
            let services = Services(
                configuration: ServerConfiguration(host: "127.0.0.1", port: 8080, publicURL: "https://parley.example.com/", bcryptCost: 4),
                database: database, clock: clock, channelRuntime: ChannelRuntime(http: ProviderHTTP(client: ProviderHTTP.sharedClient, timeout: providerTimeout, targets: targets)),
                logger: .quiet
            )
            _ = try await Bootstrap.ensureWorkspace(services: services, email: ownerEmail, password: ownerPassword)
            let app = Application(router: try buildRouter(services: services), logger: .quiet)
            try await app.test(.router) { client in
                let login = try await Self.send(client, .post, "/api/v1/auth/login", json: ["email": ownerEmail, "password": ownerPassword])
                let token = try #require(login.json["token"] as? String)
                try await body(APIHarness(client: client, services: services, clock: clock, ownerToken: token))
            }
        }
    }

    static func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String? = nil,
                     headers extra: HTTPFields = [:], raw: String? = nil, json: [String: Any]? = nil) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = "application/json"
        } else if let raw {
            body = ByteBuffer(string: raw)
            headers[.contentType] = "application/json"
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// Sends as the owner unless another token is given; `token: ""` sends no token.
    func send(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, raw: String? = nil, json: [String: Any]? = nil) async throws -> Reply {
        let bearer = token ?? ownerToken
        return try await Self.send(client, method, uri, token: bearer.isEmpty ? nil : bearer, raw: raw, json: json)
    }

    /// Creates a user through the API and logs them in.
    func user(_ role: Role, email: String? = nil) async throws -> (id: Int64, token: String) {
        let address = email ?? "\(role.rawValue)-\(UUID().uuidString.prefix(6))@example.com"
        let created = try await send(.post, "/api/v1/users", json: ["email": address, "name": role.rawValue.capitalized, "password": "password-123", "role": role.rawValue])
        #expect(created.status == .created)
        let login = try await send(.post, "/api/v1/auth/login", token: "", json: ["email": address, "password": "password-123"])
        let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
        return (id, try #require(login.json["token"] as? String))
    }

    /// The contact who has an identity with this address.
    func contact(externalId: String) async throws -> Int64 {
        let contacts = try await services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 20)
        return try #require(contacts.first { $0.identities.contains { $0.externalId == externalId } }).id
    }

    /// Runs `body` with a provider simulator on loopback whose clock is the harness's.
    func withSimulator(_ body: (ProviderSimulator) async throws -> Void) async throws {
        let simulator = ProviderSimulator(now: { clock.now() })
        try await simulator.start()
        do {
            try await body(simulator)
            await simulator.stop()
        } catch {
            await simulator.stop()
            throw error
        }
    }

    /// Delivers a webhook built by the simulator.
    func webhook(_ channelId: Int64, _ signed: (body: [UInt8], headers: [(String, String)])) async throws -> Reply {
        var headers: HTTPFields = [:]
        for (name, value) in signed.headers {
            if let field = HTTPFields.Element.Name(name) { headers[field] = value }
        }
        return try await client.execute(uri: "/webhooks/\(channelId)", method: .post, headers: headers, body: ByteBuffer(bytes: signed.body)) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// A message's stored status and failure reason.
    func messageState(_ id: Int64) async throws -> (status: String, reason: String?, providerId: String?) {
        try await services.database.read { db in
            let row = try await db.raw("SELECT status, failure_reason, provider_message_id FROM messages WHERE id = \(bind: id)").first()
            return (try row?.decode(column: "status", as: String.self) ?? "?", try row?.decode(column: "failure_reason", as: String?.self),
                    try row?.decode(column: "provider_message_id", as: String?.self))
        }
    }

    /// Counts rows of a table, to check that a refused request changed nothing.
    func count(_ table: String) async throws -> Int {
        try await services.database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }
}
