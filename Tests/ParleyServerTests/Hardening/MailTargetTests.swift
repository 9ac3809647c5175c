import Foundation
import ParleyChannels
import ParleyTestSupport
import Testing

/// An email channel's SMTP and IMAP hosts are outbound targets like any `apiBaseUrl`: a
/// production server refuses loopback and private ones when the channel is saved.
@Suite("Email server targets")
struct MailTargetTests {
    @Test(arguments: TestBackend.all)
    func anEmailChannelCannotPointAtAPrivateServer(backend: TestBackend) async throws {
        try await APIHarness.run(backend, targets: .publicOnly) { api in
            let refusals: [(String, String)] = [("smtpHost", "127.0.0.1"), ("smtpHost", "localhost"), ("imapHost", "10.0.0.5"),
                                                ("imapHost", "169.254.169.254"), ("smtpHost", "::1")]
            for (key, host) in refusals {
                var credentials = ["fromAddress": "help@example.com", "smtpHost": "8.8.8.8"]
                credentials[key] = host
                let refused = try await api.send(.post, "/api/v1/channels", json: [
                    "type": "email", "name": "Mail", "credentials": credentials, "verifyCredentials": false,
                ])
                #expect(refused.status == .badRequest, "\(key)=\(host): \(refused.text)")
                #expect(refused.errorField == "credentials.\(key)", "\(key)=\(host): \(refused.text)")
            }
            #expect(try await api.count("channels") == 0)
            let created = try await api.send(.post, "/api/v1/channels", json: [
                "type": "email", "name": "Mail", "credentials": ["fromAddress": "help@example.com", "smtpHost": "8.8.8.8"], "verifyCredentials": false,
            ])
            let id = try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
            let patched = try await api.send(.patch, "/api/v1/channels/\(id)", json: ["credentials": ["imapHost": "192.168.1.10"]])
            #expect(patched.status == .badRequest, "\(patched.text)")
            #expect(patched.errorField == "credentials.imapHost")
            let stored = try await api.services.channels.providerConfig(channelId: id)
            #expect(stored?.credentials["imapHost"] == nil)
        }
    }
}
