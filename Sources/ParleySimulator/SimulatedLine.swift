import Crypto
import Foundation
import Hummingbird
import NIOCore

/// LINE Messaging API: `/v2/bot/info` and `/v2/bot/message/push`, with bearer tokens and the
/// 24-hour deduplication of `X-Line-Retry-Key`.
extension ProviderSimulator {
    /// A push LINE accepted (a repeated retry key is not a second delivery).
    public struct LineDelivery: Sendable {
        public let to: String
        public let text: String
        public let retryKey: String
        public let requestId: String
    }

    public func acceptLineToken(_ token: String) { state.withLock { _ = $0.lineTokens.insert(token) } }

    public func lineDeliveries() -> [LineDelivery] { state.withLock { $0.lineDeliveries } }

    func line(_ request: Recorded) -> Response {
        let token = request.headers["authorization"].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst("Bearer ".count)) : nil } ?? ""
        guard state.withLock({ $0.lineTokens.contains(token) }) else {
            return Self.lineJSON(401, ["message": "Authentication failed. Confirm that the access token in the authorization header is valid."])
        }
        switch (request.method, request.path) {
        case ("GET", "/v2/bot/info"):
            return Self.lineJSON(200, ["userId": "U0000000000000000000000000000bot0", "basicId": "@parley", "displayName": "Parley Demo",
                                       "chatMode": "chat", "markAsReadMode": "manual"])
        case ("POST", "/v2/bot/message/push"):
            return linePush(request, token: token)
        case ("GET", let path) where path.hasPrefix("/v2/bot/message/") && path.hasSuffix("/content"):
            return lineContent(request)
        case ("GET", let path) where path.hasPrefix("/v2/bot/profile/"):
            return lineProfile(request)
        default:
            return Self.lineJSON(404, ["message": "Not found"])
        }
    }

    func linePush(_ request: Recorded, token: String) -> Response {
        // LINE only takes a UUID here; anything else would silently lose the deduplication.
        guard let rawKey = request.headers["x-line-retry-key"], let uuid = UUID(uuidString: rawKey) else {
            return Self.lineJSON(400, ["message": "The value for the 'X-Line-Retry-Key' header is invalid"])
        }
        let key = "\(token)|\(uuid.uuidString)"
        let now = now()
        if let accepted = state.withLock({ $0.lineRetryKeys[key] }), now.timeIntervalSince(accepted.at) < 24 * 3600 {
            return Self.lineJSON(409, ["message": "The retry key is already accepted", "sentMessages": [] as [Any]],
                                 headers: [("x-line-accepted-request-id", accepted.requestId), ("x-line-request-id", UUID().uuidString.lowercased())])
        }
        let payload = request.json
        guard let to = payload["to"] as? String, Self.isLineUserId(to) else {
            return Self.lineJSON(400, ["message": "The property, 'to', in the request body is invalid (line: -, column: -)"])
        }
        guard let messages = payload["messages"] as? [[String: Any]], (1...5).contains(messages.count),
              messages.allSatisfy(Self.lineMessageIsValid) else {
            return Self.lineJSON(400, ["message": "The request body has 1 error(s)",
                                       "details": [["message": "must be specified", "property": "messages[0].text"]]])
        }
        let requestId = UUID().uuidString.lowercased()
        let text = messages.compactMap { $0["text"] as? String }.joined(separator: "\n")
        state.withLock { state in
            state.lineRetryKeys[key] = (requestId, now)
            state.lineDeliveries.append(LineDelivery(to: to, text: text, retryKey: rawKey, requestId: requestId))
        }
        let sent = messages.map { _ in ["id": String(nextId() * 1000 + 17), "quoteToken": "q\(nextId())"] }
        return Self.lineJSON(200, ["sentMessages": sent], headers: [("x-line-request-id", requestId)])
    }

    /// LINE user ids are "U" and 32 lowercase hex digits.
    static func isLineUserId(_ id: String) -> Bool {
        id.count == 33 && id.hasPrefix("U") && id.dropFirst().allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    static func lineJSON(_ status: Int, _ object: Any, headers extra: [(String, String)] = []) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        for (name, value) in extra {
            if let field = HTTPFields.Element.Name(name) { headers[field] = value }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A LINE webhook carrying one text message from `userId`, signed as LINE signs it.
    public func lineInbound(userId: String, messageId: String, text: String, at date: Date,
                            channelSecret: String) -> (body: [UInt8], headers: [(String, String)]) {
        let event: [String: Any] = [
            "type": "message", "mode": "active", "timestamp": Int64(date.timeIntervalSince1970 * 1000),
            "webhookEventId": "01SIM\(nextId())", "deliveryContext": ["isRedelivery": false],
            "replyToken": "rt\(nextId())", "source": ["type": "user", "userId": userId],
            "message": ["id": messageId, "type": "text", "quoteToken": "q\(messageId)", "text": text],
        ]
        let body = Array((try? JSONSerialization.data(withJSONObject: ["destination": "U0000000000000000000000000000bot0", "events": [event]])) ?? Data())
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(channelSecret.utf8)))).base64EncodedString()
        return (body, [("Content-Type", "application/json; charset=utf-8"), ("X-Line-Signature", signature)])
    }
}
