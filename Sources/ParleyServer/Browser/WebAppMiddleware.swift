import Foundation
import HTTPTypes
import Hummingbird

/// Serves the web inbox: `index.html` for the app's own pages (the browser routes them), and the
/// versioned assets. API, webhook and system paths go on to the router untouched.
struct WebAppMiddleware<Context: RequestContext>: RouterMiddleware {
    let source: WebAssetSource

    static var reservedPrefixes: [String] { ["/api/", "/webhooks/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/widget", "/files/", "/hooks/"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else { return try await next(request, context) }
        let path = request.uri.path
        if path.hasPrefix("/assets/") {
            let parts = path.dropFirst("/assets/".count).split(separator: "/", maxSplits: 1)
            let assets = try source.current()
            guard parts.count == 2, let file = assets.files[String(parts[1])] else { return try await next(request, context) }
            // An old version's URL (a page loaded before an upgrade) still gets the file, uncached.
            let cache = parts[0] == assets.version ? "public, max-age=31536000, immutable" : "no-cache"
            return Response(status: .ok, headers: [.contentType: file.contentType, .cacheControl: cache],
                            body: .init(byteBuffer: request.method == .head ? ByteBuffer() : file.body))
        }
        guard Self.isAppPage(path) else { return try await next(request, context) }
        let assets = try source.current()
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                        body: .init(byteBuffer: request.method == .head ? ByteBuffer() : assets.index))
    }

    /// `/`, `/inbox`, `/contacts/12`, `/settings/channels`…: any path outside the reserved ones
    /// whose last segment has no dot (a missing `favicon.ico` stays a 404).
    static func isAppPage(_ path: String) -> Bool {
        if path == "/" { return true }
        if reservedPrefixes.contains(where: { path.hasPrefix($0) }) || path.hasPrefix("/assets/") { return false }
        return !(path.split(separator: "/").last?.contains(".") ?? false)
    }
}

/// Headers that keep the inbox's pages from being framed, sniffed or made to run foreign script.
/// The policy allows only this origin's own scripts and styles: customer text can never become
/// code even if a bug let it reach the page as HTML.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
            + "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    }

    static var csp: HTTPField.Name { HTTPField.Name("Content-Security-Policy")! }
    static var contentTypeOptions: HTTPField.Name { HTTPField.Name("X-Content-Type-Options")! }
    static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy")! }
    static var frameOptions: HTTPField.Name { HTTPField.Name("X-Frame-Options")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        // The widget's frame sets its own policy: it may be framed by the channel's sites.
        if response.headers[Self.csp] == nil {
            response.headers[Self.csp] = Self.contentSecurityPolicy
            response.headers[Self.frameOptions] = "DENY"
        }
        response.headers[Self.contentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "same-origin"
        return response
    }
}
