import Crypto
import Foundation
import Hummingbird
import ParleyCore

/// Viber REST Bot API: `/pa/<method>` with `X-Viber-Auth-Token`. Viber answers HTTP 200 and puts
/// the error in `status`. Outside the 24-hour session a message is "chatbot-initiated" and counts
/// against the bot's free monthly quota.
extension ProviderSimulator {
    /// Chatbot-initiated messages free per bot and UTC calendar month.
    public static let viberFreeMonthlyMessages = 10_000
    static let viberSession: TimeInterval = 24 * 3600

    func viber(_ request: Recorded) -> Response {
        let token = request.headers["x-viber-auth-token"] ?? ""
        guard state.withLock({ $0.viberTokens.contains(token) }) else {
            return Self.json(200, ["status": 2, "status_message": "invalidAuthToken"])
        }
        switch request.path {
        case "/pa/set_webhook":
            guard let url = request.json["url"] as? String, url.hasPrefix("https://") else {
                return Self.json(200, ["status": 1, "status_message": "invalidUrl"])
            }
            state.withLock { $0.viberWebhooks[token] = url }
            let events = request.json["event_types"] as? [String] ?? ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]
            return Self.json(200, ["status": 0, "status_message": "ok", "event_types": events])
        case "/pa/send_message":
            return viberSend(request, token: token)
        case "/pa/get_user_details":
            return viberProfile(request)
        default:
            return Self.json(404, ["status": 3, "status_message": "badData"])
        }
    }

    private func viberSend(_ request: Recorded, token: String) -> Response {
        let payload = request.json
        guard let receiver = payload["receiver"] as? String, !receiver.isEmpty, Self.viberContentIsValid(payload),
              let sender = (payload["sender"] as? [String: Any])?["name"] as? String, !sender.isEmpty, sender.count <= 28 else {
            return Self.json(200, ["status": 3, "status_message": "badData"])
        }
        let inSession = withinWindow(.viber, recipient: receiver, length: Self.viberSession)
        let month = "\(token)|\(WindowPolicy.utcMonth(now()))"
        let refusal: (Int, String)? = state.withLock { state in
            if !state.viberForcedStatuses.isEmpty {
                let status = state.viberForcedStatuses.removeFirst()
                return (status, Self.viberStatusMessages[status] ?? "generalError")
            }
            if !inSession {
                if state.viberMonthlyUsed[month, default: 0] >= Self.viberFreeMonthlyMessages { return (23, "freeMessagesExceeded") }
                state.viberMonthlyUsed[month, default: 0] += 1
            }
            return nil
        }
        if let (status, message) = refusal {
            return Self.json(200, ["status": status, "status_message": message])
        }
        // Real tokens are large 64-bit numbers; so are these, so that Parley's parsing is exercised.
        let messageToken = Int64(5_000_000_000_000_000_000) + Int64(nextId())
        return Self.json(200, ["status": 0, "status_message": "ok", "message_token": messageToken, "chat_hostname": "SN-SIM"])
    }

    static let viberStatusMessages: [Int: String] = [
        1: "invalidUrl", 2: "invalidAuthToken", 3: "badData", 4: "missingData", 5: "receiverNotRegistered",
        6: "receiverNotSubscribed", 12: "tooManyRequests", 23: "freeMessagesExceeded", 24: "noBalance",
    ]

    // MARK: Control

    public func acceptViberToken(_ token: String) { state.withLock { _ = $0.viberTokens.insert(token) } }

    /// The webhook URL registered with `token`'s `set_webhook`.
    public func viberWebhook(authToken: String) -> String? { state.withLock { $0.viberWebhooks[authToken] } }

    /// Sets how many chatbot-initiated messages `authToken` has sent this (UTC) month.
    public func setViberMonthlyUsage(_ count: Int, authToken: String) {
        let month = "\(authToken)|\(WindowPolicy.utcMonth(now()))"
        state.withLock { $0.viberMonthlyUsed[month] = count }
    }

    public func viberMonthlyUsage(authToken: String) -> Int {
        let month = "\(authToken)|\(WindowPolicy.utcMonth(now()))"
        return state.withLock { $0.viberMonthlyUsed[month, default: 0] }
    }

    /// The next `count` well-formed sends answer HTTP 200 with this `status` (12 tooManyRequests, 5, 6…).
    public func failNextViberSends(status: Int, count: Int = 1) {
        state.withLock { $0.viberForcedStatuses += Array(repeating: status, count: count) }
    }

    // MARK: Webhooks

    /// A signed `message` callback from `userId`; also opens the provider-side session.
    public func viberInbound(from userId: String, name: String, token: Int64, text: String, at date: Date,
                             authToken: String) -> (body: [UInt8], headers: [(String, String)]) {
        contactWrote(.viber, recipient: userId, at: date)
        return viberSigned([
            "event": "message", "timestamp": Int64(date.timeIntervalSince1970 * 1000), "chat_hostname": "SN-SIM",
            "message_token": token, "silent": false,
            "sender": ["id": userId, "name": name, "language": "es", "country": "MX", "api_version": 10],
            "message": ["type": "text", "text": text],
        ], authToken: authToken)
    }

    /// A signed `delivered` callback for one of our messages.
    public func viberDelivered(token: String, at date: Date, authToken: String) -> (body: [UInt8], headers: [(String, String)]) {
        viberStatus("delivered", token: token, at: date, authToken: authToken)
    }

    /// A signed `delivered`, `seen` or `failed` callback.
    public func viberStatus(_ event: String, token: String, userId: String = "sim-user", at date: Date,
                            authToken: String) -> (body: [UInt8], headers: [(String, String)]) {
        var object: [String: Any] = ["event": event, "timestamp": Int64(date.timeIntervalSince1970 * 1000), "chat_hostname": "SN-SIM",
                                     "message_token": Int64(token).map { $0 as Any } ?? token, "user_id": userId]
        if event == "failed" { object["desc"] = "failure description" }
        return viberSigned(object, authToken: authToken)
    }

    /// Any callback body, signed the way Viber signs: hex HMAC-SHA256 of the raw body with the auth token.
    public func viberSigned(_ object: [String: Any], authToken: String) -> (body: [UInt8], headers: [(String, String)]) {
        let body = Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        let signature = HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(authToken.utf8)))
            .hexEncoded
        return (body, [("Content-Type", "application/json"), ("X-Viber-Content-Signature", signature)])
    }
}
