import Foundation
import Hummingbird
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Workspace and channels API")
struct WorkspaceAPITests {
    @Test(arguments: TestBackend.all)
    func settingsArePatchedByAdministratorsOnly(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let initial = try await api.send(.get, "/api/v1/workspace/settings")
            #expect(initial.json["closingNoteMode"] as? String == "optional")
            #expect(initial.json["closingLogic"] as? String == "keep")
            #expect(initial.json["agentsSeeAll"] as? Bool == true)

            let agent = try await api.user(.agent)
            let refused = try await api.send(.patch, "/api/v1/workspace/settings", token: agent.token, json: ["closingLogic": "unassign"])
            #expect(refused.status == .forbidden)

            let patched = try await api.send(.patch, "/api/v1/workspace/settings",
                                             json: ["closingLogic": "unassign", "closingNoteMode": "category_required", "closingCategories": [" Sale ", "Support"]])
            #expect(patched.status == .ok)
            #expect(patched.json["closingLogic"] as? String == "unassign")
            #expect(patched.json["closingNoteMode"] as? String == "category_required")
            #expect(patched.json["closingCategories"] as? [String] == ["Sale", "Support"])
            #expect(patched.json["agentsSeeAll"] as? Bool == true)

            for bad: [String: Any] in [["closingLogic": "forget"], ["closingCategories": ["a", "A"]], ["closingCategories": [""]], ["agentsSeeAll": "yes"],
                                       ["closingCategories": NSNull()], ["closingLogic": NSNull()], ["agentsSeeAll": NSNull()]] {
                let reply = try await api.send(.patch, "/api/v1/workspace/settings", json: bad)
                #expect(reply.status == .badRequest, "\(bad)")
            }
            let after = try await api.send(.get, "/api/v1/workspace/settings", token: agent.token)
            #expect(after.json["closingCategories"] as? [String] == ["Sale", "Support"])
            #expect(after.json["closingLogic"] as? String == "unassign")
        }
    }

    @Test(arguments: TestBackend.all)
    func channelSecretsAreNeverReturned(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let created = try await api.send(.post, "/api/v1/channels", json: [
                "type": "whatsapp", "name": "Sales WhatsApp",
                "credentials": ["accessToken": "EAAG-very-secret", "appSecret": "app-secret-value", "phoneNumberId": "1055", "verifyToken": "vt"],
                "apiBaseUrl": "http://127.0.0.1:9911/", "verifyCredentials": false,
            ])
            #expect(created.status == .created)
            let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
            #expect(created.json["webhookUrl"] as? String == "https://parley.example.com/webhooks/\(id)")
            #expect(created.json["apiBaseUrl"] as? String == "http://127.0.0.1:9911")
            #expect(created.json["credentialKeys"] as? [String] == ["accessToken", "appSecret", "phoneNumberId", "verifyToken"])

            let patched = try await api.send(.patch, "/api/v1/channels/\(id)", json: ["credentials": ["accessToken": "rotated-secret"], "apiBaseUrl": NSNull()])
            #expect(patched.status == .ok)
            #expect(patched.json["apiBaseUrl"] as? String == nil)
            let shown = try await api.send(.get, "/api/v1/channels/\(id)")
            let listed = try await api.send(.get, "/api/v1/channels")
            for reply in [created, patched, shown, listed] {
                for secret in ["EAAG-very-secret", "app-secret-value", "rotated-secret"] {
                    #expect(!reply.text.contains(secret))
                }
            }
            let stored = try await api.services.channels.credentials(channelId: id, workspaceId: 1)
            #expect(stored?["accessToken"] == "rotated-secret")
            #expect(stored?["appSecret"] == "app-secret-value")
        }
    }

    @Test(arguments: TestBackend.all)
    func channelInputIsValidatedAndAgentsMayNotConnect(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agent = try await api.user(.agent)
            #expect(try await api.send(.post, "/api/v1/channels", token: agent.token, json: ["type": "sms", "name": "SMS"]).status == .forbidden)
            let cases: [([String: Any], String)] = [
                (["type": "fax", "name": "Fax"], "type"),
                (["name": "No type"], "type"),
                (["type": "sms", "name": ""], "name"),
                (["type": "sms", "name": "SMS", "apiBaseUrl": "ftp://example.com"], "apiBaseUrl"),
                (["type": "sms", "name": "SMS", "credentials": ["token": 5]], "credentials.token"),
            ]
            for (body, field) in cases {
                let reply = try await api.send(.post, "/api/v1/channels", json: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.errorField == field, "\(body)")
            }
            #expect(try await api.count("channels") == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func anotherWorkspacesChannelIsNotFound(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let other = try await api.services.workspaces.createWithOwner(
                name: "Other", ownerEmail: "other@example.com", ownerName: "Other", ownerPasswordHash: "x", at: Date()
            )
            let foreign = try await api.services.channels.create(workspaceId: other.workspace.id, kind: .telegram, name: "Theirs",
                                                                 credentials: ["botToken": "t"], apiBaseUrl: nil, actorUserId: nil, at: Date())
            #expect(try await api.send(.get, "/api/v1/channels/\(foreign.id)").status == .notFound)
            #expect(try await api.send(.patch, "/api/v1/channels/\(foreign.id)", json: ["name": "Mine now"]).status == .notFound)
            #expect(try await api.send(.delete, "/api/v1/channels/\(foreign.id)").status == .notFound)
            #expect(try await api.send(.get, "/api/v1/users/\(other.owner.id)").status == .notFound)
            #expect(try await api.send(.get, "/api/v1/channels").items.isEmpty)
            #expect(try await api.services.channels.find(id: foreign.id, workspaceId: other.workspace.id)?.name == "Theirs")
        }
    }
}

@Suite("System routes")
struct SystemAPITests {
    @Test(arguments: TestBackend.all)
    func healthAndMetrics(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let health = try await api.send(.get, "/healthz", token: "")
            #expect(health.status == .ok)
            #expect(health.json["database"] as? String == "ok")
            _ = try await api.send(.get, "/api/v1/me")
            let metrics = try await api.send(.get, "/metrics", token: "")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("parley_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"} 1"))
        }
    }

    @Test(arguments: TestBackend.all)
    func unknownRoutesAnswerJSON404(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let reply = try await api.send(.get, "/api/v1/nothing-here")
            #expect(reply.status == .notFound)
            #expect(reply.errorCode == "not_found")
        }
    }

    /// Every documented operation is routed, and every route the router answers is documented.
    @Test func openAPIDescribesEveryRoute() async throws {
        try await APIHarness.run(.sqlite) { (api: APIHarness) async throws in
            let reply = try await api.send(.get, "/openapi.json", token: "")
            #expect(reply.status == .ok)
            #expect(reply.json["openapi"] as? String == "3.1.0")
            let paths = try #require(reply.json["paths"] as? [String: [String: Any]])
            let expected: Set<String> = [
                "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
                "POST /api/v1/auth/login", "POST /api/v1/auth/logout", "GET /api/v1/me",
                "GET /api/v1/tokens", "POST /api/v1/tokens", "DELETE /api/v1/tokens/{id}",
                "GET /api/v1/users", "POST /api/v1/users", "GET /api/v1/users/{id}",
                "GET /api/v1/workspace/settings", "PATCH /api/v1/workspace/settings",
                "GET /api/v1/channels", "POST /api/v1/channels", "GET /api/v1/channels/{id}",
                "PATCH /api/v1/channels/{id}", "DELETE /api/v1/channels/{id}",
                "GET /api/v1/contacts", "POST /api/v1/contacts", "POST /api/v1/contacts/import", "GET /api/v1/contacts/export", "GET /api/v1/contacts/{id}", "PATCH /api/v1/contacts/{id}",
                "DELETE /api/v1/contacts/{id}", "POST /api/v1/contacts/{id}/identities", "DELETE /api/v1/contacts/{id}/identities/{identityId}",
                "GET /api/v1/custom-fields", "POST /api/v1/custom-fields", "DELETE /api/v1/custom-fields/{key}",
                "GET /api/v1/conversations", "GET /api/v1/contacts/{id}/conversation", "POST /api/v1/contacts/{id}/conversation/open",
                "POST /api/v1/contacts/{id}/conversation/close", "PUT /api/v1/contacts/{id}/conversation/assignee",
                "POST /api/v1/contacts/{id}/conversation/read", "GET /api/v1/contacts/{id}/timeline",
                "GET /api/v1/contacts/{id}/composer", "POST /api/v1/contacts/{id}/messages",
                "GET /api/v1/channels/{id}/templates", "POST /api/v1/channels/{id}/templates", "POST /api/v1/channels/{id}/templates/sync",
                "GET /webhooks/{channelId}", "POST /webhooks/{channelId}",
                "POST /api/v1/auth/session", "GET /api/v1/auth/session", "DELETE /api/v1/auth/session", "POST /api/v1/auth/setup",
                "GET /api/v1/conversations/counts", "POST /api/v1/contacts/{id}/conversation/unread",
                "POST /api/v1/events/ticket", "GET /api/v1/events", "GET /api/v1/presence",
                "POST /api/v1/channels/{id}/webchat/identity-secret", "GET /widget.js", "GET /widget/frame", "POST /widget/v1/session",
                "GET /widget/v1/messages", "POST /widget/v1/messages", "GET /widget/v1/events",
                "POST /api/v1/attachments", "GET /api/v1/attachments/{id}", "GET /api/v1/attachments/{id}/content", "GET /files/{id}", "POST /widget/v1/attachments",
                "GET /api/v1/workflows", "POST /api/v1/workflows", "GET /api/v1/workflow-templates", "POST /api/v1/workflows/from-template",
                "GET /api/v1/workflows/{id}", "PATCH /api/v1/workflows/{id}", "DELETE /api/v1/workflows/{id}",
                "GET /api/v1/workflows/{id}/runs", "POST /api/v1/workflows/{id}/runs", "POST /hooks/workflows/{id}",
                "GET /api/v1/webhook-subscriptions", "POST /api/v1/webhook-subscriptions", "DELETE /api/v1/webhook-subscriptions/{id}",
                "GET /api/v1/webhook-subscriptions/{id}/deliveries", "POST /api/v1/webhook-deliveries/{id}/replay",
                "PATCH /api/v1/messages/{id}", "POST /api/v1/messages/{id}/cancel", "GET /api/v1/contacts/{id}/reminders",
                "POST /api/v1/contacts/{id}/reminders", "GET /api/v1/reminders", "DELETE /api/v1/reminders/{id}",
                "GET /api/v1/notifications", "POST /api/v1/notifications/{id}/read",
            ]
            var documented: Set<String> = []
            for (path, operations) in paths {
                for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            #expect(documented == expected)
            let schemas = try #require((reply.json["components"] as? [String: Any])?["schemas"] as? [String: Any])
            for (path, operations) in paths {
                for (method, operation) in operations {
                    let concrete = path.replacingOccurrences(of: "{id}", with: "999999").replacingOccurrences(of: "{identityId}", with: "1")
                        .replacingOccurrences(of: "{key}", with: "nokey").replacingOccurrences(of: "{channelId}", with: "999999")
                    let routed = try await api.send(HTTPRequest.Method(method.uppercased())!, concrete, raw: "{}")
                    #expect(routed.text.contains("no route") == false, "\(method) \(path)")
                    // Every schema an operation refers to exists.
                    let text = String(decoding: try JSONSerialization.data(withJSONObject: operation, options: [.withoutEscapingSlashes]), as: UTF8.self)
                    for name in text.components(separatedBy: "#/components/schemas/").dropFirst().map({ String($0.prefix { $0 != "\"" }) }) {
                        #expect(schemas[name] != nil, "\(name)")
                    }
                }
            }
        }
    }
}
