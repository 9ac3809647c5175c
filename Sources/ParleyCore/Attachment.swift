import Foundation

/// What a file is, as the inbox shows it and as providers take it.
public enum AttachmentKind: String, Codable, Sendable, CaseIterable {
    case image, audio, video, document, sticker

    /// The kind a (sniffed) content type makes; `sticker` only when the provider said so.
    public static func of(contentType: String, sticker: Bool = false) -> AttachmentKind {
        if sticker && contentType.hasPrefix("image/") { return .sticker }
        if contentType.hasPrefix("image/") { return .image }
        if contentType.hasPrefix("audio/") { return .audio }
        if contentType.hasPrefix("video/") { return .video }
        return .document
    }

    /// "an image", "a video": the kind with its article, for sentences.
    public var withArticle: String { (self == .image || self == .audio ? "an " : "a ") + rawValue }

    /// Shown inline by browsers; everything else is served as a download.
    public var rendersInline: Bool { self != .document }
}

/// Where an attachment's bytes stand.
public enum AttachmentStatus: String, Codable, Sendable {
    /// Known from a webhook; the download has not happened yet.
    case pending
    case stored
    /// The download was refused (too large, a lying content type) or kept failing.
    case failed
}

/// A file sent with a message, as the API shows it.
public struct Attachment: Codable, Sendable, Equatable {
    public var id: Int64
    public var messageId: Int64?
    public var kind: AttachmentKind
    public var status: AttachmentStatus
    /// The sniffed content type (nil until stored).
    public var contentType: String?
    public var fileName: String
    public var size: Int64?
    /// Why a download failed, for the agent.
    public var failure: String?
    /// A signed link with an expiry, set by the server for whoever may read it.
    public var url: String?
    /// The row's own key for signing links; never encoded.
    public var signingKey: String?

    enum CodingKeys: String, CodingKey {
        case id, messageId, kind, status, contentType, fileName, size, failure, url
    }

    public init(id: Int64, messageId: Int64?, kind: AttachmentKind, status: AttachmentStatus, contentType: String?, fileName: String,
                size: Int64?, failure: String? = nil, url: String? = nil) {
        self.id = id
        self.messageId = messageId
        self.kind = kind
        self.status = status
        self.contentType = contentType
        self.fileName = fileName
        self.size = size
        self.failure = failure
        // Agents read a stored file through the API (their session or token decides); widget
        // visitors and providers get a signed, expiring link instead.
        self.url = url ?? (status == .stored ? "/api/v1/attachments/\(id)/content" : nil)
    }
}

/// A file a contact sent, as the webhook names it: the provider's reference (a media id, a
/// URL, a file id), fetched later off the webhook's path.
public struct MediaSource: Sendable, Equatable, Codable {
    /// What the provider says it is ("image", "audio", "video", "document", "sticker").
    public var kind: AttachmentKind
    /// The provider's reference: a media id (WhatsApp, WeChat), a URL (Messenger, Instagram,
    /// Viber, Twilio), a file id (Telegram), a message id (LINE).
    public var reference: String
    public var fileName: String?
    /// The type the provider declared: checked against the bytes, never trusted.
    public var contentType: String?

    public init(kind: AttachmentKind, reference: String, fileName: String? = nil, contentType: String? = nil) {
        self.kind = kind
        self.reference = reference
        self.fileName = fileName.flatMap { $0.isEmpty ? nil : $0 }
        self.contentType = contentType.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// One kind of file a channel takes from an agent, as the composer shows it.
public struct AttachmentRule: Codable, Sendable, Equatable {
    public var kind: AttachmentKind
    public var maxBytes: Int64
    public var caption: Bool

    public init(kind: AttachmentKind, maxBytes: Int64, caption: Bool) {
        self.kind = kind
        self.maxBytes = maxBytes
        self.caption = caption
    }
}

/// What each channel takes and allows, from the providers' documented limits.
public enum AttachmentLimits {
    /// The largest file the server keeps or sends on any channel (memory bounds every transfer).
    public static let serverMaximum: Int64 = 25 << 20

    /// The largest inbound file a channel's provider delivers.
    public static func inboundMaximum(_ kind: ChannelKind) -> Int64 {
        let provider: Int64
        switch kind {
        case .whatsapp: provider = 100 << 20
        case .messenger, .instagram: provider = 25 << 20
        case .telegram: provider = 20 << 20  // the Bot API's getFile limit
        case .line: provider = 200 << 20
        case .viber: provider = 200 << 20
        case .wechat: provider = 10 << 20
        case .sms: provider = 5 << 20
        case .email: provider = 25 << 20
        case .webchat: provider = 10 << 20
        }
        return min(provider, serverMaximum)
    }

    /// The kinds an agent may send on a channel, and the largest size of each.
    public static func outbound(_ kind: ChannelKind) -> [AttachmentKind: Int64] {
        switch kind {
        case .whatsapp: return [.image: 5 << 20, .audio: 16 << 20, .video: 16 << 20, .document: serverMaximum]
        case .messenger: return [.image: 25 << 20, .audio: 25 << 20, .video: 25 << 20, .document: 25 << 20]
        case .instagram: return [.image: 8 << 20, .audio: 25 << 20, .video: 25 << 20]
        case .telegram: return [.image: 10 << 20, .audio: serverMaximum, .video: serverMaximum, .document: serverMaximum]
        // LINE's video and audio messages need a preview image and a duration Parley does not compute.
        case .line: return [.image: 10 << 20]
        case .viber: return [.image: 1 << 20, .video: serverMaximum, .document: serverMaximum]
        case .wechat: return [.image: 10 << 20, .audio: 2 << 20, .video: 10 << 20]
        case .sms: return [.image: 5 << 20]
        case .email: return [.image: serverMaximum, .audio: serverMaximum, .video: serverMaximum, .document: serverMaximum]
        case .webchat: return [.image: 10 << 20, .audio: 10 << 20, .video: 10 << 20, .document: 10 << 20]
        }
    }

    /// Whether the provider sends text with a file of this kind (a caption). Where it does not,
    /// the text must go as its own message.
    public static func takesCaption(channel: ChannelKind, kind: AttachmentKind) -> Bool {
        switch channel {
        case .telegram, .sms, .email, .webchat: return true
        case .whatsapp: return kind != .audio && kind != .sticker
        case .viber: return kind == .image
        case .messenger, .instagram, .line, .wechat: return false
        }
    }

    /// Why a file cannot go out on a channel, or nil when it can.
    public static func outboundRefusal(channel: ChannelKind, kind: AttachmentKind, size: Int64) -> String? {
        let allowed = outbound(channel)
        let effective = kind == .sticker ? AttachmentKind.image : kind
        guard let maximum = allowed[effective] else {
            let names = AttachmentKind.allCases.filter { allowed[$0] != nil }.map(\.rawValue)
            return "\(channel.rawValue) cannot send \(kind.withArticle)" + (names.isEmpty ? "" : " (it takes: \(names.joined(separator: ", ")))")
        }
        if size > maximum { return "\(channel.rawValue) takes \(kind.withArticle) of at most \(maximum >> 20) MB" }
        return nil
    }
}

/// File names as they are kept and offered for download: no path, no control characters or
/// quotes, a bounded length, the extension kept.
public enum FileNames {
    public static func sanitize(_ raw: String?, contentType: String) -> String {
        var name = (raw ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        name = String(name.unicodeScalars.filter { scalar in
            !CharacterSet.controlCharacters.contains(scalar) && !"\"<>:|?*".unicodeScalars.contains(scalar)
        }.map(Character.init)).trimmingCharacters(in: .whitespaces)
        while name.hasPrefix(".") { name.removeFirst() }
        if name.count > 120 {
            let ext = (name as NSString).pathExtension
            let stem = (name as NSString).deletingPathExtension
            name = String(stem.prefix(ext.isEmpty ? 120 : 110)) + (ext.isEmpty ? "" : "." + String(ext.prefix(9)))
        }
        if name.isEmpty { name = "attachment" + (ContentSniffer.fileExtension(contentType).map { "." + $0 } ?? "") }
        return name
    }
}
