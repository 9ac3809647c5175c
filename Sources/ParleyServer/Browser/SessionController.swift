import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// The web inbox's sign-in, sign-out and first-owner setup, over a session cookie.
struct SessionController {
    let services: Services

    struct SetupRequest: Decodable {
        let token: String
        let password: String
    }

    struct SessionView: Encodable, Sendable {
        let user: User
        let workspace: AuthController.WorkspaceSummary
        /// Null when the caller used a bearer token (no cookie, nothing to protect).
        let csrfToken: String?
        let expiresAt: Date?

        enum CodingKeys: String, CodingKey { case user, workspace, csrfToken, expiresAt }

        // Written out so that a bearer caller gets `"csrfToken": null` rather than no key: the
        // document promises the key.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(user, forKey: .user)
            try container.encode(workspace, forKey: .workspace)
            try container.encode(csrfToken, forKey: .csrfToken)
            try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
        }
    }

    /// How long a setup link printed at first start stays valid.
    static let setupLinkLifetime: TimeInterval = 24 * 3600

    func register(_ api: APIRoutes) {
        api.add(.post, "/api/v1/auth/session", RouteDoc(summary: "Sign in to the web inbox: sets the session cookie and returns the CSRF token",
                                                        tag: "auth", authenticated: false, body: "SessionRequest", response: "Session", errors: [401, 429]),
                handler: signIn)
        api.authenticated(.get, "/api/v1/auth/session", RouteDoc(summary: "The signed-in session: user, workspace and CSRF token", tag: "auth", response: "Session"),
                handler: current)
        api.authenticated(.delete, "/api/v1/auth/session", RouteDoc(summary: "Sign out: revokes the session and clears the cookie", tag: "auth", status: 204),
                handler: signOut)
        api.add(.post, "/api/v1/auth/setup", RouteDoc(summary: "First start: the owner chooses a password with the one-time setup link, and is signed in",
                                                      tag: "auth", authenticated: false, body: "SetupRequest", response: "Session", errors: [410, 422]),
                handler: setup)
    }

    var secureCookies: Bool { services.configuration.publicURL.lowercased().hasPrefix("https://") }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await RequestDecoding.decode(AuthController.LoginRequest.self, from: request, context: context)
        let session = try await AuthController(services: services).signIn(email: body.email, password: body.password, name: "web", client: context.clientAddress)
        return try await sessionResponse(session)
    }

    @Sendable func current(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<SessionView> {
        let identity = context.identity
        guard let workspace = try await services.workspaces.find(id: identity.user.workspaceId) else { throw APIError.unauthorized }
        return JSONResponse(SessionView(user: identity.user, workspace: .init(id: workspace.id, name: workspace.name),
                                        csrfToken: identity.cookieToken.map(SessionCookie.csrfToken(for:)), expiresAt: identity.token.expiresAt))
    }

    @Sendable func signOut(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = context.identity
        _ = try await services.tokens.revoke(tokenId: identity.token.id, userId: identity.user.id)
        var response = Response(status: .noContent)
        response.setCookie(SessionCookie.cleared(secure: secureCookies))
        return response
    }

    @Sendable func setup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await RequestDecoding.decode(SetupRequest.self, from: request, context: context)
        // Checked before the link is used up, so a too-short password can simply be retried.
        guard body.password.count >= Validation.minimumPasswordLength, body.password.utf8.count <= 72 else {
            throw APIError.unprocessable("weak_password", "the password must be \(Validation.minimumPasswordLength) to 72 characters", field: "password")
        }
        let hash = try await services.passwords.hash(body.password)
        guard let userId = try await services.oneTimeTokens.consume(body.token, purpose: .ownerSetup, at: services.clock.now()),
              let user = try await services.users.find(id: userId) else {
            throw APIError(.gone, code: "setup_token_invalid",
                           message: "this setup link was already used or has expired; restart the server for a new one, or run `parley user password`")
        }
        try await services.users.setPassword(userId: user.id, passwordHash: hash)
        return try await sessionResponse(try await AuthController(services: services).issueSession(for: user, name: "web"))
    }

    private func sessionResponse(_ session: (token: String, expiresAt: Date, user: User)) async throws -> Response {
        guard let workspace = try await services.workspaces.find(id: session.user.workspaceId) else { throw APIError.unauthorized }
        let view = SessionView(user: session.user, workspace: .init(id: workspace.id, name: workspace.name),
                               csrfToken: SessionCookie.csrfToken(for: session.token), expiresAt: session.expiresAt)
        var response = Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.api.encode(view))))
        response.setCookie(SessionCookie.make(token: session.token, lifetime: services.configuration.sessionLifetime, secure: secureCookies))
        return response
    }
}
