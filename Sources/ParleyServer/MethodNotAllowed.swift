import Hummingbird

/// Answers 405 with an `Allow` header, instead of 404, when the path is one of the documented
/// routes but the method is not one it takes (RFC 9110 §15.5.6), so that a client learns the
/// path exists and which methods it takes.
///
/// Hummingbird applies a middleware only to routes added before it and to the not-found
/// responder; added after every route, this one runs exactly when the router matched no
/// (path, method) pair.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// One documented path: each segment a literal, or nil for a `{parameter}`.
    struct Template: Sendable {
        let segments: [String?]
        var methods: Set<HTTPRequest.Method>
    }

    let templates: [Template]

    init(routes: [(method: HTTPRequest.Method, path: String)]) {
        var byPath: [String: Template] = [:]
        for route in routes {
            let segments = Self.split(route.path).map { $0.hasPrefix("{") && $0.hasSuffix("}") ? nil : String($0) }
            byPath[route.path, default: Template(segments: segments, methods: [])].methods.insert(route.method)
        }
        templates = Array(byPath.values)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let template = template(for: request.uri.path), !template.methods.contains(request.method) else {
            return try await next(request, context)
        }
        let allowed = template.methods.map(\.rawValue).sorted()
        var error = APIError(.methodNotAllowed, code: "method_not_allowed",
                             message: "\(request.method.rawValue) is not allowed here; this path takes \(allowed.joined(separator: ", "))")
        error.headers[.allow] = allowed.joined(separator: ", ")
        throw error
    }

    /// The template the router would have resolved the path to: at each segment a literal
    /// beats a parameter, as in the router's trie.
    func template(for path: String) -> Template? {
        let parts = Self.split(path)
        var best: Template?
        for template in templates where template.segments.count == parts.count {
            guard zip(template.segments, parts).allSatisfy({ literal, part in literal.map { $0 == part } ?? true }) else { continue }
            if let current = best, !Self.moreSpecific(template, than: current) { continue }
            best = template
        }
        return best
    }

    static func moreSpecific(_ a: Template, than b: Template) -> Bool {
        for (x, y) in zip(a.segments, b.segments) where (x == nil) != (y == nil) {
            return x != nil
        }
        return false
    }

    static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
