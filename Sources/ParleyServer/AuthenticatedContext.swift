import Hummingbird
import ParleyStore

/// The request context of every authenticated route. It can only be made from a request that
/// ``AuthenticationMiddleware`` resolved to a user, so a handler that takes it cannot run for an
/// anonymous caller: forgetting to check is not possible. Register such handlers with
/// ``APIRoutes/authenticated(_:_:_:handler:)``.
public struct AuthenticatedContext: ChildRequestContext {
    public typealias ParentContext = AppRequestContext
    public var coreContext: CoreRequestContextStorage
    /// Who is calling; never absent.
    public let identity: Identity
    /// The client's address (see ``AppRequestContext/clientAddress``).
    public let clientAddress: String
    /// The context it was made from, for code shared with public routes.
    public let app: AppRequestContext

    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else { throw APIError.unauthorized }
        self.coreContext = context.coreContext
        self.identity = identity
        self.clientAddress = context.clientAddress
        self.app = context
    }

    /// The caller if they administer the workspace (owner or manager), or a 403.
    func requireAdministrator() throws -> Identity {
        guard identity.user.role.canAdminister else {
            throw APIError.forbidden("only owners and managers may do this")
        }
        return identity
    }

    /// A numeric path parameter, or a 404 (an id that cannot exist is simply not found).
    func id(_ name: String, what: String) throws -> Int64 {
        try app.id(name, what: what)
    }
}

/// Refuses anonymous requests before the handler: the routes that still take an
/// ``AppRequestContext`` but are documented as authenticated are guarded by it.
struct RequireIdentityMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.identity != nil else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}
