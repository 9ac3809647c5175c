import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyCore
import ParleyServer
import ParleyTestSupport
import Testing

@Suite("Web inbox sign-in and pages")
struct BrowserSessionTests {
    struct Session {
        let cookie: String
        let csrf: String
        let setCookie: String
    }

    static func request(_ api: APIHarness, _ method: HTTPRequest.Method, _ uri: String, cookie: String?, csrf: String? = nil,
                        json: [String: Any]? = nil) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = "parley_session=\(cookie)" }
        if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
        return try await APIHarness.send(api.client, method, uri, headers: headers, json: json)
    }

    static func signIn(_ api: APIHarness) async throws -> Session {
        let reply = try await request(api, .post, "/api/v1/auth/session", cookie: nil,
                                      json: ["email": APIHarness.ownerEmail, "password": APIHarness.ownerPassword])
        #expect(reply.status == .ok, "\(reply.text)")
        let setCookie = try #require(reply.headers[.setCookie])
        let value = try #require(setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last.map(String.init))
        return Session(cookie: value, csrf: try #require(reply.json["csrfToken"] as? String), setCookie: setCookie)
    }

    @Test(arguments: TestBackend.all)
    func theCookieSignsInAndStateChangesNeedTheCSRFToken(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let session = try await Self.signIn(api)
            #expect(session.setCookie.contains("HttpOnly"))
            #expect(session.setCookie.contains("SameSite=Lax"))
            #expect(session.setCookie.contains("Path=/"))
            // The harness's public URL is https: the cookie is Secure.
            #expect(session.setCookie.contains("Secure"))

            let me = try await Self.request(api, .get, "/api/v1/auth/session", cookie: session.cookie)
            #expect(me.status == .ok)
            #expect((me.json["user"] as? [String: Any])?["email"] as? String == APIHarness.ownerEmail)
            #expect(me.json["csrfToken"] as? String == session.csrf)

            let before = try await api.count("contacts")
            let forged = try await Self.request(api, .post, "/api/v1/contacts", cookie: session.cookie, json: ["firstName": "Forged"])
            #expect(forged.status == .forbidden)
            #expect(forged.errorCode == "csrf_failed")
            let wrong = try await Self.request(api, .post, "/api/v1/contacts", cookie: session.cookie, csrf: "0000", json: ["firstName": "Forged"])
            #expect(wrong.status == .forbidden)
            #expect(try await api.count("contacts") == before)
            let real = try await Self.request(api, .post, "/api/v1/contacts", cookie: session.cookie, csrf: session.csrf, json: ["firstName": "Real"])
            #expect(real.status == .created)

            let out = try await Self.request(api, .delete, "/api/v1/auth/session", cookie: session.cookie, csrf: session.csrf)
            #expect(out.status == .noContent)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await Self.request(api, .get, "/api/v1/auth/session", cookie: session.cookie).status == .unauthorized)

            let wrongPassword = try await Self.request(api, .post, "/api/v1/auth/session", cookie: nil,
                                                       json: ["email": APIHarness.ownerEmail, "password": "nope-nope"])
            #expect(wrongPassword.status == .unauthorized)
            #expect(wrongPassword.headers[.setCookie] == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func theSetupLinkSetsTheFirstOwnersPasswordOnce(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let services = Services(configuration: ServerConfiguration(publicURL: "http://localhost:8080", bcryptCost: 4), database: database, logger: .quiet)
            let first = try #require(try await Bootstrap.ensureWorkspace(services: services))
            #expect(first.password == nil)
            let stale = try #require(try await Bootstrap.setupLink(services: services))
            let link = try #require(try await Bootstrap.setupLink(services: services))
            #expect(link.url.hasPrefix("http://localhost:8080/setup#"))
            let token = String(try #require(link.url.split(separator: "#").last))
            let app = Application(router: try buildRouter(services: services), logger: .quiet)
            try await app.test(.router) { client in
                func setup(_ token: String, _ password: String) async throws -> Reply {
                    try await APIHarness.send(client, .post, "/api/v1/auth/setup", json: ["token": token, "password": password])
                }
                // A new link voids the one printed before it.
                #expect(try await setup(String(stale.url.split(separator: "#").last ?? ""), "long enough password").status == .gone)
                let short = try await setup(token, "short")
                #expect(short.status == .unprocessableContent)
                #expect(short.errorField == "password")
                let done = try await setup(token, "my own password")
                #expect(done.status == .ok)
                #expect(done.headers[.setCookie]?.contains("parley_session=") == true)
                #expect(done.json["csrfToken"] as? String != nil)
                let again = try await setup(token, "another password")
                #expect(again.status == .gone)
                #expect(again.errorCode == "setup_token_invalid")
                let login = try await APIHarness.send(client, .post, "/api/v1/auth/login", json: ["email": "owner@parley.local", "password": "my own password"])
                #expect(login.status == .ok)
            }
            // Setup is done: no more links at later starts.
            #expect(try await Bootstrap.setupLink(services: services) == nil)
        }
    }

    @Test func theInboxIsServedWithAStrictPolicyAndVersionedAssets() async throws {
        try await APIHarness.run(.sqlite) { (api: APIHarness) async throws in
            let page = try await api.send(.get, "/", token: "")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let policy = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("default-src 'self'"))
            #expect(policy.contains("script-src 'self'"))
            #expect(policy.contains("frame-ancestors 'none'"))
            #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(!page.text.contains("{{assets}}"))
            let prefix = try #require(page.text.range(of: #"/assets/[0-9a-f]{12}/"#, options: .regularExpression).map { String(page.text[$0]) })

            let script = try await api.send(.get, "\(prefix)app.js", token: "")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(script.headers[.cacheControl]?.contains("immutable") == true)
            let stale = try await api.send(.get, "/assets/000000000000/app.js", token: "")
            #expect(stale.status == .ok)
            #expect(stale.headers[.cacheControl] == "no-cache")

            #expect(try await api.send(.get, "/inbox/42", token: "").text == page.text)
            #expect(try await api.send(.get, "/favicon-missing.ico", token: "").status == .notFound)
            #expect(try await api.send(.get, "/assets/\(prefix.split(separator: "/")[1])/../../Package.swift", token: "").status == .notFound)
            let unknownAPI = try await api.send(.get, "/api/v1/nothing-here", token: "")
            #expect(unknownAPI.status == .notFound)
            #expect(unknownAPI.errorCode == "not_found")
        }
    }
}
