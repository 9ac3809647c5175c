import Foundation
import Hummingbird
import ParleyTestSupport
import Testing

/// A documented path called with a method it does not take is answered 405 with an `Allow`
/// header naming the methods it does take and a JSON error, not 404; unknown paths stay 404.
@Suite("Method not allowed")
struct MethodNotAllowedTests {
    @Test(arguments: TestBackend.all)
    func documentedPathsAnswerWrongMethodsWith405(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let document = try await api.send(.get, "/openapi.json", token: "").json
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            #expect(paths.count > 40)
            for (path, operations) in paths {
                let methods = Set(operations.keys.map { $0.uppercased() })
                let uri = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "1", options: .regularExpression)
                let reply = try await api.send(.trace, uri)
                #expect(reply.status == .methodNotAllowed, "TRACE \(path) answered \(reply.status.code)")
                let allowed = Set((reply.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                #expect(allowed == methods, "TRACE \(path): Allow \(allowed), documented \(methods)")
                let error = reply.json["error"] as? [String: Any]
                #expect(error?["code"] as? String == "method_not_allowed", "TRACE \(path): \(reply.text.prefix(200))")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func theRouterKeepsPrecedenceAndUnknownPathsStay404(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            // `/contacts/export` is its own route (GET), apart from `/contacts/{id}`.
            let export = try await api.send(.delete, "/api/v1/contacts/export")
            #expect(export.status == .methodNotAllowed)
            #expect(export.headers[.allow] == "GET")
            let contact = try await api.send(.put, "/api/v1/contacts/7")
            #expect(contact.status == .methodNotAllowed)
            #expect(contact.headers[.allow] == "DELETE, GET, PATCH")
            // A workflow hook takes POST only; a GET is not the inbox's page either.
            let hook = try await api.send(.get, "/hooks/workflows/1")
            #expect(hook.status == .methodNotAllowed)
            #expect(hook.headers[.allow] == "POST")
            // A provider without a GET handshake: 405 with Allow, as documented.
            let created = try await api.send(.post, "/api/v1/channels", json: [
                "type": "telegram", "name": "Bot", "credentials": ["botToken": "1:x"], "verifyCredentials": false,
            ])
            let channel = try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
            let handshake = try await api.send(.get, "/webhooks/\(channel)", token: "")
            #expect(handshake.status == .methodNotAllowed)
            #expect(handshake.headers[.allow] == "POST")
            let document = try await api.send(.get, "/openapi.json", token: "").json
            let paths = document["paths"] as? [String: [String: Any]]
            let responses = (paths?["/webhooks/{channelId}"]?["get"] as? [String: Any])?["responses"] as? [String: Any]
            #expect(responses?["405"] != nil, "GET /webhooks/{channelId} documents its 405")
            // Routes still answer as before.
            #expect(try await api.send(.get, "/api/v1/contacts/7").status == .notFound)
            #expect(try await api.send(.get, "/api/v1/me").status == .ok)
            for path in ["/api/v1/nothing-here", "/api/v1/contacts/7/nothing", "/nothing"] {
                #expect(try await api.send(.trace, path).status == .notFound, "\(path)")
            }
        }
    }
}
