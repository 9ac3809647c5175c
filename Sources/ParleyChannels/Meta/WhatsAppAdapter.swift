import Foundation
import ParleyCore

/// WhatsApp Business Cloud API.
public struct WhatsAppAdapter: ChannelAdapter {
    public let kind = ChannelKind.whatsapp
    public let requiredCredentials = ["accessToken", "phoneNumberId", "appSecret", "verifyToken"]

    public init() {}

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
            for change in entry["changes"] as? [[String: Any]] ?? [] {
                guard let value = change["value"] as? [String: Any] else { continue }
                events += WhatsAppInbound.messages(in: value)
                for status in value["statuses"] as? [[String: Any]] ?? [] {
                    guard let id = status["id"] as? String, let raw = status["status"] as? String else { continue }
                    let error = (status["errors"] as? [[String: Any]])?.first
                    let code = (error?["code"] as? NSNumber)?.intValue
                    let mapped: DeliveryStatus
                    switch raw {
                    case "sent": mapped = .sent
                    case "delivered": mapped = .delivered
                    case "read": mapped = .read
                    case "failed": mapped = .failed
                    default: continue
                    }
                    events.append(.status(providerMessageId: id, status: mapped, reason: code.map(Self.reason),
                                          errorCode: code.map(String.init), errorText: error?["title"] as? String ?? error?["message"] as? String))
                }
            }
        }
        return events
    }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let url: String, token: String
        do {
            url = "\(channel.baseURL(default: MetaWebhook.graphBase))/\(MetaWebhook.version(channel))/\(try channel.credential("phoneNumberId"))/messages"
            token = try channel.credential("accessToken")
        } catch {
            return .failed(reason: .misconfigured, code: "credentials", text: String(describing: error))
        }
        var payload: [String: Any] = ["messaging_product": "whatsapp", "recipient_type": "individual"]
        // A contact known only by a business-scoped user id is addressed by it instead of a phone number.
        if delivery.externalId.allSatisfy({ $0.isASCII && $0.isNumber }) {
            payload["to"] = delivery.externalId
        } else {
            payload["recipient"] = delivery.externalId
        }
        if let template = delivery.instructions.template {
            var body: [String: Any] = ["name": template.name, "language": ["code": template.language]]
            var components: [[String: Any]] = []
            if let file = delivery.attachment {
                // A media header: the template's image, video or document, by link.
                let type = file.kind.rawValue
                var media: [String: Any] = ["link": file.url]
                if file.kind == .document { media["filename"] = file.fileName }
                components.append(["type": "header", "parameters": [["type": type, type: media]]])
            }
            if !template.parameters.isEmpty {
                components.append(["type": "body", "parameters": template.parameters.map { ["type": "text", "text": $0] }])
            }
            if !components.isEmpty { body["components"] = components }
            payload["type"] = "template"
            payload["template"] = body
        } else if let file = delivery.attachment {
            // WhatsApp fetches the file from the signed link; documents keep their name.
            let type = file.kind == .sticker ? "image" : file.kind.rawValue
            var media: [String: Any] = ["link": file.url]
            if !delivery.instructions.text.isEmpty && file.kind != .audio { media["caption"] = delivery.instructions.text }
            if file.kind == .document { media["filename"] = file.fileName }
            payload["type"] = type
            payload[type] = media
        } else {
            payload["type"] = "text"
            payload["text"] = ["preview_url": false, "body": delivery.instructions.text]
        }
        let response: ProviderHTTP.Response
        do {
            response = try await http.json(.POST, url, headers: [("Authorization", "Bearer \(token)")], object: payload)
        } catch {
            return ProviderHTTP.transient(error)
        }
        if response.status == 200, let id = (response.json?["messages"] as? [[String: Any]])?.first?["id"] as? String {
            return .sent(providerMessageId: id)
        }
        if let transient = ProviderHTTP.transient(response) { return transient }
        let error = MetaWebhook.error(response)
        if [4, 80007, 130429, 131048, 131056].contains(error.code) { return .retry(after: response.retryAfter, detail: error.message) }
        return .failed(reason: Self.reason(error.code), code: String(error.code), text: error.message)
    }

    /// WhatsApp error codes → Parley's reasons.
    static func reason(_ code: Int) -> FailureReason {
        switch code {
        case 131047: return .templateRequired
        case 131026, 131030, 131021: return .invalidRecipient
        case 131050: return .blocked
        case 190, 0, 10: return .authenticationFailed
        case 4, 80007, 130429: return .rateLimited
        default: return .providerError
        }
    }

    /// Checks the access token against the phone number.
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {
        let url = "\(channel.baseURL(default: MetaWebhook.graphBase))/\(MetaWebhook.version(channel))/\(try channel.credential("phoneNumberId"))"
        do {
            let response = try await http.send(.GET, url, headers: [("Authorization", "Bearer \(try channel.credential("accessToken"))")])
            guard response.status == 200 else {
                throw ChannelError.connectFailed("WhatsApp refused the credentials: \(MetaWebhook.error(response).message)")
            }
        } catch let failure as ProviderHTTP.Failure {
            throw ChannelError.connectFailed("WhatsApp could not be reached: \(failure)")
        }
    }

    /// The templates of the channel's WhatsApp Business Account, following `paging.next`.
    public func fetchTemplates(channel: ChannelConfig, http: ProviderHTTP) async throws -> [FetchedTemplate] {
        var url: String? = "\(channel.baseURL(default: MetaWebhook.graphBase))/\(MetaWebhook.version(channel))/\(try channel.credential("wabaId"))/message_templates?limit=100"
        let token = try channel.credential("accessToken")
        var templates: [FetchedTemplate] = []
        var pages = 0
        while let next = url, pages < 100 {
            pages += 1
            let response: ProviderHTTP.Response
            do { response = try await http.send(.GET, next, headers: [("Authorization", "Bearer \(token)")]) } catch {
                throw ChannelError.connectFailed("WhatsApp could not be reached: \(error)")
            }
            guard response.status == 200, let json = response.json else {
                throw ChannelError.connectFailed("WhatsApp refused the template list: \(MetaWebhook.error(response).message)")
            }
            for item in json["data"] as? [[String: Any]] ?? [] {
                guard let name = item["name"] as? String, let language = item["language"] as? String,
                      let status = (item["status"] as? String).flatMap(TemplateStatus.init(rawValue:)),
                      let category = (item["category"] as? String).flatMap(TemplateCategory.init(rawValue:)) else { continue }
                let body = (item["components"] as? [[String: Any]] ?? []).first { ($0["type"] as? String)?.uppercased() == "BODY" }?["text"] as? String ?? ""
                templates.append(FetchedTemplate(providerId: (item["id"] as? String) ?? "", name: name, language: language, category: category, status: status, body: body))
            }
            url = (json["paging"] as? [String: Any])?["next"] as? String
        }
        return templates
    }
}

/// A template as the provider lists it.
public struct FetchedTemplate: Sendable, Equatable {
    public var providerId: String
    public var name: String
    public var language: String
    public var category: TemplateCategory
    public var status: TemplateStatus
    public var body: String
}
