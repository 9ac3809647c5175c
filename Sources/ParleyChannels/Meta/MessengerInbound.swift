import Foundation
import ParleyCore

/// Reads Messenger and Instagram `messaging` events: messages of every kind, quick replies and
/// postbacks, reactions, edits and unsends, and the delivery and read watermarks.
enum MessengerInbound {
    static func events(_ item: [String: Any]) -> [InboundEvent] {
        guard let sender = (item["sender"] as? [String: Any])?["id"] as? String else { return [] }
        let timestamp = Date.providerMilliseconds(item["timestamp"]) ?? Date(timeIntervalSince1970: 0)
        if let message = item["message"] as? [String: Any], let mid = message["mid"] as? String {
            if message["is_echo"] as? Bool == true { return [] } // our own message, echoed back
            if message["is_deleted"] as? Bool == true {
                return [.revision(InboundRevision(providerMessageId: mid, text: nil, deleted: true, at: timestamp))]
            }
            return [.message(InboundMessageEvent(externalId: sender, displayName: nil, providerMessageId: mid, timestamp: timestamp,
                                                 content: content(message)))]
        }
        if let edit = item["message_edit"] as? [String: Any], let mid = edit["mid"] as? String {
            return [.revision(InboundRevision(providerMessageId: mid, text: edit["text"] as? String ?? "", deleted: false, at: timestamp))]
        }
        if let reaction = item["reaction"] as? [String: Any] {
            let target = reaction["mid"] as? String ?? ""
            let removed = reaction["action"] as? String == "unreact"
            let emoji = reaction["emoji"] as? String ?? reaction["reaction"] as? String ?? ""
            let content = InboundContent(kind: "reaction", text: removed ? "[reaction removed]" : emoji, details: ["messageId": target])
            // A reaction has no id of its own: the target, the sender and the moment make one.
            let id = "reaction:\(target):\(sender):\(timestamp.epochMilliseconds)"
            return [.message(InboundMessageEvent(externalId: sender, displayName: nil, providerMessageId: id, timestamp: timestamp, content: content))]
        }
        if let postback = item["postback"] as? [String: Any] {
            let id = postback["mid"] as? String ?? "postback:\(sender):\(timestamp.epochMilliseconds)"
            let content = InboundContent(kind: "postback", text: postback["title"] as? String ?? "", details: ["payload": postback["payload"] as? String ?? ""])
            return [.message(InboundMessageEvent(externalId: sender, displayName: nil, providerMessageId: id, timestamp: timestamp, content: content))]
        }
        if let delivery = item["delivery"] as? [String: Any] {
            var events: [InboundEvent] = (delivery["mids"] as? [String] ?? []).map {
                .status(providerMessageId: $0, status: .delivered, reason: nil, errorCode: nil, errorText: nil)
            }
            // The watermark: everything sent before it was delivered, whether or not its mid is listed.
            if let watermark = Date.providerMilliseconds(delivery["watermark"]) {
                events.append(.watermark(externalId: sender, status: .delivered, upTo: watermark))
            }
            return events
        }
        if let read = item["read"] as? [String: Any] {
            if let watermark = Date.providerMilliseconds(read["watermark"]) {
                return [.watermark(externalId: sender, status: .read, upTo: watermark)]
            }
            // Instagram names the message read instead of giving a watermark.
            if let mid = read["mid"] as? String {
                return [.status(providerMessageId: mid, status: .read, reason: nil, errorCode: nil, errorText: nil)]
            }
        }
        return [] // optins, referrals, handovers: nothing the contact wrote
    }

    static func content(_ message: [String: Any]) -> InboundContent {
        let text = (message["text"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        var result: InboundContent
        if let quickReply = message["quick_reply"] as? [String: Any] {
            result = InboundContent(kind: "quick_reply", text: text ?? "", details: ["payload": quickReply["payload"] as? String ?? ""])
        } else if let attachment = (message["attachments"] as? [[String: Any]])?.first {
            result = Self.attachment(attachment, caption: text)
        } else if message["is_unsupported"] as? Bool == true {
            result = .other("unsupported")
        } else {
            result = .text(text ?? "")
        }
        if let replyTo = (message["reply_to"] as? [String: Any])?["mid"] as? String {
            result.details["replyTo"] = replyTo
        }
        return result
    }

    static func attachment(_ attachment: [String: Any], caption: String?) -> InboundContent {
        let type = attachment["type"] as? String ?? "attachment"
        let payload = attachment["payload"] as? [String: Any] ?? [:]
        switch type {
        case "location":
            let coordinates = payload["coordinates"] as? [String: Any] ?? [:]
            return .location(latitude: coordinates["lat"], longitude: coordinates["long"], name: attachment["title"] as? String ?? payload["title"] as? String)
        case "fallback", "share", "template":
            // A shared link or post: its title and address are what the contact sent.
            let title = attachment["title"] as? String ?? payload["title"] as? String
            let url = attachment["url"] as? String ?? payload["url"] as? String
            let line = [caption, title, url].compactMap { $0 }.joined(separator: " ")
            return .other(type == "fallback" ? "link" : type, caption: line.isEmpty ? nil : line, details: ["url": url ?? ""])
        default:
            // image (Messenger sends stickers as images with a sticker_id), video, audio, file,
            // story_mention, ig_reel, reel…
            let kind = payload["sticker_id"] != nil ? "sticker" : type
            let media: AttachmentKind? = switch kind {
            case "image": .image
            case "sticker": .sticker
            case "audio": .audio
            case "video", "ig_reel", "reel": .video
            case "file": .document
            default: nil
            }
            let url = payload["url"] as? String ?? ""
            return .other(kind, caption: caption, details: ["url": url])
                .with(media: media.map { MediaSource(kind: $0, reference: url, fileName: payload["name"] as? String) })
        }
    }
}
