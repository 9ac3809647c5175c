import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
@testable import ParleyServer
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Every route `/openapi.json` documents as authenticated, called without a token, with a token
/// that does not exist and with another workspace's token, is refused and changes nothing.
/// The routes are read from the document at run time, so routes added later are covered too.
@Suite("Route authorization")
struct RouteAuthorizationTests {
    @Test(arguments: TestBackend.all)
    func everyAuthenticatedRouteRefusesStrangers(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            try await seedWorkspace(api)
            let strangerToken = try await otherWorkspaceToken(api)
            let document = try await api.send(.get, "/openapi.json", token: "").json
            let routes = try Self.authenticatedRoutes(document)
            #expect(routes.count > 40, "only \(routes.count) authenticated routes documented")
            let before = try await fingerprint(api)
            for route in routes {
                let uri = route.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "1", options: .regularExpression)
                let body = route.body.map { Self.example($0, components: document) }
                for (label, token) in [("no token", ""), ("bad token", "not-a-real-token")] {
                    let reply = try await api.send(route.method, uri, token: token, json: body as? [String: Any])
                    // A WebSocket route answers a plain GET 426 before anything else.
                    #expect([.unauthorized, .upgradeRequired].contains(reply.status), "\(label): \(route.method) \(route.path) answered \(reply.status.code)")
                }
                // Another workspace's owner naming this workspace's resources by id; routes
                // without an id act on the caller's own workspace and are theirs to use.
                if route.path.contains("{") {
                    let reply = try await api.send(route.method, uri, token: strangerToken, json: body as? [String: Any])
                    // Refused as not found, or for the same reason as an id that never existed:
                    // either way the answer says nothing about this workspace.
                    let never = route.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "987654", options: .regularExpression)
                    let baseline = try await api.send(route.method, never, token: strangerToken, json: body as? [String: Any])
                    let indistinguishable = reply.status == baseline.status && (400..<500).contains(reply.status.code)
                    #expect([.notFound, .unauthorized].contains(reply.status) || indistinguishable,
                            "other workspace: \(route.method) \(route.path) answered \(reply.status.code) \(reply.text.prefix(200))")
                }
            }
            let after = try await fingerprint(api)
            #expect(before == after, "a refused request changed the database")
        }
    }

    struct Route {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: Any]?
    }

    static func authenticatedRoutes(_ document: [String: Any]) throws -> [Route] {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var routes: [Route] = []
        for (path, operations) in paths.sorted(by: { $0.key < $1.key }) {
            for (name, raw) in operations.sorted(by: { $0.key < $1.key }) {
                guard let operation = raw as? [String: Any], let method = HTTPRequest.Method(name.uppercased()) else { continue }
                // Public routes say `security: []`.
                guard let security = operation["security"] as? [Any], !security.isEmpty else { continue }
                let content = ((operation["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any]
                routes.append(Route(method: method, path: path, body: content?["schema"] as? [String: Any]))
            }
        }
        return routes
    }

    /// A value of the schema with every required property filled, so that a request is judged
    /// on who sends it rather than refused for its shape.
    static func example(_ schema: [String: Any], components document: [String: Any], depth: Int = 0) -> Any {
        if depth > 6 { return NSNull() }
        if let ref = schema["$ref"] as? String, let name = ref.split(separator: "/").last,
           let target = ((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?[String(name)] as? [String: Any] {
            return example(target, components: document, depth: depth + 1)
        }
        if let options = (schema["oneOf"] ?? schema["anyOf"]) as? [[String: Any]], let first = options.first {
            return example(first, components: document, depth: depth + 1)
        }
        if let values = schema["enum"] as? [Any], let first = values.first { return first }
        let type = (schema["type"] as? String) ?? (schema["type"] as? [String])?.first { $0 != "null" }
        switch type {
        case "object":
            var object: [String: Any] = [:]
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for name in schema["required"] as? [String] ?? [] {
                object[name] = properties[name].map { example($0, components: document, depth: depth + 1) } ?? "x"
            }
            return object
        case "array": return []
        case "integer", "number": return 1
        case "boolean": return true
        case "string":
            switch schema["format"] as? String {
            case "email": return "someone@example.com"
            case "date-time": return "2026-01-01T00:00:00Z"
            case "uri": return "https://example.com"
            default: return "Example"
            }
        default: return "Example"
        }
    }

    /// Workspace 1 gets one of each resource with id 1 where it can.
    func seedWorkspace(_ api: APIHarness) async throws {
        let contact = try await api.send(.post, "/api/v1/contacts", json: ["name": "Ana", "email": "ana@example.com"])
        #expect(contact.status == .created, "\(contact.text)")
        let channel = try await api.send(.post, "/api/v1/channels", json: [
            "type": "telegram", "name": "Bot", "credentials": ["botToken": "1:x"], "verifyCredentials": false,
        ])
        #expect(channel.status == .created, "\(channel.text)")
        _ = try await api.user(.agent)
    }

    /// The owner of a second workspace, signed in.
    func otherWorkspaceToken(_ api: APIHarness) async throws -> String {
        let now = api.clock.now()
        let hash = try await api.services.passwords.hash("stranger-password")
        let created = try await api.services.workspaces.createWithOwner(name: "Elsewhere", ownerEmail: "stranger@example.com",
                                                                        ownerName: "Stranger", ownerPasswordHash: hash, at: now)
        let issued = try await api.services.tokens.issue(workspaceId: created.workspace.id, userId: created.owner.id, kind: .api,
                                                         name: "test", expiresAt: nil, at: now)
        return issued.token
    }

    /// Row counts of every table but the ones that record requests themselves.
    func fingerprint(_ api: APIHarness) async throws -> [String: Int] {
        let tables: [String] = try await api.services.database.read { db in
            let sql: SQLQueryString = api.services.database.kind == .sqlite
                // Virtual tables are counted through their shadow tables (a contentless
                // full-text index cannot be scanned).
                ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"
                : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
            return try await db.raw(sql).all().map { try $0.decode(column: "name", as: String.self) }
        }
        var counts: [String: Int] = [:]
        for table in tables where !["login_attempts"].contains(table) {
            counts[table] = try await api.count(table)
        }
        return counts
    }
}

/// The guard is the registration, not the handler: a handler that never looks at the caller
/// is still refused to anonymous requests unless its route is documented as public.
@Suite("Authenticated registration")
struct AuthenticatedRegistrationTests {
    @Test func aHandlerThatForgetsToCheckIsStillGuarded() async throws {
        try await TestBackend.sqlite.withDatabase { database in
            let services = Services(configuration: ServerConfiguration(bcryptCost: 4), database: database, logger: .quiet)
            let router = Router(context: AppRequestContext.self)
            router.add(middleware: AuthenticationMiddleware(tokens: services.tokens, clock: services.clock))
            let api = APIRoutes(router: router)
            api.add(.get, "/forgetful", RouteDoc(summary: "checks nothing", tag: "test")) { _, _ in "secret" }
            api.add(.get, "/public", RouteDoc(summary: "public", tag: "test", authenticated: false)) { _, _ in "hello" }
            api.authenticated(.get, "/typed", RouteDoc(summary: "typed", tag: "test")) { _, context in "\(context.identity.user.id)" }
            let app = Application(router: router, logger: .quiet)
            try await app.test(.router) { client in
                for path in ["/forgetful", "/typed"] {
                    let status = try await client.execute(uri: path, method: .get) { $0.status }
                    #expect(status == .unauthorized, "\(path)")
                }
                #expect(try await client.execute(uri: "/public", method: .get) { $0.status } == .ok)
            }
            #expect(api.documented.allSatisfy { $0.path == "/public" || $0.doc.authenticated })
        }
    }
}
