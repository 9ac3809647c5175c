import Foundation
import Hummingbird
import ParleyCore

/// Telegram Bot API: `/bot<token>/<method>`.
extension ProviderSimulator {
    func telegram(_ request: Recorded) -> Response {
        let parts = request.path.dropFirst("/bot".count).split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, state.withLock({ $0.telegramTokens.contains(parts[0]) }) else {
            return Self.json(401, ["ok": false, "error_code": 401, "description": "Unauthorized"])
        }
        let token = parts[0]
        if let file = telegramFile(request, token: token, method: parts[1]) { return file }
        if let media = telegramSendMedia(request, method: parts[1]) { return media }
        switch parts[1] {
        case "getMe":
            return Self.json(200, ["ok": true, "result": ["id": 7001, "is_bot": true, "first_name": "Parley Bot", "username": "parley_bot"]])
        case "setWebhook":
            guard let url = request.json["url"] as? String else {
                return Self.json(400, ["ok": false, "error_code": 400, "description": "Bad Request: bad webhook: url is empty"])
            }
            let secret = request.json["secret_token"] as? String ?? ""
            state.withLock { $0.telegramWebhooks[token] = (url, secret) }
            return Self.json(200, ["ok": true, "result": true, "description": "Webhook was set"])
        case "sendMessage":
            guard let chat = (request.json["chat_id"] as? String) ?? (request.json["chat_id"] as? NSNumber)?.stringValue,
                  let text = request.json["text"] as? String, !text.isEmpty else {
                return Self.json(400, ["ok": false, "error_code": 400, "description": "Bad Request: message text is empty"])
            }
            if state.withLock({ $0.blockedChats.contains(chat) }) {
                return Self.json(403, ["ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"])
            }
            let id = nextId()
            return Self.json(200, ["ok": true, "result": ["message_id": id, "chat": ["id": Int64(chat) ?? 0, "type": "private"],
                                                          "date": Int(now().timeIntervalSince1970), "text": text]])
        default:
            return Self.json(404, ["ok": false, "error_code": 404, "description": "Not Found"])
        }
    }

    /// A Telegram update from `chatId`, with the headers Telegram sends for `secret`.
    public func telegramUpdate(chatId: Int64, messageId: Int, text: String, firstName: String, lastName: String? = nil,
                               at date: Date, secret: String) -> (body: [UInt8], headers: [(String, String)]) {
        var from: [String: Any] = ["id": chatId, "is_bot": false, "first_name": firstName]
        if let lastName { from["last_name"] = lastName }
        let update: [String: Any] = [
            "update_id": nextId(),
            "message": ["message_id": messageId, "from": from, "chat": ["id": chatId, "type": "private"],
                        "date": Int(date.timeIntervalSince1970), "text": text],
        ]
        let body = Array((try? JSONSerialization.data(withJSONObject: update)) ?? Data())
        return (body, [("Content-Type", "application/json"), ("X-Telegram-Bot-Api-Secret-Token", secret)])
    }
}
