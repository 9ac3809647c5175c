import Foundation
import Hummingbird
import HummingbirdWebSocket

/// One query parameter of a documented route.
struct QueryParameter: Sendable {
    let name: String
    let schema: JSONValue
    let description: String

    init(_ name: String, _ schema: JSONValue = Schema.string, _ description: String) {
        self.name = name
        self.schema = schema
        self.description = description
    }
}

/// How a route is described in `/openapi.json`.
struct RouteDoc: Sendable {
    var summary: String
    var tag: String
    /// Whether a bearer token is required.
    var authenticated = true
    /// Component schema name of the JSON request body.
    var body: String? = nil
    /// Set for a request body that is not JSON (then `body` is ignored).
    var bodyMediaType: String? = nil
    /// Component schema name of the success response, or a raw media type description.
    var response: String? = nil
    var status = 200
    /// A second success status answered with the same body (e.g. 200 when nothing was created).
    var alternateStatus: Int? = nil
    var responseMediaType = "application/json"
    var query: [QueryParameter] = []
    /// Error statuses worth naming beyond 400/401.
    var errors: [Int] = []
}

/// Registers routes on the router and records each one's description, so that the OpenAPI
/// document cannot drift from the routes that exist.
final class APIRoutes {
    let router: Router<AppRequestContext>
    private(set) var documented: [(method: HTTPRequest.Method, path: String, doc: RouteDoc)] = []

    /// Routes whose handlers take an ``AuthenticatedContext``: the context cannot be made for
    /// an anonymous request, which is answered 401 before any handler runs.
    private let authenticatedGroup: RouterGroup<AuthenticatedContext>
    /// Routes documented as authenticated whose handlers still take an ``AppRequestContext``.
    private let guarded: RouterGroup<AppRequestContext>

    init(router: Router<AppRequestContext>) {
        self.router = router
        self.authenticatedGroup = router.group(context: AuthenticatedContext.self)
        self.guarded = router.group().add(middleware: RequireIdentityMiddleware())
    }

    /// An authenticated route: `path` uses OpenAPI's `{name}` syntax, which the router also understands.
    func authenticated(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ doc: RouteDoc,
        handler: @escaping @Sendable (Request, AuthenticatedContext) async throws -> some ResponseGenerator
    ) {
        var doc = doc
        doc.authenticated = true
        documented.append((method, path, doc))
        authenticatedGroup.on(RouterPath(path), method: method, use: handler)
    }

    /// A route whose handler takes the plain context. Unless its doc says
    /// `authenticated: false` it is still refused to anonymous callers (the default is safe).
    func add(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ doc: RouteDoc,
        handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator
    ) {
        documented.append((method, path, doc))
        if doc.authenticated {
            guarded.on(RouterPath(path), method: method, use: handler)
        } else {
            router.on(RouterPath(path), method: method, use: handler)
        }
    }

    /// A GET route that upgrades to a WebSocket when `shouldUpgrade` allows it.
    func webSocket(
        _ path: String,
        _ doc: RouteDoc,
        shouldUpgrade: @escaping @Sendable (Request, AppRequestContext) async throws -> RouterShouldUpgrade,
        onUpgrade: @escaping WebSocketDataHandler<WebSocketRouterContext<AppRequestContext>>
    ) {
        documented.append((.get, path, doc))
        router.ws(RouterPath(path), shouldUpgrade: shouldUpgrade, onUpgrade: onUpgrade)
    }
}
