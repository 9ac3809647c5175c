import Foundation
import ParleyCore

/// Telegram Bot API. Webhooks carry the secret token Parley registered with `setWebhook`.
public struct TelegramAdapter: ChannelAdapter {
    public let kind = ChannelKind.telegram
    public let requiredCredentials = ["botToken"]
    public static let defaultBase = "https://api.telegram.org"

    public init() {}

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        guard let token = request.headers["x-telegram-bot-api-secret-token"], constantTimeEquals(token, channel.webhookSecret) else {
            throw ChannelError.unauthorized("missing or wrong X-Telegram-Bot-Api-Secret-Token")
        }
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] {
        guard let update = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            throw ChannelError.badPayload("body is not a JSON object")
        }
        return TelegramInbound.events(update)
    }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let base: String
        do { base = try "\(channel.baseURL(default: Self.defaultBase))/bot\(channel.credential("botToken"))" } catch {
            return .failed(reason: .misconfigured, code: "credentials", text: String(describing: error))
        }
        let response: ProviderHTTP.Response
        do {
            if let file = delivery.attachment {
                // Files are uploaded (multipart), so the bot needs no public URL of Parley's.
                let (method, field) = Self.mediaMethod(file.kind)
                var form = MultipartForm()
                form.field("chat_id", delivery.externalId)
                if !delivery.instructions.text.isEmpty { form.field("caption", delivery.instructions.text) }
                form.file(field, fileName: file.fileName, contentType: file.contentType, bytes: file.bytes)
                let (body, type) = form.encoded()
                response = try await http.send(.POST, "\(base)/\(method)", headers: [("Content-Type", type)], body: body)
            } else {
                response = try await http.json(.POST, "\(base)/sendMessage", object: ["chat_id": delivery.externalId, "text": delivery.instructions.text])
            }
        } catch {
            return ProviderHTTP.transient(error)
        }
        let json = response.json ?? [:]
        if response.status == 200, json["ok"] as? Bool == true, let result = json["result"] as? [String: Any], let id = Self.integer(result["message_id"]) {
            return .sent(providerMessageId: "\(delivery.externalId):\(id)")
        }
        let description = json["description"] as? String ?? "HTTP \(response.status)"
        let code = Self.integer(json["error_code"]).map(String.init) ?? String(response.status)
        if response.status == 429 || code == "429" {
            let after = ((json["parameters"] as? [String: Any]).flatMap { Self.integer($0["retry_after"]) }).map(TimeInterval.init) ?? response.retryAfter
            return .retry(after: after, detail: description)
        }
        if let transient = ProviderHTTP.transient(response) { return transient }
        switch code {
        case "403": return .failed(reason: .blocked, code: code, text: description)
        case "401", "404": return .failed(reason: .authenticationFailed, code: code, text: description)
        case "400" where description.contains("chat not found"): return .failed(reason: .invalidRecipient, code: code, text: description)
        default: return .failed(reason: .providerError, code: code, text: description)
        }
    }

    /// The Bot API method and its file field for a kind of file.
    static func mediaMethod(_ kind: AttachmentKind) -> (String, String) {
        switch kind {
        case .image: return ("sendPhoto", "photo")
        case .audio: return ("sendAudio", "audio")
        case .video: return ("sendVideo", "video")
        case .document, .sticker: return ("sendDocument", "document")
        }
    }

    /// Checks the bot token with `getMe` and registers the webhook with a secret token.
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {
        let base = "\(channel.baseURL(default: Self.defaultBase))/bot\(try channel.credential("botToken"))"
        do {
            let me = try await http.send(.GET, "\(base)/getMe")
            guard me.status == 200, me.json?["ok"] as? Bool == true else {
                throw ChannelError.connectFailed("Telegram refused the bot token (getMe answered \(me.status))")
            }
            let hook = try await http.json(.POST, "\(base)/setWebhook", object: [
                "url": channel.webhookURL, "secret_token": channel.webhookSecret, "allowed_updates": ["message", "edited_message"],
            ])
            guard hook.status == 200, hook.json?["ok"] as? Bool == true else {
                throw ChannelError.connectFailed("Telegram refused the webhook: \(hook.json?["description"] as? String ?? "HTTP \(hook.status)")")
            }
        } catch let failure as ProviderHTTP.Failure {
            throw ChannelError.connectFailed("Telegram could not be reached: \(failure)")
        }
    }

    static func integer(_ value: Any?) -> Int64? {
        (value as? NSNumber)?.int64Value ?? (value as? String).flatMap { Int64($0) }
    }
}
