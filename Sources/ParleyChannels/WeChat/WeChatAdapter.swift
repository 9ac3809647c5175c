import Crypto
import Foundation
import ParleyCore

/// WeChat Official Account (plaintext mode). Webhooks are checked with the SHA-1 signature over
/// the channel's token and the query's timestamp and nonce; sends use an access token fetched
/// with the app id and secret, cached per channel.
///
/// In plaintext mode WeChat's signature covers the query, not the body: the server refuses a
/// timestamp more than 5 minutes off and takes each nonce once (``replayMarkers(_:)``), but body
/// integrity needs WeChat's encrypted mode, which Parley does not offer.
public struct WeChatAdapter: ChannelAdapter {
    public let kind = ChannelKind.wechat
    public let requiredCredentials = ["appId", "appSecret", "token"]
    public static let defaultBase = "https://api.weixin.qq.com"
    /// WeChat's codes for a token it no longer accepts (invalid, expired, not the latest).
    static let staleTokenCodes: Set<Int> = [40001, 40014, 42001]

    let tokens: WeChatAccessTokens

    public init() {
        tokens = .shared
    }

    // MARK: Webhooks

    public func handshake(_ request: WebhookRequest, channel: ChannelConfig) -> WebhookReply? {
        guard let echo = request.query["echostr"], Self.isSigned(request, channel: channel) else { return .forbidden }
        return WebhookReply(status: 200, contentType: "text/plain; charset=utf-8", body: echo)
    }

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        guard Self.isSigned(request, channel: channel) else {
            throw ChannelError.unauthorized("missing or wrong WeChat signature")
        }
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] {
        let fields = try WeChatXML.fields(request.body)
        guard let type = fields["MsgType"]?.trimmingCharacters(in: .whitespacesAndNewlines), !type.isEmpty else {
            throw ChannelError.badPayload("the XML has no MsgType")
        }
        // Subscriptions, menu clicks and scans are events, not messages from the contact.
        if type == "event" { return [] }
        guard let openId = fields["FromUserName"], !openId.isEmpty,
              let msgId = fields["MsgId"]?.trimmingCharacters(in: .whitespacesAndNewlines), !msgId.isEmpty,
              let created = fields["CreateTime"].flatMap({ Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw ChannelError.badPayload("a WeChat message needs FromUserName, MsgId and CreateTime")
        }
        return [.message(InboundMessageEvent(externalId: openId, displayName: nil, providerMessageId: msgId,
                                             timestamp: Date(timeIntervalSince1970: TimeInterval(created)), content: WeChatInbound.content(type, fields)))]
    }

    /// WeChat retries unless it reads exactly `success`.
    public var acknowledgement: WebhookReply {
        WebhookReply(status: 200, contentType: "text/plain; charset=utf-8", body: "success")
    }

    static func isSigned(_ request: WebhookRequest, channel: ChannelConfig) -> Bool {
        guard let token = channel.credentials["token"], !token.isEmpty,
              let given = request.query["signature"], let timestamp = request.query["timestamp"], let nonce = request.query["nonce"] else {
            return false
        }
        return constantTimeEquals(given.lowercased(), signature(token: token, timestamp: timestamp, nonce: nonce))
    }

    /// SHA-1 hex of token, timestamp and nonce sorted bytewise and joined.
    public static func signature(token: String, timestamp: String, nonce: String) -> String {
        let joined = [token, timestamp, nonce].sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined()
        return Insecure.SHA1.hash(data: Data(joined.utf8)).hexEncoded
    }

    // MARK: Sending

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let key: WeChatAccessTokens.Key
        do { key = try Self.key(channel) } catch {
            return .failed(reason: .misconfigured, code: "credentials", text: String(describing: error))
        }
        var payload: [String: Any] = ["touser": delivery.externalId, "msgtype": "text", "text": ["content": delivery.instructions.text]]
        // A refused token is replaced and the message sent once more: WeChat delivered nothing,
        // so the resend cannot duplicate it.
        for attempt in 1...2 {
            let token: String
            switch await tokens.token(for: key, fetch: { await Self.fetchToken(key, http: http) }) {
            case .success(let fresh): token = fresh
            case .failure(let unavailable): return unavailable.result
            }
            if let file = delivery.attachment {
                // WeChat sends files by a media id it issued: the file is uploaded first.
                switch await upload(file, base: key.base, token: token, http: http) {
                case .success(let mediaId):
                    let type = Self.mediaType(file.kind)
                    payload = ["touser": delivery.externalId, "msgtype": type, type: ["media_id": mediaId]]
                case .failure(let refused):
                    if case .failed(_, let code, _) = refused.result, let number = Int(code), Self.staleTokenCodes.contains(number), attempt == 1 {
                        await tokens.invalidate(key, token: token)
                        continue
                    }
                    return refused.result
                }
            }
            let response: ProviderHTTP.Response
            do {
                response = try await http.json(.POST, "\(key.base)/cgi-bin/message/custom/send?access_token=\(Self.encoded(token))", object: payload)
            } catch {
                return ProviderHTTP.transient(error)
            }
            if let transient = ProviderHTTP.transient(response) { return transient }
            guard let json = response.json, let code = (json["errcode"] as? NSNumber)?.intValue else {
                return .failed(reason: .providerError, code: String(response.status), text: "WeChat answered HTTP \(response.status) without an errcode")
            }
            let message = json["errmsg"] as? String ?? "errcode \(code)"
            if code == 0 { return .sent(providerMessageId: "wechat-\(delivery.messageId)") }
            if Self.staleTokenCodes.contains(code) && attempt == 1 {
                await tokens.invalidate(key, token: token)
                continue
            }
            return Self.result(code, message)
        }
        return .failed(reason: .authenticationFailed, code: "40001", text: "WeChat refused a freshly fetched access token")
    }

    /// WeChat `errcode`s of the send API → Parley's outcomes.
    static func result(_ code: Int, _ message: String) -> ProviderResult {
        switch code {
        case -1, 45009: return .retry(after: nil, detail: "\(code) \(message)") // system busy, rate limit
        case 45015: return .failed(reason: .outsideWindow, code: String(code), text: message)
        case 45047: return .failed(reason: .messageLimit, code: String(code), text: message)
        case 40003: return .failed(reason: .invalidRecipient, code: String(code), text: message)
        case 43004: return .failed(reason: .blocked, code: String(code), text: message)
        case 40001, 40014, 42001, 40013, 40125: return .failed(reason: .authenticationFailed, code: String(code), text: message)
        case 40164, 61004: return .failed(reason: .misconfigured, code: String(code), text: message) // caller IP not whitelisted
        default: return .failed(reason: .providerError, code: String(code), text: message)
        }
    }

    /// Checks the app id and secret by fetching a token, which the first send then reuses.
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {
        let key = try Self.key(channel)
        await tokens.invalidate(key)
        switch await tokens.token(for: key, fetch: { await Self.fetchToken(key, http: http) }) {
        case .success:
            return
        case .failure(let unavailable):
            switch unavailable.result {
            case .retry(_, let detail): throw ChannelError.connectFailed("WeChat could not be reached: \(detail)")
            case .failed(_, let code, let text): throw ChannelError.connectFailed("WeChat refused the credentials: \(text) (\(code))")
            case .sent: throw ChannelError.connectFailed("WeChat gave no access token")
            }
        }
    }

    static func key(_ channel: ChannelConfig) throws -> WeChatAccessTokens.Key {
        WeChatAccessTokens.Key(channelId: channel.id, base: channel.baseURL(default: defaultBase),
                               appId: try channel.credential("appId"), appSecret: try channel.credential("appSecret"))
    }

    static func fetchToken(_ key: WeChatAccessTokens.Key, http: ProviderHTTP) async -> WeChatAccessTokens.Fetched {
        let url = "\(key.base)/cgi-bin/token?grant_type=client_credential&appid=\(encoded(key.appId))&secret=\(encoded(key.appSecret))"
        let response: ProviderHTTP.Response
        do { response = try await http.send(.GET, url) } catch {
            return .failed(ProviderHTTP.transient(error))
        }
        if let transient = ProviderHTTP.transient(response) { return .failed(transient) }
        let json = response.json ?? [:]
        if let token = json["access_token"] as? String, !token.isEmpty {
            let expiresIn = (json["expires_in"] as? NSNumber)?.doubleValue ?? 7200
            return .token(token, expiresIn: max(expiresIn, 1))
        }
        guard let code = (json["errcode"] as? NSNumber)?.intValue else {
            return .failed(.failed(reason: .providerError, code: String(response.status), text: "WeChat answered HTTP \(response.status) without a token"))
        }
        return .failed(result(code, json["errmsg"] as? String ?? "errcode \(code)"))
    }

    /// Percent-encodes a query value (tokens and secrets may hold `+`, `/` or `=`).
    static func encoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: queryValue) ?? value
    }

    /// RFC 3986 unreserved characters, ASCII only (`.alphanumerics` would let other scripts through).
    private static let queryValue = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

/// The flat XML WeChat posts: an `<xml>` root whose children hold text or CDATA. A small strict
/// reader instead of a general XML parser: no DTDs or entity definitions (so no entity expansion),
/// a depth limit, and anything malformed is refused.
enum WeChatXML {
    static let maxDepth = 8

    struct Element {
        var name: String
        var text: [UInt8] = []
        var children: [Element] = []
    }

    /// The root's children by name, their text decoded.
    static func fields(_ bytes: [UInt8]) throws -> [String: String] {
        var reader = Reader(bytes: bytes)
        let root = try reader.document()
        guard root.name == "xml" else { throw ChannelError.badPayload("the XML root is <\(root.name)>, not <xml>") }
        var fields: [String: String] = [:]
        for child in root.children {
            guard fields[child.name] == nil else { throw ChannelError.badPayload("the XML repeats <\(child.name)>") }
            guard let text = String(bytes: child.text, encoding: .utf8) else { throw ChannelError.badPayload("the XML is not UTF-8") }
            fields[child.name] = text
        }
        return fields
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func document() throws -> Element {
            try skipProlog()
            let root = try element(depth: 0)
            try skipProlog()
            guard index == bytes.count else { throw bad("content after the root element") }
            return root
        }

        /// Whitespace, the XML declaration and comments; a DOCTYPE is refused.
        mutating func skipProlog() throws {
            while index < bytes.count {
                if isSpace(bytes[index]) {
                    index += 1
                } else if starts(with: "<?") {
                    try skip(past: "?>")
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<!") {
                    throw bad("DTDs are not accepted")
                } else {
                    return
                }
            }
        }

        mutating func element(depth: Int) throws -> Element {
            guard depth <= WeChatXML.maxDepth else { throw bad("elements nest too deeply") }
            guard starts(with: "<") else { throw bad("expected an element") }
            index += 1
            var element = Element(name: try name())
            // Attributes are not used by WeChat; they are skipped, honouring quotes.
            var quote: UInt8?
            while true {
                guard index < bytes.count else { throw bad("unterminated tag <\(element.name)>") }
                let byte = bytes[index]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: "<") {
                    throw bad("'<' inside tag <\(element.name)>")
                } else if starts(with: "/>") {
                    index += 2
                    return element
                } else if byte == UInt8(ascii: ">") {
                    index += 1
                    break
                }
                index += 1
            }
            while true {
                guard index < bytes.count else { throw bad("<\(element.name)> is not closed") }
                if starts(with: "</") {
                    index += 2
                    guard try name() == element.name else { throw bad("mismatched closing tag for <\(element.name)>") }
                    while index < bytes.count, isSpace(bytes[index]) { index += 1 }
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw bad("malformed closing tag") }
                    index += 1
                    return element
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    let end = try find("]]>")
                    element.text += bytes[index..<end]
                    index = end + 3
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<!") || starts(with: "<?") {
                    throw bad("unexpected markup inside <\(element.name)>")
                } else if bytes[index] == UInt8(ascii: "<") {
                    element.children.append(try self.element(depth: depth + 1))
                } else if bytes[index] == UInt8(ascii: "&") {
                    element.text += try entity()
                } else {
                    element.text.append(bytes[index])
                    index += 1
                }
            }
        }

        mutating func name() throws -> String {
            let start = index
            while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
            guard index > start, let name = String(bytes: bytes[start..<index], encoding: .utf8) else { throw bad("expected a tag name") }
            return name
        }

        /// The five predefined entities and numeric character references.
        mutating func entity() throws -> [UInt8] {
            let end = try find(";")
            guard end - index <= 12, let reference = String(bytes: bytes[(index + 1)..<end], encoding: .utf8) else { throw bad("malformed entity") }
            index = end + 1
            switch reference {
            case "lt": return Array("<".utf8)
            case "gt": return Array(">".utf8)
            case "amp": return Array("&".utf8)
            case "quot": return Array("\"".utf8)
            case "apos": return Array("'".utf8)
            default:
                let code: UInt32?
                if reference.hasPrefix("#x") || reference.hasPrefix("#X") {
                    code = UInt32(reference.dropFirst(2), radix: 16)
                } else if reference.hasPrefix("#") {
                    code = UInt32(reference.dropFirst(), radix: 10)
                } else {
                    code = nil
                }
                guard let code, let scalar = Unicode.Scalar(code) else { throw bad("unknown entity &\(reference);") }
                return Array(String(Character(scalar)).utf8)
            }
        }

        func starts(with prefix: String) -> Bool {
            let marker = Array(prefix.utf8)
            return bytes.count - index >= marker.count && bytes[index..<(index + marker.count)].elementsEqual(marker)
        }

        /// The index where `marker` next starts.
        func find(_ marker: String) throws -> Int {
            let target = Array(marker.utf8)
            var position = index
            while position + target.count <= bytes.count {
                if bytes[position..<(position + target.count)].elementsEqual(target) { return position }
                position += 1
            }
            throw bad("missing '\(marker)'")
        }

        mutating func skip(past marker: String) throws {
            index = try find(marker) + marker.utf8.count
        }

        func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        }

        func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }

        func bad(_ why: String) -> ChannelError {
            .badPayload("malformed XML: \(why)")
        }
    }
}

/// Outbound files: uploaded as temporary media for a media id, then sent by it.
extension WeChatAdapter {
    struct UploadRefused: Error {
        let result: ProviderResult
    }

    static func mediaType(_ kind: AttachmentKind) -> String {
        switch kind {
        case .audio: return "voice"
        case .video: return "video"
        default: return "image"
        }
    }

    func upload(_ file: OutboundFile, base: String, token: String, http: ProviderHTTP) async -> Result<String, UploadRefused> {
        var form = MultipartForm()
        form.file("media", fileName: file.fileName, contentType: file.contentType, bytes: file.bytes)
        let (body, type) = form.encoded()
        let url = "\(base)/cgi-bin/media/upload?access_token=\(Self.encoded(token))&type=\(Self.mediaType(file.kind))"
        let response: ProviderHTTP.Response
        do { response = try await http.send(.POST, url, headers: [("Content-Type", type)], body: body) } catch {
            return .failure(UploadRefused(result: ProviderHTTP.transient(error)))
        }
        if let transient = ProviderHTTP.transient(response) { return .failure(UploadRefused(result: transient)) }
        let json = response.json ?? [:]
        if let mediaId = json["media_id"] as? String, !mediaId.isEmpty { return .success(mediaId) }
        let code = (json["errcode"] as? NSNumber)?.intValue ?? response.status
        return .failure(UploadRefused(result: Self.result(code, json["errmsg"] as? String ?? "the upload was refused")))
    }
}
