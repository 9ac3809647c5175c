import Foundation
import Hummingbird
import NIOCore

/// Files as each provider serves them: the simulator hosts bytes under an id and answers the
/// provider's own download route for it (WhatsApp's media id → URL → bytes with the token,
/// Telegram's getFile → path, LINE's content endpoint, WeChat's media/get, Twilio's media URL
/// with basic auth, and plain CDN URLs for Messenger, Instagram and Viber).
extension ProviderSimulator {
    struct HostedFile: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let fileName: String?
    }

    /// Hosts `bytes` and returns the id they are known by (a media id, file id or LINE message id).
    @discardableResult
    public func hostMedia(_ bytes: [UInt8], contentType: String, fileName: String? = nil, id: String? = nil) -> String {
        let key = id ?? "media\(nextId())"
        state.withLock { $0.media[key] = HostedFile(bytes: bytes, contentType: contentType, fileName: fileName) }
        return key
    }

    /// A public URL for a hosted file, as Messenger, Instagram and Viber give them.
    public func cdnURL(_ id: String) -> String { "\(baseURL)/cdn/\(id)" }

    /// How many times a hosted file was downloaded.
    public func downloads(of id: String) -> Int {
        state.withLock { state in state.recorded.filter { Self.downloadedId($0) == id }.count }
    }

    /// The id of the hosted file a request downloaded, or nil when it was no download.
    public static func downloadedId(_ request: Recorded) -> String? {
        guard request.method == "GET" else { return nil }
        let path = request.path
        for prefix in ["/cdn/", "/wa-media/"] where path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        if path.hasPrefix("/file/bot") { return path.split(separator: "/").last.map(String.init) }
        if path.hasPrefix("/v2/bot/message/"), path.hasSuffix("/content") { return path.split(separator: "/")[3].description }
        if path == "/cgi-bin/media/get" { return request.query["media_id"] }
        if path.contains("/Media/") { return path.split(separator: "/").last.map(String.init) }
        return nil
    }

    func hosted(_ id: String) -> HostedFile? { state.withLock { $0.media[id] } }

    static func file(_ file: HostedFile) -> Response {
        var headers: HTTPFields = [.contentType: file.contentType]
        if let name = file.fileName { headers[.contentDisposition] = "attachment; filename=\"\(name)\"" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    /// Public CDN downloads (`/cdn/<id>`), answered before any provider's credentials are checked.
    func cdn(_ request: Recorded) -> Response {
        guard let file = hosted(String(request.path.dropFirst("/cdn/".count))) else { return Self.json(404, ["error": "not found"]) }
        return Self.file(file)
    }

    /// WhatsApp: `GET /vN/<media-id>` (metadata with a URL) and that URL (`/wa-media/<id>`), both with the token.
    func whatsappMedia(_ request: Recorded, segments: [String]) -> Response? {
        if request.path.hasPrefix("/wa-media/") {
            guard let file = hosted(String(request.path.dropFirst("/wa-media/".count))) else { return Self.metaError(404, code: 100, message: "not found") }
            return Self.file(file)
        }
        guard request.method == "GET", segments.count == 2, let file = hosted(segments[1]) else { return nil }
        return Self.json(200, ["messaging_product": "whatsapp", "url": "\(baseURL)/wa-media/\(segments[1])", "mime_type": file.contentType,
                               "file_size": file.bytes.count, "id": segments[1]])
    }

    /// Telegram: `getFile` and `/file/bot<token>/<path>`.
    func telegramFile(_ request: Recorded, token: String, method: String) -> Response? {
        guard method == "getFile" else { return nil }
        let id = request.query["file_id"] ?? request.json["file_id"] as? String ?? ""
        guard let file = hosted(id) else {
            return Self.json(400, ["ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"])
        }
        return Self.json(200, ["ok": true, "result": ["file_id": id, "file_unique_id": "u\(id)", "file_size": file.bytes.count, "file_path": "documents/\(id)"]])
    }

    func telegramDownload(_ request: Recorded) -> Response {
        let parts = request.path.dropFirst("/file/bot".count).split(separator: "/").map(String.init)
        guard parts.count >= 2, state.withLock({ $0.telegramTokens.contains(parts[0]) }), let file = hosted(parts[parts.count - 1]) else {
            return Self.json(404, ["ok": false, "error_code": 404, "description": "Not Found"])
        }
        return Self.file(file)
    }

    /// LINE: `GET /v2/bot/message/<id>/content` (the token was checked by the caller).
    func lineContent(_ request: Recorded) -> Response {
        let id = request.path.split(separator: "/")[3].description
        guard let file = hosted(id) else { return Self.lineJSON(404, ["message": "Not found"]) }
        return Self.file(file)
    }

    /// WeChat: `GET /cgi-bin/media/get?access_token=…&media_id=…` (an error is a JSON body).
    func wechatMediaGet(_ request: Recorded) -> Response {
        guard let file = hosted(request.query["media_id"] ?? "") else { return Self.json(200, ["errcode": 40007, "errmsg": "invalid media_id"]) }
        return Self.file(file)
    }

    /// Twilio: `GET /2010-04-01/Accounts/<sid>/Messages/<sid>/Media/<id>` with the account's basic
    /// auth answers, as Twilio does, with a redirect to where the file is stored.
    func twilioMedia(_ request: Recorded, accountSid: String) -> Response {
        guard let id = request.path.split(separator: "/").last.map(String.init), hosted(id) != nil else {
            return Self.json(404, ["code": 20404, "message": "The requested resource was not found", "status": 404])
        }
        return Response(status: .temporaryRedirect, headers: [.location: cdnURL(id)])
    }

    /// A URL Twilio gives for a file of an inbound MMS (hosted under `id`).
    public func twilioMediaURL(accountSid: String, messageSid: String, id: String) -> String {
        "\(baseURL)/2010-04-01/Accounts/\(accountSid)/Messages/\(messageSid)/Media/\(id)"
    }
}
