import Foundation
import ParleyCore

/// Reads the `messages` of a WhatsApp Cloud API webhook: who sent each one (phone number,
/// business-scoped user id, or both) and what it holds, kind by kind.
enum WhatsAppInbound {
    /// One change's `value` → its messages.
    static func messages(in value: [String: Any]) -> [InboundEvent] {
        let contacts = value["contacts"] as? [[String: Any]] ?? []
        var events: [InboundEvent] = []
        for message in value["messages"] as? [[String: Any]] ?? [] {
            guard let id = message["id"] as? String, let timestamp = Date.providerSeconds(message["timestamp"]) else { continue }
            let type = message["type"] as? String ?? "text"
            // Meta's nudge that a user opened the chat, and our own messages echoed, carry nothing the contact wrote.
            if type == "request_welcome" { continue }
            let phone = (message["from"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            let userId = (message["from_user_id"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            // Since 2026 a sender who adopted a username may arrive without a phone number, known by
            // the business-scoped user id (BSUID) alone; the contacts entry names both when it can.
            let contact = contacts.first { entry in
                (phone != nil && entry["wa_id"] as? String == phone) || (userId != nil && entry["user_id"] as? String == userId)
            } ?? (contacts.count == 1 ? contacts.first : nil)
            let waId = phone ?? (contact?["wa_id"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            let bsuid = userId ?? (contact?["user_id"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            guard let address = waId ?? bsuid else { continue }
            let profile = contact?["profile"] as? [String: Any]
            let name = (profile?["name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? (profile?["username"] as? String)
            events.append(.message(InboundMessageEvent(
                externalId: address, aliasId: waId == nil ? nil : bsuid, displayName: name, phone: waId.flatMap(e164),
                providerMessageId: id, timestamp: timestamp, content: content(message, type: type))))
        }
        return events
    }

    static func content(_ message: [String: Any], type: String) -> InboundContent {
        let body = message[type] as? [String: Any] ?? [:]
        var result: InboundContent
        switch type {
        case "text":
            result = .text(body["body"] as? String ?? "")
        case "button":
            // A tap on a template's quick-reply button: the button's label is the answer.
            result = InboundContent(kind: "button", text: body["text"] as? String ?? "", details: ["payload": body["payload"] as? String ?? ""])
        case "interactive":
            result = interactive(body)
        case "reaction":
            let emoji = body["emoji"] as? String ?? ""
            result = InboundContent(kind: "reaction", text: emoji.isEmpty ? "[reaction removed]" : emoji,
                                    details: ["messageId": body["message_id"] as? String ?? ""])
        case "location":
            result = .location(latitude: body["latitude"], longitude: body["longitude"], name: body["name"] as? String, address: body["address"] as? String)
        case "contacts":
            result = sharedContacts(message["contacts"] as? [[String: Any]] ?? [])
        case "image", "video", "audio", "document", "sticker", "voice":
            let filename = body["filename"] as? String
            let caption = (body["caption"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? filename.map { "[\(type)] \($0)" }
            result = .other(type, caption: caption, details: ["mediaId": body["id"] as? String ?? "", "mimeType": body["mime_type"] as? String ?? "",
                                                                 "filename": filename ?? ""])
                .with(media: MediaSource(kind: Self.attachmentKind(type), reference: body["id"] as? String ?? "", fileName: filename,
                                         contentType: body["mime_type"] as? String))
        case "order":
            let items = body["product_items"] as? [[String: Any]] ?? []
            let note = (body["text"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            result = .other("order", caption: note ?? "[order] \(items.count) item\(items.count == 1 ? "" : "s")",
                            details: ["catalogId": body["catalog_id"] as? String ?? ""])
        case "system":
            result = .other("system", caption: body["body"] as? String)
        default:
            let error = (message["errors"] as? [[String: Any]])?.first
            result = .other(type, details: ["error": error?["title"] as? String ?? error?["message"] as? String ?? ""])
        }
        if let context = message["context"] as? [String: Any], let replyTo = context["id"] as? String {
            result.details["replyTo"] = replyTo
        }
        if let referral = message["referral"] as? [String: Any], let headline = referral["headline"] as? String, !headline.isEmpty {
            result.details["referral"] = headline
        }
        return result
    }

    static func attachmentKind(_ type: String) -> AttachmentKind {
        switch type {
        case "image": return .image
        case "sticker": return .sticker
        case "audio", "voice": return .audio
        case "video": return .video
        default: return .document
        }
    }

    /// Replies to interactive messages: a reply button, a list row, or a Flow's answer.
    static func interactive(_ body: [String: Any]) -> InboundContent {
        let type = body["type"] as? String ?? "interactive"
        let reply = body[type] as? [String: Any] ?? [:]
        switch type {
        case "button_reply":
            return InboundContent(kind: "button_reply", text: reply["title"] as? String ?? "", details: ["id": reply["id"] as? String ?? ""])
        case "list_reply":
            let title = reply["title"] as? String ?? ""
            let description = reply["description"] as? String ?? ""
            return InboundContent(kind: "list_reply", text: description.isEmpty ? title : "\(title) — \(description)",
                                  details: ["id": reply["id"] as? String ?? ""])
        default:
            let text = (reply["body"] as? String).flatMap { $0.isEmpty || $0 == "Sent" ? nil : $0 }
            return .other(type, caption: text, details: ["response": reply["response_json"] as? String ?? ""])
        }
    }

    /// Shared contact cards as one line each: name, phone numbers and emails.
    static func sharedContacts(_ cards: [[String: Any]]) -> InboundContent {
        let lines = cards.map { card -> String in
            let name = (card["name"] as? [String: Any])?["formatted_name"] as? String
            let phones = (card["phones"] as? [[String: Any]] ?? []).compactMap { $0["phone"] as? String }
            let emails = (card["emails"] as? [[String: Any]] ?? []).compactMap { $0["email"] as? String }
            return ([name].compactMap { $0 } + phones + emails).joined(separator: " ")
        }.filter { !$0.isEmpty }
        return InboundContent(kind: "contacts", text: lines.joined(separator: "\n"))
    }
}
