import Foundation
import ParleyCore

/// What a Viber `message` callback holds, kind by kind, and Viber's user-details API for
/// senders whose callback carries no name.
enum ViberInbound {
    static func content(_ message: [String: Any]) -> InboundContent {
        let type = message["type"] as? String ?? "text"
        let text = (message["text"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        switch type {
        case "text":
            return .text(text ?? "")
        case "location":
            let location = message["location"] as? [String: Any] ?? [:]
            return .location(latitude: location["lat"], longitude: location["lon"], address: location["address"] as? String)
        case "contact":
            let contact = message["contact"] as? [String: Any] ?? [:]
            let line = [contact["name"] as? String, contact["phone_number"] as? String].compactMap { $0 }.joined(separator: " ")
            return InboundContent(kind: "contact", text: line)
        case "url":
            return InboundContent(kind: "url", text: message["media"] as? String ?? "")
        case "sticker":
            return .other("sticker", details: ["stickerId": (message["sticker_id"] as? NSNumber)?.stringValue ?? ""])
        default:
            // picture, video, file: a caption, else the file's name.
            let name = (message["file_name"] as? String).map { "[\(type)] \($0)" }
            let kind: AttachmentKind? = ["picture": .image, "video": .video, "file": .document][type]
            let url = message["media"] as? String ?? ""
            return .other(type, caption: text ?? name, details: ["url": url])
                .with(media: kind.map { MediaSource(kind: $0, reference: url, fileName: message["file_name"] as? String) })
        }
    }
}

extension ViberAdapter: ProfileFetching {
    public func fetchProfile(externalId: String, channel: ChannelConfig, http: ProviderHTTP) async -> ProfileLookup {
        guard let token = channel.credentials["authToken"], !token.isEmpty else { return .none }
        let response: ProviderHTTP.Response
        do {
            response = try await http.json(.POST, "\(channel.baseURL(default: Self.defaultBase))/pa/get_user_details",
                                           headers: [("X-Viber-Auth-Token", token)], object: ["id": externalId])
        } catch {
            return .retry("\(error)")
        }
        guard response.status == 200, let json = response.json else {
            return ProfileLookups.outcome(status: response.status, detail: "")
        }
        let status = (json["status"] as? NSNumber)?.intValue ?? -1
        // 12: too many requests (Viber allows two lookups per user per 12 hours).
        if status == 12 { return .retry("Viber rate limit") }
        guard status == 0, let user = json["user"] as? [String: Any] else { return .none }
        let profile = ContactProfile(displayName: user["name"] as? String)
        return profile.isEmpty ? .none : .found(profile)
    }
}
