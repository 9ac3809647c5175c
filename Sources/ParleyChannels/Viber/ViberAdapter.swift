import Crypto
import Foundation
import ParleyCore

/// Viber REST Bot API. Every webhook is signed with the bot's auth token; sends answer HTTP 200
/// and carry their error in `status`.
public struct ViberAdapter: ChannelAdapter {
    public let kind = ChannelKind.viber
    public let requiredCredentials = ["authToken"]
    public static let defaultBase = "https://chatapi.viber.com"
    /// Viber requires a sender name on every message; used when the channel names none.
    static let defaultSenderName = "Parley"
    /// The callbacks Parley asks for (`message` is always sent and cannot be listed).
    static let eventTypes = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]

    public init() {}

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        let token = try channel.credential("authToken")
        guard let given = request.headers["x-viber-content-signature"] else {
            throw ChannelError.unauthorized("missing X-Viber-Content-Signature")
        }
        guard constantTimeEquals(given.lowercased(), Self.signature(request.body, authToken: token)) else {
            throw ChannelError.unauthorized("X-Viber-Content-Signature does not match the body")
        }
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] {
        guard let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            throw ChannelError.badPayload("body is not a JSON object")
        }
        guard let event = body["event"] as? String else { throw ChannelError.badPayload("the callback has no event") }
        switch event {
        case "message":
            guard let sender = body["sender"] as? [String: Any], let senderId = sender["id"] as? String, !senderId.isEmpty,
                  let token = Self.token(body["message_token"]), let timestamp = Self.date(body["timestamp"]),
                  let message = body["message"] as? [String: Any] else {
                throw ChannelError.badPayload("a message callback needs sender.id, message_token, timestamp and message")
            }
            let name = (sender["name"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            return [.message(InboundMessageEvent(externalId: senderId, displayName: name, providerMessageId: token,
                                                 timestamp: timestamp, content: ViberInbound.content(message)))]
        case "delivered", "seen", "failed":
            guard let token = Self.token(body["message_token"]) else {
                throw ChannelError.badPayload("a \(event) callback needs message_token")
            }
            let status: DeliveryStatus = event == "delivered" ? .delivered : event == "seen" ? .read : .failed
            let failed = event == "failed"
            return [.status(providerMessageId: token, status: status, reason: failed ? .providerError : nil,
                            errorCode: nil, errorText: failed ? (body["desc"] as? String ?? "Viber could not deliver the message") : nil)]
        default:
            // `webhook` (set_webhook's own check, which must answer 200), subscription changes and
            // conversation openings carry no message to store.
            return []
        }
    }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let token: String
        do { token = try channel.credential("authToken") } catch {
            return .failed(reason: .misconfigured, code: "credentials", text: String(describing: error))
        }
        var payload: [String: Any] = [
            "receiver": delivery.externalId,
            "min_api_version": 1,
            "sender": ["name": Self.senderName(channel)],
            "type": "text",
            "text": delivery.instructions.text,
        ]
        if let file = delivery.attachment {
            // Viber fetches the file from the signed link; a picture's text is its description.
            payload["media"] = file.url
            switch file.kind {
            case .image, .sticker:
                payload["type"] = "picture"
            case .video:
                payload["type"] = "video"
                payload["size"] = file.bytes.count
                payload["text"] = nil
            case .document, .audio:
                payload["type"] = "file"
                payload["size"] = file.bytes.count
                payload["file_name"] = file.fileName
                payload["text"] = nil
            }
        }
        let response: ProviderHTTP.Response
        do {
            response = try await http.json(.POST, "\(channel.baseURL(default: Self.defaultBase))/pa/send_message",
                                           headers: [("X-Viber-Auth-Token", token)], object: payload)
        } catch {
            return ProviderHTTP.transient(error)
        }
        if let transient = ProviderHTTP.transient(response) { return transient }
        guard response.status == 200, let json = response.json, let status = (json["status"] as? NSNumber)?.intValue else {
            return .failed(reason: .providerError, code: String(response.status), text: "Viber answered HTTP \(response.status) without a status")
        }
        let text = json["status_message"] as? String ?? "status \(status)"
        if status == 0 {
            guard let id = Self.token(json["message_token"]) else {
                return .failed(reason: .providerError, code: "0", text: "Viber accepted the message without a message_token")
            }
            return .sent(providerMessageId: id)
        }
        if status == 12 { return .retry(after: response.retryAfter, detail: text) }
        return .failed(reason: Self.reason(status), code: String(status), text: text)
    }

    /// Viber `status` codes → Parley's reasons.
    static func reason(_ status: Int) -> FailureReason {
        switch status {
        case 5: return .invalidRecipient // receiverNotRegistered
        case 6: return .blocked // receiverNotSubscribed
        case 23, 24: return .viberQuotaExceeded // freeMessagesExceeded, noBalance
        case 2: return .authenticationFailed // invalidAuthToken
        default: return .providerError
        }
    }

    /// Registers the webhook, which also proves the auth token.
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {
        let token = try channel.credential("authToken")
        let response: ProviderHTTP.Response
        do {
            response = try await http.json(.POST, "\(channel.baseURL(default: Self.defaultBase))/pa/set_webhook",
                                           headers: [("X-Viber-Auth-Token", token)],
                                           object: ["url": channel.webhookURL, "event_types": Self.eventTypes])
        } catch {
            throw ChannelError.connectFailed("Viber could not be reached: \(error)")
        }
        guard response.status == 200, let json = response.json, (json["status"] as? NSNumber)?.intValue == 0 else {
            let message = response.json?["status_message"] as? String ?? "HTTP \(response.status)"
            throw ChannelError.connectFailed("Viber refused the webhook: \(message)")
        }
    }

    /// Hex HMAC-SHA256 of the raw body, keyed with the auth token.
    public static func signature(_ body: [UInt8], authToken: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(authToken.utf8)))
            .hexEncoded
    }

    static func senderName(_ channel: ChannelConfig) -> String {
        guard let name = channel.credentials["senderName"], !name.isEmpty else { return defaultSenderName }
        // Viber refuses sender names longer than 28 characters.
        return String(name.prefix(28))
    }

    /// Message tokens are 64-bit integers; kept as their decimal text.
    static func token(_ value: Any?) -> String? {
        if let number = value as? NSNumber { return String(number.int64Value) }
        if let text = value as? String, Int64(text) != nil { return text }
        return nil
    }

    /// Viber timestamps are epoch milliseconds.
    static func date(_ value: Any?) -> Date? {
        Date.providerMilliseconds(value)
    }
}
