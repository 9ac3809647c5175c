import Foundation
import ParleyTestSupport
import Testing

/// The webhook parsers' fuzzing (ParserFuzzTests) carried through the real endpoint: mutated
/// provider examples, signed as each provider signs them, are answered without a 5xx, and a
/// refused one stores nothing.
@Suite("Webhook fuzzing")
struct WebhookFuzzTests {
    /// Mutated, signed requests per channel and database.
    static let iterations = 40

    @Test(arguments: TestBackend.all)
    func signedMutatedWebhooksAreRefusedCleanlyOrStored(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            for channel in WebhookFixtureTests.channels {
                let created = try await api.send(.post, "/api/v1/channels", json: [
                    "type": channel.type, "name": channel.directory, "credentials": channel.credentials,
                    "apiBaseUrl": "http://127.0.0.1:9", "verifyCredentials": false,
                ])
                let id = try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
                var random = FuzzRandom(seed: channel.directory.hashValueStable ^ 0x5EED)
                let inputs = try WebhookFixtureTests.fixtures(channel.directory).map { try FuzzInput($0.json) }
                var refused = 0
                for round in 0..<Self.iterations {
                    let input = inputs[round % inputs.count]
                    let body = input.mutated(using: &random)
                    let before = (try await api.count("messages"), try await api.count("contacts"))
                    let reply = try await WebhookFixtureTests.post(body, contentType: input.contentType, channel: channel, channelId: id, api: api)
                    #expect(reply.status.code < 500, "\(channel.directory) round \(round): \(reply.status.code) \(reply.text.prefix(200))")
                    if reply.status.code >= 400 {
                        refused += 1
                        let after = (try await api.count("messages"), try await api.count("contacts"))
                        #expect(after == before, "\(channel.directory) round \(round): a refused webhook stored something")
                        #expect(reply.json["error"] != nil, "\(channel.directory) round \(round): \(reply.text.prefix(200))")
                    }
                }
                #expect(refused > 0, "\(channel.directory): no mutation was refused")
            }
        }
    }
}
