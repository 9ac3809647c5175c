import Foundation
import Hummingbird
import ParleyChannels
import ParleyServer
import ParleySimulator
import ParleyTestSupport
import Testing

/// Outbound targets: a production server refuses loopback, private and other non-public
/// addresses, and provider error text never carries a channel's credentials.
@Suite("Network target policy")
struct NetworkTargetTests {
    @Test(arguments: [
        "http://127.0.0.1:8080", "http://127.1.2.3", "http://10.0.0.5", "http://172.16.4.1", "http://192.168.1.1",
        "http://100.64.0.1", "http://169.254.169.254/latest", "http://0.0.0.0", "http://224.0.0.1",
        "http://[::1]:8080", "http://[::]", "http://[fd12:3456::1]", "http://[fe80::1]", "http://[ff02::1]",
        "http://[::ffff:127.0.0.1]", "http://[64:ff9b::a00:1]", "http://localhost:9000",
    ])
    func productionRefusesNonPublicTargets(url: String) async throws {
        await #expect(throws: NetworkTargetPolicy.Refusal.self) { try await NetworkTargetPolicy.publicOnly.check(url: url) }
        try await NetworkTargetPolicy.allowingPrivate.check(url: url)
    }

    @Test(arguments: ["https://8.8.8.8/v1", "http://[2001:4860:4860::8888]", "https://100.128.0.1", "https://172.32.0.1"])
    func publicAddressesPass(url: String) async throws {
        try await NetworkTargetPolicy.publicOnly.check(url: url)
    }

    @Test func onlyHTTPURLsWithAHost() async {
        for url in ["file:///etc/passwd", "gopher://8.8.8.8", "not a url"] {
            await #expect(throws: NetworkTargetPolicy.Refusal.invalidURL) { try await NetworkTargetPolicy.publicOnly.check(url: url) }
        }
    }

    @Test(arguments: TestBackend.all)
    func aChannelCannotPointAtAPrivateAddress(backend: TestBackend) async throws {
        try await APIHarness.run(backend, targets: .publicOnly) { api in
            for url in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "http://169.254.169.254"] {
                let refused = try await api.send(.post, "/api/v1/channels", json: [
                    "type": "telegram", "name": "Bot", "credentials": ["botToken": "1:x"], "apiBaseUrl": url, "verifyCredentials": false,
                ])
                #expect(refused.status == .badRequest, "\(url): \(refused.text)")
                #expect(refused.errorField == "apiBaseUrl")
            }
            #expect(try await api.count("channels") == 0)
            let created = try await api.send(.post, "/api/v1/channels", json: [
                "type": "telegram", "name": "Bot", "credentials": ["botToken": "1:x"], "verifyCredentials": false,
            ])
            let id = try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
            let patched = try await api.send(.patch, "/api/v1/channels/\(id)", json: ["apiBaseUrl": "http://10.1.1.1"])
            #expect(patched.status == .badRequest)
            let after = try await api.send(.get, "/api/v1/channels/\(id)")
            #expect(after.json["apiBaseUrl"] as? String == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func providerErrorsNeverEchoACredential(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            try await api.withSimulator { simulator in
                // LINE repeats its error message to the caller; here the message names the token.
                let token = "SECRET-access-token/with+signs"
                simulator.inject(.reply(status: 401, body: "{\"message\":\"Authentication failed: token \(token) (\(ProviderHTTP.component(token))) is not valid\"}"),
                                 into: .line)
                let refused = try await api.send(.post, "/api/v1/channels", json: [
                    "type": "line", "name": "LINE", "credentials": ["channelAccessToken": token, "channelSecret": "line-secret-1"],
                    "apiBaseUrl": simulator.baseURL,
                ])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("[redacted]"), "\(refused.text)")
                #expect(!refused.text.contains("SECRET"), "\(refused.text)")
            }
        }
    }

    @Test func redactionReplacesEveryCredentialAndItsEncodedForm() {
        let text = CredentialRedaction.redact("a=abc+def/123 b=abc%2Bdef%2F123 c=1", secrets: ["abc+def/123", "1"])
        #expect(text == "a=[redacted] b=[redacted] c=1")
    }
}
