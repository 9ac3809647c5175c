import Foundation
import Hummingbird
import NIOCore

/// Outbound files as each provider takes them: by public link (WhatsApp, Messenger, Instagram,
/// Viber, LINE, Twilio), by multipart upload (Telegram), or uploaded first for a media id (WeChat).
extension ProviderSimulator {
    /// One part of a multipart/form-data body.
    public struct FormPart: Sendable {
        public let name: String
        public let fileName: String?
        public let contentType: String?
        public let bytes: [UInt8]
    }

    /// The parts of a multipart/form-data body (the boundary read from its Content-Type).
    public static func multipart(_ body: [UInt8], contentType: String?) -> [FormPart] {
        guard let contentType, let range = contentType.range(of: "boundary=") else { return [] }
        let boundary = Array(("--" + contentType[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))).utf8)
        var parts: [FormPart] = []
        var index = 0
        func find(_ needle: [UInt8], from start: Int) -> Int? {
            guard needle.count <= body.count else { return nil }
            var i = start
            while i + needle.count <= body.count {
                if body[i] == needle[0] && Array(body[i..<i + needle.count]) == needle { return i }
                i += 1
            }
            return nil
        }
        guard var start = find(boundary, from: index) else { return [] }
        while true {
            index = start + boundary.count
            // "--" after the boundary ends the body.
            if index + 2 <= body.count && body[index] == 45 && body[index + 1] == 45 { break }
            index += 2  // CRLF
            guard let headerEnd = find(Array("\r\n\r\n".utf8), from: index), let next = find(Array("\r\n".utf8) + boundary, from: headerEnd) else { break }
            let headers = String(decoding: body[index..<headerEnd], as: UTF8.self)
            var name = "", fileName: String?, type: String?
            for line in headers.components(separatedBy: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    for item in line.split(separator: ";").dropFirst() {
                        let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
                        guard pair.count == 2 else { continue }
                        let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                        if pair[0] == "name" { name = value }
                        if pair[0] == "filename" { fileName = value }
                    }
                } else if lower.hasPrefix("content-type:") {
                    type = String(line.dropFirst("content-type:".count)).trimmingCharacters(in: .whitespaces)
                }
            }
            parts.append(FormPart(name: name, fileName: fileName, contentType: type, bytes: Array(body[(headerEnd + 4)..<next])))
            start = next + 2
        }
        return parts
    }

    /// Telegram's `sendPhoto`, `sendDocument`, `sendAudio`, `sendVideo`: multipart with the file
    /// in the field named after the method, or a URL / file id in that field.
    func telegramSendMedia(_ request: Recorded, method: String) -> Response? {
        let fields = ["sendPhoto": "photo", "sendDocument": "document", "sendAudio": "audio", "sendVideo": "video", "sendVoice": "voice"]
        guard let field = fields[method] else { return nil }
        let parts = Self.multipart(request.body, contentType: request.headers["content-type"])
        let chat = parts.first { $0.name == "chat_id" }.map { String(decoding: $0.bytes, as: UTF8.self) }
        guard let chat, !chat.isEmpty else {
            return Self.json(400, ["ok": false, "error_code": 400, "description": "Bad Request: chat_id is empty"])
        }
        guard let file = parts.first(where: { $0.name == field }), !file.bytes.isEmpty else {
            return Self.json(400, ["ok": false, "error_code": 400, "description": "Bad Request: there is no \(field) in the request"])
        }
        if state.withLock({ $0.blockedChats.contains(chat) }) {
            return Self.json(403, ["ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"])
        }
        let fileId = hostMedia(file.bytes, contentType: file.contentType ?? "application/octet-stream", fileName: file.fileName)
        return Self.json(200, ["ok": true, "result": ["message_id": nextId(), "chat": ["id": Int64(chat) ?? 0, "type": "private"],
                                                      "date": Int(now().timeIntervalSince1970), field: ["file_id": fileId, "file_size": file.bytes.count]]])
    }

    /// WeChat's `media/upload?type=…`: multipart field `media`; answers a media id for `custom/send`.
    func wechatMediaUpload(_ request: Recorded) -> Response {
        let parts = Self.multipart(request.body, contentType: request.headers["content-type"])
        guard let type = request.query["type"], ["image", "voice", "video", "thumb"].contains(type),
              let file = parts.first(where: { $0.name == "media" }), !file.bytes.isEmpty else {
            return Self.json(200, ["errcode": 40004, "errmsg": "invalid media type"])
        }
        let id = hostMedia(file.bytes, contentType: file.contentType ?? "application/octet-stream", fileName: file.fileName)
        return Self.json(200, ["type": type, "media_id": id, "created_at": Int(now().timeIntervalSince1970)])
    }

    func wechatContentIsValid(_ payload: [String: Any]) -> Bool {
        switch payload["msgtype"] as? String {
        case "text"?: return !((payload["text"] as? [String: Any])?["content"] as? String ?? "").isEmpty
        case let type? where ["image", "voice", "video"].contains(type):
            // The media id must be one WeChat issued (uploaded first).
            return ((payload[type] as? [String: Any])?["media_id"] as? String).map { hosted($0) != nil } ?? false
        default: return false
        }
    }

    static func viberContentIsValid(_ payload: [String: Any]) -> Bool {
        switch payload["type"] as? String {
        case "text"?: return !(payload["text"] as? String ?? "").isEmpty
        case "picture"?, "video"?: return (payload["media"] as? String)?.hasPrefix("http") == true
        case "file"?: return (payload["media"] as? String)?.hasPrefix("http") == true && payload["size"] != nil && payload["file_name"] != nil
        default: return false
        }
    }

    static func lineMessageIsValid(_ message: [String: Any]) -> Bool {
        switch message["type"] as? String {
        case "text"?: return !(message["text"] as? String ?? "").isEmpty
        // LINE fetches the file itself, and only over HTTPS.
        case "image"?: return (message["originalContentUrl"] as? String)?.hasPrefix("https://") == true
            && (message["previewImageUrl"] as? String)?.hasPrefix("https://") == true
        case "video"?: return (message["originalContentUrl"] as? String)?.hasPrefix("https://") == true
            && (message["previewImageUrl"] as? String)?.hasPrefix("https://") == true
        case "audio"?: return (message["originalContentUrl"] as? String)?.hasPrefix("https://") == true && message["duration"] != nil
        default: return false
        }
    }
}
