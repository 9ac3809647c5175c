import Foundation
import ParleyCore

/// What a WeChat message holds, kind by kind, and WeChat's user-info API for the nickname.
enum WeChatInbound {
    static func content(_ type: String, _ fields: [String: String]) -> InboundContent {
        func field(_ name: String) -> String? {
            fields[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        switch type {
        case "text":
            return .text(fields["Content"] ?? "")
        case "location":
            return .location(latitude: field("Location_X"), longitude: field("Location_Y"), name: field("Label"))
        case "link":
            let line = [field("Title"), field("Description"), field("Url")].compactMap { $0 }.joined(separator: " ")
            return .other("link", caption: line.isEmpty ? nil : line, details: ["url": field("Url") ?? ""])
        case "voice":
            // With speech recognition turned on WeChat sends what was said.
            return .other("voice", caption: field("Recognition").map { "[voice] \($0)" }, details: ["mediaId": field("MediaId") ?? ""])
                .with(media: MediaSource(kind: .audio, reference: field("MediaId") ?? "", contentType: field("Format").map { "audio/\($0)" }))
        default:
            // image, video, shortvideo, file…: fetched by media id within WeChat's 3 days.
            let kind: AttachmentKind? = ["image": .image, "video": .video, "shortvideo": .video][type]
            return .other(type, details: ["mediaId": field("MediaId") ?? "", "url": field("PicUrl") ?? ""])
                .with(media: kind.map { MediaSource(kind: $0, reference: field("MediaId") ?? "") })
        }
    }
}

extension WeChatAdapter: ProfileFetching {
    /// WeChat has returned no nickname from `user/info` since late 2021 for most accounts; where
    /// it still does, the contact gets it.
    public func fetchProfile(externalId: String, channel: ChannelConfig, http: ProviderHTTP) async -> ProfileLookup {
        guard let key = try? Self.key(channel) else { return .none }
        let token: String
        switch await tokens.token(for: key, fetch: { await Self.fetchToken(key, http: http) }) {
        case .success(let fresh): token = fresh
        case .failure(let unavailable): return .retry("no access token: \(unavailable.result)")
        }
        let url = "\(key.base)/cgi-bin/user/info?access_token=\(Self.encoded(token))&openid=\(Self.encoded(externalId))&lang=zh_CN"
        let response: ProviderHTTP.Response
        do { response = try await http.send(.GET, url) } catch {
            return .retry("\(error)")
        }
        guard response.status == 200, let json = response.json else {
            return ProfileLookups.outcome(status: response.status, detail: "")
        }
        if let code = (json["errcode"] as? NSNumber)?.intValue, code != 0 {
            if Self.staleTokenCodes.contains(code) { await tokens.invalidate(key, token: token) }
            return code == -1 || Self.staleTokenCodes.contains(code) ? .retry("errcode \(code)") : .none
        }
        let profile = ContactProfile(displayName: json["nickname"] as? String)
        return profile.isEmpty ? .none : .found(profile)
    }
}
