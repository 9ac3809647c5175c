import Foundation
import ParleyCore

/// Reads LINE webhook events: messages of every kind, postbacks, and unsends.
enum LineInbound {
    static func events(_ event: [String: Any]) -> [InboundEvent] {
        let type = event["type"] as? String
        let timestamp = Date.providerMilliseconds(event["timestamp"]) ?? Date(timeIntervalSince1970: 0)
        if type == "unsend", let id = LineAdapter.string((event["unsend"] as? [String: Any])?["messageId"]) {
            return [.revision(InboundRevision(providerMessageId: id, text: nil, deleted: true, at: timestamp))]
        }
        guard let userId = (event["source"] as? [String: Any])?["userId"] as? String else { return [] }
        if type == "postback", let postback = event["postback"] as? [String: Any], let eventId = event["webhookEventId"] as? String {
            let content = InboundContent(kind: "postback", text: postback["data"] as? String ?? "")
            return [.message(InboundMessageEvent(externalId: userId, displayName: nil, providerMessageId: "postback:\(eventId)",
                                                 timestamp: timestamp, content: content))]
        }
        // follow, unfollow, join, beacon… carry no message for the inbox.
        guard type == "message", let message = event["message"] as? [String: Any], let id = LineAdapter.string(message["id"]) else { return [] }
        return [.message(InboundMessageEvent(externalId: userId, displayName: nil, providerMessageId: id, timestamp: timestamp,
                                             content: content(message)))]
    }

    static func content(_ message: [String: Any]) -> InboundContent {
        let type = message["type"] as? String ?? "message"
        switch type {
        case "text":
            return .text(message["text"] as? String ?? "")
        case "location":
            return .location(latitude: message["latitude"], longitude: message["longitude"], name: message["title"] as? String, address: message["address"] as? String)
        case "sticker":
            let keywords = (message["keywords"] as? [String] ?? []).prefix(3).joined(separator: ", ")
            return .other("sticker", caption: keywords.isEmpty ? nil : "[sticker] \(keywords)",
                          details: ["packageId": LineAdapter.string(message["packageId"]) ?? "", "stickerId": LineAdapter.string(message["stickerId"]) ?? ""])
        case "file":
            let id = LineAdapter.string(message["id"]) ?? ""
            return .other("file", caption: (message["fileName"] as? String).map { "[file] \($0)" }, details: ["messageId": id])
                .with(media: MediaSource(kind: .document, reference: id, fileName: message["fileName"] as? String))
        default:
            // image, video, audio: the content is fetched from LINE by message id (when LINE
            // holds it: `contentProvider.type` "external" names someone else's URL instead).
            let id = LineAdapter.string(message["id"]) ?? ""
            let kind: AttachmentKind? = ["image": .image, "video": .video, "audio": .audio][type]
            return .other(type, details: ["messageId": id]).with(media: kind.map { MediaSource(kind: $0, reference: id) })
        }
    }
}

/// LINE's profile API: webhooks carry only the user id, the display name comes from `GET /v2/bot/profile/{userId}`.
extension LineAdapter: ProfileFetching {
    public func fetchProfile(externalId: String, channel: ChannelConfig, http: ProviderHTTP) async -> ProfileLookup {
        guard let token = channel.credentials["channelAccessToken"], !token.isEmpty else { return .none }
        let id = ProviderHTTP.component(externalId)
        let response: ProviderHTTP.Response
        do {
            response = try await http.send(.GET, "\(channel.baseURL(default: Self.defaultBase))/v2/bot/profile/\(id)", headers: [("Authorization", "Bearer \(token)")])
        } catch {
            return .retry("\(error)")
        }
        guard response.status == 200, let json = response.json else {
            return ProfileLookups.outcome(status: response.status, detail: response.json?["message"] as? String ?? "")
        }
        let profile = ContactProfile(displayName: json["displayName"] as? String)
        return profile.isEmpty ? .none : .found(profile)
    }
}
