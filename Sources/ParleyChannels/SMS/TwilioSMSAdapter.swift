import Crypto
import Foundation
import ParleyCore

/// SMS through Twilio Programmable Messaging. Webhooks are form posts signed over the full URL
/// Twilio called plus the sorted parameters; sends are form posts with HTTP Basic auth and a
/// status callback pointing back at the channel's webhook.
public struct TwilioSMSAdapter: ChannelAdapter {
    public let kind = ChannelKind.sms
    /// A sender is also needed: `from` (a phone number) or `messagingServiceSid`.
    public let requiredCredentials = ["accountSid", "authToken"]
    public static let defaultBase = "https://api.twilio.com"

    public init() {}

    /// What Twilio expects back from a messaging webhook: an empty TwiML document (no auto-reply).
    public var acknowledgement: WebhookReply {
        WebhookReply(status: 200, contentType: "text/xml", body: "<Response></Response>")
    }

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        let token = try channel.credential("authToken")
        guard let given = request.headers["x-twilio-signature"] else {
            throw ChannelError.unauthorized("missing X-Twilio-Signature")
        }
        let expected = Self.signature(url: request.url, parameters: Self.formDecode(request.body), authToken: token)
        guard constantTimeEquals(given, expected) else {
            throw ChannelError.unauthorized("X-Twilio-Signature does not match the URL and parameters")
        }
    }

    /// Base64 HMAC-SHA1 with the auth token over the URL followed by every parameter, sorted
    /// by name, as name and value with no separators.
    public static func signature(url: String, parameters: [(String, String)], authToken: String) -> String {
        let sorted = parameters.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        let signed = url + sorted.map { $0.0 + $0.1 }.joined()
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: Data(signed.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(code).base64EncodedString()
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] {
        var fields: [String: String] = [:]
        for (name, value) in Self.formDecode(request.body) where fields[name] == nil { fields[name] = value }
        guard let sid = fields["MessageSid"] ?? fields["SmsSid"] else {
            throw ChannelError.badPayload("the form has no MessageSid")
        }
        if let status = fields["MessageStatus"], status != "received" {
            return Self.statusEvent(sid: sid, status: status, errorCode: fields["ErrorCode"], errorText: fields["ErrorMessage"]).map { [$0] } ?? []
        }
        guard let from = fields["From"], let body = fields["Body"] else { return [] }
        // Twilio sends at most 10; anything else (negative, huge) must not become a bad range.
        let media = min(max(Int(fields["NumMedia"] ?? "") ?? 0, 0), 10)
        var details: [String: String] = [:]
        for index in 0..<media {
            details["mediaUrl\(index)"] = fields["MediaUrl\(index)"]
            details["mediaType\(index)"] = fields["MediaContentType\(index)"]
        }
        // An MMS: its text is the caption; the kind says how many pictures or files came with it.
        var content = media > 0
            ? InboundContent(kind: "media", text: body.isEmpty ? "[\(media == 1 ? "attachment" : "\(media) attachments")]" : body, details: details)
            : .text(body)
        for index in 0..<media {
            let type = fields["MediaContentType\(index)"] ?? ""
            content = content.with(media: MediaSource(kind: AttachmentKind.of(contentType: type), reference: fields["MediaUrl\(index)"] ?? "", contentType: type))
        }
        // Twilio's inbound webhook carries no timestamp; the moment it arrives is the closest we have.
        return [.message(InboundMessageEvent(externalId: from, displayName: nil, phone: e164(from), providerMessageId: sid,
                                             timestamp: Date(), content: content))]
    }

    /// A status callback as Parley's status, or nil for the in-between states Twilio reports.
    static func statusEvent(sid: String, status: String, errorCode: String?, errorText: String?) -> InboundEvent? {
        let code = errorCode.flatMap { $0.isEmpty ? nil : $0 }
        switch status {
        case "sent":
            return .status(providerMessageId: sid, status: .sent, reason: nil, errorCode: nil, errorText: nil)
        case "delivered":
            return .status(providerMessageId: sid, status: .delivered, reason: nil, errorCode: nil, errorText: nil)
        case "read":
            return .status(providerMessageId: sid, status: .read, reason: nil, errorCode: nil, errorText: nil)
        case "undelivered", "failed":
            return .status(providerMessageId: sid, status: .failed, reason: reason(Int(code ?? "") ?? 0), errorCode: code,
                           errorText: errorText ?? "Twilio reported the message \(status)")
        default:
            return nil // queued, accepted, scheduled, sending: nothing a person needs to see
        }
    }

    /// Twilio error codes → Parley's reasons.
    static func reason(_ code: Int) -> FailureReason {
        switch code {
        case 21610: return .blocked // the recipient replied STOP
        case 30004: return .blocked // the recipient or their carrier blocks the sender
        case 21211, 21614, 30003, 30005, 30006: return .invalidRecipient
        case 20003: return .authenticationFailed
        default: return .providerError
        }
    }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let sid: String, token: String
        do {
            sid = try channel.credential("accountSid")
            token = try channel.credential("authToken")
        } catch {
            return .failed(reason: .misconfigured, code: "credentials", text: String(describing: error))
        }
        guard let sender = Self.sender(channel) else {
            return .failed(reason: .misconfigured, code: "credentials", text: "the channel has neither 'from' nor 'messagingServiceSid'")
        }
        var fields = [("To", delivery.externalId), sender, ("Body", delivery.instructions.text), ("StatusCallback", channel.webhookURL)]
        if let file = delivery.attachment { fields.append(("MediaUrl", file.url)) }
        let form = Self.formEncode(fields)
        let url = "\(channel.baseURL(default: Self.defaultBase))/2010-04-01/Accounts/\(Self.pathSegment(sid))/Messages.json"
        let response: ProviderHTTP.Response
        do {
            response = try await http.send(.POST, url, headers: [("Authorization", Self.basic(sid, token)),
                                                                 ("Content-Type", "application/x-www-form-urlencoded"),
                                                                 ("Accept", "application/json")], body: Array(form.utf8))
        } catch {
            return ProviderHTTP.transient(error)
        }
        let json = response.json ?? [:]
        if (200..<300).contains(response.status), let messageSid = json["sid"] as? String {
            return .sent(providerMessageId: messageSid)
        }
        let code = (json["code"] as? NSNumber)?.intValue
        let message = json["message"] as? String ?? "HTTP \(response.status)"
        if code == 20429 { return .retry(after: response.retryAfter, detail: message) }
        if let transient = ProviderHTTP.transient(response) { return transient }
        guard let code else {
            let reason: FailureReason = response.status == 401 || response.status == 403 ? .authenticationFailed : .providerError
            return .failed(reason: reason, code: String(response.status), text: message)
        }
        return .failed(reason: Self.reason(code), code: String(code), text: message)
    }

    /// Checks the account SID and auth token by reading the account.
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {
        let sid = try channel.credential("accountSid"), token = try channel.credential("authToken")
        guard Self.sender(channel) != nil else {
            throw ChannelError.connectFailed("an SMS channel needs the credential 'from' or 'messagingServiceSid'")
        }
        do {
            let response = try await http.send(.GET, "\(channel.baseURL(default: Self.defaultBase))/2010-04-01/Accounts/\(Self.pathSegment(sid)).json",
                                               headers: [("Authorization", Self.basic(sid, token)), ("Accept", "application/json")])
            guard response.status == 200 else {
                throw ChannelError.connectFailed("Twilio refused the credentials: \(response.json?["message"] as? String ?? "HTTP \(response.status)")")
            }
        } catch let failure as ProviderHTTP.Failure {
            throw ChannelError.connectFailed("Twilio could not be reached: \(failure)")
        }
    }

    /// A Messaging Service picks the number itself, so it wins over a fixed `from`.
    static func sender(_ channel: ChannelConfig) -> (String, String)? {
        if let service = channel.credentials["messagingServiceSid"], !service.isEmpty { return ("MessagingServiceSid", service) }
        if let from = channel.credentials["from"], !from.isEmpty { return ("From", from) }
        return nil
    }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"
    }

    static func pathSegment(_ value: String) -> String {
        String(decoding: percentEncode(value), as: UTF8.self)
    }

    // MARK: application/x-www-form-urlencoded

    /// Encodes fields, escaping everything but RFC 3986's unreserved characters.
    public static func formEncode(_ fields: [(String, String)]) -> String {
        fields.map { String(decoding: percentEncode($0.0), as: UTF8.self) + "=" + String(decoding: percentEncode($0.1), as: UTF8.self) }
            .joined(separator: "&")
    }

    /// Decodes a form body in order, '+' as a space; malformed escapes are kept literally.
    public static func formDecode(_ body: [UInt8]) -> [(String, String)] {
        body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            return (percentDecode(parts[0]), parts.count > 1 ? percentDecode(parts[1]) : "")
        }
    }

    static func percentEncode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(contentsOf: Array(String(format: "%%%02X", byte).utf8))
            }
        }
        return out
    }

    static func percentDecode(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]),
                      let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
                continue
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
