import Hummingbird
import Synchronization
import HummingbirdWebSocket
import ParleyCore
import ParleyStore

/// Who is calling: the authenticated user and the token they presented.
public struct Identity: Sendable {
    public let user: User
    public let token: APIToken
    /// The token came from the web inbox's session cookie, not an Authorization header.
    public var viaCookie = false
    /// The session cookie's token itself, to derive its CSRF token.
    var cookieToken: String? = nil
}

/// The request context of every Parley route.
public struct AppRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set when a route upgrades the request to a WebSocket (the event stream).
    public let webSocket: WebSocketHandlerReference<AppRequestContext>
    /// Who the WebSocket upgrade authenticated (a ticket is used up by then, so the decision is
    /// carried over rather than made twice). A reference, shared by the context's copies.
    let streamUser = StreamUserBox()
    /// The website chat visitor a widget's WebSocket upgrade authenticated.
    let widgetVisitor = WidgetVisitorBox()
    /// Set by ``AuthenticationMiddleware`` when a valid bearer token was presented.
    public var identity: Identity?
    /// The connection's peer: the client, or the proxy in front of Parley.
    public let peerAddress: String
    /// The client's IP address: the peer's, or the one a trusted proxy forwarded
    /// (``ForwardedClientMiddleware``, `--trusted-proxy`).
    public var clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.identity = nil
        self.peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        self.clientAddress = peerAddress
    }

    /// The caller, or a 401.
    func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.unauthorized }
        return identity
    }

    /// The caller if they administer the workspace (owner or manager), or a 403.
    func requireAdministrator() throws -> Identity {
        let identity = try requireIdentity()
        guard identity.user.role.canAdminister else {
            throw APIError.forbidden("only owners and managers may do this")
        }
        return identity
    }

    /// A numeric path parameter, or a 404 (an id that cannot exist is simply not found).
    func id(_ name: String, what: String) throws -> Int64 {
        guard let raw = parameters.get(name), let id = Int64(raw), id > 0 else {
            throw APIError.notFound(what)
        }
        return id
    }
}

/// Holds the user an upgrade request authenticated, for its WebSocket handler.
final class StreamUserBox: Sendable {
    private let user = Mutex<User?>(nil)

    var value: User? {
        get { user.withLock { $0 } }
        set { user.withLock { $0 = newValue } }
    }
}

/// Holds the visitor an upgrade request authenticated, for the widget's WebSocket handler.
final class WidgetVisitorBox: Sendable {
    private let visitor = Mutex<(channel: WebchatChannel, token: VisitorToken)?>(nil)

    var value: (channel: WebchatChannel, token: VisitorToken)? {
        get { visitor.withLock { $0 } }
        set { visitor.withLock { $0 = newValue } }
    }
}
