import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyStore

/// The widget's two documents: `/widget.js`, the one script a site includes, and
/// `/widget/frame`, the page it shows in an iframe. All of the chat runs in that frame, on
/// Parley's origin: the host page's CSS and scripts cannot reach it, and it adds nothing to the
/// host page but the iframe and `window.Parley`.
struct WidgetPages {
    let services: Services
    let web: WebAssetSource

    static let csp = HTTPField.Name("Content-Security-Policy")!
    static let resourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!

    /// What the frame's script needs before its first request, embedded in the page.
    struct FrameConfig: Encodable {
        let channel: String
        let name: String
        let color: String
        let greeting: String
        let prechatForm: Bool
        let offline: Bool
        let offlineText: String
    }

    func register(_ api: APIRoutes) {
        api.add(.get, "/widget.js", RouteDoc(summary: "The website chat loader: <script src=…/widget.js data-channel=KEY async>", tag: "widget",
                                             authenticated: false, response: "script", responseMediaType: "text/javascript"), handler: loader)
        api.add(.get, "/widget/frame", RouteDoc(summary: "The website chat panel, shown by widget.js in an iframe on the channel's allowed sites only",
                                                tag: "widget", authenticated: false, response: "page", responseMediaType: "text/html",
                                                query: [QueryParameter("channel", Schema.string, "the channel key"),
                                                        QueryParameter("host", Schema.string, "the embedding page's origin")],
                                                errors: [404]), handler: frame)
    }

    @Sendable func loader(_ request: Request, context: AppRequestContext) async throws -> Response {
        let assets = try web.current()
        guard let file = assets.files["widget/loader.js"] else { throw APIError.notFound("widget.js") }
        // Short-lived cache: the URL never changes, and an upgrade must reach sites soon.
        return Response(status: .ok, headers: [.contentType: file.contentType, .cacheControl: "public, max-age=300",
                                               Self.resourcePolicy: "cross-origin"],
                        body: .init(byteBuffer: file.body))
    }

    @Sendable func frame(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = request.uri.queryParameters.get("channel") ?? ""
        guard key.count <= 100, let channel = try await services.webchat.find(publicKey: String(key)) else {
            throw APIError(.notFound, code: "channel_not_found", message: "no website chat channel has this key", field: "channel")
        }
        let assets = try web.current()
        let config = FrameConfig(channel: channel.publicKey, name: channel.name, color: channel.settings.color, greeting: channel.settings.greeting,
                                 prechatForm: channel.settings.prechatForm, offline: channel.settings.isOffline(at: services.clock.now()),
                                 offlineText: channel.settings.offlineText)
        // `<` never appears raw, so no text in the settings can close the script element.
        let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
        let page = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Chat</title>
            <link rel="stylesheet" href="\(assets.prefix)/widget/frame.css">
            <script type="application/json" id="parley-config">\(json)</script>
            <script type="module" src="\(assets.prefix)/widget/frame.js"></script>
            </head>
            <body></body>
            </html>
            """
        // The browser itself refuses to show the frame inside a page of any other site.
        let ancestors = (channel.settings.allowedOrigins + ["'self'"]).joined(separator: " ")
        let policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
            + "frame-ancestors \(ancestors); base-uri 'none'; form-action 'none'"
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache", Self.csp: policy],
                        body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
