import Foundation
import ParleyCore

/// Reads Telegram updates: new messages of every kind, and edits of earlier ones.
enum TelegramInbound {
    static func events(_ update: [String: Any]) -> [InboundEvent] {
        if let edited = update["edited_message"] as? [String: Any] {
            guard let chatId = TelegramAdapter.integer((edited["chat"] as? [String: Any])?["id"]),
                  let messageId = TelegramAdapter.integer(edited["message_id"]) else { return [] }
            let at = TelegramAdapter.integer(edited["edit_date"] ?? edited["date"]).map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date(timeIntervalSince1970: 0)
            return [.revision(InboundRevision(providerMessageId: "\(chatId):\(messageId)", text: content(edited).text, deleted: false, at: at))]
        }
        guard let message = update["message"] as? [String: Any],
              let chat = message["chat"] as? [String: Any], let chatId = TelegramAdapter.integer(chat["id"]),
              let messageId = TelegramAdapter.integer(message["message_id"]), let date = TelegramAdapter.integer(message["date"]) else {
            return [] // other update kinds are acknowledged and ignored
        }
        let from = message["from"] as? [String: Any]
        let name = [from?["first_name"] as? String, from?["last_name"] as? String].compactMap { $0 }.joined(separator: " ")
        return [.message(InboundMessageEvent(externalId: String(chatId), displayName: name.isEmpty ? from?["username"] as? String : name,
                                             providerMessageId: "\(chatId):\(messageId)", timestamp: Date(timeIntervalSince1970: TimeInterval(date)),
                                             content: content(message)))]
    }

    static func content(_ message: [String: Any]) -> InboundContent {
        let caption = (message["caption"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        if let text = message["text"] as? String { return .text(text) }
        if let venue = message["venue"] as? [String: Any] {
            let location = venue["location"] as? [String: Any] ?? [:]
            return .location(latitude: location["latitude"], longitude: location["longitude"], name: venue["title"] as? String, address: venue["address"] as? String)
        }
        if let location = message["location"] as? [String: Any] {
            return .location(latitude: location["latitude"], longitude: location["longitude"])
        }
        if let contact = message["contact"] as? [String: Any] {
            let line = [contact["first_name"] as? String, contact["last_name"] as? String, contact["phone_number"] as? String].compactMap { $0 }.joined(separator: " ")
            return InboundContent(kind: "contact", text: line)
        }
        if let sticker = message["sticker"] as? [String: Any] {
            return .other("sticker", caption: (sticker["emoji"] as? String).map { "[sticker] \($0)" }, details: ["fileId": sticker["file_id"] as? String ?? ""])
                .with(media: MediaSource(kind: .sticker, reference: sticker["file_id"] as? String ?? ""))
        }
        if let poll = message["poll"] as? [String: Any] {
            let options = (poll["options"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            return .other("poll", caption: ([poll["question"] as? String].compactMap { $0 } + options).joined(separator: "\n"))
        }
        if let dice = message["dice"] as? [String: Any] {
            return .other("dice", caption: [dice["emoji"] as? String, TelegramAdapter.integer(dice["value"]).map(String.init)].compactMap { $0 }.joined(separator: " "))
        }
        for kind in ["photo", "video", "animation", "document", "audio", "voice", "video_note"] where message[kind] != nil {
            let file = (message[kind] as? [[String: Any]])?.last ?? message[kind] as? [String: Any] ?? [:]
            let name = file["file_name"] as? String
            let media: AttachmentKind = switch kind {
            case "photo": .image
            case "audio", "voice": .audio
            case "video", "animation", "video_note": .video
            default: .document
            }
            return .other(kind, caption: caption ?? name.map { "[\(kind)] \($0)" }, details: ["fileId": file["file_id"] as? String ?? ""])
                .with(media: MediaSource(kind: media, reference: file["file_id"] as? String ?? "", fileName: name, contentType: file["mime_type"] as? String))
        }
        return .other("message", caption: caption)
    }
}
