import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Senders whose messages carry no name get it from the provider's profile API, beside the
/// webhook and never in it.
@Suite("Profile lookups")
struct ProfileLookupTests {
    /// A nameless sender on each channel with a profile API, as its webhook would record them.
    static func nameless(_ api: APIHarness, _ channel: Channel, externalId: String, messageId: String) async throws -> Int64 {
        try await api.services.inbound.record(InboundMessage(channelId: channel.id, externalId: externalId, displayName: nil, providerMessageId: messageId,
                                                             providerTimestamp: api.clock.now(), text: "hi", profileLookup: true),
                                              workspaceId: 1, receivedAt: api.clock.now()).contactId
    }

    static func name(_ api: APIHarness, _ contactId: Int64) async throws -> String {
        let contact = try await api.services.contacts.find(id: contactId, workspaceId: 1)
        return [contact?.firstName ?? "", contact?.lastName ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
    }

    @Test(arguments: TestBackend.all)
    func everyProviderWithAProfileAPINamesItsSenders(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                simulator.acceptLineToken("line-token")
                simulator.acceptMetaToken("page-token", for: .messenger)
                simulator.acceptViberToken("viber-token")
                simulator.acceptWeChatApp(appId: "wx1", secret: "wx-secret")
                let setups: [(ChannelKind, [String: String], ProviderSimulator.Provider, String)] = [
                    (.line, ["channelAccessToken": "line-token", "channelSecret": "s"], .line, "U4af4980629a0b1c2d3e4f5a6b7c8d9e0"),
                    (.messenger, ["pageAccessToken": "page-token", "appSecret": "s", "verifyToken": "v"], .messenger, "1254459154682919"),
                    (.instagram, ["pageAccessToken": "page-token", "appSecret": "s", "verifyToken": "v"], .messenger, "17841400000000000"),
                    (.viber, ["authToken": "viber-token"], .viber, "01234567890A="),
                    (.wechat, ["appId": "wx1", "appSecret": "wx-secret", "token": "t"], .wechat, "oFromUser0001"),
                ]
                var contacts: [(ChannelKind, Int64)] = []
                for (index, (kind, credentials, provider, externalId)) in setups.enumerated() {
                    let channel = try await api.services.channels.create(workspaceId: 1, kind: kind, name: kind.rawValue, credentials: credentials,
                                                                         apiBaseUrl: simulator.baseURL, actorUserId: nil, at: api.clock.now())
                    simulator.setProfile(provider, id: externalId, firstName: "Mei", lastName: "Lin \(index)")
                    contacts.append((kind, try await Self.nameless(api, channel, externalId: externalId, messageId: "m\(index)")))
                }
                #expect(simulator.requests().filter { $0.method == "GET" || $0.path == "/pa/get_user_details" }.isEmpty, "nothing is asked on the webhook's path")
                #expect(try await ProfileWorker(services: api.services).runOnce() == 5)
                for (index, (kind, contact)) in contacts.enumerated() {
                    // Instagram's API gives one name; Messenger's first and last.
                    #expect(try await Self.name(api, contact) == "Mei Lin \(index)", "\(kind)")
                }
                #expect(try await ProfileWorker(services: api.services).runOnce() == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func failuresAreHarmlessAndLookupsAreNotRepeated(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                simulator.acceptLineToken("line-token")
                let line = try await api.services.channels.create(workspaceId: 1, kind: .line, name: "LINE", credentials: ["channelAccessToken": "line-token", "channelSecret": "s"],
                                                                  apiBaseUrl: simulator.baseURL, actorUserId: nil, at: api.clock.now())
                let worker = ProfileWorker(services: api.services)
                // Unknown to LINE: the contact stays nameless and LINE is not asked again.
                let stranger = try await Self.nameless(api, line, externalId: "Uffffffffffffffffffffffffffffffff", messageId: "s1")
                #expect(try await worker.runOnce() == 1)
                #expect(try await Self.name(api, stranger) == "")
                _ = try await Self.nameless(api, line, externalId: "Uffffffffffffffffffffffffffffffff", messageId: "s2")
                #expect(try await worker.runOnce() == 0)

                // LINE is down: the webhook was answered long before, and the lookup is retried later, not now.
                simulator.setProfile(.line, id: "Uaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", firstName: "Kenji")
                let later = try await Self.nameless(api, line, externalId: "Uaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", messageId: "k1")
                simulator.inject(.status(503, retryAfter: nil), into: .line)
                #expect(try await worker.runOnce() == 1)
                #expect(try await Self.name(api, later) == "")
                #expect(try await worker.runOnce() == 0)
                api.clock.advance(by: 61)
                #expect(try await worker.runOnce() == 1)
                #expect(try await Self.name(api, later) == "Kenji")
                let asked = simulator.requests(.line).filter { $0.path.hasPrefix("/v2/bot/profile/") }.count
                #expect(asked == 3)

                // A sender whose message named them is never looked up.
                _ = try await api.services.inbound.record(InboundMessage(channelId: line.id, externalId: "Ubbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", displayName: "Named",
                                                                         providerMessageId: "n1", providerTimestamp: api.clock.now(), text: "hi", profileLookup: true),
                                                          workspaceId: 1, receivedAt: api.clock.now())
                #expect(try await worker.runOnce() == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aWebhookFromANamelessSenderMarksTheLookup(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await LineChannelTests.connect(api, simulator)
                simulator.setProfile(.line, id: LineChannelTests.ana, firstName: "Ana", lastName: "Sato")
                let signed = simulator.lineInbound(userId: LineChannelTests.ana, messageId: "900", text: "hello", at: api.clock.now(), channelSecret: LineChannelTests.secret)
                #expect(try await api.webhook(id, signed).status == .ok)
                #expect(try await ProfileWorker(services: api.services).runOnce() == 1)
                let row = try #require(try await api.send(.get, "/api/v1/conversations?view=all").items.first)
                #expect((row["contact"] as? [String: Any])?["name"] as? String == "Ana Sato")
            }
        }
    }
}
