import Foundation
import ParleyCore

/// Facebook Messenger and Instagram Messaging: one Send API, one webhook shape, different
/// window rules (decided before sending by the policy) and error subcodes.
public struct MessengerAdapter: ChannelAdapter {
    public let kind: ChannelKind
    public let requiredCredentials = ["pageAccessToken", "appSecret", "verifyToken"]

    /// `.messenger` or `.instagram`.
    public init(kind: ChannelKind = .messenger) {
        self.kind = kind
    }

    public func handshake(_ request: WebhookRequest, channel: ChannelConfig) -> WebhookReply? {
        MetaWebhook.handshake(request, channel: channel)
    }

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        try MetaWebhook.verify(request, channel: channel)
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] {
        let body = try MetaWebhook.json(request)
        var events: [InboundEvent] = []
        for entry in body["entry"] as? [[String: Any]] ?? [] {
            for item in entry["messaging"] as? [[String: Any]] ?? [] {
                events += MessengerInbound.events(item)
            }
        }
        return events
    }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let token: String
        do { token = try channel.credential("pageAccessToken") } catch {
            return .failed(reason: .misconfigured, code: "credentials", text: String(describing: error))
        }
        let url = "\(channel.baseURL(default: MetaWebhook.graphBase))/\(MetaWebhook.version(channel))/me/messages?access_token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token)"
        var payload: [String: Any] = [
            "recipient": ["id": delivery.externalId],
            "messaging_type": (delivery.instructions.messagingType ?? .response).rawValue,
            "message": ["text": delivery.instructions.text],
        ]
        if let file = delivery.attachment {
            let type = file.kind == .document ? "file" : file.kind == .sticker ? "image" : file.kind.rawValue
            payload["message"] = ["attachment": ["type": type, "payload": ["url": file.url, "is_reusable": false]]]
        }
        if let tag = delivery.instructions.tag, delivery.instructions.messagingType == .messageTag {
            payload["tag"] = tag.rawValue
        }
        let response: ProviderHTTP.Response
        do {
            response = try await http.json(.POST, url, object: payload)
        } catch {
            return ProviderHTTP.transient(error)
        }
        if response.status == 200, let id = response.json?["message_id"] as? String {
            return .sent(providerMessageId: id)
        }
        if let transient = ProviderHTTP.transient(response) { return transient }
        let error = MetaWebhook.error(response)
        if error.code == 4 || error.code == 613 { return .retry(after: response.retryAfter, detail: error.message) }
        return .failed(reason: reason(code: error.code, subcode: error.subcode), code: [String(error.code), error.subcode.map(String.init)].compactMap { $0 }.joined(separator: "/"),
                       text: error.message)
    }

    /// Send API codes → Parley's reasons: outside the window is a tag on Messenger and a reply on Instagram.
    func reason(code: Int, subcode: Int?) -> FailureReason {
        switch (code, subcode) {
        case (10, 2018278): return .tagRequired
        case (10, 2534022): return .contactMustReply
        case (10, _): return kind == .instagram ? .contactMustReply : .tagRequired
        case (551, _): return .blocked
        case (100, _): return .invalidRecipient
        case (190, _): return .authenticationFailed
        default: return .providerError
        }
    }
}
