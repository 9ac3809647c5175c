import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyServer
import ParleyStore
import Synchronization
import Testing

extension APIHarness {
    /// Runs engine rounds until one finds nothing to do: every event read, every due run stepped.
    func settleWorkflows(_ engine: WorkflowEngine? = nil) async throws {
        let engine = engine ?? WorkflowEngine(services: services)
        for _ in 0..<100 where try await engine.runOnce() > 0 {}
    }

    /// Creates a workflow from JSON and returns its id, expecting success.
    func workflow(_ json: [String: Any]) async throws -> Int64 {
        let created = try await send(.post, "/api/v1/workflows", json: json)
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }

    func template(_ key: String, options: [String: Any] = [:]) async throws -> Int64 {
        let created = try await send(.post, "/api/v1/workflows/from-template", json: ["template": key, "options": options, "enabled": true])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }

    func newContact(_ name: String, tags: [String] = []) async throws -> Int64 {
        let created = try await send(.post, "/api/v1/contacts", json: ["firstName": name, "tags": tags])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }

    func openConversation(_ contactId: Int64) async throws {
        let opened = try await send(.post, "/api/v1/contacts/\(contactId)/conversation/open", json: [:])
        #expect(opened.status == .ok || opened.status == .created, "\(opened.text)")
    }

    func closeConversation(_ contactId: Int64) async throws {
        let closed = try await send(.post, "/api/v1/contacts/\(contactId)/conversation/close", json: [:])
        #expect(closed.status == .ok, "\(closed.text)")
    }

    func assignee(_ contactId: Int64) async throws -> Int64? {
        let conversation = try await send(.get, "/api/v1/contacts/\(contactId)/conversation")
        return (conversation.json["assigneeId"] as? NSNumber)?.int64Value
    }

    /// A workflow's runs, newest first.
    func runs(_ workflowId: Int64) async throws -> [[String: Any]] {
        let reply = try await send(.get, "/api/v1/workflows/\(workflowId)/runs?limit=200")
        #expect(reply.status == .ok, "\(reply.text)")
        return reply.items
    }

    func contactJSON(_ id: Int64) async throws -> [String: Any] {
        try await send(.get, "/api/v1/contacts/\(id)").json
    }
}

/// A local HTTP server standing in for a CRM or a webhook receiver: records every request and
/// answers with what `respond` says.
final class StandInServer: Sendable {
    struct Received: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: String
    }

    private let received = Mutex<[Received]>([])
    let respond: @Sendable (Received, Int) -> (Int, String)

    init(respond: @escaping @Sendable (Received, Int) -> (Int, String) = { _, _ in (200, "{}") }) {
        self.respond = respond
    }

    var requests: [Received] { received.withLock { $0 } }

    /// Serves on a loopback port for the duration of `body`, which gets the base URL.
    func run(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.on("**", method: .get, use: handle)
        router.on("**", method: .post, use: handle)
        let app = Application(router: router, logger: .quiet)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body("http://127.0.0.1:\(port)")
        }
    }

    @Sendable private func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        // Names in lower case, as HTTP/2 spells them.
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let item = Received(method: request.method.rawValue, path: request.uri.path, headers: headers, body: String(buffer: bytes))
        let index = received.withLock { list in
            list.append(item)
            return list.count
        }
        let (status, text) = respond(item, index)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
