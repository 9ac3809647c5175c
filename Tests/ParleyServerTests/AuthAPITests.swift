import Foundation
import Hummingbird
import ParleyCore
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Authentication API")
struct AuthAPITests {
    @Test(arguments: TestBackend.all)
    func ownerLogsInAndSeesThemselves(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let me = try await api.send(.get, "/api/v1/me")
            #expect(me.status == .ok)
            let user = try #require(me.json["user"] as? [String: Any])
            #expect(user["email"] as? String == APIHarness.ownerEmail)
            #expect(user["role"] as? String == "owner")
            #expect(user["passwordHash"] == nil)
            #expect((me.json["workspace"] as? [String: Any])?["name"] as? String == "My workspace")
        }
    }

    @Test(arguments: TestBackend.all)
    func wrongPasswordAndUnknownEmailAreRefusedAlike(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let wrong = try await api.send(.post, "/api/v1/auth/login", token: "", json: ["email": APIHarness.ownerEmail, "password": "nope-nope"])
            let unknown = try await api.send(.post, "/api/v1/auth/login", token: "", json: ["email": "who@example.com", "password": "nope-nope"])
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.errorCode == "invalid_credentials")
            #expect(wrong.json["error"] as? NSDictionary == unknown.json["error"] as? NSDictionary)
        }
    }

    @Test(arguments: TestBackend.all)
    func missingOrBadTokensGet401(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            for token in ["", "pk_notatoken", "Basic abc"] {
                let reply = try await api.send(.get, "/api/v1/me", token: token)
                #expect(reply.status == .unauthorized, "token \(token)")
                #expect(reply.errorCode == "unauthorized")
            }
            let malformed = try await APIHarness.send(api.client, .get, "/api/v1/me", token: nil)
            #expect(malformed.status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.all)
    func repeatedFailuresAreSlowedDown(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let bad: [String: Any] = ["email": APIHarness.ownerEmail, "password": "wrong-password"]
            for _ in 0..<5 {
                #expect(try await api.send(.post, "/api/v1/auth/login", token: "", json: bad).status == .unauthorized)
            }
            // Now even the right password waits.
            let good: [String: Any] = ["email": APIHarness.ownerEmail, "password": APIHarness.ownerPassword]
            let blocked = try await api.send(.post, "/api/v1/auth/login", token: "", json: good)
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.errorCode == "too_many_attempts")
            #expect(blocked.headers[.retryAfter] == "1")
            // Other addresses are not affected.
            let other = try await api.send(.post, "/api/v1/auth/login", token: "", json: ["email": "else@example.com", "password": "x-x-x-x-x"])
            #expect(other.status == .unauthorized)

            api.clock.advance(by: 1.5)
            #expect(try await api.send(.post, "/api/v1/auth/login", token: "", json: bad).status == .unauthorized)
            // The delay doubles with each further failure.
            api.clock.advance(by: 1.5)
            #expect(try await api.send(.post, "/api/v1/auth/login", token: "", json: good).status == .tooManyRequests)
            api.clock.advance(by: 1)
            #expect(try await api.send(.post, "/api/v1/auth/login", token: "", json: good).status == .ok)
        }
    }

    @Test(arguments: TestBackend.all)
    func logoutRevokesTheSession(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            #expect(try await api.send(.post, "/api/v1/auth/logout").status == .noContent)
            #expect(try await api.send(.get, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.all)
    func sessionsExpire(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            api.clock.advance(by: api.services.configuration.sessionLifetime + 1)
            #expect(try await api.send(.get, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.all)
    func apiTokensAreShownOnceAndCanBeRevoked(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let created = try await api.send(.post, "/api/v1/tokens", json: ["name": "CRM sync", "expiresInDays": 30])
            #expect(created.status == .created)
            let token = try #require(created.json["token"] as? String)
            let info = try #require(created.json["info"] as? [String: Any])
            #expect(info["kind"] as? String == "api")
            #expect(try await api.send(.get, "/api/v1/me", token: token).status == .ok)

            let list = try await api.send(.get, "/api/v1/tokens")
            #expect(list.items.count == 2)
            #expect(!list.text.contains(token))
            #expect(list.json.keys.contains("nextCursor"))

            let id = try #require((info["id"] as? NSNumber)?.int64Value)
            #expect(try await api.send(.delete, "/api/v1/tokens/\(id)").status == .noContent)
            #expect(try await api.send(.get, "/api/v1/me", token: token).status == .unauthorized)
            #expect(try await api.send(.delete, "/api/v1/tokens/\(id)").status == .notFound)

            let bad = try await api.send(.post, "/api/v1/tokens", json: ["name": "x", "expiresInDays": 0])
            #expect(bad.status == .badRequest)
            #expect(bad.errorField == "expiresInDays")
        }
    }
}
