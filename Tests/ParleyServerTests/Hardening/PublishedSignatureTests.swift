import Foundation
import ParleyChannels
import ParleyCore
import Testing

/// Signatures checked against the values providers publish in their own documentation, not only
/// against values Parley computes itself.
@Suite("Published signature examples")
struct PublishedSignatureTests {
    /// Twilio's request-validation example (auth token 12345, the documented URL and form
    /// fields); Twilio has published it with two caller numbers and their signatures.
    @Test(arguments: [("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="), ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")])
    func twilioDocumentedRequest(caller: String, signature: String) {
        let parameters = [("CallSid", "CA1234567890ABCDE"), ("Caller", caller), ("Digits", "1234"), ("From", caller), ("To", "+18005551212")]
        #expect(TwilioSMSAdapter.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: parameters, authToken: "12345") == signature)
        #expect(TwilioSMSAdapter.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: parameters, authToken: "12346") != signature)
    }

    /// LINE's own SDKs' signature tests: line-bot-sdk-python's tests/test_signature.py (channel
    /// secret `channel_secret`, body `bodybodybodybody`) and line-bot-sdk-java's
    /// LineSignatureValidatorTest (secret `SECRET`, body `{}`). Checked through the adapter's
    /// own verification, header and all; a signature for another body is refused.
    @Test(arguments: [("channel_secret", "bodybodybodybody", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="),
                      ("SECRET", "{}", "3q8QXTAGaey18yL8FWTqdVlbMr6hcuNvM4tefa0o9nA=")])
    func lineSDKExamples(secret: String, body: String, signature: String) throws {
        let adapter = LineAdapter()
        let channel = ChannelConfig(id: 1, workspaceId: 1, kind: .line, credentials: ["channelSecret": secret], apiBaseURL: nil,
                                    webhookSecret: "s", webhookURL: "https://parley.example.com/webhooks/1")
        func request(_ body: String) -> WebhookRequest {
            WebhookRequest(method: "POST", url: channel.webhookURL, query: [:], headers: ["x-line-signature": signature], body: Array(body.utf8))
        }
        #expect(LineAdapter.signature(Array(body.utf8), secret: secret) == signature)
        try adapter.verify(request(body), channel: channel)
        #expect(throws: (any Error).self) { try adapter.verify(request(body + " "), channel: channel) }
    }

    /// Meta signs webhooks as `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` and
    /// publishes no example; GitHub documents the very same header and scheme with one (secret
    /// "It's a Secret to Everybody", body "Hello, World!"), checked here through the WhatsApp,
    /// Messenger and Instagram adapters' own verification. One changed byte is refused.
    @Test(arguments: [ChannelKind.whatsapp, .messenger, .instagram])
    func hubSignatureDocumentedExample(kind: ChannelKind) throws {
        let adapter: any ChannelAdapter = kind == .whatsapp ? WhatsAppAdapter() : MessengerAdapter(kind: kind)
        let channel = ChannelConfig(id: 1, workspaceId: 1, kind: kind, credentials: ["appSecret": "It's a Secret to Everybody"], apiBaseURL: nil,
                                    webhookSecret: "s", webhookURL: "https://parley.example.com/webhooks/1")
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        func request(_ body: String) -> WebhookRequest {
            WebhookRequest(method: "POST", url: channel.webhookURL, query: [:], headers: ["x-hub-signature-256": signature], body: Array(body.utf8))
        }
        try adapter.verify(request("Hello, World!"), channel: channel)
        #expect(throws: (any Error).self) { try adapter.verify(request("Hello, World?"), channel: channel) }
    }
}
