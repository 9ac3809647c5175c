import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ParleyCore
@testable import ParleyServer
import ParleyStore
import ParleyTestSupport
import Synchronization
import Testing

@Suite("Operations: readiness, figures, proxies, request ids")
struct OperationsAPITests {
    /// Ready only with exactly this version's migrations: a database behind (another instance
    /// still migrating) or ahead (a newer version ran) is not ready.
    @Test(arguments: TestBackend.all)
    func readyzFollowsTheSchema(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let ready = try await api.send(.get, "/readyz", token: "")
            #expect(ready.status == .ok)
            #expect(ready.json["status"] as? String == "ready")
            #expect(ready.json["schema"] as? String == "current")

            let last = try #require(Schema.migrations.map(\.version).max())
            try await api.services.database.transaction { db in
                try await db.raw("UPDATE schema_migrations SET version = 9999 WHERE version = \(bind: last)").run()
            }
            let newer = try await api.send(.get, "/readyz", token: "")
            #expect(newer.status == .serviceUnavailable)
            #expect(newer.json["schema"] as? String == "newer")
            try await api.services.database.transaction { db in
                try await db.raw("DELETE FROM schema_migrations WHERE version = 9999").run()
            }
            let pending = try await api.send(.get, "/readyz", token: "")
            #expect(pending.status == .serviceUnavailable)
            #expect(pending.json["schema"] as? String == "pending")
            // Alive all the same.
            #expect(try await api.send(.get, "/healthz", token: "").status == .ok)
        }
    }

    /// The outbox's depth and the age of its oldest message are the whole installation's,
    /// read at scrape time.
    @Test(arguments: TestBackend.all)
    func metricsCarryTheOutbox(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let empty = try await api.send(.get, "/metrics", token: "")
            #expect(empty.text.contains("parley_outbox_depth_messages 0"))
            #expect(empty.text.contains("parley_outbox_oldest_age_seconds 0"))

            let created = try await api.send(.post, "/api/v1/channels", json: [
                "type": "telegram", "name": "TG", "credentials": ["botToken": "123:abc"], "verifyCredentials": false])
            let channelId = try #require((created.json["id"] as? NSNumber)?.int64Value)
            let inbound = try await api.services.inbound.record(
                InboundMessage(channelId: channelId, externalId: "42", displayName: "Ana", providerMessageId: "1",
                               providerTimestamp: api.clock.now(), text: "hi"),
                workspaceId: 1, receivedAt: api.clock.now())
            let sent = try await api.send(.post, "/api/v1/contacts/\(inbound.contactId)/messages", json: ["channelId": channelId, "text": "hello"])
            #expect(sent.status == .created || sent.status == .accepted || sent.status == .ok, "\(sent.text)")
            api.clock.advance(by: 90)
            let waiting = try await api.send(.get, "/metrics", token: "")
            #expect(waiting.text.contains("parley_outbox_depth_messages 1"))
            #expect(waiting.text.contains("parley_outbox_oldest_age_seconds 90"))
        }
    }

    @Test func trustedProxiesParseAndPickTheClient() throws {
        let proxies = try TrustedProxies.parse("127.0.0.1, 10.0.0.0/8,::1").get()
        #expect(proxies.contains("127.0.0.1") && proxies.contains("10.20.30.40") && proxies.contains("::1"))
        #expect(!proxies.contains("11.0.0.1") && !proxies.contains("127.0.0.2") && !proxies.contains("unknown"))
        // The client may write anything before the proxy's own entry; only the last
        // untrusted hop counts.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["6.6.6.6, 203.0.113.9"]) == "203.0.113.9")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["203.0.113.9, 10.1.1.1"]) == "203.0.113.9")
        #expect(proxies.clientAddress(peer: "198.51.100.7", forwardedFor: ["203.0.113.9"]) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["not-an-address"]) == "127.0.0.1")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: []) == "127.0.0.1")
        #expect(throws: TrustedProxies.InvalidEntry(entry: "10.0.0.0/33")) { try TrustedProxies.parse("10.0.0.0/33").get() }
        #expect(throws: TrustedProxies.InvalidEntry(entry: "proxy.local")) { try TrustedProxies.parse("proxy.local").get() }
    }

    /// Over a real socket: a trusted proxy's X-Forwarded-For and X-Request-Id are used, anyone
    /// else's are not, and every request's JSON log line carries its request id.
    @Test(arguments: [true, false])
    func forwardedHeadersCountOnlyFromTrustedProxies(trusted: Bool) async throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "parley") { label in
            LineLogHandler(label: label, format: .json, write: { line in lines.withLock { $0.append(line) } })
        }
        logger.logLevel = .info
        try await TestBackend.sqlite.withDatabase { database in
            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4)
            configuration.trustedProxies = try TrustedProxies.parse(trusted ? "127.0.0.1,::1" : "10.9.9.9").get()
            let services = Services(configuration: configuration, database: database, logger: logger)
            let app = Application(router: try buildRouter(services: services), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                  logger: logger)
            try await app.test(.live) { client in
                let headers: HTTPFields = [HTTPFields.Element.Name("X-Forwarded-For")!: "6.6.6.6, 203.0.113.9", HTTPFields.Element.Name("X-Request-Id")!: "edge-42"]
                let requestId = try await client.execute(uri: "/healthz", method: .get, headers: headers) { response in
                    response.headers[HTTPFields.Element.Name("X-Request-Id")!]
                }
                let line = try #require(lines.withLock { $0 }.first { $0.contains("\"path\":\"/healthz\"") })
                let logged = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(logged["message"] as? String == "request")
                #expect(logged["request_id"] as? String == requestId)
                if trusted {
                    #expect(requestId == "edge-42")
                    #expect(logged["client"] as? String == "203.0.113.9")
                } else {
                    #expect(requestId != "edge-42" && requestId?.count == 32)
                    #expect(logged["client"] == nil)
                }
            }
        }
    }
}
