import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Login, logout, the caller's own profile, and personal API tokens.
struct AuthController {
    let services: Services

    struct LoginRequest: Decodable {
        let email: String
        let password: String
    }

    struct LoginResponse: Encodable, Sendable {
        let token: String
        let expiresAt: Date?
        let user: User
    }

    struct MeResponse: Encodable, Sendable {
        let user: User
        let workspace: WorkspaceSummary
    }

    struct WorkspaceSummary: Encodable, Sendable {
        let id: Int64
        let name: String
    }

    struct CreateTokenRequest: Decodable {
        let name: String
        let expiresInDays: Int?
    }

    struct CreatedToken: Encodable, Sendable {
        /// Shown once; only its hash is kept.
        let token: String
        let info: APIToken
    }

    func register(_ api: APIRoutes) {
        api.add(.post, "/api/v1/auth/login", RouteDoc(summary: "Log in with email and password", tag: "auth", authenticated: false,
                                                      body: "LoginRequest", response: "LoginResponse", errors: [401, 429]), handler: login)
        api.authenticated(.post, "/api/v1/auth/logout", RouteDoc(summary: "Revoke the token used for this request", tag: "auth", status: 204), handler: logout)
        api.authenticated(.get, "/api/v1/me", RouteDoc(summary: "The caller and their workspace", tag: "auth", response: "Me"), handler: me)
        api.authenticated(.get, "/api/v1/tokens", RouteDoc(summary: "The caller's tokens (without their secrets)", tag: "auth", response: "TokenPage"), handler: listTokens)
        api.authenticated(.post, "/api/v1/tokens", RouteDoc(summary: "Create an API token for integrations; the token is shown once", tag: "auth",
                                                  body: "CreateTokenRequest", response: "CreatedToken", status: 201), handler: createToken)
        api.authenticated(.delete, "/api/v1/tokens/{id}", RouteDoc(summary: "Revoke one of the caller's tokens", tag: "auth", status: 204, errors: [404]), handler: revokeToken)
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LoginResponse> {
        let body = try await RequestDecoding.decode(LoginRequest.self, from: request, context: context)
        let session = try await signIn(email: body.email, password: body.password, name: "login", client: context.clientAddress)
        return JSONResponse(LoginResponse(token: session.token, expiresAt: session.expiresAt, user: session.user))
    }

    /// Failed logins allowed per email before it is slowed down, and per client address (which
    /// may be a NAT or proxy in front of many people, hence more).
    static let emailPolicy = LoginThrottleStore.Policy(freeAttempts: 5)
    static let clientPolicy = LoginThrottleStore.Policy(freeAttempts: 30)
    /// How long a client a user signed in from stays known (and may sign in while their email is flooded).
    static let knownClientLifetime: TimeInterval = 90 * 24 * 3600

    /// Checks a password login, throttled per email and per client address in the database, and
    /// issues a session token. A flood of failures against an email does not lock out its owner
    /// signing in from a client they have signed in from before.
    func signIn(email: String, password: String, name: String, client: String) async throws -> (token: String, expiresAt: Date, user: User) {
        let emailKey = "email:" + SearchNormalization.email(email)
        let clientKey = "client:" + client
        let now = services.clock.now()
        let throttle = services.loginThrottle
        if let wait = try await throttle.retryAfter(clientKey, now: now) { throw Self.tooManyAttempts(wait) }
        let credentials = try await services.users.credentials(email: email)
        if let wait = try await throttle.retryAfter(emailKey, now: now) {
            // A client without an address cannot be recognised, so it gets no exception.
            guard let credentials, client != "unknown",
                  try await throttle.isKnownClient(userId: credentials.user.id, client: client, within: Self.knownClientLifetime, now: now)
            else { throw Self.tooManyAttempts(wait) }
        }
        var valid = false
        if let credentials {
            valid = try await services.passwords.verify(password, hash: credentials.passwordHash)
        } else {
            try await services.passwords.verifyDecoy(password)
        }
        guard let credentials, valid, !credentials.user.disabled else {
            try await throttle.recordFailure(emailKey, policy: Self.emailPolicy, now: now)
            try await throttle.recordFailure(clientKey, policy: Self.clientPolicy, now: now)
            throw APIError(.unauthorized, code: "invalid_credentials", message: "email or password is wrong")
        }
        try await throttle.recordSuccess(emailKey: emailKey, userId: credentials.user.id, client: client, now: now)
        return try await issueSession(for: credentials.user, name: name)
    }

    static func tooManyAttempts(_ wait: TimeInterval) -> APIError {
        var error = APIError(.tooManyRequests, code: "too_many_attempts", message: "too many failed logins; try again in \(Int(wait.rounded(.up))) s")
        error.headers[.retryAfter] = String(Int(wait.rounded(.up)))
        return error
    }

    func issueSession(for user: User, name: String) async throws -> (token: String, expiresAt: Date, user: User) {
        let now = services.clock.now()
        let expiresAt = now.addingTimeInterval(services.configuration.sessionLifetime)
        let issued = try await services.tokens.issue(workspaceId: user.workspaceId, userId: user.id, kind: .session, name: name, expiresAt: expiresAt, at: now)
        return (issued.token, expiresAt, user)
    }

    @Sendable func logout(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = context.identity
        _ = try await services.tokens.revoke(tokenId: identity.token.id, userId: identity.user.id)
        return Response(status: .noContent)
    }

    @Sendable func me(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<MeResponse> {
        let identity = context.identity
        guard let workspace = try await services.workspaces.find(id: identity.user.workspaceId) else {
            throw APIError.unauthorized
        }
        return JSONResponse(MeResponse(user: identity.user, workspace: WorkspaceSummary(id: workspace.id, name: workspace.name)))
    }

    @Sendable func listTokens(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<APIToken>> {
        let identity = context.identity
        return JSONResponse(Page(items: try await services.tokens.list(userId: identity.user.id), nextCursor: nil))
    }

    @Sendable func createToken(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<CreatedToken> {
        let identity = context.identity
        let body = try await RequestDecoding.decode(CreateTokenRequest.self, from: request, context: context)
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else {
            throw APIError.badRequest("field 'name' must be 1 to 100 characters", field: "name")
        }
        if let days = body.expiresInDays, !(1...3650).contains(days) {
            throw APIError.badRequest("field 'expiresInDays' must be from 1 to 3650", field: "expiresInDays")
        }
        let now = services.clock.now()
        let expiresAt = body.expiresInDays.map { now.addingTimeInterval(TimeInterval($0) * 86_400) }
        let issued = try await services.tokens.issue(workspaceId: identity.user.workspaceId, userId: identity.user.id,
                                                     kind: .api, name: name, expiresAt: expiresAt, at: now)
        return JSONResponse(CreatedToken(token: issued.token, info: issued.info), status: .created)
    }

    @Sendable func revokeToken(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = context.identity
        let id = try context.id("id", what: "token")
        guard try await services.tokens.revoke(tokenId: id, userId: identity.user.id) else {
            throw APIError.notFound("token")
        }
        return Response(status: .noContent)
    }
}
