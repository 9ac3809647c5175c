import Hummingbird
import ParleyCore

/// Who is calling: the authenticated user and the token they presented.
public struct Identity: Sendable {
    public let user: User
    public let token: APIToken
}

/// The request context of every Parley route.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthenticationMiddleware`` when a valid bearer token was presented.
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
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
