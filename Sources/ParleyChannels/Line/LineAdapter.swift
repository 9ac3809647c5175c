import Crypto
import Foundation
import ParleyCore

/// LINE Messaging API. Webhooks are signed with the channel secret; pushes carry a retry key
/// that LINE deduplicates for 24 hours, so a push interrupted mid-flight can safely be resent.
public struct LineAdapter: ChannelAdapter {
    public let kind = ChannelKind.line
    public let requiredCredentials = ["channelAccessToken", "channelSecret"]
    public static let defaultBase = "https://api.line.me"

    public init() {}

    /// LINE answers a repeated retry key with 409, so resending after an unknown outcome cannot
    /// deliver the message twice.
    public var deduplicatesByKey: Bool { true }

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        let secret = try channel.credential("channelSecret")
        guard let given = request.headers["x-line-signature"] else {
            throw ChannelError.unauthorized("missing X-Line-Signature")
        }
        guard constantTimeEquals(given, Self.signature(request.body, secret: secret)) else {
            throw ChannelError.unauthorized("X-Line-Signature does not match the body")
        }
    }

    /// Base64 HMAC-SHA256 of the raw body with the channel secret.
    public static func signature(_ body: [UInt8], secret: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] {
        guard let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            throw ChannelError.badPayload("body is not a JSON object")
        }
        var events: [InboundEvent] = []
        for event in body["events"] as? [[String: Any]] ?? [] {
            events += LineInbound.events(event)
        }
        return events
    }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let token: String
        do { token = try channel.credential("channelAccessToken") } catch {
            return .failed(reason: .misconfigured, code: "credentials", text: String(describing: error))
        }
        let headers = [("Authorization", "Bearer \(token)"),
                       ("X-Line-Retry-Key", Self.retryKey(delivery.idempotencyKey, channel: channel))]
        var payload: [String: Any] = ["to": delivery.externalId, "messages": [["type": "text", "text": delivery.instructions.text]]]
        if let file = delivery.attachment {
            // LINE fetches images itself, and only over HTTPS.
            guard file.url.hasPrefix("https://") else {
                return .failed(reason: .misconfigured, code: "public_url", text: "LINE fetches images only over HTTPS: Parley's public URL must be https")
            }
            payload["messages"] = [["type": "image", "originalContentUrl": file.url, "previewImageUrl": file.url]]
        }
        let response: ProviderHTTP.Response
        do {
            response = try await http.json(.POST, "\(channel.baseURL(default: Self.defaultBase))/v2/bot/message/push", headers: headers, object: payload)
        } catch {
            return ProviderHTTP.transient(error)
        }
        if response.status == 200 {
            return .sent(providerMessageId: response.headers["x-line-request-id"] ?? "line-\(delivery.messageId)")
        }
        // An earlier attempt with this key was accepted: the message is already on its way.
        if response.status == 409, let accepted = response.headers["x-line-accepted-request-id"] {
            return .sent(providerMessageId: accepted)
        }
        if let transient = ProviderHTTP.transient(response) { return transient }
        let message = response.json?["message"] as? String ?? "HTTP \(response.status)"
        let code = String(response.status)
        switch response.status {
        case 401, 403:
            return .failed(reason: .authenticationFailed, code: code, text: message)
        case 400:
            let lowered = message.lowercased()
            if lowered.contains("blocked") { return .failed(reason: .blocked, code: code, text: message) }
            if lowered.contains("not found") || lowered.contains("'to'") || lowered.contains("hasn't added") {
                return .failed(reason: .invalidRecipient, code: code, text: message)
            }
            return .failed(reason: .providerError, code: code, text: message)
        default:
            return .failed(reason: .providerError, code: code, text: message)
        }
    }

    /// Checks the channel access token by reading the bot's own profile.
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {
        let url = "\(channel.baseURL(default: Self.defaultBase))/v2/bot/info"
        do {
            let response = try await http.send(.GET, url, headers: [("Authorization", "Bearer \(try channel.credential("channelAccessToken"))")])
            guard response.status == 200 else {
                throw ChannelError.connectFailed("LINE refused the channel access token: \(response.json?["message"] as? String ?? "HTTP \(response.status)")")
            }
        } catch let failure as ProviderHTTP.Failure {
            throw ChannelError.connectFailed("LINE could not be reached: \(failure)")
        }
    }

    /// LINE wants the retry key as a UUID. It is derived from the message's idempotency key so
    /// every attempt carries the same one, and from the channel's own random secret so a fresh
    /// database reusing message ids on the same LINE channel never collides with old keys.
    /// The name-based SHA-1 construction of RFC 4122 (version 5) keeps the result a standard UUID.
    public static func retryKey(_ idempotencyKey: String, channel: ChannelConfig) -> String {
        var bytes = Array(Insecure.SHA1.hash(data: Data("parley-line:\(channel.webhookSecret):\(idempotencyKey)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.hexEncoded
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.map(String.init).joined(separator: "-")
    }

    static func string(_ value: Any?) -> String? {
        (value as? String) ?? (value as? NSNumber)?.stringValue
    }
}
