import Foundation
import Hummingbird
import ParleyServer
import ParleySimulator
import ParleyTestSupport
import Testing

/// WeChat's plaintext signature covers only token, timestamp and nonce: a captured query could
/// carry any body. Old timestamps are refused and a nonce is accepted once, across instances.
@Suite("WeChat replay")
struct WeChatReplayTests {
    static func post(_ api: APIHarness, _ id: Int64, body: [UInt8], query: String) async throws -> Reply {
        try await api.client.execute(uri: "/webhooks/\(id)?\(query)", method: .post, headers: [.contentType: "text/xml"],
                                     body: .init(bytes: body)) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    static func connect(_ api: APIHarness, _ simulator: ProviderSimulator) async throws -> Int64 {
        let created = try await api.send(.post, "/api/v1/channels", json: [
            "type": "wechat", "name": "WeChat", "credentials": ["appId": "wx1", "appSecret": "s", "token": "tok"], "verifyCredentials": false,
            "apiBaseUrl": simulator.baseURL,
        ])
        return try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
    }

    @Test(arguments: TestBackend.all)
    func staleTimestampsAreRefused(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let old = simulator.wechatInbound(openId: "oAna", text: "hi", msgId: 1, at: api.clock.now().addingTimeInterval(-6 * 60), token: "tok")
                let reply = try await Self.post(api, id, body: old.body, query: old.query)
                #expect(reply.status == .unauthorized)
                #expect(try await api.count("messages") == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aNonceIsAcceptedOnce(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let first = simulator.wechatInbound(openId: "oAna", text: "hi", msgId: 1, at: api.clock.now(), token: "tok")
                #expect(try await Self.post(api, id, body: first.body, query: first.query).status == .ok)
                // The same signed query with another body: acknowledged (WeChat's own retries
                // look like this) but not taken.
                let forged = simulator.wechatInbound(openId: "oEve", text: "pay here", msgId: 2, at: api.clock.now(), token: "tok")
                let replay = try await Self.post(api, id, body: forged.body, query: first.query)
                #expect(replay.status == .ok)
                #expect(try await api.count("messages") == 1)
                // Another instance on the same database knows the nonce too.
                let other = Services(configuration: ServerConfiguration(bcryptCost: 4), database: api.services.database, clock: api.clock, logger: .quiet)
                let app = Application(router: try buildRouter(services: other), logger: .quiet)
                try await app.test(.router) { client in
                    _ = try await client.execute(uri: "/webhooks/\(id)?\(first.query)", method: .post, headers: [.contentType: "text/xml"],
                                                 body: .init(bytes: forged.body)) { $0.status }
                }
                #expect(try await api.count("messages") == 1)
            }
        }
    }
}
